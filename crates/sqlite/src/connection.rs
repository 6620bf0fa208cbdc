//! `Connection`: rusqlite's connection with every statement scoped to the current tenant.

use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::atomic::Ordering;

use quick_cache::sync::Cache;
use rusqlite::hooks::AuthContext;
use rusqlite::{CachedStatement, Params, Row, Statement};
use tenantry_rewrite::{Plan, Rewriter, StatementInfo, TenantId};

use crate::error::Error;
use crate::guard::Guard;
use crate::schema;

/// How many distinct statements' rewrites a connection keeps.
const PLAN_CACHE_CAPACITY: usize = 4096;

/// How many prepared statements rusqlite keeps per connection. Its default, 16, is for one
/// tenant: here each statement is prepared once per tenant (the tenant is in its text), and
/// a cache that is too small re-prepares on every call.
const STATEMENT_CACHE_CAPACITY: usize = 512;

/// The tenant column the migrator adds unless told otherwise.
pub const DEFAULT_TENANT_COLUMN: &str = "tenant_id";

/// A statement about to run: what the audit hook sees.
#[derive(Debug)]
pub struct AuditEvent<'a> {
    /// The tenant it runs for.
    pub tenant: &'a TenantId,
    /// The SQL as the application sent it.
    pub sql: &'a str,
    /// What the rewriter found in each statement: kind and tables.
    pub statements: &'a [StatementInfo],
}

type AuditHook = Box<dyn Fn(&AuditEvent<'_>) + Send>;

/// A rewritten statement and the tracing span it runs in.
struct Scoped {
    sql: String,
    span: tracing::Span,
}

/// Rewrites shared between connections to one database: the rewriter for the current
/// schema and its plan cache. Cheap to clone (one `Arc`).
#[derive(Clone, Default)]
pub struct SharedPlans {
    slot: Arc<Mutex<Option<Arc<Scoping>>>>,
}

impl std::fmt::Debug for SharedPlans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPlans").finish_non_exhaustive()
    }
}

impl SharedPlans {
    /// The scoping for schema `version`: the shared one when it matches, else a fresh one
    /// read from `conn` and published for the others.
    fn for_version(
        &self,
        conn: &rusqlite::Connection,
        column: &str,
        version: i64,
    ) -> rusqlite::Result<Arc<Scoping>> {
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(scoping) = slot.as_ref()
            && scoping.version == version
        {
            return Ok(Arc::clone(scoping));
        }
        let fresh = Arc::new(Scoping::load(conn, column)?);
        *slot = Some(Arc::clone(&fresh));
        Ok(fresh)
    }
}

/// The rewriter for one version of the schema, and the rewrites it made.
struct Scoping {
    version: i64,
    rewriter: Rewriter,
    plans: Cache<String, Arc<Plan>>,
}

impl Scoping {
    fn load(conn: &rusqlite::Connection, column: &str) -> rusqlite::Result<Scoping> {
        let version = schema::version(conn)?;
        let schema = schema::require_migrated(schema::load(conn, column)?)?;
        Ok(Scoping {
            version,
            rewriter: Rewriter::new(schema),
            plans: Cache::new(PLAN_CACHE_CAPACITY),
        })
    }
}

/// A SQLite connection on which every statement reads and writes only the current
/// tenant's rows.
///
/// The methods are rusqlite's, with the same names, parameters and results, so legacy code
/// switches by changing its imports and its constructor. Each statement is rewritten by
/// `tenantry-rewrite` before SQLite prepares it; a statement that cannot be scoped is
/// refused with an error ([`Error::of`] reads it back), never run unscoped. With no tenant
/// set, every statement is refused.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("app.db");
/// # rusqlite::Connection::open(&path)?.execute_batch(
/// #     "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT,
/// #                              tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
/// #      INSERT INTO customers (name, tenant_id) VALUES ('Ada', 'store-1'), ('Bo', 'store-2');",
/// # )?;
/// let conn = tenantry_sqlite::Connection::open(&path)?;
/// conn.set_tenant("store-1")?;
/// let names: Vec<String> = conn
///     .prepare("SELECT name FROM customers")?
///     .query_map([], |row| row.get(0))?
///     .collect::<rusqlite::Result<_>>()?;
/// assert_eq!(names, ["Ada"]);
/// # Ok(()) }
/// ```
pub struct Connection {
    inner: rusqlite::Connection,
    savepoints: std::cell::Cell<u32>,
    audit: RefCell<Option<AuditHook>>,
    guard: Arc<Guard>,
    column: String,
    scoping: RefCell<Arc<Scoping>>,
    shared: SharedPlans,
    tenant: RefCell<Option<TenantId>>,
}

