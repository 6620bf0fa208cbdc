//! The schema the rewriter scopes against, read from the live database.

use rusqlite::Connection;
use tenantry_rewrite::Schema;

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
    let mut statement = conn.prepare(SCHEMA_QUERY)?;
    let objects = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // One object at a time: joined, a comment at the end of one could swallow the next.
    Ok(Schema::from_objects(&objects, column).map_err(Error::from)?)
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
