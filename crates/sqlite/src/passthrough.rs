//! Methods of rusqlite's `Connection` that legacy code calls and that the tenant connection
//! offers with the same signature: passed through where they cannot touch a row
//! (`is_autocommit`, `path`), scoped like `query_row` where they run SQL
//! (`query_row_and_then`); and `Debug`, which shows no row either.

use std::fmt;

use rusqlite::{Params, Row};

use crate::connection::Connection;

impl Connection {
    /// `rusqlite::Connection::is_autocommit`: whether no transaction is open. Reads the
    /// connection's state, no row.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?.execute_batch(
    /// #     "CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);")?;
    /// let mut conn = tenantry_sqlite::Connection::open(&path)?;
    /// conn.set_tenant("store-1")?;
    /// assert!(conn.is_autocommit());
    /// let tx = conn.transaction()?;
    /// tx.rollback()?;
    /// # Ok(()) }
    /// ```
    pub fn is_autocommit(&self) -> bool {
        self.inner.is_autocommit()
    }

    /// `rusqlite::Connection::path`: the database file's path (`None` or empty for an
    /// in-memory or temporary database, as rusqlite says).
    pub fn path(&self) -> Option<&str> {
        self.inner.path()
    }

    /// `rusqlite::Connection::query_row_and_then`, scoped as [`Connection::query_row`]:
    /// the first row of the statement's tenant-scoped result, through `f`, whose error
    /// type is the caller's.
    ///
    /// # Errors
    /// SQLite's errors or a refusal (converted into `E`), or `f`'s error;
    /// `rusqlite::Error::QueryReturnedNoRows` when the tenant has no such row.
    pub fn query_row_and_then<T, E, P, F>(&self, sql: &str, params: P, f: F) -> Result<T, E>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T, E>,
        E: From<rusqlite::Error>,
    {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        match rows.next()? {
            Some(row) => f(row),
            None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("path", &self.inner.path())
            .field("tenant", &self.tenant().map(|t| t.as_str().to_owned()))
            .field("autocommit", &self.inner.is_autocommit())
            .finish_non_exhaustive()
    }
}
