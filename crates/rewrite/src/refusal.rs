//! Why a statement was refused: [`Refusal`], and the forms of statements, table sources,
//! views and triggers the rewriter does not scope, each named by a variant so callers and
//! tests match on kinds, not text.

use std::fmt;

use crate::unreadable::ObjectKind;

/// The reason a parsed statement was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// CREATE, ALTER or DROP.
    #[error("{keyword} changes the schema; schema changes are administrative work, not a tenant's")]
    SchemaChange {
        /// The statement's keyword.
        keyword: String,
    },
    /// ATTACH or DETACH.
    #[error("{keyword} reaches other database files, whose rows no tenant scope covers")]
    Attach {
        /// The statement's keyword.
        keyword: String,
    },
    /// A PRAGMA that is not a connection setting on the allowlist.
    #[error(
        "PRAGMA {name} is not a connection setting on the allowlist ({allowed}); pragmas can \
         read or change the whole database"
    )]
    Pragma {
        /// The pragma's name.
        name: String,
        /// The pragmas that are allowed.
        allowed: String,
    },
    /// An allowed pragma given a value that would let one tenant's statements damage every
    /// tenant's rows: `journal_mode` OFF or MEMORY (a ROLLBACK, or a crash, then leaves
    /// pages the transaction spilled to the file half-written).
    #[error(
        "PRAGMA {name} = {value} is refused: without a journal on disk, a ROLLBACK or a crash \
         leaves pages of every tenant's rows half-written; keep DELETE, TRUNCATE, PERSIST or \
         WAL"
    )]
    PragmaValue {
        /// The pragma's name.
        name: String,
        /// The value refused.
        value: String,
    },
    /// VACUUM, REINDEX or ANALYZE.
    #[error("{keyword} works on the whole database, across tenants; run it administratively")]
    Maintenance {
        /// The statement's keyword.
        keyword: String,
    },
    /// A statement kind the rewriter does not scope.
    #[error("{kind} statements are not supported on a tenant-scoped connection")]
    UnsupportedStatement {
        /// What kind of statement it is.
        kind: String,
    },
    /// A table (or view) the schema does not know.
    #[error(
        "table {name:?} is not in the schema; refusing rather than guessing whether it holds \
         tenant rows (if it was just created, reload the schema)"
    )]
    UnknownTable {
        /// The name as written.
        name: String,
    },
    /// A table without the tenant column that is not declared global (see
    /// [`crate::GlobalTables`]): typically one created after the migration.
    #[error(
        "table {name:?} has no tenant column and is not declared global, so every tenant \
         would share its rows; bring it under tenancy (run `tenantry migrate` on the database \
         again, which adds the column to new tables) or, if every tenant is meant to share \
         it, declare it global (`tenantry global add DB {name}`)"
    )]
    UndeclaredTable {
        /// The table's name.
        name: String,
    },
    /// A table of a schema other than `main` (`temp`, or an attached database).
    #[error("{name:?} is in schema {schema:?}; only tables of the main schema can be scoped")]
    OtherSchema {
        /// The schema named.
        schema: String,
        /// The name as written.
        name: String,
    },
    /// An internal table that holds facts about every tenant's rows.
    #[error(
        "{name} holds facts about every tenant's rows (counters or statistics); it is not \
         readable or writable through a tenant scope"
    )]
    SystemTable {
        /// The table's name.
        name: String,
    },
    /// A table the policy keeps from every tenant.
    #[error("table {name:?} is not readable or writable through a tenant scope (policy)")]
    Protected {
        /// The table's name.
        name: String,
    },
    /// A write to a table the policy makes read-only for tenants.
    #[error(
        "table {name:?} is read-only through a tenant scope (policy); change it administratively"
    )]
    ReadOnly {
        /// The table's name.
        name: String,
    },
    /// A write to the schema table.
    #[error("{name} can only be read through a tenant scope")]
    SchemaWrite {
        /// The table's name.
        name: String,
    },
    /// A table-valued function that is not on the allowlist.
    #[error(
        "table-valued function {name} is not on the allowlist ({allowed}); it might read rows \
         of every tenant"
    )]
    TableFunction {
        /// The function's name.
        name: String,
        /// The functions that are allowed.
        allowed: String,
    },
    /// A function that must never run on a scoped connection.
    #[error("function {name}() is not allowed on a tenant-scoped connection")]
    Function {
        /// The function's name.
        name: String,
    },
    /// REPLACE, INSERT OR REPLACE or UPDATE OR REPLACE into a tenant table.
    #[error(
        "{verb} on tenant table {table:?} could delete another tenant's row that shares a \
         unique key; write INSERT ... ON CONFLICT (key) DO UPDATE SET ... instead, which the \
         rewriter limits to this tenant's rows"
    )]
    Replace {
        /// The statement's verb as SQL (`REPLACE`, `INSERT OR REPLACE`, `UPDATE OR REPLACE`).
        verb: String,
        /// The table.
        table: String,
    },
    /// REPLACE (or a table's ON CONFLICT REPLACE) on a tenant-first table whose deletes run
    /// a foreign-key action by trigger (`ON DELETE SET NULL` / `SET DEFAULT` on a composite
    /// key): SQLite does not fire triggers for the rows a REPLACE deletes, so the
    /// referencing rows would keep a key that no longer exists.
    #[error(
        "{verb} on tenant table {table:?} would delete the conflicting row without the \
         foreign-key action (ON DELETE SET NULL or SET DEFAULT) that a trigger runs for it on \
         the tenant-first schema; write INSERT ... ON CONFLICT (key) DO UPDATE SET ... \
         instead, or DELETE then INSERT"
    )]
    ReplaceSkipsAction {
        /// The statement's verb as SQL.
        verb: String,
        /// The table.
        table: String,
    },
    /// An UPDATE (or upsert) that sets the tenant column.
    #[error(
        "setting the tenant column {column:?} of {table:?} would move a row to another tenant; a row keeps its tenant, so drop the assignment (in an upsert, the tenant of the row it inserts is checked already)"
    )]
    TenantColumnWrite {
        /// The table.
        table: String,
        /// The tenant column.
        column: String,
    },
    /// An INSERT that gives the tenant column a value other than the current tenant.
    #[error(
        "INSERT into {table:?} gives the tenant column the value {value:?}, which is not the current tenant"
    )]
    ForeignTenant {
        /// The table.
        table: String,
        /// The value given.
        value: String,
    },
    /// An INSERT that names the tenant column with a value that cannot be checked before it
    /// runs.
    #[error(
        "INSERT into {table:?} names the tenant column {column:?} with a value that cannot be \
         checked before it runs; leave the column out (the rewriter fills it) or give the \
         current tenant as a string literal (a tenant connection also takes a parameter or an \
         expression in VALUES or a plain SELECT, checked when the statement runs)"
    )]
    UncheckedTenantValue {
        /// The table.
        table: String,
        /// The tenant column.
        column: String,
    },
    /// `rowid` read through a tenant scope in a statement that also selects `*` or uses a
    /// NATURAL join, where the exposed rowid would become an extra column.
    #[error(
        "the statement reads {name} of tenant table {table:?} and also uses {construct}; name \
         the columns (or join with ON), or read the INTEGER PRIMARY KEY column instead of {name}"
    )]
    RowidAmbiguous {
        /// The rowid alias used.
        name: String,
        /// The table.
        table: String,
        /// `*` or `NATURAL JOIN`.
        construct: String,
    },
    /// A rowid read of a tenant table the tenant-first migration rebuilt WITHOUT ROWID from
    /// a rowid table with another primary key: its legacy rowid values no longer exist.
    #[error(
        "the statement reads {name} of tenant table {table:?}, whose legacy rowid values no \
         longer exist (the table is now clustered by tenant, WITHOUT ROWID); read its primary \
         key instead"
    )]
    RowidGone {
        /// The rowid alias used.
        name: String,
        /// The table.
        table: String,
    },
    /// A rowid read of a write target whose rowid became a key column, where the rewriter
    /// cannot be sure the read means the target.
    #[error(
        "the statement reads {name}, which may mean the key column of tenant table {table:?} \
         (its rowid before the tenant-first migration) or something nearer; read the key \
         column by name instead"
    )]
    RowidUnsure {
        /// The rowid alias used.
        name: String,
        /// The table.
        table: String,
    },
    /// The statement has a condition that may raise an error on the values it reads, so
    /// the tenant table must be read through an index led by the tenant column (SQLite could
    /// otherwise evaluate the condition on another tenant's rows, and the error would tell
    /// about them), and the table has none.
    #[error(
        "the statement has a condition that may fail on the values it reads (a function such \
         as json(), `||`, `->`, a LIKE with a bound pattern); SQLite could evaluate it on \
         other tenants' rows of {table:?} unless it reads that table through an index led by \
         the tenant column, and the table has none: create one (`tenantry migrate` names it \
         idx_<table>_<tenant column>)"
    )]
    NoTenantIndex {
        /// The table.
        table: String,
    },
    /// The statement has a condition that may raise an error on the values it reads, so
    /// the tenant table must be read through its tenant index, and the statement names an
    /// index (or NOT INDEXED) for it.
    #[error(
        "the statement has a condition that may fail on the values it reads (a function such \
         as json(), `||`, `->`, a LIKE with a bound pattern), so tenant table {table:?} must \
         be read through its tenant index, and the statement says INDEXED BY or NOT INDEXED \
         for it; drop that clause"
    )]
    IndexHint {
        /// The table.
        table: String,
    },
    /// The statement has a condition that may raise an error on the values it reads, and
    /// reads a tenant virtual table: SQLite may test the condition on other tenants' rows
    /// of it before their tenant, and no index can keep it to the tenant's.
    #[error(
        "the statement has a condition that may fail on the values it reads (a function such \
         as json(), `||`, `->`, a LIKE with a bound pattern) and reads tenant virtual table \
         {table:?}, whose rows SQLite may test before their tenant; keep such conditions out \
         of statements that read it (filter its matches in the application)"
    )]
    BoundedVirtualTable {
        /// The virtual table.
        table: String,
    },
    /// SQLite would split the text into tokens differently from the parser the rewriter
    /// reads it with, so part of it could run unseen.
    #[error(
        "SQLite would read this text differently from the rewriter's parser near byte \
         {offset} ({detail}); refusing rather than scoping what it cannot see"
    )]
    Tokenization {
        /// Byte offset in the input.
        offset: usize,
        /// What each tokenizer found.
        detail: String,
    },
    /// A write to a global table that a tenant table references with a foreign-key action,
    /// or to any table that a table not declared global references so: SQLite would change
    /// every tenant's referencing rows.
    #[error(
        "{event} on {table:?} could change rows of {child:?} (a tenant table, or one not \
         declared global), of every tenant, through its foreign key's ON {event} action; do \
         it administratively (unscoped), or drop the action"
    )]
    GlobalCascade {
        /// The global table written.
        table: String,
        /// The tenant table whose rows would change.
        child: String,
        /// DELETE or UPDATE.
        event: String,
    },
    /// A write to a view: it would run the view's INSTEAD OF triggers, whose bodies the
    /// rewriter does not scope.
    #[error(
        "{name:?} is a view; writes to a view run its INSTEAD OF triggers, which are not \
         scoped to a tenant; write to its tables instead"
    )]
    ViewWrite {
        /// The view's name.
        name: String,
    },
    /// A view whose query cannot be scoped; the reason names what in the view.
    #[error("view {view:?} cannot be scoped: {reason}")]
    InView {
        /// The view's name.
        view: String,
        /// Why its query was refused.
        reason: Box<Refusal>,
    },
    /// The statement would fire a trigger on a tenant table whose body is not scoped to the
    /// tenant of the row that fires it.
    #[error(
        "{event} on {table:?} fires trigger {trigger:?}, whose body is not scoped to a tenant \
         and could change other tenants' rows; run `tenantry migrate` to scope the \
         database's triggers, or drop the trigger"
    )]
    UnscopedTrigger {
        /// The trigger's name.
        trigger: String,
        /// The table it is on.
        table: String,
        /// INSERT, UPDATE or DELETE.
        event: String,
    },
    /// A form of INSERT, UPDATE or DELETE the rewriter does not scope.
    #[error("{form} is not supported on a tenant-scoped connection")]
    WriteForm {
        /// Which form.
        form: WriteForm,
    },
    /// A table source (in FROM, JOIN or after IN) the rewriter does not scope.
    #[error("{form} is not supported on a tenant-scoped connection")]
    TableSource {
        /// What it is.
        form: SourceForm,
    },
    /// An alias spelled like SQLite's postfix `ISNULL` / `NOTNULL` (`x AS ISNULL`), which
    /// SQLite reserves: the statement would mean one thing to the rewriter and another to
    /// SQLite. (`x ISNULL` itself is read as the operator.)
    #[error(
        "an alias named {operator}, which SQLite reserves for its postfix operator, is not \
         supported on a tenant-scoped connection (quote it, or choose another name)"
    )]
    PostfixNullTest {
        /// `ISNULL` or `NOTNULL`.
        operator: String,
    },
    /// A PRAGMA statement that names no pragma.
    #[error("a PRAGMA without a name is not supported on a tenant-scoped connection")]
    PragmaWithoutName,
    /// A view whose query the rewriter cannot scope (reported inside [`Refusal::InView`]).
    #[error("{form} is not supported on a tenant-scoped connection")]
    ViewQuery {
        /// What is wrong with it.
        form: ViewForm,
    },
    /// A trigger [`crate::Rewriter::scope_trigger`] cannot scope.
    #[error("{form} is not supported on a tenant-scoped connection")]
    Trigger {
        /// What is wrong with it.
        form: TriggerForm,
    },
    /// The statement names (or, for a trigger, could fire) a schema object whose text the
    /// rewriter could not read, so what it touches cannot be known.
    #[error(
        "{kind} {name:?} could not be read ({reason}), so a statement that may touch it \
         cannot be scoped; declare it in a form the rewriter reads (plain CREATE syntax; a \
         virtual table of fts3, fts4, fts5 or rtree), fix or drop it, or run the statement \
         administratively (unscoped)"
    )]
    UnreadableObject {
        /// The object's name.
        name: String,
        /// What it is.
        kind: ObjectKind,
        /// Why it could not be read.
        reason: String,
    },
    /// A read or write of a virtual table's shadow table, which holds every tenant's data.
    #[error(
        "{name:?} is a shadow table of virtual table {table:?} and holds every tenant's data; \
         read and write {table:?} instead"
    )]
    ShadowTable {
        /// The shadow table.
        name: String,
        /// The virtual table whose data it holds.
        table: String,
    },
    /// A use of a tenant virtual table the rewriter does not scope.
    #[error("{form} on virtual table {table:?} is not supported on a tenant-scoped connection")]
    VirtualTable {
        /// The virtual table.
        table: String,
        /// Which use.
        form: VirtualForm,
    },
    /// The statement is too large or too deeply nested to analyse safely.
    #[error("the statement is too complex to analyse safely: {detail}")]
    TooComplex {
        /// What limit it passed.
        detail: String,
    },
    /// The rewriter's own consistency check failed. The statement is refused rather than
    /// risk running it unscoped; please report it.
    #[error(
        "internal consistency check failed ({detail}); refusing rather than risking an \
         unscoped statement; please report this statement"
    )]
    Internal {
        /// What did not match.
        detail: String,
    },
}