impl Connection {
    /// Opens the database at `path` (created if missing, as rusqlite does — it is then
    /// refused as not migrated).
    ///
    /// # Errors
    /// SQLite's errors, or [`Error::NotMigrated`] when no table has the tenant column.
    pub fn open<P: AsRef<Path>>(path: P) -> rusqlite::Result<Connection> {
        Connection::wrap(rusqlite::Connection::open(path)?)
    }

    /// Scopes an open rusqlite connection, with the default tenant column.
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn wrap(conn: rusqlite::Connection) -> rusqlite::Result<Connection> {
        Connection::wrap_with_column(conn, DEFAULT_TENANT_COLUMN)
    }

    /// Scopes an open rusqlite connection whose tenant column is `column`.
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn wrap_with_column(
        conn: rusqlite::Connection,
        column: &str,
    ) -> rusqlite::Result<Connection> {
        Connection::wrap_shared(conn, column, SharedPlans::default())
    }

    /// Scopes an open rusqlite connection whose tenant column is `column`, sharing its
    /// rewrites with every connection given the same `shared` (a pool's connections: a
    /// statement is analysed once, whichever connection sees it first).
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn wrap_shared(
        mut conn: rusqlite::Connection,
        column: &str,
        shared: SharedPlans,
    ) -> rusqlite::Result<Connection> {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        let scoping = shared.for_version(&conn, column, schema::version(&conn)?)?;
        let guard = Guard::new(scoping.rewriter.schema());
        let hook = Arc::clone(&guard);
        conn.authorizer(Some(move |ctx: AuthContext<'_>| hook.authorize(&ctx)))?;
        Ok(Connection {
            inner: conn,
            savepoints: std::cell::Cell::new(0),
            audit: RefCell::new(None),
            guard,
            column: column.to_owned(),
            scoping: RefCell::new(scoping),
            shared,
            tenant: RefCell::new(None),
        })
    }

    /// Makes `tenant` the current tenant of this connection.
    ///
    /// # Errors
    /// [`Error::InvalidTenantId`] (and the current tenant is unchanged).
    pub fn set_tenant(&self, tenant: &str) -> rusqlite::Result<()> {
        let tenant = TenantId::new(tenant).map_err(Error::from)?;
        *self.tenant.borrow_mut() = Some(tenant);
        Ok(())
    }

    /// Clears the current tenant: every scoped statement is refused until one is set.
    pub fn clear_tenant(&self) {
        *self.tenant.borrow_mut() = None;
    }

    /// The current tenant.
    pub fn tenant(&self) -> Option<TenantId> {
        self.tenant.borrow().clone()
    }

    /// Runs `f` with `tenant` as the current tenant, then restores the previous one (also
    /// when `f` fails).
    ///
    /// # Errors
    /// [`Error::InvalidTenantId`], or what `f` returns.
    pub fn with_tenant<T>(
        &self,
        tenant: &str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let tenant = TenantId::new(tenant).map_err(Error::from)?;
        let previous = self.tenant.replace(Some(tenant));
        let result = f(self);
        *self.tenant.borrow_mut() = previous;
        result
    }

    /// The rewrite of `sql` for the current tenant.
    fn scoped(&self, sql: &str) -> rusqlite::Result<Scoped> {
        let tenant = self.tenant.borrow().clone().ok_or(Error::NoTenant)?;
        let started = Instant::now();
        let scoping = self.current()?;
        let (plan, cached) = match scoping.plans.get(sql) {
            Some(plan) => (plan, true),
            None => {
                let plan = Arc::new(scoping.rewriter.plan(sql).map_err(Error::from)?);
                scoping.plans.insert(sql.to_owned(), Arc::clone(&plan));
                (plan, false)
            }
        };
        let rewritten = plan.render(&tenant).map_err(Error::from)?;
        let infos = rewritten.statements();
        // The span's fields cost allocations: build them only when someone listens.
        let span = if tracing::enabled!(tracing::Level::DEBUG) {
            let kinds: Vec<&str> = infos.iter().map(|s| s.kind.as_str()).collect();
            let tables: Vec<&str> = infos
                .iter()
                .flat_map(|s| s.tables.iter().map(|t| t.name.as_str()))
                .collect();
            tracing::debug_span!(
                "tenantry.statement",
                tenant = %tenant,
                kinds = ?kinds,
                tables = ?tables,
                cached,
                rewrite_us = started.elapsed().as_micros() as u64,
            )
        } else {
            tracing::Span::none()
        };
        if let Some(hook) = self.audit.borrow().as_ref() {
            hook(&AuditEvent {
                tenant: &tenant,
                sql,
                statements: infos,
            });
        }
        Ok(Scoped {
            sql: rewritten.into_sql(),
            span,
        })
    }

    /// Calls `hook` for every statement this connection runs, with the tenant and what the
    /// statement touches: the place to write the tenant id into the application's audit
    /// trail. (It runs before SQLite prepares the statement; keep it quick.)
    pub fn set_audit_hook(&self, hook: impl Fn(&AuditEvent<'_>) + Send + 'static) {
        *self.audit.borrow_mut() = Some(Box::new(hook));
    }

    /// Removes the audit hook.
    pub fn clear_audit_hook(&self) {
        *self.audit.borrow_mut() = None;
    }

    /// The scoping for the schema as it is now, reloaded when it changed.
    fn current(&self) -> rusqlite::Result<Arc<Scoping>> {
        let version = schema::version(&self.inner)?;
        if self.scoping.borrow().version == version {
            return Ok(Arc::clone(&self.scoping.borrow()));
        }
        tracing::debug!(version, "schema changed; reloading");
        let fresh = self
            .shared
            .for_version(&self.inner, &self.column, version)?;
        self.guard.learn(fresh.rewriter.schema());
        *self.scoping.borrow_mut() = Arc::clone(&fresh);
        Ok(fresh)
    }

    /// `rusqlite::Connection::execute`, scoped.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        self.inner.execute(&scoped.sql, params)
    }

    /// `rusqlite::Connection::execute_batch`, scoped. If any statement is refused, none runs.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        self.inner.execute_batch(&scoped.sql)
    }

    /// `rusqlite::Connection::prepare`, scoped.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn prepare(&self, sql: &str) -> rusqlite::Result<Statement<'_>> {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        self.inner.prepare(&scoped.sql)
    }

