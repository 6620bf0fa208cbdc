//! `Connection`: rusqlite's connection with every statement scoped to the current tenant.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::hooks::AuthContext;
use rusqlite::{CachedStatement, Params, Row, Statement};
use tenantry_rewrite::{Plan, StatementInfo, TenantId};

use crate::error::Error;
use crate::guard::Guard;
use crate::schema;
use crate::scoping::{self, Scoping};
use crate::tenant_value::Mismatches;

/// How many statements' renderings for the current tenant a connection keeps (the fast path
/// in front of the shared plan cache; cleared when full).
const RENDER_MEMO_CAPACITY: usize = 512;

/// How many prepared statements rusqlite keeps per connection. Its default, 16, is for one
/// tenant: here each statement is prepared once per tenant (the tenant is in its text), and
/// a cache that is too small re-prepares on every call. A baseline that compares plain
/// rusqlite with the tenant connection gives plain the same capacity:
///
/// ```
/// let plain = rusqlite::Connection::open_in_memory()?;
/// plain.set_prepared_statement_cache_capacity(tenantry_sqlite::STATEMENT_CACHE_CAPACITY);
/// # Ok::<(), rusqlite::Error>(())
/// ```
pub const STATEMENT_CACHE_CAPACITY: usize = 512;

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
    sql: Arc<str>,
    span: tracing::Span,
    /// The text is one statement: it may be run from the statement cache.
    single: bool,
}

/// One statement rendered for one tenant under one schema: what the connection reuses while
/// the statement, the tenant and the schema stay the same.
struct Rendered {
    /// The scoping (schema version) it was rendered under; compared by pointer.
    scoping: Arc<Scoping>,
    tenant: TenantId,
    plan: Arc<Plan>,
    sql: Arc<str>,
    /// The text for a statement the application holds (`held.rs`), rendered when first
    /// asked for.
    held: std::cell::OnceCell<Arc<str>>,
}

/// FxHash (rustc's hasher): the render memo is keyed by the application's SQL, which needs
/// no protection against crafted collisions, and SipHash costs more than the rest of a
/// memo hit.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type RenderMemo = HashMap<Box<str>, Rendered, BuildHasherDefault<FxHasher>>;

/// How long a connection trusts its last look at the schema version when nothing else says
/// the database changed (see [`SchemaWatch`]).
const SCHEMA_RECHECK_AFTER: Duration = Duration::from_millis(10);

/// When the connection re-reads the schema version (`PRAGMA schema_version`) before handing
/// out a statement.
///
/// Reading the schema cookie takes a read transaction of its own (in WAL mode, locking and
/// unlocking a read mark: system calls), which cost as much as a whole indexed point lookup;
/// reading it before every statement doubled the cost of the cheapest statements. It is
/// re-read only when one of these says the schema may have changed:
///
/// - SQLite's data version for `main` (`SQLITE_FCNTL_DATA_VERSION`, a counter read without
///   I/O) moved by more than this connection's own commits (counted by a commit hook): a
///   transaction this connection began found a change another connection committed;
/// - [`Connection::unscoped`] ran (it may change the schema itself);
/// - the last look is older than [`SCHEMA_RECHECK_AFTER`].
///
/// What this guarantees, and what it does not. The rewrite of a statement depends on the
/// schema only through which tables carry the tenant column (and their columns); the text
/// is unsafe only when a table the rewriter saw as global has gained the tenant column
/// since (its rows are then read and written for every tenant). A schema change by
/// another connection is picked up by the first statement handed out after a transaction
/// of this connection has seen it, and otherwise within `SCHEMA_RECHECK_AFTER`. The
/// per-statement `PRAGMA` was not airtight either: it read the cookie in one transaction
/// and the statement ran in the next. Neither closes the window completely, because SQLite
/// itself recompiles a prepared statement whose schema changed from the text it was given,
/// inside the step that finds the change; a statement the application keeps prepared and
/// runs again is never checked (see the FIXME test below). Schema changes that add the
/// tenant column are the migrator's, which is run with the application stopped.
struct SchemaWatch {
    /// How long a look is trusted: [`SCHEMA_RECHECK_AFTER`] (tests hold it longer, so
    /// that time alone never makes the connection look).
    recheck_after: Duration,
    /// Commits made by this connection (counted by its commit hook).
    own_commits: Arc<AtomicU32>,
    /// Set by `unscoped`: look before the next statement.
    dirty: AtomicBool,
    /// The last look: data version, own commits and time then.
    last: std::cell::Cell<Option<(u32, u32, Instant)>>,
}

impl Default for SchemaWatch {
    fn default() -> Self {
        Self {
            recheck_after: SCHEMA_RECHECK_AFTER,
            own_commits: Arc::default(),
            dirty: AtomicBool::default(),
            last: std::cell::Cell::default(),
        }
    }
}

impl SchemaWatch {
    /// Whether the schema version must be re-read before the next statement.
    fn must_look(&self, conn: &rusqlite::Connection) -> bool {
        self.changed(conn)
            || self
                .last
                .get()
                .is_none_or(|(_, _, at)| at.elapsed() >= self.recheck_after)
    }

    /// Whether something other than time says the schema may have changed since the last
    /// look: `unscoped`, or a change of the data version that this connection's own
    /// commits do not account for.
    fn changed(&self, conn: &rusqlite::Connection) -> bool {
        if self.dirty.load(Ordering::Acquire) {
            return true;
        }
        let Some((version, own, _)) = self.last.get() else {
            return true;
        };
        let moved = data_version(conn).wrapping_sub(version);
        let mine = self.own_commits.load(Ordering::Acquire).wrapping_sub(own);
        moved != mine
    }