impl Refusal {
    /// The refusal's kind as a stable name (the variant's), to count or group refusals.
    ///
    /// ```
    /// use tenantry_rewrite::Refusal;
    /// let r = Refusal::PragmaWithoutName;
    /// assert_eq!(r.name(), "PragmaWithoutName");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::SchemaChange { .. } => "SchemaChange",
            Refusal::Attach { .. } => "Attach",
            Refusal::Pragma { .. } => "Pragma",
            Refusal::PragmaValue { .. } => "PragmaValue",
            Refusal::Maintenance { .. } => "Maintenance",
            Refusal::UnsupportedStatement { .. } => "UnsupportedStatement",
            Refusal::UnknownTable { .. } => "UnknownTable",
            Refusal::UndeclaredTable { .. } => "UndeclaredTable",
            Refusal::OtherSchema { .. } => "OtherSchema",
            Refusal::SystemTable { .. } => "SystemTable",
            Refusal::Protected { .. } => "Protected",
            Refusal::ReadOnly { .. } => "ReadOnly",
            Refusal::SchemaWrite { .. } => "SchemaWrite",
            Refusal::TableFunction { .. } => "TableFunction",
            Refusal::Function { .. } => "Function",
            Refusal::Replace { .. } => "Replace",
            Refusal::ReplaceSkipsAction { .. } => "ReplaceSkipsAction",
            Refusal::TenantColumnWrite { .. } => "TenantColumnWrite",
            Refusal::ForeignTenant { .. } => "ForeignTenant",
            Refusal::UncheckedTenantValue { .. } => "UncheckedTenantValue",
            Refusal::RowidAmbiguous { .. } => "RowidAmbiguous",
            Refusal::RowidGone { .. } => "RowidGone",
            Refusal::RowidUnsure { .. } => "RowidUnsure",
            Refusal::NoTenantIndex { .. } => "NoTenantIndex",
            Refusal::IndexHint { .. } => "IndexHint",
            Refusal::BoundedVirtualTable { .. } => "BoundedVirtualTable",
            Refusal::Tokenization { .. } => "Tokenization",
            Refusal::GlobalCascade { .. } => "GlobalCascade",
            Refusal::ViewWrite { .. } => "ViewWrite",
            Refusal::InView { .. } => "InView",
            Refusal::UnscopedTrigger { .. } => "UnscopedTrigger",
            Refusal::WriteForm { .. } => "WriteForm",
            Refusal::TableSource { .. } => "TableSource",
            Refusal::PostfixNullTest { .. } => "PostfixNullTest",
            Refusal::PragmaWithoutName => "PragmaWithoutName",
            Refusal::ViewQuery { .. } => "ViewQuery",
            Refusal::Trigger { .. } => "Trigger",
            Refusal::UnreadableObject { .. } => "UnreadableObject",
            Refusal::ShadowTable { .. } => "ShadowTable",
            Refusal::VirtualTable { .. } => "VirtualTable",
            Refusal::TooComplex { .. } => "TooComplex",
            Refusal::Internal { .. } => "Internal",
        }
    }
}

