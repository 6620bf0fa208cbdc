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