    /// Records a look at the schema version, made now.
    fn looked(&self, conn: &rusqlite::Connection) {
        self.dirty.store(false, Ordering::Release);
        let own = self.own_commits.load(Ordering::Acquire);
        self.last
            .set(Some((data_version(conn), own, Instant::now())));
    }
}

/// SQLite's data version for `main` (`sqlite3_file_control(SQLITE_FCNTL_DATA_VERSION)`):
/// changes whenever the database changes, by this connection or another (seen when this
/// connection begins a transaction). No I/O. `0` if SQLite refuses, which only makes the
/// next look happen sooner.
fn data_version(conn: &rusqlite::Connection) -> u32 {
    let mut version: std::ffi::c_uint = 0;
    // SAFETY: the handle is open while `conn` is borrowed; the file control writes one
    // unsigned int into `version`, which outlives the call.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_DATA_VERSION,
            (&raw mut version).cast(),
        )
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        version
    } else {
        0
    }
}

/// A scoping, and the schema version it was taken at.
type Taken = (i64, Arc<Scoping>);

/// Rewrites shared between connections to one database: the rewriter for the current
/// schema and its plan cache. Cheap to clone (one `Arc`).
#[derive(Clone, Default)]
pub struct SharedPlans {
    /// The schema version it was read at, and the scoping.
    slot: Arc<Mutex<Option<Taken>>>,
    /// Tables whose tenant column the application declared itself.
    own_tenant_columns: Arc<[String]>,
}

impl std::fmt::Debug for SharedPlans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPlans").finish_non_exhaustive()
    }
}