/// A form of INSERT, UPDATE or DELETE the rewriter does not scope.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteForm {
    /// `UPDATE a JOIN b ...`
    UpdateOfJoin,
    /// `UPDATE t FROM ... SET ...` (FROM before SET).
    UpdateFromBeforeSet,
    /// UPDATE of something other than a table.
    UpdateOfNonTable,
    /// `DELETE a, b FROM ...`
    DeleteFromSeveralTables,
    /// DELETE with joins or USING.
    DeleteWithJoins,
    /// DELETE from something other than a table.
    DeleteFromNonTable,
    /// An INSERT of another dialect (`SET`, `PARTITION`, `IGNORE`, an alias, ...).
    OtherInsert,
    /// INSERT into a table-valued function.
    InsertIntoFunction,
    /// `ON DUPLICATE KEY UPDATE`.
    OnDuplicateKeyUpdate,
    /// Another `ON` clause of INSERT.
    OtherInsertOn,
    /// `RETURNING t.*`.
    QualifiedReturningStar,
    /// INSERT OR IGNORE or an upsert of several rows (or a plain INSERT of several rows into
    /// a table whose constraint says `ON CONFLICT IGNORE`) into a table whose legacy rowid
    /// is a per-tenant key (`tenantry_rowid`): SQLite gave a skipped row's rowid to the
    /// next row, which the rewrite cannot follow.
    SkippingKeyedRows,
    /// An INSERT column list or SET that names `rowid`, `oid` or `_rowid_` on a table the
    /// tenant-first layout made `WITHOUT ROWID` (it has no rowid to write; write its key
    /// column instead).
    RowidWrite,
}

