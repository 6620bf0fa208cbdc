//! Methods of rusqlite's `Connection` that legacy code calls and that the tenant connection
//! offers with the same signature: passed through where they cannot touch a row
//! (`is_autocommit`, `path`, the busy and progress handlers, counters, the statement
//! cache), scoped like `query_row` where they run SQL (`query_row_and_then`,
//! `query_one`); and `Debug`, which shows no row either. The README's method table lists
//! every method of rusqlite's `Connection`.

use std::fmt;
use std::os::raw::c_int;

use rusqlite::config::DbConfig;
use rusqlite::functions::{Context, FunctionFlags, SqlFnOutput};
use rusqlite::{InterruptHandle, Name, Params, Row, TransactionState};

use crate::connection::Connection;
use crate::error::Error;

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

impl Connection {
    /// `rusqlite::Connection::query_one`, scoped: the statement's only row through `f`;
    /// an error when the tenant has no such row or more than one.
    ///
    /// # Errors
    /// SQLite's errors or a refusal; `QueryReturnedNoRows`, `QueryReturnedMoreThanOneRow`.
    pub fn query_one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        let mut stmt = self.prepare_cached(sql)?;
        stmt.query_one(params, f)
    }

    /// `rusqlite::Connection::busy_handler`: called while another connection holds a
    /// lock. Passed through: it sees a retry count, no row.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn busy_handler<F>(&mut self, callback: Option<F>) -> rusqlite::Result<()>
    where
        F: FnMut(i32) -> bool + Send + 'static,
    {
        self.inner.busy_handler(callback)
    }

    /// `rusqlite::Connection::progress_handler`: called every `num_ops` virtual-machine
    /// steps; returning `true` interrupts the statement. Passed through: it sees no row.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn progress_handler<F>(
        &mut self,
        num_ops: c_int,
        handler: Option<F>,
    ) -> rusqlite::Result<()>
    where
        F: FnMut() -> bool + Send + 'static,
    {
        self.inner.progress_handler(num_ops, handler)
    }

    /// `rusqlite::Connection::create_scalar_function`: a function the application's SQL
    /// calls, on values the scoped statement hands it. Passed through, except for the
    /// tenant connection's own: names starting with `tenantry_` (the tenant-value check,
    /// the key report), and `total_changes` (the count of the current tenant's changes
    /// only).
    ///
    /// # Errors
    /// [`Error::NotOnTenantConnection`] for one of those names; SQLite's errors.
    pub fn create_scalar_function<F, N: Name, T>(
        &self,
        fn_name: N,
        n_arg: c_int,
        flags: FunctionFlags,
        x_func: F,
    ) -> rusqlite::Result<()>
    where
        F: Fn(&mut Context<'_>) -> rusqlite::Result<T> + Send + 'static,
        T: SqlFnOutput,
    {
        reserved(&fn_name, "create_scalar_function")?;
        self.forget_held_note();
        self.inner
            .create_scalar_function(fn_name, n_arg, flags, x_func)
    }

    /// `rusqlite::Connection::remove_function`, except the tenant connection's own
    /// (`tenantry_` names, `total_changes`).
    ///
    /// # Errors
    /// [`Error::NotOnTenantConnection`] for a `tenantry_` name; SQLite's errors.
    pub fn remove_function<N: Name>(&self, fn_name: N, n_arg: c_int) -> rusqlite::Result<()> {
        reserved(&fn_name, "remove_function")?;
        self.forget_held_note();
        self.inner.remove_function(fn_name, n_arg)
    }

    /// `rusqlite::Connection::create_aggregate_function`, as
    /// [`Connection::create_scalar_function`]: passed through, except the connection's own
    /// names.
    ///
    /// # Errors
    /// [`Error::NotOnTenantConnection`] for a `tenantry_` name; SQLite's errors.
    pub fn create_aggregate_function<A, D, N: Name, T>(
        &self,
        fn_name: N,
        n_arg: c_int,
        flags: FunctionFlags,
        aggr: D,
    ) -> rusqlite::Result<()>
    where
        A: std::panic::RefUnwindSafe + std::panic::UnwindSafe + Send,
        D: rusqlite::functions::Aggregate<A, T> + Send + 'static,
        T: SqlFnOutput,
    {
        reserved(&fn_name, "create_aggregate_function")?;
        self.forget_held_note();
        self.inner
            .create_aggregate_function(fn_name, n_arg, flags, aggr)
    }

    /// `rusqlite::Connection::table_exists`: whether the schema declares the table (the
    /// schema, not any tenant's rows).
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn table_exists<N: Name>(
        &self,
        db_name: Option<N>,
        table_name: N,
    ) -> rusqlite::Result<bool> {
        self.inner.table_exists(db_name, table_name)
    }

    /// `rusqlite::Connection::column_exists`: whether the schema declares the column.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn column_exists<N: Name>(
        &self,
        db_name: Option<N>,
        table_name: N,
        column_name: N,
    ) -> rusqlite::Result<bool> {
        self.inner.column_exists(db_name, table_name, column_name)
    }

    /// `rusqlite::Connection::db_config`: reads a setting. Passed through.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn db_config(&self, config: DbConfig) -> rusqlite::Result<bool> {
        self.inner.db_config(config)
    }

    /// `rusqlite::Connection::is_busy`: whether a statement of this connection is running.
    pub fn is_busy(&self) -> bool {
        self.inner.is_busy()
    }

    /// `rusqlite::Connection::total_changes`, for the current tenant: rows its statements
    /// changed on this connection since it was set (the SQL function `total_changes()`
    /// reads the same). The previous tenant's are not counted.
    pub fn total_changes(&self) -> u64 {
        crate::counts::total_changes(&self.inner)
    }

    /// `rusqlite::Connection::is_readonly`: whether the database `db_name` is read-only.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn is_readonly<N: Name>(&self, db_name: N) -> rusqlite::Result<bool> {
        self.inner.is_readonly(db_name)
    }

    /// `rusqlite::Connection::db_name`: the name of the attached database `index`.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn db_name(&self, index: usize) -> rusqlite::Result<String> {
        self.inner.db_name(index)
    }

    /// `rusqlite::Connection::transaction_state`.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn transaction_state<N: Name>(
        &self,
        db_name: Option<N>,
    ) -> rusqlite::Result<TransactionState> {
        self.inner.transaction_state(db_name)
    }

    /// `rusqlite::Connection::get_interrupt_handle`: interrupts the running statement from
    /// another thread.
    pub fn get_interrupt_handle(&self) -> InterruptHandle {
        self.inner.get_interrupt_handle()
    }

    /// `rusqlite::Connection::is_interrupted`.
    pub fn is_interrupted(&self) -> bool {
        self.inner.is_interrupted()
    }

    /// `rusqlite::Connection::cache_flush`: writes dirty pages of an open transaction.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn cache_flush(&self) -> rusqlite::Result<()> {
        self.inner.cache_flush()
    }

    /// `rusqlite::Connection::release_memory`.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn release_memory(&self) -> rusqlite::Result<()> {
        self.inner.release_memory()
    }

    /// `rusqlite::Connection::flush_prepared_statement_cache`.
    pub fn flush_prepared_statement_cache(&self) {
        self.inner.flush_prepared_statement_cache();
    }

    /// `rusqlite::Connection::set_prepared_statement_cache_capacity`.
    pub fn set_prepared_statement_cache_capacity(&self, capacity: usize) {
        self.inner.set_prepared_statement_cache_capacity(capacity);
    }
}

/// Refuses a function name of the tenant connection's own.
fn reserved<N: Name>(name: &N, method: &'static str) -> rusqlite::Result<()> {
    let text = name
        .as_cstr()
        .map(|c| c.to_string_lossy().to_ascii_lowercase())?;
    if text.starts_with("tenantry_") {
        return Err(Error::NotOnTenantConnection {
            method,
            reason: "functions named tenantry_… are the tenant connection's own (the \
                     tenant-value check, the key report); name yours otherwise",
        }
        .into());
    }
    if text == "total_changes" {
        return Err(Error::NotOnTenantConnection {
            method,
            reason: "total_changes() is the tenant connection's own: it counts the current \
                     tenant's changes only; name yours otherwise",
        }
        .into());
    }
    Ok(())
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
