//! Declared global tables: the rows of [`GLOBALS_TABLE`], each a table name or a SQLite
//! `GLOB` pattern (ASCII case-insensitive), stored in the database itself so that the
//! migrator, tenant connections and `tenantry verify` agree.
//!
//! A tenant connection uses a table without the tenant column only when the last
//! migration left it global or a declaration matches it; it refuses every other one
//! (`Refusal::UndeclaredTable`). A migration leaves a declared table global, as
//! `--exclude` does.

use rusqlite::Connection;
use serde::Serialize;
pub use tenantry_rewrite::GLOBALS_TABLE;

use crate::error::{Error, Result, Step};
use crate::sql::ident;

/// One declaration and the tables it matches now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Declaration {
    /// The name or `GLOB` pattern, as declared.
    pub pattern: String,
    /// The tables of the database it matches, in name order.
    pub tables: Vec<String>,
}

/// Declares `patterns` global (a table name, or a SQLite `GLOB` pattern such as
/// `cache_*`), in one transaction: all are recorded or none.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE currencies (code TEXT PRIMARY KEY)")?;
/// tenantry_migrate::declare_global(&conn, &["currencies"])?;
/// let declared = tenantry_migrate::declared_global(&conn)?;
/// assert_eq!(declared[0].tables, ["currencies"]);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::NotGlobal`] for an empty pattern, or one that matches a table that has the
/// tenant column (the one the last migration recorded, else `tenant_id`; a tenant table
/// cannot be shared); [`Error::Sqlite`] at [`Step::Declare`].
pub fn declare_global(conn: &Connection, patterns: &[&str]) -> Result<()> {
    // The tenant column the last migration used, else the default.
    let column =
        crate::record::last(conn)?.map_or_else(|| crate::DEFAULT_COLUMN.to_owned(), |r| r.column);
    declare_global_with_column(conn, patterns, &column)
}

/// [`declare_global`] for a database whose tenant column is `column`.
///
/// # Errors
/// As [`declare_global`].
pub fn declare_global_with_column(
    conn: &Connection,
    patterns: &[&str],
    column: &str,
) -> Result<()> {
    let err = |e| Error::sqlite(Step::Declare, Some(GLOBALS_TABLE))(e);
    let tx = conn.unchecked_transaction().map_err(err)?;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  pattern TEXT PRIMARY KEY COLLATE NOCASE,\n  declared_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n)",
        ident(GLOBALS_TABLE)
    ))
    .map_err(err)?;
    for &pattern in patterns {
        if pattern.trim().is_empty() {
            return Err(Error::NotGlobal {
                pattern: pattern.to_owned(),
                reason: "it is empty; give a table name or a GLOB pattern".to_owned(),
            });
        }
        if let Some(table) = matching(&tx, pattern)?
            .into_iter()
            .find(|t| has_column(&tx, t, column).unwrap_or(true))
        {
            return Err(Error::NotGlobal {
                pattern: pattern.to_owned(),
                reason: format!(
                    "it matches table {table:?}, which has the tenant column {column:?}: its \
                     rows belong to tenants; name the global tables more narrowly"
                ),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO {} (pattern) VALUES (?1) ON CONFLICT DO NOTHING",
                ident(GLOBALS_TABLE)
            ),
            [pattern],
        )
        .map_err(err)?;
    }
    mark_schema_changed(&tx)?;
    tx.commit().map_err(err)
}

/// Changes the schema (an index on the declarations, dropped and created again), so that
/// every open connection, which reads its scoping again when the schema version moves,
/// sees the declarations as they are now.
fn mark_schema_changed(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "DROP INDEX IF EXISTS \"_tenantry_globals_changed\";
         CREATE INDEX \"_tenantry_globals_changed\" ON {} (declared_at);",
        ident(GLOBALS_TABLE)
    ))
    .map_err(Error::sqlite(Step::Declare, Some(GLOBALS_TABLE)))
}

/// Removes the declarations `patterns` (as declared, ASCII case-insensitive); returns how
/// many there were. A table the last migration left global stays global.
///
/// # Errors
/// [`Error::Sqlite`] at [`Step::Declare`].
pub fn undeclare_global(conn: &Connection, patterns: &[&str]) -> Result<usize> {
    if !exists(conn)? {
        return Ok(0);
    }
    let err = |e| Error::sqlite(Step::Declare, Some(GLOBALS_TABLE))(e);
    let tx = conn.unchecked_transaction().map_err(err)?;
    let mut removed = 0;
    for &pattern in patterns {
        removed += tx
            .execute(
                &format!("DELETE FROM {} WHERE pattern = ?1", ident(GLOBALS_TABLE)),
                [pattern],
            )
            .map_err(err)?;
    }
    mark_schema_changed(&tx)?;
    tx.commit().map_err(err)?;
    Ok(removed)
}

/// Every declaration, in pattern order, with the tables it matches now.
///
/// # Errors
/// [`Error::Sqlite`] at [`Step::Declare`].
pub fn declared_global(conn: &Connection) -> Result<Vec<Declaration>> {
    if !exists(conn)? {
        return Ok(Vec::new());
    }
    let patterns: Vec<String> = conn
        .prepare(&format!(
            "SELECT pattern FROM {} ORDER BY pattern",
            ident(GLOBALS_TABLE)
        ))
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(Error::sqlite(Step::Declare, Some(GLOBALS_TABLE)))?;
    patterns
        .into_iter()
        .map(|pattern| {
            let tables = matching(conn, &pattern)?;
            Ok(Declaration { pattern, tables })
        })
        .collect()
}

/// Whether a declaration matches `table`.
pub(crate) fn is_declared(conn: &Connection, table: &str) -> Result<bool> {
    if !exists(conn)? {
        return Ok(false);
    }
    conn.query_row(
        &format!(
            "SELECT count(*) > 0 FROM {} WHERE lower(?1) GLOB lower(pattern)",
            ident(GLOBALS_TABLE)
        ),
        [table],
        |r| r.get(0),
    )
    .map_err(Error::sqlite(Step::Plan, Some(table)))
}

/// The tables (not SQLite's own) that `pattern` matches.
fn matching(conn: &Connection, pattern: &str) -> Result<Vec<String>> {
    conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND lower(name) GLOB lower(?1) ORDER BY name",
    )
    .and_then(|mut s| s.query_map([pattern], |r| r.get(0))?.collect())
    .map_err(Error::sqlite(Step::Declare, Some(GLOBALS_TABLE)))
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_xinfo(?1) WHERE name = ?2 COLLATE NOCASE",
        [table, column],
        |r| r.get(0),
    )
}

fn exists(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [GLOBALS_TABLE],
        |r| r.get(0),
    )
    .map_err(Error::sqlite(Step::Declare, Some(GLOBALS_TABLE)))
}