    /// `rusqlite::Connection::prepare_cached`, scoped. The statement cache is keyed by the
    /// rewritten text, which holds the tenant: a cached statement never serves another
    /// tenant.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn prepare_cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        self.inner.prepare_cached(&scoped.sql)
    }

    /// `rusqlite::Connection::query_row`, scoped.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        self.inner.query_row(&scoped.sql, params, f)
    }

    /// `rusqlite::Connection::transaction`: BEGIN now; statements through the transaction
    /// are scoped; dropped without [`Transaction::commit`], it rolls back.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn transaction(&mut self) -> rusqlite::Result<Transaction<'_>> {
        self.inner.execute_batch("BEGIN DEFERRED")?;
        Ok(Transaction {
            conn: self,
            open: true,
        })
    }

    /// `rusqlite::Connection::savepoint`: SAVEPOINT now (nested in a transaction or not);
    /// statements through it are scoped; dropped without [`Savepoint::commit`], it rolls
    /// back to where it began.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint(&mut self) -> rusqlite::Result<Savepoint<'_>> {
        let depth = self.savepoints.get() + 1;
        let name = format!("tenantry_sp_{depth}");
        self.inner.execute_batch(&format!("SAVEPOINT {name}"))?;
        self.savepoints.set(depth);
        Ok(Savepoint {
            conn: self,
            name,
            open: true,
        })
    }

    /// How many statements' rewrites this connection's plan cache holds (shared with the
    /// connections of the same pool).
    pub fn cached_plans(&self) -> usize {
        self.scoping.borrow().plans.len()
    }

    /// Whether the connection still answers (for pools).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn check(&self) -> rusqlite::Result<()> {
        schema::version(&self.inner).map(|_| ())
    }

    /// The rowid of the last row inserted on this connection.
    pub fn last_insert_rowid(&self) -> i64 {
        self.inner.last_insert_rowid()
    }

    /// Rows changed by the last statement.
    pub fn changes(&self) -> u64 {
        self.inner.changes()
    }

    /// `rusqlite::Connection::busy_timeout`.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn busy_timeout(&self, timeout: Duration) -> rusqlite::Result<()> {
        self.inner.busy_timeout(timeout)
    }

    /// Runs `f` on the underlying connection, unscoped: every tenant's rows, every
    /// statement, no authorizer guard. For administrative work only; each use is logged at
    /// WARN with the caller's location.
    #[track_caller]
    pub fn unscoped<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
        let caller = std::panic::Location::caller();
        tracing::warn!(
            file = caller.file(),
            line = caller.line(),
            "unscoped access to the database"
        );
        /// Turns the guard back on, also when `f` panics.
        struct Rescope<'g>(&'g Guard);
        impl Drop for Rescope<'_> {
            fn drop(&mut self) {
                self.0.scoped.store(true, Ordering::Release);
            }
        }
        self.guard.scoped.store(false, Ordering::Release);
        let _rescope = Rescope(&self.guard);
        f(&self.inner)
    }
}

