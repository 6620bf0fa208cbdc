//! What the rewriter reports about each statement it scoped: its kind, and every table it
//! reads or writes.

/// Whether a statement reads or writes a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read (FROM, JOIN, subqueries).
    Read,
    /// Written (the target of INSERT, UPDATE or DELETE).
    Write,
}

/// One table a statement touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableUse {
    /// The table's name as the schema declares it.
    pub name: String,
    /// Whether the table is tenant-scoped (and was scoped in this statement).
    pub scoped: bool,
    /// Read or written.
    pub access: Access,
}

/// The kind of a statement.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// SELECT, VALUES, or a compound of them.
    Select,
    /// INSERT.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE.
    Transaction,
    /// An allowed PRAGMA.
    Pragma,
}

impl StatementKind {
    /// The kind as a lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Select => "select",
            StatementKind::Insert => "insert",
            StatementKind::Update => "update",
            StatementKind::Delete => "delete",
            StatementKind::Transaction => "transaction",
            StatementKind::Pragma => "pragma",
        }
    }
}

/// What the rewriter found in one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementInfo {
    /// The statement's kind (of the inner statement, for EXPLAIN).
    pub kind: StatementKind,
    /// Whether it is an EXPLAIN or EXPLAIN QUERY PLAN.
    pub explain: bool,
    /// Every table it reads or writes, in the order met.
    pub tables: Vec<TableUse>,
    /// The names of the CTEs it declares, its views' included (lower case). SQLite names a
    /// CTE as the accessor of what the CTE reads, as it names a view.
    pub ctes: Vec<String>,
    /// An upsert's `DO UPDATE` sets the tenant column to a value checked when it runs (to
    /// the tenant's own, on the tenant's own row): the tenant connection's guard lets this
    /// statement write the column, and no other.
    pub assigns_tenant: bool,
}
