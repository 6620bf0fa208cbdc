//! [`TenantPool`]: a `sqlx::SqlitePool` whose every connection carries Tenantry's guard,
//! and the scoping (rewriter, plans) its connections share.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePoolOptions};
use sqlx::{ConnectOptions, SqlitePool};
use tenantry_rewrite::{StatementKind, TenantId};
use tenantry_sqlite::{DEFAULT_TENANT_COLUMN, PoolScope};

use crate::connection::{PoolConnection, Transaction};
use crate::error::Error;
use crate::executor::TenantExecutor;

/// How long a schema read stays trusted: past it, the next statement checks SQLite's
/// schema version first (another process may have migrated or declared a table global).
const SCHEMA_LOOK_EVERY: Duration = Duration::from_millis(10);

/// A pool of connections to a migrated SQLite database on which every statement is scoped
/// to the current tenant. `&TenantPool` is a `sqlx::Executor` (see the crate docs).
///
/// Every connection the pool opens gets the guard a tenant connection has (SQLite's
/// authorizer: no schema change, no write to the tenant column, no view or unscoped
/// trigger reaching tenant rows) and Tenantry's SQL functions, before anything runs on it.
/// The schema is read when the pool is made and again after it changes.
#[derive(Clone, Debug)]
pub struct TenantPool {
    pool: SqlitePool,
    scope: Arc<PoolScope>,
    last_look: Arc<Mutex<Instant>>,
    tainted: Arc<Tainted>,
    prepared: Arc<Prepared>,
}

/// The statements the pool prepared (`Executor::prepare`): each one's text is the rewrite,
/// and running it through the pool runs the SQL it was prepared from, rewritten for the
/// tenant that runs it (rewriting the rewrite fails). Bounded: past
/// [`Prepared::MOST`] texts it starts again, and a statement prepared before then has its
/// text rewritten again, which keeps the tenant test it has and adds another: it fails,
/// as it did before this record, or reads no other tenant's rows.
#[derive(Debug, Default)]
pub(crate) struct Prepared(Mutex<std::collections::HashMap<String, String>>);

impl Prepared {
    const MOST: usize = 4096;

    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The connections (by handle) on which a statement changed a setting (PRAGMA) or ran a
/// transaction statement of its own: closed when they go back to the pool rather than
/// handed to the next request, whose tenant may be another (a setting such as
/// `foreign_keys` or `query_only`, or an open transaction, would reach it).
#[derive(Debug, Default)]
pub(crate) struct Tainted(Mutex<HashSet<usize>>);

impl Tainted {
    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<usize>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `conn`, going back to the pool, may serve another request (a tainted one is
    /// forgotten: the pool closes it).
    async fn keep(&self, conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
        // The common case, no tainted connection: no look at the handle.
        if self.set().is_empty() {
            return Ok(true);
        }
        let key = handle_key(conn).await?;
        Ok(!self.set().remove(&key))
    }
}

impl TenantPool {
    /// Opens a pool to the database at `url` (`sqlite://path`) with sqlx's default pool
    /// options, and reads its schema.
    ///
    /// # Errors
    /// sqlx's errors; [`Error::NotMigrated`] (inside `sqlx::Error::Database`) when no table
    /// has the tenant column.
    pub async fn connect(url: &str) -> Result<TenantPool, sqlx::Error> {
        TenantPool::connect_with(
            SqlitePoolOptions::new(),
            SqliteConnectOptions::from_str(url)?,
        )
        .await
    }

