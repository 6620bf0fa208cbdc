//! The options of `migrate`, `verify` and `rollback`, as plain data.

use std::path::PathBuf;
use std::time::Duration;

/// The tenant every existing row is given when no other is named.
pub const DEFAULT_TENANT: &str = "caps-automotive";
/// The tenant column's name when no other is named.
pub const DEFAULT_COLUMN: &str = "tenant_id";
/// How long to wait for another connection's lock before saying the database is busy.
pub const DEFAULT_BUSY_WAIT: Duration = Duration::from_secs(3);

/// What the migration makes of each tenant table.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tenantry_migrate::{Layout, MigrateOptions, migrate};
///
/// let dir = tempfile::tempdir()?;
/// let db = dir.path().join("shop.db");
/// rusqlite::Connection::open(&db)?.execute_batch(
///     "CREATE TABLE products(id INTEGER PRIMARY KEY, sku TEXT UNIQUE);
///      INSERT INTO products VALUES (1, 'BRK-001');",
/// )?;
/// let options = MigrateOptions { layout: Layout::TenantFirst, ..Default::default() };
/// migrate(&db, &options, &mut |_| {})?;
///
/// // Another store holds the same id and SKU beside the first one's.
/// let conn = rusqlite::Connection::open(&db)?;
/// conn.execute("INSERT INTO products(id, sku, tenant_id) VALUES (1, 'BRK-001', 'store-2')", [])?;
/// let n: i64 = conn.query_row("SELECT count(*) FROM products WHERE sku = 'BRK-001'", [], |r| r.get(0))?;
/// assert_eq!(n, 2);
/// // An INSERT that names no tenant fails: the column has no default.
/// assert!(conn.execute("INSERT INTO products(id, sku) VALUES (2, 'X')", []).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Every table rebuilt so that two tenants can hold the same key values and a tenant's
    /// statements read only its own rows: keys and unique constraints include the tenant
    /// column, foreign keys between tenant tables are composite, rows with a primary key are
    /// stored in tenant order, every index leads with the tenant column, and the column has
    /// no default (an INSERT that does not name a tenant fails).
    TenantFirst,
    /// The column added in place (`ALTER TABLE … ADD COLUMN … DEFAULT '<tenant>'`) with an
    /// index on it: no row is rewritten, but keys stay global (two tenants cannot hold the
    /// same value) and tenants share every index. The default until the tenant-first
    /// layout meets its speed bar (see the README).
    #[default]
    Column,
}

/// Which tables of the tenant-first layout get the tenant index `idx_<table>_<column>`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tenantry_migrate::{Layout, MigrateOptions, TenantIndex, migrate};
///
/// let dir = tempfile::tempdir()?;
/// let db = dir.path().join("shop.db");
/// rusqlite::Connection::open(&db)?.execute_batch(
///     "CREATE TABLE products(id INTEGER PRIMARY KEY, sku TEXT);
///      CREATE TABLE notes(body TEXT);",
/// )?;
/// let options = MigrateOptions {
///     layout: Layout::TenantFirst,
///     tenant_index: TenantIndex::WhereNeeded,
///     ..Default::default()
/// };
/// migrate(&db, &options, &mut |_| {})?;
///
/// let conn = rusqlite::Connection::open(&db)?;
/// let named = |t: &str| -> rusqlite::Result<i64> {
///     conn.query_row(
///         "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?1",
///         [format!("idx_{t}_tenant_id")],
///         |r| r.get(0),
///     )
/// };
/// // `products` is keyed (tenant_id, id): its own tree is the tenant index.
/// assert_eq!(named("products")?, 0);
/// // `notes` has no key: it needs one.
/// assert_eq!(named("notes")?, 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TenantIndex {
    /// On every tenant table, as the requirements' verification query expects, even where
    /// the primary key leads with the tenant column already (every insert then writes one
    /// more B-tree).
    #[default]
    Every,
    /// Only on tables whose primary key does not lead with the tenant column (a table
    /// without one): a table keyed `(tenant_id, …)` is stored in tenant order, and its own
    /// tree serves every tenant test the tenant index would.
    WhereNeeded,
}

impl TenantIndex {
    /// Whether a tenant-first table gets `idx_<table>_<column>`, given whether its primary
    /// key leads with the tenant column.
    pub(crate) fn wanted(self, keyed_by_tenant: bool) -> bool {
        match self {
            TenantIndex::Every => true,
            TenantIndex::WhereNeeded => !keyed_by_tenant,
        }
    }
}

/// Options of [`crate::migrate`].
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// The tenant given to every existing row (`--default-tenant`).
    pub default_tenant: String,
    /// The tenant column's name (`--column`).
    pub column: String,
    /// Tables to leave global (`--exclude`).
    pub exclude: Vec<String>,
    /// What each tenant table becomes (`--layout`).
    pub layout: Layout,
    /// Which tables get `idx_<table>_<column>` in the tenant-first layout
    /// (`--tenant-index`); the column layout creates it wherever no index leads with the
    /// column.
    pub tenant_index: TenantIndex,
    /// The tenant registry table (`--tenants-table`); `tenants` is used when it exists.
    pub tenants_table: Option<String>,
    /// A file listing the tables expected to be scoped (`--expect-tables`).
    pub expect_tables: Option<PathBuf>,
    /// Where to write the backup (`--backup`); by default a timestamped file beside the database.
    pub backup: Option<PathBuf>,
    /// Take no backup: only for [`crate::migrate_connection`] on an in-memory database,
    /// which has no file beside which to keep one (a test database built at start-up).
    /// A file database is always backed up.
    pub skip_backup: bool,
    /// Plan and check only; change nothing (`--dry-run`).
    pub dry_run: bool,
    /// How long to wait for another connection's lock.
    pub busy_wait: Duration,
    /// Test hook: fail on purpose at a step (feature `fault-injection`).
    #[cfg(any(test, feature = "fault-injection"))]
    pub fault: Option<crate::fault::Fault>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            default_tenant: DEFAULT_TENANT.to_owned(),
            column: DEFAULT_COLUMN.to_owned(),
            exclude: Vec::new(),
            layout: Layout::default(),
            tenant_index: TenantIndex::default(),
            tenants_table: None,
            expect_tables: None,
            backup: None,
            skip_backup: false,
            dry_run: false,
            busy_wait: DEFAULT_BUSY_WAIT,
            #[cfg(any(test, feature = "fault-injection"))]
            fault: None,
        }
    }
}

/// Options of [`crate::verify`].
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The tenant column's name; by default the one recorded by the migration, else `tenant_id`.
    pub column: Option<String>,
    /// Run `PRAGMA quick_check` too.
    pub integrity: bool,
    /// How long to wait for another connection's lock.
    pub busy_wait: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            column: None,
            integrity: true,
            busy_wait: DEFAULT_BUSY_WAIT,
        }
    }
}

/// Options of [`crate::rollback`].
#[derive(Clone, Debug)]
pub struct RollbackOptions {
    /// The backup to restore; by default the one recorded by the last migration.
    pub backup: Option<PathBuf>,
    /// How long to wait for another connection's lock.
    pub busy_wait: Duration,
}

impl Default for RollbackOptions {
    fn default() -> Self {
        RollbackOptions {
            backup: None,
            busy_wait: DEFAULT_BUSY_WAIT,
        }
    }
}
