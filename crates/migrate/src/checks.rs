//! The database checks every step relies on: integrity, foreign keys and row counts.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::sql;

/// How many lines of `quick_check` output are kept.
const QUICK_CHECK_LINES: u32 = 20;

/// Runs `PRAGMA quick_check`; returns its complaints (empty when the database is sound).
pub(crate) fn quick_check(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA quick_check({QUICK_CHECK_LINES})"))?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(if lines == ["ok"] { Vec::new() } else { lines })
}

/// Rows that break one foreign key, as `PRAGMA foreign_key_check` reports them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FkViolations {
    /// The child table.
    pub table: String,
    /// The parent table the key points to.
    pub parent: String,
    /// The key's id within the child table.
    pub fk_id: i64,
    /// How many rows break it.
    pub rows: u64,
}

/// Runs `PRAGMA foreign_key_check` over the whole database, grouped by key.
pub(crate) fn foreign_key_violations(conn: &Connection) -> rusqlite::Result<Vec<FkViolations>> {
    let mut stmt = conn.prepare(
        "SELECT \"table\", parent, fkid, count(*) FROM pragma_foreign_key_check GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )?;
    stmt.query_map([], |r| {
        Ok(FkViolations {
            table: r.get(0)?,
            parent: r.get(1)?,
            fk_id: r.get(2)?,
            rows: r.get(3)?,
        })
    })?
    .collect()
}

/// [`foreign_key_violations`] for the database as it was before a migration, where a
/// foreign key SQLite cannot check at all ("foreign key mismatch": its parent key is not
/// unique) is expected of a table an application created after a tenant-first migration
/// (`REFERENCES projects(id)`, whose key is now `(tenant_id, id)`): the rebuild makes such
/// a key composite. The database is then checked table by table and those tables are left
/// out of the baseline (logged); the check after the change, which is strict, covers them.
pub(crate) fn baseline_violations(conn: &Connection) -> rusqlite::Result<Vec<FkViolations>> {
    match foreign_key_violations(conn) {
        Err(e) if is_mismatch(&e) => {}
        other => return other,
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT \"table\", parent, fkid, count(*) FROM pragma_foreign_key_check(?1) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )?;
    let mut out = Vec::new();
    for table in tables {
        let found = stmt
            .query_map([&table], |r| {
                Ok(FkViolations {
                    table: r.get(0)?,
                    parent: r.get(1)?,
                    fk_id: r.get(2)?,
                    rows: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        match found {
            Ok(found) => out.extend(found),
            Err(e) if is_mismatch(&e) => {
                tracing::warn!(%table, error = %e, "foreign key not checkable before the migration; checked after it");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn is_mismatch(error: &rusqlite::Error) -> bool {
    error.to_string().contains("foreign key mismatch")
}

/// Violations in `after` beyond those in `before`: the ones a change introduced.
pub(crate) fn new_violations(before: &[FkViolations], after: &[FkViolations]) -> Vec<FkViolations> {
    after
        .iter()
        .filter_map(|a| {
            let old = before
                .iter()
                .find(|b| b.table == a.table && b.parent == a.parent && b.fk_id == a.fk_id)
                .map_or(0, |b| b.rows);
            (a.rows > old).then(|| FkViolations {
                rows: a.rows - old,
                ..a.clone()
            })
        })
        .collect()
}

/// `SELECT count(*)` of one table.
pub(crate) fn count_rows(conn: &Connection, table: &str) -> rusqlite::Result<u64> {
    conn.query_row(
        &format!("SELECT count(*) FROM {}", sql::ident(table)),
        [],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_violations_a_change_added() {
        let v = |t: &str, n| FkViolations {
            table: t.into(),
            parent: "p".into(),
            fk_id: 0,
            rows: n,
        };
        assert_eq!(new_violations(&[v("a", 2)], &[v("a", 2)]), []);
        assert_eq!(
            new_violations(&[v("a", 2)], &[v("a", 3), v("b", 1)]),
            [v("a", 1), v("b", 1)]
        );
    }

    #[test]
    fn reports_foreign_key_violations_and_corruption_free_databases() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF; CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(pid INTEGER REFERENCES p(id));
             INSERT INTO p VALUES (1); INSERT INTO c VALUES (1), (2), (3);",
        )
        .unwrap();
        assert_eq!(quick_check(&conn).unwrap(), Vec::<String>::new());
        let found = foreign_key_violations(&conn).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].table.as_str(), found[0].rows), ("c", 2));
        assert_eq!(count_rows(&conn, "c").unwrap(), 3);
    }
}
