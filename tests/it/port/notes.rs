//! A legacy data-access module with its own tests, as an application has it: a notebook
//! of projects and notes. Included twice by `tests/it/port/mod.rs`: once with rusqlite's
//! `Connection` and once with Tenantry's. It names neither; it uses its includer's
//! `Connection` and `test_db()` (the constructor), so the port changes no line here.

use rusqlite::{OptionalExtension, Result};

use super::Connection;

/// The application's start-up schema code.
pub fn create_schema(db: &rusqlite::Connection) -> Result<()> {
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS projects (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL UNIQUE
         );
         CREATE TABLE IF NOT EXISTS notes (
             id INTEGER PRIMARY KEY,
             project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
             body TEXT NOT NULL,
             pinned INTEGER NOT NULL DEFAULT 0
         );
         CREATE INDEX IF NOT EXISTS idx_notes_project ON notes(project_id);",
    )
}

pub fn add_project(conn: &Connection, name: &str) -> Result<i64> {
    conn.execute("INSERT INTO projects (name) VALUES (?1)", [name])?;
    Ok(conn.last_insert_rowid())
}

pub fn add_note(conn: &Connection, project: i64, body: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO notes (project_id, body) VALUES (?1, ?2)",
        (project, body),
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn pin(conn: &Connection, note: i64) -> Result<bool> {
    Ok(conn.execute("UPDATE notes SET pinned = 1 WHERE id = ?1", [note])? == 1)
}

pub fn project_by_name(conn: &Connection, name: &str) -> Result<Option<i64>> {
    conn.query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()
}

pub fn notes_of(conn: &Connection, project: i64) -> Result<Vec<(String, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body, pinned FROM notes WHERE project_id = ?1 ORDER BY pinned DESC, id",
    )?;
    stmt.query_map([project], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

pub fn delete_project(conn: &Connection, project: i64) -> Result<usize> {
    conn.execute("DELETE FROM projects WHERE id = ?1", [project])
}

pub fn counts(conn: &Connection) -> Result<(i64, i64)> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM notes)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_db;
    use super::*;

    #[test]
    fn notes_are_listed_pinned_first() {
        let conn = test_db();
        let p = add_project(&conn, "garage").unwrap();
        add_note(&conn, p, "oil").unwrap();
        let tyres = add_note(&conn, p, "tyres").unwrap();
        assert!(pin(&conn, tyres).unwrap());
        assert_eq!(
            notes_of(&conn, p).unwrap(),
            [("tyres".to_owned(), true), ("oil".to_owned(), false)]
        );
    }

    #[test]
    fn a_project_name_is_unique_and_found_by_name() {
        let conn = test_db();
        let p = add_project(&conn, "garage").unwrap();
        assert_eq!(project_by_name(&conn, "garage").unwrap(), Some(p));
        assert_eq!(project_by_name(&conn, "attic").unwrap(), None);
        let err = add_project(&conn, "garage").unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
    }

    #[test]
    fn deleting_a_project_deletes_its_notes() {
        let conn = test_db();
        let p = add_project(&conn, "garage").unwrap();
        add_note(&conn, p, "oil").unwrap();
        let q = add_project(&conn, "attic").unwrap();
        add_note(&conn, q, "boxes").unwrap();
        assert_eq!(delete_project(&conn, p).unwrap(), 1);
        assert_eq!(counts(&conn).unwrap(), (1, 1));
        assert!(!pin(&conn, 1).unwrap(), "note 1 went with its project");
    }
}