    /// Opens a pool with the application's own options: `pool` (size, timeouts) and
    /// `connect` (file, pragmas, busy timeout, collations).
    ///
    /// The pool's `after_connect` (it installs the guard on each new connection) and
    /// `after_release` (it closes a connection on which a statement changed a setting or
    /// ran a transaction statement of its own, rather than hand it to another tenant's
    /// request) are Tenantry's and replace ones set in `pool`; put per-connection settings
    /// in `connect` (`SqliteConnectOptions::pragma`, `collation`, …).
    ///
    /// # Errors
    /// As [`TenantPool::connect`].
    pub async fn connect_with(
        pool: SqlitePoolOptions,
        connect: SqliteConnectOptions,
    ) -> Result<TenantPool, sqlx::Error> {
        let mut first = connect.connect().await?;
        // Installed on the first connection too: a connection the options make that cannot
        // take the guard fails here with SQLite's reason, where the pool would only retry
        // until its acquire timeout ("pool timed out while waiting for an open connection").
        let loaded = with_view(&mut first, |conn| {
            let scope = PoolScope::load(conn, DEFAULT_TENANT_COLUMN)?;
            scope.install(conn)?;
            Ok(scope)
        })
        .await;
        sqlx::Connection::close(first).await?;
        let scope = Arc::new(loaded?);
        let installer = Arc::clone(&scope);
        let tainted = Arc::new(Tainted::default());
        let releaser = Arc::clone(&tainted);
        let pool = pool
            .after_connect(move |conn, _| {
                let scope = Arc::clone(&installer);
                Box::pin(async move { with_view(conn, |view| scope.install(view)).await })
            })
            .after_release(move |conn, _| {
                let tainted = Arc::clone(&releaser);
                Box::pin(async move { tainted.keep(conn).await })
            })
            .connect_with(connect)
            .await?;
        Ok(TenantPool {
            pool,
            scope,
            last_look: Arc::new(Mutex::new(Instant::now())),
            tainted,
            prepared: Arc::default(),
        })
    }

    /// An executor for `tenant`, whatever the task's tenant: the explicit form, for code
    /// that passes the tenant rather than scoping the task.
    pub fn with_tenant(&self, tenant: TenantId) -> TenantExecutor<'_> {
        TenantExecutor { pool: self, tenant }
    }

    /// Begins a transaction for the task's tenant ([`crate::scope`]); every statement run
    /// through `&mut *tx` is scoped to that tenant, whatever the task does meanwhile.
    ///
    /// # Errors
    /// [`Error::NoTenant`] outside a scope; sqlx's.
    pub async fn begin(&self) -> Result<Transaction<'static>, sqlx::Error> {
        let tenant = crate::current_tenant().ok_or(Error::NoTenant)?;
        self.begin_for(tenant).await
    }

    /// Takes a connection from the pool for the task's tenant ([`crate::scope`]).
    ///
    /// # Errors
    /// [`Error::NoTenant`] outside a scope; sqlx's.
    pub async fn acquire(&self) -> Result<PoolConnection, sqlx::Error> {
        let tenant = crate::current_tenant().ok_or(Error::NoTenant)?;
        self.acquire_for(tenant).await
    }