impl SharedPlans {
    /// The same, with `tables` declared as tables whose tenant column the application
    /// declared itself before migration ([`tenantry_rewrite::Schema::set_own_tenant_column`]):
    /// statements see that column as any other (`SELECT *` returns it, as before
    /// migration). Give it before the first connection uses these plans.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?.execute_batch(
    /// #     "CREATE TABLE vendors (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);
    /// #      INSERT INTO vendors VALUES (1, 'Acme', 'store-1'), (2, 'Bolt', 'store-2');",
    /// # )?;
    /// use tenantry_sqlite::{Connection, SharedPlans};
    /// let plans = SharedPlans::default().with_own_tenant_columns(["vendors"]);
    /// let conn = Connection::wrap_shared(rusqlite::Connection::open(&path)?, "tenant_id", plans)?;
    /// conn.set_tenant("store-1")?;
    /// let row: (i64, String, String) = conn.query_row(
    ///     "SELECT * FROM vendors WHERE tenant_id = ?1",
    ///     ["store-1"],
    ///     |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    /// )?;
    /// assert_eq!(row, (1, "Acme".to_owned(), "store-1".to_owned()));
    /// # Ok(()) }
    /// ```
    pub fn with_own_tenant_columns<I, S>(self, tables: I) -> SharedPlans
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SharedPlans {
            slot: Arc::default(),
            own_tenant_columns: tables.into_iter().map(Into::into).collect(),
        }
    }

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
        if let Some((read_at, scoping)) = slot.as_ref()
            && *read_at == version
        {
            return Ok(Arc::clone(scoping));
        }
        let fresh = scoping::for_schema(conn, column, &self.own_tenant_columns)?;
        *slot = Some((version, Arc::clone(&fresh)));
        Ok(fresh)
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
    pub(crate) inner: rusqlite::Connection,
    savepoints: std::cell::Cell<u32>,
    /// What [`Connection::transaction`] begins (`set_transaction_behavior`).
    behavior: std::cell::Cell<rusqlite::TransactionBehavior>,
    audit: RefCell<Option<AuditHook>>,
    guard: Arc<Guard>,
    column: String,
    scoping: RefCell<Arc<Scoping>>,
    /// The schema version the scoping was taken at.
    version: std::cell::Cell<i64>,
    shared: SharedPlans,
    tenant: RefCell<Option<TenantId>>,
    watch: SchemaWatch,
    memo: RefCell<RenderMemo>,
    /// The last tenant mismatch `tenantry_tenant` raised, read back as a typed error.
    mismatches: Arc<Mismatches>,
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

    /// `rusqlite::Connection::open_with_flags`, scoped: the database at `path` opened with
    /// `flags` (read-only, say, where SQLite itself then refuses every write).
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn open_with_flags<P: AsRef<Path>>(
        path: P,
        flags: rusqlite::OpenFlags,
    ) -> rusqlite::Result<Connection> {
        Connection::wrap(rusqlite::Connection::open_with_flags(path, flags)?)
    }

    /// `rusqlite::Connection::open_with_flags_and_vfs`, scoped.
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn open_with_flags_and_vfs<P: AsRef<Path>, V: rusqlite::Name>(
        path: P,
        flags: rusqlite::OpenFlags,
        vfs: V,
    ) -> rusqlite::Result<Connection> {
        Connection::wrap(rusqlite::Connection::open_with_flags_and_vfs(
            path, flags, vfs,
        )?)
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
        // Plans that do not depend on bound values: SQLite otherwise re-prepares a cached
        // statement whenever a value its planner looked at is bound again, which for
        // lookups by a non-unique key is every run, and a scoped statement's text is
        // longer to prepare. See ARCHITECTURE.md, "Plans that ignore bound values".
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        let watch = SchemaWatch::default();
        let version = schema::version(&conn)?;
        let scoping = shared.for_version(&conn, column, version)?;
        watch.looked(&conn);
        let commits = Arc::clone(&watch.own_commits);
        conn.commit_hook(Some(move || {
            commits.fetch_add(1, Ordering::AcqRel);
            false
        }))?;
        crate::key::register(&conn)?;
        crate::counts::register(&conn)?;
        crate::hand_over::prepare(&conn)?;
        let guard = Guard::new(scoping.rewriter.schema());
        crate::held::register(&conn, Arc::clone(&guard.held_foreign))?;
        let mismatches = Arc::new(Mismatches::default());
        crate::tenant_value::register(&conn, Arc::clone(&mismatches))?;
        let hook = Arc::clone(&guard);
        conn.authorizer(Some(move |ctx: AuthContext<'_>| hook.authorize(&ctx)))?;
        Ok(Connection {
            inner: conn,
            savepoints: std::cell::Cell::new(0),
            behavior: std::cell::Cell::new(rusqlite::TransactionBehavior::Deferred),
            audit: RefCell::new(None),
            guard,
            column: column.to_owned(),
            scoping: RefCell::new(scoping),
            version: std::cell::Cell::new(version),
            shared,
            tenant: RefCell::new(None),
            watch,
            memo: RefCell::default(),
            mismatches,
        })
    }

    /// Makes `tenant` the current tenant of this connection.
    ///
    /// `tenant` is text (`&str`, `String`, `&String`), checked against the rules of
    /// [`TenantId`], or a [`TenantId`] (owned or borrowed), which was checked when it was
    /// made and is not checked again.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?
    /// #     .execute_batch("CREATE TABLE customers (name TEXT, tenant_id TEXT NOT NULL);")?;
    /// use tenantry_sqlite::{Connection, Error, TenantId};
    /// let conn = Connection::open(&path)?;
    /// conn.set_tenant("store-1")?; // checked here
    /// let tenant: TenantId = "store-2".parse()?; // checked once, e.g. by an argument parser
    /// conn.set_tenant(&tenant)?; // not checked again
    /// assert_eq!(conn.tenant(), Some(tenant));
    /// let refused = conn.set_tenant("store 3").unwrap_err();
    /// assert!(matches!(Error::of(&refused), Some(Error::InvalidTenantId(_))));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidTenantId`] for text that breaks the rules (and the current tenant is
    /// unchanged); SQLite's error when the connection cannot forget the previous tenant's
    /// change count (see below: `PRAGMA query_only` on after a write), and the connection
    /// then has no tenant; [`Error::HeldStatementRunning`] while the rows of a statement
    /// prepared for another tenant are still being read (the tenant is unchanged).
    pub fn set_tenant(
        &self,
        tenant: impl TryInto<TenantId, Error: Into<Error>>,
    ) -> rusqlite::Result<()> {
        let tenant = tenant.try_into().map_err(Into::<Error>::into)?;
        self.switch_tenant(tenant).map(|_| ())
    }

    /// Clears the current tenant: every scoped statement is refused until one is set. A
    /// held statement whose rows are still being read is reset: read on, it fails.
    pub fn clear_tenant(&self) {
        // On failure the tenant is cleared all the same (and the failure logged).
        let _ = self.switch_tenant_resetting(None);
    }

    /// Makes `tenant` the current tenant; returns the previous one. When it changes, the
    /// connection forgets the previous tenant's key and counts (`hand_over.rs`):
    /// `last_insert_rowid()` and `changes()` read 0 (the previous tenant's last key, on the
    /// tenant-first layout its own key counter, and its last statement's count are not the
    /// new tenant's to read), and `total_changes()` counts from 0 (`counts.rs`). When that
    /// fails, the connection is left with no tenant and the error returned.
    ///
    /// Refused ([`Error::HeldStatementRunning`]) while a held statement prepared for another
    /// tenant than `tenant` is still being read: read on, it would hand its tenant's rows to
    /// code running as `tenant` (red team 19).
    fn switch_tenant(&self, tenant: TenantId) -> rusqlite::Result<Option<TenantId>> {
        if self.tenant.borrow().as_ref() == Some(&tenant) {
            return Ok(Some(tenant));
        }
        let others = crate::held::others(&self.inner, Some(&tenant));
        if let Some(prepared) = others.running() {
            return Err(Error::HeldStatementRunning {
                prepared: prepared.to_owned(),
                requested: tenant.as_str().to_owned(),
            }
            .into());
        }
        self.switch_tenant_now(Some(tenant), &others)
    }

    /// [`Connection::switch_tenant`] for a change that cannot be refused (clearing the
    /// tenant, restoring the previous one): the held statements of other tenants still
    /// being read are reset instead, so they fail if read on.
    fn switch_tenant_resetting(
        &self,
        tenant: Option<TenantId>,
    ) -> rusqlite::Result<Option<TenantId>> {
        if *self.tenant.borrow() == tenant {
            return Ok(tenant);
        }
        let mut others = crate::held::others(&self.inner, tenant.as_ref());
        others.reset_running();
        self.switch_tenant_now(tenant, &others)
    }

    /// Changes the tenant, none of `others` (the held statements of other tenants) running,
    /// and clears what they keep of their last run.
    fn switch_tenant_now(
        &self,
        tenant: Option<TenantId>,
        others: &crate::held::Others,
    ) -> rusqlite::Result<Option<TenantId>> {
        if let Err(e) = crate::hand_over::hand_over(&self.inner) {
            self.tenant.replace(None);
            crate::held::set(&self.inner, None);
            tracing::warn!(error = %e, "the previous tenant's change count could not be forgotten; the connection has no tenant");
            return Err(e);
        }
        crate::held::set(&self.inner, tenant.as_ref());
        others.scrub(&self.inner);
        Ok(self.tenant.replace(tenant))
    }

    /// Forgets the note that a held statement of another tenant started (see `crate::held`):
    /// it lives only while that statement's step runs, and must not refuse what the caller
    /// runs or prepares next for the current tenant. Called before the connection scopes a
    /// statement and before a call that makes SQLite prepare every statement anew (a
    /// function registered or removed).
    pub(crate) fn forget_held_note(&self) {
        self.guard.held_foreign.store(false, Ordering::Release);
    }

    /// The current tenant.
    pub fn tenant(&self) -> Option<TenantId> {
        self.tenant.borrow().clone()
    }

    /// Runs `f` with `tenant` as the current tenant, then restores the previous one (also
    /// when `f` fails or panics). Like every change of tenant, both set
    /// [`Connection::last_insert_rowid`] back to 0: read a key `f` inserted inside `f`.
    ///
    /// `tenant` is what [`Connection::set_tenant`] takes: text, checked, or a [`TenantId`],
    /// not checked again.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?.execute_batch(
    /// #     "CREATE TABLE customers (name TEXT, tenant_id TEXT NOT NULL);
    /// #      INSERT INTO customers VALUES ('Ada', 'store-1'), ('Bo', 'store-2');",
    /// # )?;
    /// use tenantry_sqlite::{Connection, TenantId};
    /// let conn = Connection::open(&path)?;
    /// conn.set_tenant("store-1")?;
    /// let other = TenantId::new("store-2")?;
    /// let name: String =
    ///     conn.with_tenant(&other, |c| c.query_row("SELECT name FROM customers", [], |r| r.get(0)))?;
    /// assert_eq!(name, "Bo");
    /// assert_eq!(conn.tenant().as_ref().map(TenantId::as_str), Some("store-1"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidTenantId`] for text that breaks the rules;
    /// [`Error::HeldStatementRunning`] while the rows of a statement prepared for another
    /// tenant are still being read (then `f` does not run); or what `f` returns.
    pub fn with_tenant<T>(
        &self,
        tenant: impl TryInto<TenantId, Error: Into<Error>>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let tenant = tenant.try_into().map_err(Into::<Error>::into)?;
        let previous = self.switch_tenant(tenant)?;
        // Restored on return and on unwind: a panic caught above (a server's per-request
        // catch) must not leave the connection on `tenant`.
        let _restore = RestoreTenant {
            conn: self,
            previous: Some(previous),
        };
        f(self)
    }

    /// The rewrite of `sql` for the current tenant.
    ///
    /// The fast path is the connection's render memo: the same SQL, tenant and schema as
    /// last time give the same text, so nothing is looked up in the shared plan cache and
    /// nothing is rendered. A different tenant or schema renders again (the memo is keyed by
    /// the SQL, and an entry is used only when its tenant and scoping are the current ones).
    fn scoped(&self, sql: &str) -> rusqlite::Result<Scoped> {
        self.scoped_as(sql, false)
    }

    /// [`Connection::scoped`], for a statement the application holds when `held`: its
    /// tenant literals checked each time it runs (`held.rs`).
    fn scoped_as(&self, sql: &str, held: bool) -> rusqlite::Result<Scoped> {
        self.forget_held_note();
        let tenant = self.tenant.borrow();
        let tenant = tenant.as_ref().ok_or(Error::NoTenant)?;
        let traced = tracing::enabled!(tracing::Level::DEBUG);
        let started = traced.then(Instant::now);
        let scoping = self.current()?;
        let mut memo = self.memo.borrow_mut();
        let hit = memo
            .get(sql)
            .filter(|r| Arc::ptr_eq(&r.scoping, &scoping) && r.tenant.as_str() == tenant.as_str());
        let (rendered, cached) = match hit {
            Some(rendered) => (rendered, true),
            None => {
                let (plan, cached) = match scoping.plans.get(sql) {
                    Some(plan) => (plan, true),
                    None => {
                        let plan = Arc::new(scoping.rewriter.plan(sql).map_err(Error::from)?);
                        scoping.plans.insert(sql.to_owned(), Arc::clone(&plan));
                        (plan, false)
                    }
                };
                let text: Arc<str> = plan.render(tenant).map_err(Error::from)?.sql().into();
                self.guard.allow_ctes(
                    plan.statements()
                        .iter()
                        .flat_map(|s| s.ctes.iter().map(String::as_str)),
                );
                if memo.len() >= RENDER_MEMO_CAPACITY {
                    memo.clear();
                }
                let rendered = Rendered {
                    scoping: Arc::clone(&scoping),
                    tenant: tenant.clone(),
                    plan,
                    sql: text,
                    held: std::cell::OnceCell::new(),
                };
                let slot = memo.entry(sql.into()).insert_entry(rendered).into_mut();
                (&*slot, cached)
            }
        };
        let infos = rendered.plan.statements();
        // The caller prepares this text next; only a checked upsert may set the tenant
        // column (SQLite asks the authorizer again when it re-prepares the statement after
        // a schema change, when this may say otherwise: the statement then fails, closed).
        self.guard
            .allow_tenant_assignment(infos.iter().any(|s| s.assigns_tenant));
        // The span's fields cost allocations: build them only when someone listens.
        let span = if let Some(started) = started {
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
                tenant,
                sql,
                statements: infos,
            });
        }
        let sql = if held {
            match rendered.held.get() {
                Some(text) => Arc::clone(text),
                None => {
                    let checked = rendered
                        .plan
                        .render_checked(tenant, crate::held::CURRENT_FUNCTION)
                        .map_err(Error::from)?;
                    let text: Arc<str> = crate::held::marked(tenant, checked.sql()).into();
                    Arc::clone(rendered.held.get_or_init(|| text))
                }
            }
        } else {
            Arc::clone(&rendered.sql)
        };
        Ok(Scoped {
            sql,
            span,
            single: infos.len() == 1,
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

    /// The scoping for the schema as it is now: the version is re-read only when
    /// [`SchemaWatch`] says the schema may have changed, and the scoping reloaded when it did.
    fn current(&self) -> rusqlite::Result<Arc<Scoping>> {
        if !self.watch.must_look(&self.inner) {
            return Ok(Arc::clone(&self.scoping.borrow()));
        }
        let version = schema::version(&self.inner)?;
        self.watch.looked(&self.inner);
        if self.version.get() == version {
            return Ok(Arc::clone(&self.scoping.borrow()));
        }
        tracing::debug!(version, "schema changed; reloading");
        let fresh = self
            .shared
            .for_version(&self.inner, &self.column, version)?;
        self.guard.learn(fresh.rewriter.schema());
        *self.scoping.borrow_mut() = Arc::clone(&fresh);
        self.version.set(version);
        self.memo.borrow_mut().clear();
        Ok(fresh)
    }

    /// `rusqlite::Connection::execute`, scoped.
    ///
    /// One statement runs from the connection's statement cache: legacy code that calls
    /// `execute` with the same SQL again does not prepare its (longer) scoped text again.
    /// Several statements go to rusqlite's `execute`, which refuses them as it always did.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        let result = if scoped.single {
            self.inner
                .prepare_cached(&scoped.sql)
                .and_then(|mut stmt| stmt.execute(params))
        } else {
            self.inner.execute(&scoped.sql, params)
        };
        self.mismatches.typed(result)
    }

    /// `rusqlite::Connection::execute_batch`, scoped. If any statement is refused, none runs.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        let scoped = self.scoped(sql)?;
        let _entered = scoped.span.enter();
        self.mismatches.typed(self.inner.execute_batch(&scoped.sql))
    }

    /// `rusqlite::Connection::prepare`, scoped.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn prepare(&self, sql: &str) -> rusqlite::Result<Statement<'_>> {
        let scoped = self.scoped_as(sql, true)?;
        let _entered = scoped.span.enter();
        self.inner.prepare(&scoped.sql)
    }

    /// `rusqlite::Connection::prepare_with_flags`, scoped: the rewritten text prepared with
    /// `flags` (`SQLITE_PREPARE_PERSISTENT`, …).
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn prepare_with_flags(
        &self,
        sql: &str,
        flags: rusqlite::PrepFlags,
    ) -> rusqlite::Result<Statement<'_>> {
        let scoped = self.scoped_as(sql, true)?;
        let _entered = scoped.span.enter();
        self.inner.prepare_with_flags(&scoped.sql, flags)
    }

    /// `rusqlite::Connection::prepare_cached`, scoped. The statement cache is keyed by the
    /// rewritten text, which holds the tenant: a cached statement never serves another
    /// tenant.
    ///
    /// # Errors
    /// SQLite's errors, or a refusal.
    pub fn prepare_cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        let scoped = self.scoped_as(sql, true)?;
        let _entered = scoped.span.enter();
        self.inner.prepare_cached(&scoped.sql)
    }

    /// `rusqlite::Connection::query_row`, scoped (one statement runs from the statement
    /// cache, as with [`Connection::execute`]).
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
        // From the statement cache, as `execute`.
        let result = if scoped.single {
            self.inner
                .prepare_cached(&scoped.sql)
                .and_then(|mut stmt| stmt.query_row(params, f))
        } else {
            self.inner.query_row(&scoped.sql, params, f)
        };
        self.mismatches.typed(result)
    }

    /// `rusqlite::Connection::transaction`: BEGIN now; statements through the transaction
    /// are scoped; dropped without [`Transaction::commit`], it rolls back.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn transaction(&mut self) -> rusqlite::Result<Transaction<'_>> {
        self.transaction_with_behavior(self.behavior.get())
    }

    /// `rusqlite::Connection::transaction_with_behavior`: `BEGIN DEFERRED`, `IMMEDIATE`
    /// (take the write lock now) or `EXCLUSIVE`; otherwise as [`Connection::transaction`].
    ///
    /// # Errors
    /// SQLite's errors (`SQLITE_BUSY` when another connection holds the lock); a behaviour
    /// a later rusqlite adds is refused rather than guessed at.
    pub fn transaction_with_behavior(
        &mut self,
        behavior: rusqlite::TransactionBehavior,
    ) -> rusqlite::Result<Transaction<'_>> {
        let begin = match behavior {
            rusqlite::TransactionBehavior::Deferred => "BEGIN DEFERRED",
            rusqlite::TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            rusqlite::TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
            _ => {
                return Err(rusqlite::Error::InvalidParameterName(
                    "a transaction behavior the tenant connection does not know".to_owned(),
                ));
            }
        };
        self.inner.execute_batch(begin)?;
        Ok(Transaction {
            conn: self,
            open: true,
            drop_behavior: rusqlite::DropBehavior::Rollback,
        })
    }

    /// `rusqlite::Connection::close`: closes the connection, or hands it back with
    /// SQLite's error (a statement still open), as rusqlite does.
    ///
    /// # Errors
    /// The connection and SQLite's error.
    #[allow(
        clippy::result_large_err,
        reason = "rusqlite's own signature, so that legacy code that matches on it compiles"
    )]
    pub fn close(self) -> Result<(), (Connection, rusqlite::Error)> {
        let Connection {
            inner,
            savepoints,
            behavior,
            audit,
            guard,
            column,
            scoping,
            version,
            shared,
            tenant,
            watch,
            memo,
            mismatches,
        } = self;
        inner.close().map_err(|(inner, error)| {
            let conn = Connection {
                inner,
                savepoints,
                behavior,
                audit,
                guard,
                column,
                scoping,
                version,
                shared,
                tenant,
                watch,
                memo,
                mismatches,
            };
            (conn, error)
        })
    }

    /// `rusqlite::Connection::unchecked_transaction`: a deferred transaction through a
    /// shared reference, as rusqlite's (the caller ensures no other transaction is open;
    /// SQLite refuses a nested BEGIN). Statements in it are scoped as in
    /// [`Connection::transaction`].
    ///
    /// # Errors
    /// SQLite's errors ("cannot start a transaction within a transaction").
    pub fn unchecked_transaction(&self) -> rusqlite::Result<Transaction<'_>> {
        self.inner.execute_batch("BEGIN DEFERRED")?;
        Ok(Transaction {
            conn: self,
            open: true,
            drop_behavior: rusqlite::DropBehavior::Rollback,
        })
    }

    /// `rusqlite::Connection::savepoint`: SAVEPOINT now (nested in a transaction or not);
    /// statements through it are scoped; dropped without [`Savepoint::commit`], it rolls
    /// back to where it began.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint(&mut self) -> rusqlite::Result<Savepoint<'_>> {
        self.open_savepoint(None)
    }

    /// SAVEPOINT under `name` (quoted as an identifier), or a name of its own.
    fn open_savepoint(&self, name: Option<String>) -> rusqlite::Result<Savepoint<'_>> {
        let depth = self.savepoints.get() + 1;
        let name = match name {
            Some(name) => format!("\"{}\"", name.replace('"', "\"\"")),
            None => format!("tenantry_sp_{depth}"),
        };
        self.inner.execute_batch(&format!("SAVEPOINT {name}"))?;
        self.savepoints.set(depth);
        Ok(Savepoint {
            conn: self,
            name,
            open: true,
            drop_behavior: rusqlite::DropBehavior::Rollback,
        })
    }

    /// `rusqlite::Connection::savepoint_with_name`: as [`Connection::savepoint`], under the
    /// caller's name (quoted as an identifier).
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint_with_name<T: Into<String>>(
        &mut self,
        name: T,
    ) -> rusqlite::Result<Savepoint<'_>> {
        self.open_savepoint(Some(name.into()))
    }

    /// `rusqlite::Connection::set_transaction_behavior`: what [`Connection::transaction`]
    /// begins from now on (DEFERRED by default).
    pub fn set_transaction_behavior(&mut self, behavior: rusqlite::TransactionBehavior) {
        self.behavior.set(behavior);
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

    /// Rows changed by the current tenant's last INSERT, UPDATE or DELETE on this
    /// connection: 0 until it changes one, whatever the previous tenant changed (a change
    /// of tenant sets SQLite's count to 0). The SQL function `changes()` reads the same.
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
        self.guard.scoped.store(false, Ordering::Release);
        let _rescope = Rescope(&self.guard, &self.watch);
        f(&self.inner)
    }

    /// [`Connection::unscoped`] with the underlying connection mutable, for work that needs
    /// it: the schema path of an application, whose own schema code runs here and
    /// `tenantry_migrate::migrate_connection` then brings every new table under tenancy
    /// (for an in-memory database it copies the migrated database back, which takes
    /// `&mut`). The next statement reads the schema again. The tenant connection owns
    /// SQLite's statement trace and authorizer (one each per handle): a trace or authorizer
    /// `f` installs (rusqlite's `trace_v2`, `profile`, `authorizer`) is replaced by the
    /// connection's own when `f` returns; log SQL through the connection's `tracing` spans.
    ///
    /// ```
    /// # fn main() -> rusqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?.execute_batch(
    /// #     "CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL DEFAULT 'a');")?;
    /// let mut conn = tenantry_sqlite::Connection::open(&path)?;
    /// // The application's next version adds a table at start-up.
    /// conn.unscoped_mut(|db| db.execute_batch("CREATE TABLE IF NOT EXISTS tags (name TEXT)"))?;
    /// conn.set_tenant("a")?;
    /// // Not scoped yet, so refused rather than shared: see `tenantry_migrate::migrate_connection`.
    /// assert!(conn.execute("INSERT INTO tags VALUES ('x')", []).is_err());
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn unscoped_mut<T>(&mut self, f: impl FnOnce(&mut rusqlite::Connection) -> T) -> T {
        let caller = std::panic::Location::caller();
        tracing::warn!(
            file = caller.file(),
            line = caller.line(),
            "unscoped access to the database"
        );
        let Connection {
            inner,
            guard,
            watch,
            ..
        } = self;
        guard.scoped.store(false, Ordering::Release);
        let _rescope = Rescope(guard, watch);
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *inner)));
        restore_hooks(inner, guard);
        done.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// After work on the raw connection, which may have replaced them (SQLite keeps one trace
