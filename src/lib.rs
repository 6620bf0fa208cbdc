//! Tenantry turns a single-tenant SQLite application into a multi-tenant one.
//!
//! This package is the `tenantry` command line; as a library it re-exports the crates
//! that do the work, so an application can depend on `tenantry` alone:
//! - [`rewrite`] (`tenantry-rewrite`): rewrites SQL written for one tenant so it reads
//!   and writes only the current tenant's rows, or refuses it;
//! - [`sqlite`] (`tenantry-sqlite`): the drop-in rusqlite connection that runs every
//!   statement through the rewriter (first part: tenant context, scoped methods, caches);
//! - [`migrate`] (`tenantry-migrate`): adds the tenant column to every table, with a
//!   backup, one transaction, verification and rollback;
//! - [`audit`] (`tenantry-audit`): which SQL of a Rust code base a tenant connection
//!   would scope, refuse, or cannot check;
//! - [`fixtures`] (`tenantry-fixtures`): the point-of-sale fixture database used by the
//!   tests, the benchmarks and `tenantry demo`.
//!
//! ```
//! assert_eq!(tenantry::migrate::DEFAULT_TENANT, "caps-automotive");
//! ```
#![deny(missing_docs)]

pub use tenantry_audit as audit;
pub use tenantry_fixtures as fixtures;
pub use tenantry_migrate as migrate;
pub use tenantry_rewrite as rewrite;
pub use tenantry_sqlite as sqlite;

/// A tenant connection to a new in-memory database that the application's own schema code
/// `schema` built: the replacement for `rusqlite::Connection::open_in_memory()` followed by
/// that code, as most applications' tests and start-up paths do.
///
/// `schema` runs on the plain in-memory database; then the database is migrated
/// ([`migrate::migrate_connection`] with the default options and no backup: it can be built
/// again) and wrapped ([`sqlite::Connection::wrap`]). Set a tenant before the first
/// statement.
///
/// ```
/// # fn main() -> rusqlite::Result<()> {
/// let conn = tenantry::open_in_memory(|db| {
///     db.execute_batch("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
/// })?;
/// conn.set_tenant("store-1")?;
/// conn.execute("INSERT INTO notes (body) VALUES ('mine')", [])?;
/// conn.set_tenant("store-2")?;
/// let n: i64 = conn.query_row("SELECT count(*) FROM notes", [], |r| r.get(0))?;
/// assert_eq!(n, 0);
/// # Ok(()) }
/// ```
///
/// # Errors
/// What `schema` returns; the migrator's error (read it with [`migrate::Error::of`]); the
/// tenant connection's.
pub fn open_in_memory(
    schema: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<sqlite::Connection> {
    let options = migrate::MigrateOptions {
        skip_backup: true,
        ..migrate::MigrateOptions::default()
    };
    open_in_memory_with(&options, schema)
}

/// [`open_in_memory`] with migration options of the caller's (layout, tenant column, the
/// tenant given to rows `schema` inserts, tables left global).
///
/// # Errors
/// As [`open_in_memory`].
pub fn open_in_memory_with(
    options: &migrate::MigrateOptions,
    schema: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<sqlite::Connection> {
    let mut db = rusqlite::Connection::open_in_memory()?;
    schema(&db)?;
    migrate::migrate_connection(&mut db, options, &mut |_| {})?;
    sqlite::Connection::wrap_with_column(db, &options.column)
}