impl fmt::Display for WriteForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteForm::UpdateOfJoin => "a join as the target of UPDATE",
            WriteForm::UpdateFromBeforeSet => "FROM before SET in UPDATE",
            WriteForm::UpdateOfNonTable => "UPDATE of something other than a table",
            WriteForm::DeleteFromSeveralTables => "DELETE from several tables",
            WriteForm::DeleteWithJoins => "DELETE with joins",
            WriteForm::DeleteFromNonTable => "DELETE from something other than a table",
            WriteForm::OtherInsert => "this form of INSERT",
            WriteForm::InsertIntoFunction => "INSERT into a table function",
            WriteForm::OnDuplicateKeyUpdate => "ON DUPLICATE KEY UPDATE",
            WriteForm::OtherInsertOn => "this ON clause of INSERT",
            WriteForm::QualifiedReturningStar => "a qualified * in RETURNING",
            WriteForm::SkippingKeyedRows => {
                "INSERT OR IGNORE, an upsert, or an INSERT into a table that declares ON \
                 CONFLICT IGNORE, of several rows into a table whose rowid became a per-tenant \
                 key (insert the rows one by one)"
            }
            WriteForm::RowidWrite => {
                "a write of the rowid of a table keyed per tenant, which has no rowid (write \
                 its key column instead)"
            }
        })
    }
}