/// and one authorizer per handle, and rusqlite's `trace`, `trace_v2`, `profile` and
/// `authorizer` replace them): installs the statement trace and the tenant guard again, so
/// that SQL logging or a debugging authorizer set up there does not switch the
/// held-statement checks or the guard off (red team 19). Installing the authorizer makes
/// SQLite prepare each statement anew once; this work is rare (an application's schema
/// code). A failure is logged; it cannot happen on an open handle.
fn restore_hooks(inner: &mut rusqlite::Connection, guard: &Arc<Guard>) {
    if let Err(e) = crate::held::install_trace(inner) {
        tracing::error!(error = %e, "the statement trace could not be installed again");
    }
    let hook = Arc::clone(guard);
    if let Err(e) = inner.authorizer(Some(move |ctx: AuthContext<'_>| hook.authorize(&ctx))) {
        tracing::error!(error = %e, "the tenant guard could not be installed again");
    }
}

/// Turns the guard back on when unscoped work ends, also when it panics, and makes the
/// next statement re-read the schema version (the work may have changed the schema in ways
/// SQLite does not reload, such as `DROP TABLE`).
/// Puts the tenant that was current back when dropped (see [`Connection::with_tenant`]).
struct RestoreTenant<'c> {
    conn: &'c Connection,
    previous: Option<Option<TenantId>>,
}

