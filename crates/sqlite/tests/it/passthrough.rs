//! The rusqlite methods the tenant connection passes through (they touch no row) or scopes
//! like `query_row`, and its `Debug`.

use tenantry_sqlite::{Connection, Error};

use crate::support::{self, Db};

const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tenant_id TEXT NOT NULL);
INSERT INTO customers (id, name, tenant_id) VALUES (1, 'Ada', 'a'), (2, 'Bo', 'b');
";

fn open(db: &Db, tenant: &str) -> Connection {
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant(tenant).expect("tenant");
    conn
}

/// An application error type, as legacy code declares one for `query_row_and_then`.
#[derive(Debug)]
enum AppError {
    Sqlite(rusqlite::Error),
    Empty,
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Sqlite(e)
    }
}

#[test]
fn query_row_and_then_reads_only_the_tenants_row_and_keeps_the_callers_error_type() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    let name = |id: i64| {
        conn.query_row_and_then("SELECT name FROM customers WHERE id = ?1", [id], |r| {
            let name: String = r.get(0)?;
            if name.is_empty() {
                Err(AppError::Empty)
            } else {
                Ok(name)
            }
        })
    };
    assert_eq!(name(1).expect("a's row"), "Ada");
    // Bo is tenant b's: for a there is no such row.
    assert!(
        matches!(
            name(2),
            Err(AppError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
        ),
        "{:?}",
        name(2)
    );
    // A refusal arrives as the caller's error, readable as a refusal.
    let refused: Result<i64, AppError> =
        conn.query_row_and_then("DROP TABLE customers", [], |r| Ok(r.get(0)?));
    match refused {
        Err(AppError::Sqlite(e)) => {
            assert!(matches!(Error::of(&e), Some(Error::Rewrite(_))), "{e}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        support::column::<String>(&open(&db, "b"), "SELECT name FROM customers"),
        ["Bo"]
    );
}

#[test]
fn is_autocommit_and_path_report_the_connections_state() {
    let db = support::db(SCHEMA);
    let mut conn = open(&db, "a");
    assert!(conn.is_autocommit());
    assert_eq!(
        conn.path().map(std::path::PathBuf::from),
        Some(db.path.clone())
    );
    conn.execute_batch("BEGIN").expect("begin");
    assert!(!conn.is_autocommit());
    conn.execute_batch("ROLLBACK").expect("rollback");
    assert!(conn.is_autocommit());
    let tx = conn.transaction().expect("begin");
    tx.execute("UPDATE customers SET name = 'Ada L.'", [])
        .expect("update");
    tx.rollback().expect("rollback");
    assert!(conn.is_autocommit());
    let names: Vec<String> = support::column(&conn, "SELECT name FROM customers");
    assert_eq!(names, ["Ada"]);
}

#[test]
fn debug_shows_the_path_and_tenant_and_no_rows() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    let shown = format!("{conn:?}");
    assert!(shown.starts_with("Connection {"), "{shown}");
    assert!(shown.contains("tenant: Some(\"a\")"), "{shown}");
    assert!(shown.contains("app.db"), "{shown}");
    assert!(!shown.contains("Ada"), "{shown}");
    conn.clear_tenant();
    assert!(format!("{conn:?}").contains("tenant: None"));
}

#[test]
fn open_with_flags_opens_read_only_and_still_scopes_reads() {
    let db = support::db(SCHEMA);
    let conn = Connection::open_with_flags(&db.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    conn.set_tenant("b").expect("tenant");
    let names: Vec<String> = support::column(&conn, "SELECT name FROM customers");
    assert_eq!(names, ["Bo"]);
    // SQLite itself refuses the write, as rusqlite reports it for a read-only file.
    let err = conn
        .execute("UPDATE customers SET name = 'x'", [])
        .expect_err("read-only");
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly),
        "{err}"
    );
    // Opening a file that does not exist, without CREATE, fails as rusqlite fails.
    let missing = db.path.with_file_name("missing.db");
    let err = Connection::open_with_flags(&missing, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .expect_err("no such file");
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen),
        "{err}"
    );
    assert!(!missing.exists());
}

#[test]
fn transaction_with_behavior_takes_the_lock_it_names_and_scopes_its_statements() {
    let db = support::db(SCHEMA);
    let mut conn = open(&db, "a");
    let other = rusqlite::Connection::open(&db.path).expect("open plain");
    other
        .busy_timeout(std::time::Duration::ZERO)
        .expect("no waiting");
    // IMMEDIATE takes the write lock at BEGIN: another writer is refused at once.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("begin immediate");
    let err = other
        .execute_batch("BEGIN IMMEDIATE")
        .expect_err("the lock is held");
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy),
        "{err}"
    );
    tx.execute("UPDATE customers SET name = 'Ada L.'", [])
        .expect("update");
    tx.commit().expect("commit");
    // DEFERRED takes no lock until the first access.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
        .expect("begin deferred");
    other
        .execute_batch("BEGIN IMMEDIATE; ROLLBACK")
        .expect("not locked");
    tx.rollback().expect("rollback");
    // The update was scoped: tenant b's row is as it was.
    let mut stmt = other
        .prepare("SELECT name FROM customers ORDER BY id")
        .expect("prepare");
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(names, ["Ada L.", "Bo"]);
}
