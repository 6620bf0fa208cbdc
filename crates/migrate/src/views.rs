//! Views the tenant column would break, found before anything changes.
//!
//! A view that names its columns over `SELECT *` (`CREATE VIEW v (a, b) AS SELECT * FROM
//! t`) meets one column more once `t` has the tenant column, and SQLite then refuses every
//! statement that reads it ("expected 2 columns for 'v' but got 3"). The schema's tables
//! and views are replayed in a private in-memory database, the tenant column is added to
//! the tables that get it, and each view that SQLite could read before is read again.
//! Tables SQLite cannot create there (virtual tables) and the views over them are left to
//! the migration's own verification, which holds every view that worked to working.

use rusqlite::Connection;

use crate::sql::ident;

/// A view the tenant column would break.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Broken {
    /// The view.
    pub view: String,
    /// SQLite's error reading it with the column added.
    pub error: String,
}

/// The views of `conn`'s main database that adding `column` to each of `tables` would
/// break; empty when the schema cannot be replayed.
pub(crate) fn broken_by_column(conn: &Connection, tables: &[&str], column: &str) -> Vec<Broken> {
    match replay(conn, tables, column) {
        Ok(broken) => broken,
        Err(e) => {
            tracing::debug!(error = %e, "the schema could not be replayed to check its views");
            Vec::new()
        }
    }
}

fn replay(conn: &Connection, tables: &[&str], column: &str) -> rusqlite::Result<Vec<Broken>> {
    let objects: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT type, name, sql FROM main.sqlite_schema WHERE type IN ('table', 'view') \
             AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if !objects.iter().any(|(kind, ..)| kind == "view") {
        return Ok(Vec::new());
    }
    let scratch = Connection::open_in_memory()?;
    for (kind, name, sql) in &objects {
        // A virtual table whose module is missing here, say: its views fail below, before
        // the change too, and are not judged.
        if let Err(e) = scratch.execute_batch(sql) {
            tracing::debug!(kind, name, error = %e, "not replayed");
        }
    }
    let reads = |name: &str| crate::verify::view_error(&scratch, name);
    let views: Vec<&str> = objects
        .iter()
        .filter(|(kind, ..)| kind == "view")
        .map(|(_, name, _)| name.as_str())
        .filter(|name| reads(name).is_none())
        .collect();
    for table in tables {
        scratch.execute_batch(&format!(
            "ALTER TABLE main.{} ADD COLUMN {} TEXT",
            ident(table),
            ident(column)
        ))?;
    }
    Ok(views
        .into_iter()
        .filter_map(|view| {
            reads(view).map(|e| Broken {
                view: view.to_owned(),
                error: e.to_string(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_list_over_star_breaks_and_other_views_do_not() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE g (k TEXT);
             CREATE VIEW star (a, b) AS SELECT * FROM p;
             CREATE VIEW named (a, b) AS SELECT id, name FROM p;
             CREATE VIEW plain AS SELECT * FROM p;
             CREATE VIEW global_star (x) AS SELECT * FROM g;
             CREATE TABLE gone (x);
             CREATE VIEW stale (x) AS SELECT * FROM gone;
             DROP TABLE gone;",
        )
        .unwrap();
        let broken = broken_by_column(&conn, &["p"], "tenant_id");
        let names: Vec<&str> = broken.iter().map(|b| b.view.as_str()).collect();
        assert_eq!(names, ["star"]);
        assert!(broken[0].error.contains("expected 2 columns"), "{broken:?}");
        assert!(broken_by_column(&conn, &["g"], "tenant_id")[0].view == "global_star");
    }
}
