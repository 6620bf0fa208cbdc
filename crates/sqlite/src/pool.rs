//! Pooling tenant connections with `r2d2`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("app.db");
//! # rusqlite::Connection::open(&path)?.execute_batch(
//! #     "CREATE TABLE customers (name TEXT, tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');",
//! # )?;
//! use tenantry_sqlite::pool::{Manager, Pool};
//! let pool = Pool::new(Manager::new(&path), 8)?;
//! let conn = pool.get()?;
//! conn.set_tenant("store-1")?;
//! conn.execute("INSERT INTO customers (name) VALUES ('Ada')", [])?;
//! drop(conn); // back to the pool
//! assert!(pool.get()?.tenant().is_none()); // the next user starts with no tenant
//! # Ok(()) }
//! ```
//!
//! The pool's connections share one plan cache: a statement is analysed once, whichever
//! connection sees it first.
//!
//! The pattern: one pool per database file, in WAL mode (the manager switches the database
//! to WAL), each request takes a connection, sets its tenant, and gives it back.
//! [`Pool::get`] clears the tenant of every connection it hands out, so a request that
//! forgets `set_tenant` gets refusals — never the previous request's tenant. (A plain
//! `r2d2::Pool<Manager>` works too, but leaves that clearing to the caller.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::connection::{Connection, DEFAULT_TENANT_COLUMN, SharedPlans};

/// Opens tenant connections to one database file.
#[derive(Clone, Debug)]
pub struct Manager {
    path: PathBuf,
    column: String,
    busy_timeout: Duration,
    plans: SharedPlans,
}

impl Manager {
    /// Connections to `path`, tenant column `tenant_id`, busy timeout 5 s.
    pub fn new(path: impl AsRef<Path>) -> Manager {
        Manager {
            path: path.as_ref().to_owned(),
            column: DEFAULT_TENANT_COLUMN.to_owned(),
            busy_timeout: Duration::from_secs(5),
            plans: SharedPlans::default(),
        }
    }

    /// The tenant column the migration used.
    pub fn with_column(mut self, column: &str) -> Manager {
        self.column = column.to_owned();
        self
    }

    /// How long a connection waits for a lock before failing with SQLITE_BUSY.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Manager {
        self.busy_timeout = timeout;
        self
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let conn = rusqlite::Connection::open(&self.path)?;
        conn.busy_timeout(self.busy_timeout)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, path = %self.path.display(), "the database is not in WAL mode");
        }
        Connection::wrap_shared(conn, &self.column, self.plans.clone())
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        conn.check()
    }

    /// Called as each connection goes back to the pool: it goes back with no tenant, so the
    /// next request gets refusals until it sets its own, whichever way it took the
    /// connection ([`Pool::get`], [`Pool::r2d2`], or an `r2d2::Pool` built on this manager).
    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.clear_tenant();
        false
    }
}

/// An `r2d2` pool of tenant connections that hands every connection out with no tenant.
#[derive(Clone, Debug)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
}

impl Pool {
    /// A pool of at most `max_size` connections (one is opened now, to fail early).
    ///
    /// # Errors
    /// r2d2's error when the first connection cannot be opened (not a database, not
    /// migrated, ...).
    pub fn new(manager: Manager, max_size: u32) -> Result<Pool, r2d2::Error> {
        // No check on checkout: r2d2's check is for network connections that die while
        // idle; a SQLite connection to a file does not, and the check (a statement, so a
        // read transaction) would cost each request as much as an indexed lookup. Schema
        // changes are the connection's own business (it re-reads the schema version when
        // the database says it may have changed).
        let inner = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Pool { inner })
    }

    /// A connection with no tenant set.
    ///
    /// # Errors
    /// r2d2's error when no connection frees up within the pool's timeout (30 s).
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, r2d2::Error> {
        let conn = self.inner.get()?;
        conn.clear_tenant();
        Ok(conn)
    }

    /// The underlying `r2d2` pool.
    pub fn r2d2(&self) -> &r2d2::Pool<Manager> {
        &self.inner
    }
}