    pub(crate) async fn begin_for(
        &self,
        tenant: TenantId,
    ) -> Result<Transaction<'static>, sqlx::Error> {
        // A transaction's statements cannot look at the schema (see `refresh`): it is
        // looked at before it begins, on a connection outside any transaction.
        self.refresh_now().await?;
        let mut tx = self.pool.begin().await?;
        forget_previous_user(&mut tx).await?;
        Ok(Transaction::new(tx, self.clone(), tenant))
    }

    pub(crate) async fn acquire_for(
        &self,
        tenant: TenantId,
    ) -> Result<PoolConnection, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        forget_previous_user(&mut conn).await?;
        Ok(PoolConnection::new(conn, self.clone(), tenant))
    }

    /// The pool underneath, unscoped: every tenant's rows. For administrative reads and
    /// writes only; each use is logged at WARN with the caller's location. Its connections
    /// still carry the guard, so schema changes and writes to the tenant column are denied
    /// on it: run those through `tenantry migrate` or a plain pool.
    #[track_caller]
    pub fn unscoped(&self) -> &SqlitePool {
        let caller = std::panic::Location::caller();
        tracing::warn!(
            file = caller.file(),
            line = caller.line(),
            "unscoped access to the pool"
        );
        &self.pool
    }

    /// Closes the pool (sqlx's `close`): waits for the connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// `sql` rewritten for `tenant`, with the kind of each of its statements.
    pub(crate) fn render(
        &self,
        sql: &str,
        tenant: &TenantId,
    ) -> Result<(String, Vec<StatementKind>), Error> {
        Ok(self.scope.render_with_kinds(sql, tenant)?)
    }

    /// Records that `text`, the rewrite of `sql`, is a statement the pool prepared.
    pub(crate) fn prepared(&self, text: &str, sql: &str) {
        let mut map = self.prepared.map();
        if map.len() >= Prepared::MOST {
            map.clear();
        }
        map.insert(text.to_owned(), sql.to_owned());
    }

    /// The SQL a statement the pool prepared was prepared from, given its text.
    pub(crate) fn prepared_from(&self, text: &str) -> Option<String> {
        self.prepared.map().get(text).cloned()
    }

    /// Marks `conn` to be closed when it goes back to the pool (see [`Tainted`]).
    pub(crate) async fn taint(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let key = handle_key(conn).await?;
        self.tainted.set().insert(key);
        Ok(())
    }

    /// Reads the schema again, on `conn`, when it changed since it was last looked at
    /// (at most every [`SCHEMA_LOOK_EVERY`]; one caller at a time looks). A connection
    /// inside a transaction cannot look: the look stays due for the next statement.
    pub(crate) async fn refresh_if_due(
        &self,
        conn: &mut SqliteConnection,
    ) -> Result<(), sqlx::Error> {
        let Some(previous) = self.take_look() else {
            return Ok(());
        };
        let looked = self.refresh(conn).await;
        if !matches!(looked, Ok(true)) {
            self.put_back(previous);
        }
        looked.map(|_| ())
    }

    /// Reads the schema again, when it changed, on a connection of the pool outside any
    /// transaction (whatever the time of the last look).
    async fn refresh_now(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        if self.refresh(&mut conn).await?
            && let Ok(mut last) = self.last_look.lock()
        {
            *last = Instant::now();
        }
        Ok(())
    }

    /// Reads the schema again, when it changed, on `conn` (held by the caller), unless it
    /// is inside a transaction.
    pub(crate) async fn refresh_on(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        self.refresh(conn).await.map(|_| ())
    }

    /// When the schema is due a look, the time of the last one (the caller looks, and
    /// puts it back if it could not).
    fn take_look(&self) -> Option<Instant> {
        let mut last = self.last_look.try_lock().ok()?;
        let previous = *last;
        (previous.elapsed() >= SCHEMA_LOOK_EVERY).then(|| {
            *last = Instant::now();
            previous
        })
    }

    /// Puts back the time of the last look, taken by a caller that could not look.
    fn put_back(&self, previous: Instant) {
        if let Ok(mut last) = self.last_look.lock() {
            *last = previous.min(*last);
        }
    }

    /// Reads the schema again, on `conn`, when its version moved; whether it looked.
    async fn refresh(&self, conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
        let scope = Arc::clone(&self.scope);
        // Not inside a transaction: reading the schema version would start its read
        // snapshot before its first write, which SQLite then refuses to upgrade
        // (SQLITE_BUSY) when another connection wrote meanwhile. A transaction's schema is
        // looked at before it begins ([`TenantPool::begin`]).
        with_view(conn, |view| {
            if view.is_autocommit() {
                scope.refresh(view).map(|_| true)
            } else {
                Ok(false)
            }
        })
        .await
    }
}

/// Makes `conn` forget its previous user (another request, maybe another tenant): the key
/// it inserted last and the rows it changed are not the next one's to read
/// ([`PoolScope::hand_over`]).
async fn forget_previous_user(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    with_view(conn, |view| PoolScope::hand_over(view)).await
}

/// The address of `conn`'s SQLite handle, which names it while it is open.
async fn handle_key(conn: &mut SqliteConnection) -> Result<usize, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    Ok(handle.as_raw_handle().as_ptr() as usize)
}

/// Runs `f` on a rusqlite view of `conn`'s handle, while sqlx's worker is held off it.
async fn with_view<T>(
    conn: &mut SqliteConnection,
    f: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T>,
) -> Result<T, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: `raw` is the open handle of `conn`, locked out of sqlx's worker thread until
    // `handle` drops, after the view: nothing else uses it meanwhile. The view does not own
    // the handle (dropping it neither closes the handle nor removes what was installed on
    // it). sqlx and rusqlite link the same libsqlite3-sys, so the handle types agree.
    let mut view = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }
        .map_err(|e| Error::from_sqlite(&e))?;
    let result = f(&mut view).map_err(|e| Error::from_sqlite(&e));
    drop(view);
    drop(handle);
    Ok(result?)
}
