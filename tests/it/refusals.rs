use std::path::Path;

use rusqlite::Connection;

use crate::support::{db_from_sql, files_containing, outcome, tenantry, tiny_fixture};

/// Runs `tenantry migrate` with `extra` arguments on `db` and checks a refusal: exit
/// status 2, a message containing `says`, the file's bytes untouched and no backup.
fn refused(db: &Path, extra: &[&str], says: &str) {
    let before = std::fs::read(db).ok();
    let mut args = vec!["migrate", db.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, _out, err) = outcome(&tenantry(&args));
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: expected {says:?} in: {err}");
    assert!(err.contains("othing was changed"), "{args:?}: {err}");
    assert_eq!(std::fs::read(db).ok(), before, "{args:?} changed the file");
    // A folder given as the database is looked in itself: its parent is shared (/tmp).
    let folder = if db.is_dir() { Some(db) } else { db.parent() };
    if let Some(dir) = folder {
        assert!(
            files_containing(dir, "tenantry-backup").is_empty(),
            "{args:?} left a backup"
        );
    }
}

#[test]
fn a_missing_file_is_refused_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("absent.db");
    refused(&db, &[], "no such file");
    assert!(!db.exists());
}

#[test]
fn files_that_are_not_sqlite_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    refused(&empty, &[], "not a SQLite database (the file is empty)");
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "id,name\n1,Ada\n".repeat(100)).unwrap();
    refused(&text, &[], "not a SQLite database");
    refused(dir.path(), &[], "not a regular file");
}

#[test]
fn a_corrupt_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    // Keep the header and the schema page; overwrite the b-tree pages after them.
    let mut bytes = std::fs::read(&db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let page = if page == 1 { 65536 } else { page };
    for b in bytes.iter_mut().skip(page * 8).take(page * 6) {
        *b = 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    refused(&db, &[], "corrupt");
}

/// Corruption that reading the rows does not meet (the header's count of free pages is
/// wrong) is found by the backup's `quick_check`, which runs beside the change: the
/// change is rolled back, the copy removed, and the file refused like one found corrupt
/// before, in either journal mode.
#[test]
fn corruption_only_quick_check_sees_is_refused_and_nothing_changes() {
    for mode in ["wal", "delete"] {
        let dir = tempfile::tempdir().unwrap();
        let db = db_from_sql(
            dir.path(),
            "notes.db",
            &format!(
                "PRAGMA journal_mode = {mode};
                 CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
                 INSERT INTO notes (body) SELECT printf('%0500d', i) FROM n;
                 DELETE FROM notes WHERE id > 150;"
            ),
        );
        let mut bytes = std::fs::read(&db).unwrap();
        let free = u32::from_be_bytes(bytes[36..40].try_into().unwrap());
        assert!(free > 0, "the deletes leave free pages");
        bytes[36..40].copy_from_slice(&(free + 3).to_be_bytes());
        std::fs::write(&db, &bytes).unwrap();
        refused(&db, &[], "corrupt");
        refused(&db, &["--layout", "tenant-first"], "corrupt");
    }
}

#[test]
fn a_read_only_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    refused(&db, &[], "read-only");
}

#[test]
fn a_database_held_by_another_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let app = Connection::open(&db).unwrap();
    app.execute_batch(
        "BEGIN IMMEDIATE; INSERT INTO price_levels (code, name) VALUES ('x', 'held');",
    )
    .unwrap();
    refused(
        &db,
        &["--busy-timeout", "300"],
        "stop the application first",
    );
    app.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    refused(
        &db,
        &["--default-tenant", "acme' or '1'='1"],
        "invalid tenant id",
    );
    refused(&db, &["--default-tenant", ""], "invalid tenant id");
    refused(&db, &["--column", "tenant id"], "invalid column name");
    refused(&db, &["--exclude", "no_such_table"], "no_such_table");
    refused(&db, &["--tenants-table", "no_such_table"], "no_such_table");
    let list = dir.path().join("expected.txt");
    std::fs::write(&list, "# two tables only\ncustomers\nwidgets\n").unwrap();
    refused(
        &db,
        &["--expect-tables", list.to_str().unwrap()],
        "widgets (absent)",
    );
    let existing = dir.path().join("taken.bak");
    std::fs::write(&existing, b"precious").unwrap();
    refused(
        &db,
        &["--backup", existing.to_str().unwrap()],
        "already exists",
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");
    std::fs::remove_file(&existing).unwrap();
}

#[test]
fn usage_errors_exit_with_status_2() {
    let (code, _, err) = outcome(&tenantry(&["migrate"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = outcome(&tenantry(&["fixture", "--size", "huge", "--out", "x.db"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tiny"), "{err}");
}