/// A table source (in FROM, JOIN or after IN) the rewriter does not scope.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceForm {
    /// A name with a part that is not an identifier.
    Name {
        /// The name as written.
        name: String,
    },
    /// A name of more than two parts (`a.b.c`).
    LongName {
        /// The name as written.
        name: String,
    },
    /// `IN` followed by a name with a part that is not an identifier.
    InName {
        /// The name as written.
        name: String,
    },
    /// Modifiers of another dialect on a table (column aliases, hints, `TABLESAMPLE`, ...).
    Modifiers {
        /// The table's name.
        name: String,
    },
    /// `INDEXED BY` or `NOT INDEXED` on a view.
    IndexedView {
        /// The view's name.
        name: String,
    },
    /// MySQL's index hints.
    IndexHints,
    /// A join operator of another dialect (`SEMI JOIN`, `CROSS APPLY`, ...).
    Join {
        /// The operator.
        operator: String,
    },
    /// A table expression of another dialect (`UNNEST`, `PIVOT`, ...).
    Expression {
        /// The expression as `sqlparser` prints it.
        text: String,
    },
}

impl fmt::Display for SourceForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceForm::Name { name } => write!(f, "table name {name}"),
            SourceForm::LongName { name } => {
                write!(f, "table name {name} with more than two parts")
            }
            SourceForm::InName { name } => write!(f, "IN {name}"),
            SourceForm::Modifiers { name } => write!(f, "table modifiers on {name}"),
            SourceForm::IndexedView { name } => {
                write!(f, "INDEXED BY or NOT INDEXED on view {name}")
            }
            SourceForm::IndexHints => f.write_str("MySQL index hints"),
            // SQLite reads `t SEMI JOIN u` as `t AS semi JOIN u`; sqlparser as a semi-join.
            SourceForm::Join { operator }
                if matches!(operator.as_str(), "SEMI JOIN" | "ANTI JOIN") =>
            {
                let word = operator.split(' ').next().unwrap_or_default();
                write!(
                    f,
                    "{operator} (if {word} is meant as the alias of the table before it, as \
                     SQLite reads it, write AS {word})"
                )
            }
            SourceForm::Join { operator } => f.write_str(operator),
            SourceForm::Expression { text } => write!(f, "table expression {text}"),
        }
    }
}

