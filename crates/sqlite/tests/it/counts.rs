//! SQLite counts the rows changed on a connection whoever changed them: after a change of
//! tenant, `changes()` and `total_changes()` (rusqlite's methods and the SQL functions)
//! count only the current tenant's, as on a connection opened for it.

use tenantry_rewrite::SCOPED_TRIGGER_MARK;
use tenantry_sqlite::Connection;

/// Three notes of tenant a, two of b.
const SCHEMA: &str = "
CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);
CREATE INDEX idx_notes_tenant_id ON notes (tenant_id);
INSERT INTO notes VALUES ('a1', 'a'), ('a2', 'a'), ('a3', 'a'), ('b1', 'b'), ('b2', 'b');
";

fn open() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("app.db");
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch(SCHEMA))
        .expect("schema");
    let conn = Connection::open(&path).expect("open");
    (dir, conn)
}

/// The notes database with a scoped trigger that logs `value` into `log` after each
/// `event` on `notes` (`row`: `NEW` or `OLD`), on a tenant connection; `trusted_schema` as
/// given.
fn with_log_trigger(
    event: &str,
    row: &str,
    value: &str,
    trusted_schema: bool,
) -> (tempfile::TempDir, Connection) {
    let (dir, first) = open();
    drop(first);
    let admin = rusqlite::Connection::open(dir.path().join("app.db")).expect("admin");
    admin
        .execute_batch(&format!(
            "CREATE TABLE log (seen INTEGER, tenant_id TEXT NOT NULL);
             CREATE TRIGGER notes_logged AFTER {event} ON notes BEGIN {SCOPED_TRIGGER_MARK}
                 INSERT INTO log (seen, tenant_id) VALUES ({value}, {row}.tenant_id);
             END;"
        ))
        .expect("trigger");
    admin
        .set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA,
            trusted_schema,
        )
        .expect("trusted_schema");
    (dir, Connection::wrap(admin).expect("wrap"))
}

/// The counts as the application reads them: rusqlite's methods, then the SQL functions.
fn counts(conn: &Connection) -> [u64; 4] {
    let (sql_changes, sql_total): (u64, u64) = conn
        .query_row("SELECT changes(), total_changes()", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("SELECT changes(), total_changes()");
    [conn.changes(), conn.total_changes(), sql_changes, sql_total]
}

/// b, given the connection after a changed three rows then two, reads 0 everywhere (it
/// read 2 and 5); its own UPDATE of one row reads 1 and 1. A change of tenant by
/// `with_tenant`, and back, starts the counts again; the same tenant set again keeps them.
#[test]
fn a_change_of_tenant_does_not_hand_on_the_change_counts() {
    let (_dir, conn) = open();
    conn.set_tenant("a").expect("tenant");
    assert_eq!(
        conn.execute("UPDATE notes SET body = body || '!'", [])
            .expect("update"),
        3
    );
    assert_eq!(
        conn.execute("DELETE FROM notes WHERE body IN ('a1!', 'a2!')", [])
            .expect("delete"),
        2
    );
    assert_eq!(counts(&conn), [2, 5, 2, 5]);
    conn.set_tenant("a").expect("same tenant");
    assert_eq!(counts(&conn), [2, 5, 2, 5]);

    conn.set_tenant("b").expect("tenant");
    assert_eq!(counts(&conn), [0, 0, 0, 0]);
    // A statement that changes nothing, then one that changes a row.
    conn.execute("DELETE FROM notes WHERE 0", [])
        .expect("delete");
    assert_eq!(counts(&conn), [0, 0, 0, 0]);
    conn.execute("UPDATE notes SET body = 'b!' WHERE body = 'b1'", [])
        .expect("update");
    assert_eq!(counts(&conn), [1, 1, 1, 1]);

    let inside = conn.with_tenant("a", |c| Ok(counts(c))).expect("with a");
    assert_eq!(inside, [0, 0, 0, 0]);
    assert_eq!(counts(&conn), [0, 0, 0, 0]);
    conn.clear_tenant();
    assert_eq!([conn.changes(), conn.total_changes()], [0, 0]);
}

/// Every place SQLite reports its count reads 0 after a change of tenant, not a's 3:
/// rusqlite's `execute` of a statement that changes no row (it returns SQLite's count), and
/// `changes()` after a trigger of b's statement ran (SQLite then restores the count from
/// before the statement). Found by red team 15.
#[test]
fn no_report_of_sqlites_count_hands_on_the_previous_tenants() {
    let (_dir, conn) = with_log_trigger("UPDATE", "NEW", "1", true);
    let a_then_b = || {
        conn.set_tenant("a").expect("a");
        let changed = conn
            .execute("UPDATE notes SET body = body || '!'", [])
            .expect("update");
        assert_eq!(changed, 3);
        conn.set_tenant("b").expect("b");
    };
    a_then_b();
    for sql in [
        "BEGIN",
        "SAVEPOINT s",
        "RELEASE s",
        "COMMIT",
        "PRAGMA foreign_keys = ON",
    ] {
        assert_eq!(conn.execute(sql, []).expect(sql), 0, "{sql}");
    }
    a_then_b();
    let seen: Vec<i64> = conn
        .prepare("UPDATE notes SET body = 'x' RETURNING changes()")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("returning");
    assert_eq!(seen, [0, 0]);
    assert_eq!(
        counts(&conn),
        [2, 4, 2, 4],
        "b's two rows and the trigger's two"
    );
}

/// The counts keep working where SQLite's own do: in a statement's values, and in a
/// trigger's body (`total_changes()`, registered over SQLite's, is innocuous like it, so
/// `trusted_schema = OFF` allows it there; `changes()` is SQLite's own).
#[test]
fn the_counts_work_in_values_and_trigger_bodies() {
    let (_dir, conn) = with_log_trigger("DELETE", "OLD", "total_changes()", false);
    conn.set_tenant("a").expect("tenant");
    conn.execute("UPDATE notes SET body = 'x' WHERE body = 'a1'", [])
        .expect("update");
    conn.set_tenant("b").expect("tenant");
    conn.execute("INSERT INTO notes (body) SELECT 'seen ' || changes()", [])
        .expect("insert");
    conn.execute("DELETE FROM notes WHERE body = 'b1'", [])
        .expect("delete");
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM notes WHERE body LIKE 'seen%'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("bodies");
    assert_eq!(bodies, ["seen 0"]);
    let logged: Vec<i64> = conn
        .prepare("SELECT seen FROM log")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("log");
    // The trigger runs inside the DELETE, after b's INSERT of one row.
    assert_eq!(logged, [1]);
}
