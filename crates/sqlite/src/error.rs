//! The connection's own errors. Methods return `rusqlite::Result` so legacy code keeps its
//! signatures; a refusal or a missing tenant travels inside `rusqlite::Error` and is read
//! back with [`Error::of`].

use tenantry_rewrite::{InvalidTenantId, Refusal, RewriteError, SchemaError};

/// Why the tenant connection did not run a statement.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scoped statement was sent with no tenant set. There is no default tenant.
    #[error(
        "no tenant is set on this connection; call set_tenant (or with_tenant) before running \
         SQL, or use unscoped() for administrative work"
    )]
    NoTenant,
    /// The rewriter refused the statement or could not parse it.
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
    /// The tenant id breaks the rules of `TenantId`.
    #[error(transparent)]
    InvalidTenantId(#[from] InvalidTenantId),
    /// The database has no tenant column anywhere: it has not been migrated.
    #[error(
        "the database has no table with the tenant column {column:?}; run `tenantry migrate` \
         on it first (or pass the column the migration used)"
    )]
    NotMigrated {
        /// The tenant column looked for.
        column: String,
    },
    /// The schema could not be read into the rewriter.
    #[error("cannot read the database's schema: {0}")]
    Schema(#[from] SchemaError),
    /// A statement the application held (from `prepare`, `prepare_with_flags` or
    /// `prepare_cached`) ran after the connection changed tenant: it was prepared for
    /// another tenant, and read and wrote nothing. Prepare it again after the change. The
    /// statement is rusqlite's: it fails with SQLite's "interrupted" (the check at its
    /// start, logged at WARN with this explanation), or with this message as SQLite's error.
    #[error(
        "this statement was prepared for tenant {prepared:?}, and the connection's tenant is \
         now {}; it returned and changed nothing: prepare it again after changing the tenant",
        current.as_deref().map_or_else(|| "none".to_owned(), |c| format!("{c:?}"))
    )]
    StatementOfAnotherTenant {
        /// The tenant the statement was prepared for.
        prepared: String,
        /// The connection's tenant when it ran (none: cleared).
        current: Option<String>,
    },
    /// The tenant was not changed: a statement the application holds, prepared for another
    /// tenant than the one asked for, is still being read (its rows were read for its own
    /// tenant, and reading on would hand them to code running as the new one).
    #[error(
        "a statement prepared for tenant {prepared:?} is still being read, so the tenant \
         stays {prepared:?} and is not changed to {requested:?}: finish reading its rows or \
         drop them first"
    )]
    HeldStatementRunning {
        /// The tenant the running statement was prepared for.
        prepared: String,
        /// The tenant asked for.
        requested: String,
    },
    /// A statement gave (or compared with) the tenant column a value that is not the
    /// connection's tenant; the statement failed and changed nothing. Returned as this by
    /// [`Connection::execute`](crate::Connection::execute), `execute_batch` and
    /// `query_row`; a statement from `prepare` reports SQLite's error with the same message.
    #[error(
        "{table:?}.{column:?} was given {given}, which is not this connection's tenant {tenant:?}; the statement changed nothing"
    )]
    TenantMismatch {
        /// The table whose tenant column it is.
        table: String,
        /// The tenant column.
        column: String,
        /// The value given, as SQL would write it (`'store-2'`, `NULL`, `7`).
        given: String,
        /// The connection's tenant.
        tenant: String,
    },
    /// A method of rusqlite's `Connection` the tenant connection does not run: it would
    /// reach every tenant's rows or switch the connection's guard off.
    #[error("{method} is not available on a tenant connection: {reason}")]
    NotOnTenantConnection {
        /// The method.
        method: &'static str,
        /// Why, and what to do instead.
        reason: &'static str,
    },
}

impl Error {
    /// The tenant connection's error inside a `rusqlite::Error`, if that is what it is.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("app.db");
    /// rusqlite::Connection::open(&path)?
    ///     .execute_batch("CREATE TABLE t (a TEXT, tenant_id TEXT NOT NULL DEFAULT 'x');")?;
    /// let conn = tenantry_sqlite::Connection::open(&path)?;
    /// let err = conn.execute("DELETE FROM t", []).unwrap_err();
    /// assert!(matches!(tenantry_sqlite::Error::of(&err), Some(tenantry_sqlite::Error::NoTenant)));
    /// # Ok(()) }
    /// ```
    pub fn of(error: &rusqlite::Error) -> Option<&Error> {
        match error {
            rusqlite::Error::UserFunctionError(inner) => inner.downcast_ref::<Error>(),
            _ => None,
        }
    }

    /// The rewriter's refusal inside a `rusqlite::Error`, if that is what it is: its kind
    /// is a [`Refusal`] variant, matched without reading a message. SQLite's own errors
    /// (a constraint, a busy database) are never refusals; they arrive as rusqlite gives
    /// them.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?.execute_batch(
    /// #     "CREATE TABLE t (a TEXT UNIQUE, tenant_id TEXT NOT NULL DEFAULT 'x');")?;
    /// use tenantry_rewrite::Refusal;
    /// let conn = tenantry_sqlite::Connection::open(&path)?;
    /// conn.set_tenant("x")?;
    /// let err = conn.execute("DROP TABLE t", []).unwrap_err();
    /// assert!(matches!(tenantry_sqlite::Error::refusal(&err), Some(Refusal::SchemaChange { .. })));
    /// conn.execute("INSERT INTO t (a) VALUES ('k')", [])?;
    /// let err = conn.execute("INSERT INTO t (a) VALUES ('k')", []).unwrap_err();
    /// assert!(tenantry_sqlite::Error::refusal(&err).is_none());
    /// assert_eq!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::ConstraintViolation));
    /// # Ok(()) }
    /// ```
    pub fn refusal(error: &rusqlite::Error) -> Option<&Refusal> {
        match Error::of(error) {
            Some(Error::Rewrite(e)) => e.refusal(),
            _ => None,
        }
    }
}

/// The error of converting a [`TenantId`](tenantry_rewrite::TenantId) into itself, which
/// cannot happen: it lets [`Connection::set_tenant`](crate::Connection::set_tenant) and
/// [`Connection::with_tenant`](crate::Connection::with_tenant) take an id already checked.
impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<Error> for rusqlite::Error {
    fn from(error: Error) -> Self {
        rusqlite::Error::UserFunctionError(Box::new(error))
    }
}