/// A use of a tenant virtual table the rewriter does not scope.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VirtualForm {
    /// An INSERT that names a command column (`INSERT INTO t(t) VALUES ('rebuild')`, FTS5's
    /// `rank`): the command works on every tenant's rows.
    Command {
        /// The column named.
        column: String,
    },
    /// An INSERT without a column list: the tenant column's value would come by position.
    InsertWithoutColumns,
    /// The table on the nullable side of an outer join: its tenant test in the WHERE would
    /// drop the rows the join adds.
    OuterJoin,
    /// The table in the FROM of an UPDATE.
    UpdateFrom,
    /// A constraint on its `rank` column (`rank MATCH 'fn(…)'`, `rank = …`): FTS5 runs the
    /// ranking function it names on every tenant's matching rows, before the tenant test.
    RankConstraint,
}

impl fmt::Display for VirtualForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VirtualForm::Command { column } => write!(
                f,
                "an INSERT naming the command column {column:?} (a command such as 'rebuild' or \
                 'optimize' works on every tenant's rows; run it administratively)"
            ),
            VirtualForm::InsertWithoutColumns => f.write_str(
                "an INSERT without a column list (name the columns, the tenant column may be \
                 left out)",
            ),
            VirtualForm::RankConstraint => f.write_str(
                "a constraint on the rank column (the ranking function it names would run on \
                 every tenant's matching rows; order by the default rank, or call the \
                 function in the result columns)",
            ),
            VirtualForm::OuterJoin => f.write_str(
                "a read on the nullable side of an outer join (join it with JOIN, or read it \
                 in a subquery)",
            ),
            VirtualForm::UpdateFrom => f.write_str("a read in UPDATE ... FROM"),
        }
    }
}

