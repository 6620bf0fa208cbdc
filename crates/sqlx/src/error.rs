//! Why a statement did not run. It reaches the application as `sqlx::Error::Database`,
//! which its error handling already knows; [`Error::of`] reads it back.

use std::borrow::Cow;

use tenantry_rewrite::{Refusal, RewriteError};

/// Why the tenant pool did not run a statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No tenant: the statement ran outside [`crate::scope`] and not through
    /// [`crate::TenantPool::with_tenant`]. There is no default tenant.
    #[error(
        "no tenant for this statement; run it inside tenantry_sqlx::scope(tenant, …) or \
         through pool.with_tenant(tenant)"
    )]
    NoTenant,
    /// The rewriter refused the statement or could not parse it.
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
    /// A transaction statement (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) run through
    /// the pool itself: each such statement runs on whichever connection is free, and a
    /// transaction it left open would be handed to another tenant's request.
    #[error(
        "BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE cannot run through the pool (each \
         statement takes whichever connection is free, so a transaction left open would \
         reach another tenant's request); begin one with pool.begin(), or hold a connection \
         with pool.acquire()"
    )]
    TransactionOnPool,
    /// The database has no table with the tenant column: it has not been migrated.
    #[error(
        "the database has no table with the tenant column {column:?}; run `tenantry migrate` \
         on it first"
    )]
    NotMigrated {
        /// The tenant column looked for.
        column: String,
    },
    /// The schema could not be read into the rewriter, or the guard could not be
    /// installed on a connection.
    #[error("cannot read the database's schema or guard its connection: {0}")]
    Schema(String),
}

impl Error {
    /// A rusqlite error met while reading the schema or installing the guard on a pooled
    /// connection, as the tenant pool's.
    pub(crate) fn from_sqlite(error: &rusqlite::Error) -> Error {
        match tenantry_sqlite::Error::of(error) {
            Some(tenantry_sqlite::Error::NotMigrated { column }) => Error::NotMigrated {
                column: column.clone(),
            },
            _ => Error::Schema(error.to_string()),
        }
    }

    /// The tenant pool's error inside a `sqlx::Error`, if that is what it is.
    pub fn of(error: &sqlx::Error) -> Option<&Error> {
        match error {
            sqlx::Error::Database(e) => e.try_downcast_ref::<Error>(),
            _ => None,
        }
    }

    /// The rewriter's typed refusal inside a `sqlx::Error`, if that is what it is.
    pub fn refusal(error: &sqlx::Error) -> Option<&Refusal> {
        match Error::of(error) {
            Some(Error::Rewrite(e)) => e.refusal(),
            _ => None,
        }
    }
}

impl sqlx::error::DatabaseError for Error {
    fn message(&self) -> &str {
        match self {
            Error::NoTenant => "no tenant for this statement",
            Error::Rewrite(_) => "the statement was refused for the tenant",
            Error::TransactionOnPool => "a transaction statement cannot run through the pool",
            Error::NotMigrated { .. } => "the database has not been migrated",
            Error::Schema(_) => "the database's schema could not be read",
        }
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(match self {
            Error::NoTenant => "TENANTRY_NO_TENANT",
            Error::Rewrite(_) => "TENANTRY_REFUSED",
            Error::TransactionOnPool => "TENANTRY_TRANSACTION_ON_POOL",
            Error::NotMigrated { .. } => "TENANTRY_NOT_MIGRATED",
            Error::Schema(_) => "TENANTRY_SCHEMA",
        }))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}