impl Drop for RestoreTenant<'_> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            // On failure the connection is left with no tenant (and the failure logged).
            let _ = self.conn.switch_tenant_resetting(previous);
        }
    }
}

struct Rescope<'g>(&'g Guard, &'g SchemaWatch);

impl Drop for Rescope<'_> {
    fn drop(&mut self) {
        self.1.dirty.store(true, Ordering::Release);
        self.0.held_foreign.store(false, Ordering::Release);
        self.0.scoped.store(true, Ordering::Release);
    }
}

/// Ends an open transaction or savepoint as `behavior` says (rusqlite's rules): `keep`
/// (COMMIT, RELEASE), and `undo` if that fails; `undo`; nothing; or a panic, unless the
/// thread is unwinding already (then `undo`).
fn end(
    conn: &rusqlite::Connection,
    behavior: rusqlite::DropBehavior,
    keep: &str,
    undo: &str,
) -> rusqlite::Result<()> {
    match behavior {
        rusqlite::DropBehavior::Commit => conn
            .execute_batch(keep)
            .or_else(|_| conn.execute_batch(undo)),
        rusqlite::DropBehavior::Ignore => Ok(()),
        rusqlite::DropBehavior::Panic if !std::thread::panicking() => {
            panic!("a transaction or savepoint was dropped unfinished")
        }
        _ => conn.execute_batch(undo),
    }
}