/// What makes a view's query one the rewriter cannot scope.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewForm {
    /// `CREATE VIEW v(a, b) AS ...`
    ColumnList,
    /// Its query is not one statement.
    NotOneStatement,
    /// `sqlparser` cannot read its query.
    Unreadable {
        /// The parser's message.
        message: String,
    },
    /// Its query is not a SELECT.
    NotSelect,
}

impl fmt::Display for ViewForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewForm::ColumnList => {
                f.write_str("a view with a column list (CREATE VIEW v(a, b) AS ...)")
            }
            ViewForm::NotOneStatement => f.write_str("a view whose query is not one statement"),
            ViewForm::Unreadable { message } => {
                write!(f, "a query the parser cannot read ({message})")
            }
            ViewForm::NotSelect => f.write_str("a view whose query is not a SELECT"),
        }
    }
}

/// What makes a trigger one [`crate::Rewriter::scope_trigger`] cannot scope.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerForm {
    /// The text holds more than one statement.
    NotOneStatement,
    /// The statement is not `CREATE TRIGGER`.
    NotATrigger,
    /// `CREATE TEMP TRIGGER`.
    Temporary {
        /// The trigger's name.
        trigger: String,
    },
    /// A trigger on a global table: its rows have no tenant to scope the body to.
    OnGlobalTable {
        /// The trigger's name.
        trigger: String,
        /// The table it is on.
        table: String,
    },
    /// A `WHEN` clause that reads tables.
    WhenReadsTables {
        /// The trigger's name.
        trigger: String,
    },
    /// The body names something `NEW` or `OLD`.
    ShadowsRow {
        /// The trigger's name.
        trigger: String,
    },
    /// A statement in the body that is not SELECT, INSERT, UPDATE or DELETE (or EXPLAIN).
    BodyStatement {
        /// The trigger's name.
        trigger: String,
        /// The statement's kind, as [`crate::StatementKind::as_str`] names it.
        kind: String,
    },
    /// An INSERT in the body that gives the tenant column a value.
    ExplicitTenant {
        /// The trigger's name.
        trigger: String,
    },
}

impl fmt::Display for TriggerForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TriggerForm::NotOneStatement => {
                f.write_str("more than one statement where a trigger was expected")
            }
            TriggerForm::NotATrigger => f.write_str("a statement other than CREATE TRIGGER"),
            TriggerForm::Temporary { trigger } => write!(f, "temporary trigger {trigger:?}"),
            TriggerForm::OnGlobalTable { trigger, table } => write!(
                f,
                "trigger {trigger:?} on {table:?}, which is not a tenant table (its rows have \
                 no tenant to scope the body to)"
            ),
            TriggerForm::WhenReadsTables { trigger } => {
                write!(f, "trigger {trigger:?} has a WHEN clause that reads tables")
            }
            TriggerForm::ShadowsRow { trigger } => {
                write!(
                    f,
                    "trigger {trigger:?} uses NEW or OLD as a name of its own"
                )
            }
            TriggerForm::BodyStatement { trigger, kind } => {
                write!(f, "a {kind} statement in the body of trigger {trigger:?}")
            }
            TriggerForm::ExplicitTenant { trigger } => {
                write!(
                    f,
                    "an explicit tenant value in the body of trigger {trigger:?}"
                )
            }
        }
    }
}
