//! The schema the rewriter scopes against, read from the live database.

use rusqlite::Connection;
use tenantry_rewrite::{GLOBALS_TABLE, GlobalTables, Policy, Rewriter, Schema};

use crate::error::Error;

/// The statements that declare the database's tables, views, triggers and indexes (unique
/// indexes tell whether a table's keys are per tenant).
pub const SCHEMA_QUERY: &str = "SELECT sql FROM sqlite_master \
     WHERE type IN ('table', 'view', 'trigger', 'index') AND sql IS NOT NULL";

/// Reads the tables, views, triggers and unique indexes of `conn` into a [`Schema`] whose tenant column is
/// `column`.
///
/// # Errors
/// SQLite's error, or [`Error::Schema`] when a table cannot be read.
pub fn load(conn: &Connection, column: &str) -> rusqlite::Result<Schema> {
    parse(&objects(conn)?, column)
}

/// The text of every object [`SCHEMA_QUERY`] lists, in SQLite's order.
pub(crate) fn objects(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(SCHEMA_QUERY)?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect()
}

/// The schema `objects` declare, tenant column `column`.
pub(crate) fn parse(objects: &[String], column: &str) -> rusqlite::Result<Schema> {
    // One object at a time: joined, a comment at the end of one could swallow the next.
    Ok(Schema::from_objects(objects, column).map_err(Error::from)?)
}

/// The rewriter's policy on a tenant connection: the default, the keys an INSERT gives a
/// tenant-first table's rows reported as `last_insert_rowid()`, and the tenant values a
/// statement gives itself checked when it runs. `global_tables` says which tables without
/// the tenant column are used unscoped (a connection: those the database declares, see
/// [`global_tables`]).
///
/// A tool that says what a tenant connection would do with a statement (`tenantry rewrite`,
/// `tenantry audit`) rewrites with this policy, so it shows what the connection runs.
///
/// ```
/// use tenantry_rewrite::{GlobalTables, Rewriter, Schema, TenantId};
///
/// let schema = Schema::from_sql("CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);", "tenant_id")?;
/// let policy = tenantry_sqlite::schema::connection_policy(GlobalTables::Declared(Vec::new()));
/// let rewriter = Rewriter::with_policy(schema, policy);
/// // A tenant value bound as a parameter is checked when the statement runs.
/// let tenant = TenantId::new("store-2")?;
/// let sql = rewriter.rewrite("INSERT INTO notes (body, tenant_id) VALUES (?1, ?2)", &tenant)?.sql().to_owned();
/// assert!(sql.contains("tenantry_tenant(?2"), "{sql}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connection_policy(global_tables: GlobalTables) -> Policy {
    let mut policy = Policy::default();
    policy.report_keys = true;
    policy.check_tenant_values = true;
    policy.global_tables = global_tables;
    policy
}

/// The rewriter a tenant connection to `conn`'s database uses, built anew: its schema
/// (which must have the tenant column `column` somewhere), the application's own tenant
/// columns as the last migration recorded them, the tables it declares global, and
/// [`connection_policy`].
///
/// # Errors
/// SQLite's errors, [`Error::Schema`], or [`Error::NotMigrated`].
pub fn rewriter(conn: &Connection, column: &str) -> rusqlite::Result<Rewriter> {
    build_rewriter(
        &objects(conn)?,
        column,
        &own_tenant_columns(conn)?,
        global_tables(conn)?,
    )
}

/// The rewriter for the schema `objects` declare (tenant column `column`), with the tables
/// `own` whose tenant column is the application's own, only `globals` used unscoped, and
/// [`connection_policy`]: what [`rewriter`] and the process's shared scoping build.
///
/// # Errors
/// [`Error::Schema`], or [`Error::NotMigrated`].
pub(crate) fn build_rewriter(
    objects: &[String],
    column: &str,
    own: &[String],
    globals: Vec<String>,
) -> rusqlite::Result<Rewriter> {
    let mut schema = require_migrated(parse(objects, column)?)?;
    for table in own {
        schema.set_own_tenant_column(table);
    }
    Ok(Rewriter::with_policy(
        schema,
        connection_policy(GlobalTables::Declared(globals)),
    ))
}

/// `schema`, unless no table has the tenant column (the database was never migrated).
///
/// # Errors
/// [`Error::NotMigrated`].
pub fn require_migrated(schema: Schema) -> rusqlite::Result<Schema> {
    let column = schema.tenant_column().to_owned();
    if schema.tables().any(|t| t.has_column(&column)) {
        Ok(schema)
    } else {
        Err(Error::NotMigrated { column }.into())
    }
}

/// The database's schema version, which SQLite changes on every schema change.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA schema_version")?
        .query_row([], |row| row.get(0))
}

/// The tables whose tenant column the application declared itself, as the last migration
/// recorded them: the query (run only when `_tenantry_migrations` exists).
pub const OWN_COLUMNS_QUERY: &str = "SELECT value FROM json_each((SELECT details FROM \
     _tenantry_migrations ORDER BY id DESC LIMIT 1), '$.own_column_tables') WHERE type = 'text'";

/// The tables the last migration left global (run only when `_tenantry_migrations` exists).
pub const RECORDED_GLOBALS_QUERY: &str = "SELECT value FROM json_each((SELECT details FROM \
     _tenantry_migrations ORDER BY id DESC LIMIT 1), '$.global_tables') WHERE type = 'text'";

/// The tables a row of `_tenantry_globals` declares global (run only when it exists).
pub const DECLARED_GLOBALS_QUERY: &str = "SELECT name FROM sqlite_schema WHERE type = 'table' \
     AND EXISTS (SELECT 1 FROM \"_tenantry_globals\" g WHERE lower(name) GLOB lower(g.pattern))";

/// Whether a table exists: `?1` its name.
pub const TABLE_EXISTS_QUERY: &str =
    "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1";

/// The tables whose tenant column the application declared itself, as the last migration
/// recorded them (`own_column_tables` in `_tenantry_migrations`; none before that record
/// existed, or on a database migrated by hand): tenant connections show that column to
/// legacy statements.
///
/// # Errors
/// SQLite's.
pub fn own_tenant_columns(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let recorded: bool = conn
        .prepare_cached(TABLE_EXISTS_QUERY)?
        .query_row(["_tenantry_migrations"], |row| row.get(0))?;
    if !recorded {
        return Ok(Vec::new());
    }
    conn.prepare_cached(OWN_COLUMNS_QUERY)?
        .query_map([], |row| row.get(0))?
        .collect()
}

/// The tables tenants may use unscoped although they have no tenant column: those the last
/// migration left global (`global_tables` in `_tenantry_migrations`) and those a row of
/// [`GLOBALS_TABLE`] declares (a name or a SQLite `GLOB` pattern, ASCII case-insensitive).
/// Sorted, lower case. Any other table without the tenant column is refused.
///
/// # Errors
/// SQLite's.
pub fn global_tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let exists = |name: &str| -> rusqlite::Result<bool> {
        conn.prepare_cached(TABLE_EXISTS_QUERY)?
            .query_row([name], |row| row.get(0))
    };
    let mut out: Vec<String> = Vec::new();
    if exists("_tenantry_migrations")? {
        let recorded = conn
            .prepare_cached(RECORDED_GLOBALS_QUERY)?
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.extend(recorded);
    }
    if exists(GLOBALS_TABLE)? {
        let declared = conn
            .prepare_cached(DECLARED_GLOBALS_QUERY)?
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.extend(declared);
    }
    for name in &mut out {
        name.make_ascii_lowercase();
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