/// A transaction on a tenant connection (see [`Connection::transaction`]).
pub struct Transaction<'c> {
    conn: &'c Connection,
    open: bool,
    drop_behavior: rusqlite::DropBehavior,
}

impl Transaction<'_> {
    /// `rusqlite::Transaction::savepoint`: a savepoint nested in the transaction.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint(&mut self) -> rusqlite::Result<Savepoint<'_>> {
        self.conn.open_savepoint(None)
    }

    /// `rusqlite::Transaction::savepoint_with_name`.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint_with_name<T: Into<String>>(
        &mut self,
        name: T,
    ) -> rusqlite::Result<Savepoint<'_>> {
        self.conn.open_savepoint(Some(name.into()))
    }

    /// What dropping the transaction does (rusqlite's `DropBehavior`; `Rollback` unless set).
    pub fn drop_behavior(&self) -> rusqlite::DropBehavior {
        self.drop_behavior
    }

    /// Sets what dropping the transaction does.
    pub fn set_drop_behavior(&mut self, drop_behavior: rusqlite::DropBehavior) {
        self.drop_behavior = drop_behavior;
    }

    /// `rusqlite::Transaction::finish`: ends the transaction as dropping it would, with the
    /// error, if any.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn finish(mut self) -> rusqlite::Result<()> {
        self.finish_now()
    }

    fn finish_now(&mut self) -> rusqlite::Result<()> {
        let open = std::mem::replace(&mut self.open, false);
        if !open || self.conn.inner.is_autocommit() {
            return Ok(());
        }
        end(&self.conn.inner, self.drop_behavior, "COMMIT", "ROLLBACK")
    }

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
        if let Err(error) = self.finish_now() {
            tracing::error!(%error, "ending a dropped transaction failed");
        }
    }
}

