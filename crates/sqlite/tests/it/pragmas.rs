//! PRAGMAs on a tenant connection: the ones that touch no row run (an application's
//! backup service checkpoints the WAL through its pool), the others stay refused.

use tenantry_rewrite::Refusal;
use tenantry_sqlite::{Connection, Error};

use crate::support::{Db, column, db};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tenant_id TEXT NOT NULL);
CREATE INDEX idx_customers_tenant_id ON customers (tenant_id);
INSERT INTO customers VALUES (1, 'Ada', 'a'), (2, 'Bo', 'b');
";

fn open() -> (Db, Connection) {
    let db = db(SCHEMA);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("tenant");
    (db, conn)
}

#[test]
fn pragmas_that_touch_no_row_run_on_a_tenant_connection() {
    let (_dir, conn) = open();
    conn.execute("INSERT INTO customers (name) VALUES ('Cy')", [])
        .expect("a write to checkpoint");
    // (busy, WAL frames, frames checkpointed): TRUNCATE leaves an empty WAL.
    let (busy, frames, done): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("wal_checkpoint");
    assert_eq!((busy, frames, done), (0, 0, 0));
    for sql in [
        "PRAGMA wal_checkpoint",
        "PRAGMA shrink_memory",
        "PRAGMA optimize",
    ] {
        conn.execute_batch(sql).expect(sql);
    }
    conn.execute_batch("PRAGMA optimize(0x10002)")
        .expect("optimize with a mask");
    let names: Vec<String> = column(&conn, "SELECT name FROM customers ORDER BY id");
    assert_eq!(names, ["Ada", "Cy"]);
}

#[test]
fn pragmas_that_read_count_or_change_rows_stay_refused() {
    let (_dir, conn) = open();
    for sql in [
        "PRAGMA page_count",
        "PRAGMA integrity_check",
        "PRAGMA writable_schema = ON",
        "PRAGMA user_version = 7",
        "PRAGMA incremental_vacuum",
        "PRAGMA temp.wal_checkpoint",
    ] {
        let err = conn.execute_batch(sql).expect_err(sql);
        match Error::of(&err) {
            Some(Error::Rewrite(e)) => {
                assert!(
                    matches!(e.refusal(), Some(Refusal::Pragma { .. })),
                    "{sql}: {e}"
                );
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

/// `journal_mode` OFF or MEMORY is refused, in every spelling: without a journal on disk, a
/// tenant's ROLLBACK after a spill (a small cache) left its half-done pages in the file, and
/// `integrity_check` found every tenant's table damaged. Other journal modes still run.
#[test]
fn a_journal_mode_without_a_journal_on_disk_is_refused() {
    let db = db("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tenant_id TEXT NOT NULL);
         CREATE INDEX idx_notes_tenant_id ON notes (tenant_id);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
         INSERT INTO notes (body, tenant_id) SELECT 'note ' || i, CASE i % 2 WHEN 0 THEN 'a' ELSE 'b' END FROM n;");
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("b").expect("tenant");
    for sql in [
        "PRAGMA journal_mode = OFF",
        "PRAGMA journal_mode = 'off'",
        "PRAGMA main.journal_mode(MEMORY)",
        "PRAGMA journal_mode = \"Memory\"",
        // SQLite takes any start of a mode's name: these name OFF and MEMORY too.
        "PRAGMA journal_mode = of",
        "PRAGMA journal_mode = 'O'",
        "PRAGMA journal_mode = mem",
        "PRAGMA journal_mode = [m]",
    ] {
        let err = conn.execute_batch(sql).expect_err(sql);
        match Error::of(&err) {
            Some(Error::Rewrite(e)) => assert!(
                matches!(e.refusal(), Some(Refusal::PragmaValue { .. })),
                "{sql}: {e}"
            ),
            other => panic!("{sql}: {other:?}"),
        }
    }
    // SQLite itself takes those starts of a name for the mode (on another file).
    let other = crate::support::db("CREATE TABLE t (x)");
    let plain = rusqlite::Connection::open(&other.path).expect("open");
    for (value, mode) in [
        ("of", "off"),
        ("'O'", "off"),
        ("mem", "memory"),
        ("[m]", "memory"),
    ] {
        let set: String = plain
            .query_row(&format!("PRAGMA journal_mode = {value}"), [], |r| r.get(0))
            .expect("journal_mode");
        assert_eq!(set, mode, "{value}");
        plain
            .execute_batch("PRAGMA journal_mode = DELETE")
            .expect("back to DELETE");
    }
    // What the refused pragma enabled: a spilled, rolled-back update of b's rows.
    conn.execute_batch(
        "PRAGMA cache_size = 1; BEGIN; UPDATE notes SET body = body || hex(randomblob(300)); ROLLBACK;",
    )
    .expect("a rolled-back update");
    for sql in ["PRAGMA journal_mode", "PRAGMA journal_mode = TRUNCATE"] {
        conn.execute_batch(sql).expect(sql);
    }
    let plain = rusqlite::Connection::open(&db.path).expect("open");
    let check: String = plain
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let a: i64 = plain
        .query_row(
            "SELECT count(*) FROM notes WHERE tenant_id = 'a'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(a, 150);
}