/// A transaction on a tenant connection (see [`Connection::transaction`]).
pub struct Transaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl Transaction<'_> {
    /// COMMIT.
    ///
    /// # Errors
    /// SQLite's errors; the transaction is then rolled back when dropped.
    pub fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.inner.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }

    /// ROLLBACK.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn rollback(mut self) -> rusqlite::Result<()> {
        self.open = false;
        self.conn.inner.execute_batch("ROLLBACK")
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open
            && !self.conn.inner.is_autocommit()
            && let Err(error) = self.conn.inner.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "rolling back a dropped transaction failed");
        }
    }
}

/// A savepoint on a tenant connection (see [`Connection::savepoint`]).
pub struct Savepoint<'c> {
    conn: &'c Connection,
    name: String,
    open: bool,
}

impl Savepoint<'_> {
    /// RELEASE: keep what was done since the savepoint.
    ///
    /// # Errors
    /// SQLite's errors; the savepoint is then rolled back when dropped.
    pub fn commit(mut self) -> rusqlite::Result<()> {
        self.conn
            .inner
            .execute_batch(&format!("RELEASE {}", self.name))?;
        self.open = false;
        self.conn
            .savepoints
            .set(self.conn.savepoints.get().saturating_sub(1));
        Ok(())
    }

    /// ROLLBACK TO the savepoint, then RELEASE it.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn rollback(mut self) -> rusqlite::Result<()> {
        self.open = false;
        self.conn
            .savepoints
            .set(self.conn.savepoints.get().saturating_sub(1));
        self.conn.inner.execute_batch(&format!(
            "ROLLBACK TO {name}; RELEASE {name}",
            name = self.name
        ))
    }
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        self.conn
            .savepoints
            .set(self.conn.savepoints.get().saturating_sub(1));
        if let Err(error) = self.conn.inner.execute_batch(&format!(
            "ROLLBACK TO {name}; RELEASE {name}",
            name = self.name
        )) {
            tracing::error!(%error, "rolling back a dropped savepoint failed");
        }
    }
}
