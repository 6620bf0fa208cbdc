//! What can go wrong: a statement that cannot be parsed, a statement refused (and why), a
//! bad tenant id, or a schema that cannot be read.

pub use crate::tenant::InvalidTenantId;

/// Why the rewriter refused to rewrite a string of SQL.
///
/// Every error names the statement (its position in the string, counting from 1, and the
/// start of its text) and says what to do instead where there is something to do.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// `sqlparser` could not parse the statement. A statement the rewriter cannot read is
    /// never run unscoped.
    #[error(
        "statement {index} ({statement}) could not be parsed, so it cannot be scoped to a \
         tenant: {message}"
    )]
    Parse {
        /// Position of the statement in the string, from 1.
        index: usize,
        /// The start of the statement's text.
        statement: String,
        /// The parser's message.
        message: String,
    },
    /// The statement parses, but it cannot be proven to touch only the current tenant's rows.
    #[error("statement {index} ({statement}) refused: {reason}")]
    Refused {
        /// Position of the statement in the string, from 1.
        index: usize,
        /// The start of the statement's text.
        statement: String,
        /// What was refused, and why.
        reason: Refusal,
    },
    /// The tenant id breaks the rules of [`crate::TenantId`].
    #[error(transparent)]
    InvalidTenantId(#[from] InvalidTenantId),
}

impl RewriteError {
    /// The refusal, when the statement was refused rather than unparseable.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            RewriteError::Refused { reason, .. } => Some(reason),
            RewriteError::Parse { .. } | RewriteError::InvalidTenantId(_) => None,
        }
    }

    /// A short, stable name for the kind of error: `parse`, `refused` or `tenant`.
    pub fn kind(&self) -> &'static str {
        match self {
            RewriteError::Parse { .. } => "parse",
            RewriteError::Refused { .. } => "refused",
            RewriteError::InvalidTenantId(_) => "tenant",
        }
    }
}

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
    /// An UPDATE (or upsert) that sets the tenant column.
    #[error("setting the tenant column {column:?} of {table:?} would move a row to another tenant")]
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
         current tenant as a string literal"
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
    /// A write to a global table that a tenant table references with a foreign-key action:
    /// SQLite would change every tenant's referencing rows.
    #[error(
        "{event} on global table {table:?} could change rows of tenant table {child:?}, of \
         every tenant, through its foreign key's ON {event} action; do it administratively \
         (unscoped), or drop the action"
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
    /// A construct the rewriter does not scope.
    #[error("{construct} is not supported on a tenant-scoped connection")]
    Unsupported {
        /// The construct.
        construct: String,
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
    /// let r = Refusal::Unsupported { construct: "MySQL index hints".into() };
    /// assert_eq!(r.name(), "Unsupported");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::SchemaChange { .. } => "SchemaChange",
            Refusal::Attach { .. } => "Attach",
            Refusal::Pragma { .. } => "Pragma",
            Refusal::Maintenance { .. } => "Maintenance",
            Refusal::UnsupportedStatement { .. } => "UnsupportedStatement",
            Refusal::UnknownTable { .. } => "UnknownTable",
            Refusal::OtherSchema { .. } => "OtherSchema",
            Refusal::SystemTable { .. } => "SystemTable",
            Refusal::Protected { .. } => "Protected",
            Refusal::ReadOnly { .. } => "ReadOnly",
            Refusal::SchemaWrite { .. } => "SchemaWrite",
            Refusal::TableFunction { .. } => "TableFunction",
            Refusal::Function { .. } => "Function",
            Refusal::Replace { .. } => "Replace",
            Refusal::TenantColumnWrite { .. } => "TenantColumnWrite",
            Refusal::ForeignTenant { .. } => "ForeignTenant",
            Refusal::UncheckedTenantValue { .. } => "UncheckedTenantValue",
            Refusal::RowidAmbiguous { .. } => "RowidAmbiguous",
            Refusal::Tokenization { .. } => "Tokenization",
            Refusal::GlobalCascade { .. } => "GlobalCascade",
            Refusal::ViewWrite { .. } => "ViewWrite",
            Refusal::InView { .. } => "InView",
            Refusal::UnscopedTrigger { .. } => "UnscopedTrigger",
            Refusal::Unsupported { .. } => "Unsupported",
            Refusal::TooComplex { .. } => "TooComplex",
            Refusal::Internal { .. } => "Internal",
        }
    }
}

/// A schema that cannot be read or built.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The tenant column name is not a plain identifier.
    #[error(
        "tenant column name {name:?} is not a plain identifier (ASCII letter or '_', then \
         letters, digits or '_', at most 64 characters)"
    )]
    InvalidColumnName {
        /// The name given.
        name: String,
    },
    /// Two tables with the same name (names compare without regard to ASCII case).
    #[error("table {name:?} is declared twice")]
    DuplicateTable {
        /// The table's name.
        name: String,
    },
    /// A `CREATE TABLE` statement that cannot be read.
    #[error("cannot read the schema: {message} (in: {statement})")]
    Parse {
        /// The start of the statement's text.
        statement: String,
        /// What went wrong.
        message: String,
    },
}
