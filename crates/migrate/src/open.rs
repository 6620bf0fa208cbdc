//! Migrating a database the caller already has open, in-memory ones included.

use std::path::Path;

use rusqlite::{Connection, MAIN_DB};

use crate::error::{Error, Result, Step};
use crate::migrate::{SchemaCode, migrate_with_schema};
use crate::options::MigrateOptions;
use crate::record::RECORD_TABLE;
use crate::report::{Progress, Report};
use crate::sql::ident;

/// [`migrate`](crate::migrate()) for a database the caller has open: `conn`'s file when it has one, else its
/// in-memory database (most applications' tests, which build their schema at start-up).
///
/// A file database is migrated as [`migrate`](crate::migrate()) does it, through the migrator's own
/// connection (`conn` must not be inside a transaction, so that the migrator can take the
/// write lock); `conn` sees the new schema on its next statement.
///
/// An in-memory database is copied into a private temporary file with SQLite's backup API,
/// migrated there with every step and check of [`migrate`](crate::migrate()), and copied back only when the
/// migration succeeded: on any failure `conn` is as it was. Its backup goes to
/// `options.backup`; with `options.skip_backup` none is kept (and the record names none).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// // The application's own schema code, as it runs at start-up.
/// conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
///                     INSERT INTO notes (body) VALUES ('first');")?;
/// let options = tenantry_migrate::MigrateOptions { skip_backup: true, ..Default::default() };
/// tenantry_migrate::migrate_connection(&mut conn, &options, &mut |_| {})?;
/// let tenant: String = conn.query_row("SELECT tenant_id FROM notes", [], |r| r.get(0))?;
/// assert_eq!(tenant, "caps-automotive");
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`migrate`](crate::migrate()); [`Error::InTransaction`] when `conn` is inside a transaction;
/// [`Error::NoBackupPlace`] for an in-memory database with neither `options.backup` nor
/// `options.skip_backup`; [`Error::Sqlite`] when the copy to or from the temporary file
/// fails (`conn` unchanged).
pub fn migrate_connection(
    conn: &mut Connection,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report> {
    migrate_connection_with_schema(conn, options, progress, &mut |_| Ok(()))
}

/// [`migrate_connection`] with the application's own schema code run first inside the
/// migration's transaction, as [`crate::migrate_with_schema`] does: the schema path of an
/// application whose new version creates or changes tables at start-up. Everything it
/// creates is brought under tenancy by the same transaction, or nothing is kept.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// let options = tenantry_migrate::MigrateOptions { skip_backup: true, ..Default::default() };
/// tenantry_migrate::migrate_connection_with_schema(&mut conn, &options, &mut |_| {}, &mut |db| {
///     db.execute_batch("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
/// })?;
/// let scoped: bool = conn.query_row(
///     "SELECT count(*) > 0 FROM pragma_table_info('notes') WHERE name = 'tenant_id'", [], |r| r.get(0))?;
/// assert!(scoped);
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`migrate_connection`]; [`Error::Sqlite`] at [`Step::Schema`] when the schema code
/// fails (nothing kept).
pub fn migrate_connection_with_schema(
    conn: &mut Connection,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    schema: SchemaCode<'_>,
) -> Result<Report> {
    if !conn.is_autocommit() {
        return Err(Error::InTransaction);
    }
    if let Some(path) = conn.path().filter(|p| !p.is_empty()) {
        return migrate_with_schema(Path::new(path), options, progress, schema);
    }
    if options.backup.is_none() && !options.skip_backup && !options.dry_run {
        return Err(Error::NoBackupPlace);
    }
    let copy = |e| Error::sqlite(Step::Preflight, None)(e);
    let dir = tempfile::Builder::new()
        .prefix("tenantry-memory-")
        .tempdir()
        .map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let work = dir.path().join("memory.db");
    conn.backup(MAIN_DB, &work, None::<fn(rusqlite::backup::Progress)>)
        .map_err(copy)?;
    let mut on_file = options.clone();
    if on_file.backup.is_none() {
        on_file.backup = Some(dir.path().join("backup.db"));
    }
    let mut report = migrate_with_schema(&work, &on_file, progress, schema)?;
    if !options.dry_run {
        if options.backup.is_none() {
            // The backup was of the temporary copy and goes with it.
            let work_conn = Connection::open(&work).map_err(copy)?;
            work_conn
                .execute(
                    &format!(
                        "UPDATE {0} SET details = json_set(details, '$.backup', NULL) \
                         WHERE id = (SELECT max(id) FROM {0})",
                        ident(RECORD_TABLE)
                    ),
                    [],
                )
                .map_err(Error::sqlite(Step::Record, Some(RECORD_TABLE)))?;
            report.backup = None;
        }
        conn.restore(MAIN_DB, &work, None::<fn(rusqlite::backup::Progress)>)
            .map_err(Error::sqlite(Step::Commit, None))?;
    }
    report.database = ":memory:".into();
    Ok(report)
}