/// A savepoint on a tenant connection (see [`Connection::savepoint`]).
pub struct Savepoint<'c> {
    conn: &'c Connection,
    name: String,
    open: bool,
    drop_behavior: rusqlite::DropBehavior,
}

impl Savepoint<'_> {
    /// `rusqlite::Savepoint::savepoint`: a savepoint nested in this one.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint(&mut self) -> rusqlite::Result<Savepoint<'_>> {
        self.conn.open_savepoint(None)
    }

    /// `rusqlite::Savepoint::savepoint_with_name`.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn savepoint_with_name<T: Into<String>>(
        &mut self,
        name: T,
    ) -> rusqlite::Result<Savepoint<'_>> {
        self.conn.open_savepoint(Some(name.into()))
    }

    /// What dropping the savepoint does (rusqlite's `DropBehavior`; `Rollback` unless set).
    pub fn drop_behavior(&self) -> rusqlite::DropBehavior {
        self.drop_behavior
    }

    /// Sets what dropping the savepoint does.
    pub fn set_drop_behavior(&mut self, drop_behavior: rusqlite::DropBehavior) {
        self.drop_behavior = drop_behavior;
    }

    /// `rusqlite::Savepoint::finish`: ends the savepoint as dropping it would, with the
    /// error, if any.
    ///
    /// # Errors
    /// SQLite's errors.
    pub fn finish(mut self) -> rusqlite::Result<()> {
        self.finish_now()
    }

    fn finish_now(&mut self) -> rusqlite::Result<()> {
        if !std::mem::replace(&mut self.open, false) {
            return Ok(());
        }
        self.conn
            .savepoints
            .set(self.conn.savepoints.get().saturating_sub(1));
        let name = &self.name;
        end(
            &self.conn.inner,
            self.drop_behavior,
            &format!("RELEASE {name}"),
            &format!("ROLLBACK TO {name}; RELEASE {name}"),
        )
    }

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
        if let Err(error) = self.finish_now() {
            tracing::error!(%error, "ending a dropped savepoint failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrated database file with a tenant table and a global one, and an admin
    /// connection to it (plain rusqlite).
    fn database() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.db");
        let admin = rusqlite::Connection::open(&path).expect("open");
        admin
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);
                 CREATE TABLE settings (k TEXT, v TEXT);
                 CREATE TABLE _tenantry_globals (pattern TEXT PRIMARY KEY);
                 INSERT INTO _tenantry_globals VALUES ('settings'), ('extra');
                 INSERT INTO notes VALUES ('mine', 'a'), ('theirs', 'b');
                 INSERT INTO settings VALUES ('color', 'blue');",
            )
            .expect("schema");
        (dir, path, admin)
    }

    fn values(stmt: &mut Statement<'_>) -> rusqlite::Result<Vec<String>> {
        stmt.query_map([], |r| r.get(0))?.collect()
    }

    /// Another connection gives a global table the tenant column and writes a row of
    /// another tenant into it: the next statement handed out is rendered for the new schema.
    #[test]
    fn a_table_that_gains_the_tenant_column_is_scoped_from_the_next_statement() {
        let (_dir, path, admin) = database();
        let conn = Connection::open(&path).expect("open");
        conn.set_tenant("a").expect("tenant");
        let cached = |conn: &Connection| {
            let mut stmt = conn.prepare_cached("SELECT v FROM settings")?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        };
        assert_eq!(cached(&conn).expect("global read"), ["blue"]);
        admin
            .execute_batch(
                "ALTER TABLE settings ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'a';
                 INSERT INTO settings VALUES ('color', 'red', 'b');",
            )
            .expect("migrate settings");
        // Past the watch's time limit, as a connection idle in a pool would be.
        std::thread::sleep(SCHEMA_RECHECK_AFTER);
        assert_eq!(cached(&conn).expect("scoped read"), ["blue"]);
        let mut fresh = conn.prepare("SELECT v FROM settings").expect("prepare");
        assert_eq!(values(&mut fresh).expect("scoped read"), ["blue"]);
    }

    /// FIXME: a statement the application keeps prepared across a schema change is
    /// recompiled by SQLite from the text rendered for the old schema, without the
    /// connection seeing it: a table that gained the tenant column is then read for every
    /// tenant. (The per-statement `PRAGMA schema_version` this connection used to run had
    /// the same gap.) Closing it needs the rewritten text itself to fail when the schema
    /// moved, or SQLite's recompilation to be observable; this pins the current behaviour.
    #[test]
    fn fixme_a_statement_kept_prepared_across_a_schema_change_runs_its_old_text() {
        let (_dir, path, admin) = database();
        let conn = Connection::open(&path).expect("open");
        conn.set_tenant("a").expect("tenant");
        let mut kept = conn.prepare("SELECT v FROM settings").expect("prepare");
        assert_eq!(values(&mut kept).expect("global read"), ["blue"]);
        admin
            .execute_batch(
                "ALTER TABLE settings ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'a';
                 INSERT INTO settings VALUES ('color', 'red', 'b');",
            )
            .expect("migrate settings");
        assert_eq!(values(&mut kept).expect("old text"), ["blue", "red"]);
    }

    /// With no schema change and no other writer, nothing but time makes the connection
    /// read the schema version: not its own reads, not its own commits; `unscoped` and
    /// another connection's commit do.
    #[test]
    fn only_a_possible_schema_change_makes_the_connection_look() {
        let (_dir, path, admin) = database();
        let mut conn = Connection::open(&path).expect("open");
        // Time never makes it look here: the steps below (another connection's commit
        // and its fsync among them) may take longer than the watch's usual limit.
        conn.watch.recheck_after = Duration::MAX;
        conn.set_tenant("a").expect("tenant");
        for _ in 0..3 {
            {
                let mut stmt = conn
                    .prepare_cached("SELECT body FROM notes")
                    .expect("prepare");
                assert!(!values(&mut stmt).expect("read").is_empty());
            }
            conn.execute("INSERT INTO notes (body) VALUES ('more')", [])
                .expect("own write");
            let tx = conn.transaction().expect("begin");
            tx.execute("INSERT INTO notes (body) VALUES ('more')", [])
                .expect("own write in a transaction");
            tx.commit().expect("commit");
            assert!(!conn.watch.changed(&conn.inner));
        }
        conn.unscoped(|admin| admin.execute_batch("CREATE TABLE extra (x)"))
            .expect("admin");
        assert!(conn.watch.changed(&conn.inner));
        conn.execute("INSERT INTO extra (x) VALUES (1)", [])
            .expect("a global table created since is known after the look");
        assert!(!conn.watch.changed(&conn.inner));
        admin
            .execute_batch("INSERT INTO settings VALUES ('size', 'xl')")
            .expect("another connection writes");
        conn.execute("INSERT INTO extra (x) VALUES (2)", [])
            .expect("write");
        assert!(
            conn.watch.changed(&conn.inner),
            "the write's transaction saw the other connection's commit"
        );
    }
}
