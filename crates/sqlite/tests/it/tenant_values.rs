//! Tenant values the application gives itself (issue 16): a bound tenant in an INSERT, or
//! compared with the tenant column in an UPDATE's or DELETE's WHERE, is checked when the
//! statement runs; a mismatch fails the whole statement with `Error::TenantMismatch` and
//! changes nothing. A table whose tenant column is the application's own shows it.

use rusqlite::named_params;
use tenantry_sqlite::{Connection, Error, SharedPlans};

use crate::support::{Db, db};

/// The application's own schema: it declared the tenant column itself.
const SCHEMA: &str = "
CREATE TABLE vendors (id INTEGER PRIMARY KEY, name TEXT UNIQUE, note TEXT,
    tenant_id TEXT NOT NULL);
INSERT INTO vendors VALUES (1, 'Acme', 'first', 'a'), (2, 'Bolt', 'second', 'b'),
    (3, 'Cog', 'third', 'a');";

fn open() -> (Db, Connection) {
    let db = db(SCHEMA);
    let plans = SharedPlans::default().with_own_tenant_columns(["vendors"]);
    let conn = Connection::wrap_shared(
        rusqlite::Connection::open(&db.path).expect("open"),
        "tenant_id",
        plans,
    )
    .expect("wrap");
    conn.set_tenant("a").expect("tenant");
    (db, conn)
}

/// Every row, every tenant, in rowid order.
fn all_rows(conn: &Connection) -> Vec<(i64, String, Option<String>, String)> {
    conn.unscoped(|admin| {
        admin
            .prepare("SELECT id, name, note, tenant_id FROM vendors ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .expect("rows")
}

/// `err` is the connection's mismatch error for `given`.
fn assert_mismatch(err: &rusqlite::Error, given: &str) {
    match Error::of(err) {
        Some(Error::TenantMismatch {
            table,
            column,
            given: g,
            tenant,
        }) => {
            assert_eq!(
                (table.as_str(), column.as_str(), g.as_str(), tenant.as_str()),
                ("vendors", "tenant_id", given, "a")
            );
            let message = err.to_string();
            for part in ["vendors", "tenant_id", given, "\"a\""] {
                assert!(message.contains(part), "{message}");
            }
        }
        other => panic!("expected a tenant mismatch, got {other:?} ({err})"),
    }
}

#[test]
fn a_bound_tenant_that_is_the_connections_inserts_with_parameters_as_written() {
    let (_db, conn) = open();
    conn.execute(
        "INSERT INTO vendors (id, name, tenant_id, note) VALUES (?, ?, ?, ?)",
        rusqlite::params![10, "Dyn", "a", "plain"],
    )
    .expect("? numbered in order");
    conn.execute(
        "INSERT INTO vendors (tenant_id, name, note) VALUES (?3, ?1, ?2)",
        rusqlite::params!["Ebb", "numbered", "a"],
    )
    .expect("?NNN");
    conn.execute(
        "INSERT INTO vendors (name, tenant_id, note) VALUES (:name, :tenant, :note)",
        named_params! {":name": "Fig", ":tenant": "a", ":note": "named"},
    )
    .expect(":name");
    let rows = all_rows(&conn);
    for (name, note) in [("Dyn", "plain"), ("Ebb", "numbered"), ("Fig", "named")] {
        assert!(
            rows.iter()
                .any(|r| r.1 == name && r.2.as_deref() == Some(note) && r.3 == "a"),
            "{name}: {rows:?}"
        );
    }
}

#[test]
fn a_bound_tenant_of_another_tenant_or_null_fails_and_changes_nothing() {
    let (_db, conn) = open();
    let before = all_rows(&conn);
    let insert = |sql: &str, tenant: Option<&str>| {
        conn.execute(sql, rusqlite::params!["Zed", tenant, "n"])
            .expect_err(sql)
    };
    for sql in [
        "INSERT INTO vendors (name, tenant_id, note) VALUES (?1, ?2, ?3)",
        "INSERT OR IGNORE INTO vendors (name, tenant_id, note) VALUES (?1, ?2, ?3)",
        "INSERT INTO vendors (name, tenant_id, note) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
    ] {
        assert_mismatch(&insert(sql, Some("b")), "'b'");
        assert_mismatch(&insert(sql, None), "NULL");
        assert_mismatch(&insert(sql, Some("A")), "'A'");
    }
    // Only the second row is wrong: the first is not written either, in a transaction
    // too, and whatever OR IGNORE says.
    let mut conn = conn;
    for sql in [
        "INSERT INTO vendors (name, tenant_id) VALUES (?1, ?2), (?3, ?4)",
        "INSERT OR IGNORE INTO vendors (name, tenant_id) VALUES (?1, ?2), (?3, ?4)",
    ] {
        let err = conn
            .execute(sql, ["Ok", "a", "Bad", "b"])
            .expect_err("second row");
        assert_mismatch(&err, "'b'");
        let tx = conn.transaction().expect("begin");
        let err = tx
            .execute(sql, ["Ok", "a", "Bad", "b"])
            .expect_err("second row, in a transaction");
        assert_mismatch(&err, "'b'");
        tx.commit().expect("commit");
    }
    assert_eq!(all_rows(&conn), before);
}

#[test]
fn an_update_or_delete_that_names_the_tenant_checks_it() {
    let (_db, conn) = open();
    assert_eq!(
        conn.execute(
            "UPDATE vendors SET note = ? WHERE id = ? AND tenant_id = ?",
            rusqlite::params!["changed", 1, "a"],
        )
        .expect("right tenant"),
        1
    );
    let before = all_rows(&conn);
    // The check runs where the statement compares a row of the tenant (its tenant test
    // comes first, so nothing of the caller's runs on another tenant's row).
    let err = conn
        .execute(
            "UPDATE vendors SET note = ? WHERE id = ? AND tenant_id = ?",
            rusqlite::params!["stolen", 1, "b"],
        )
        .expect_err("another tenant");
    assert_mismatch(&err, "'b'");
    let err = conn
        .execute(
            "DELETE FROM vendors WHERE tenant_id = :tenant",
            named_params! {":tenant": "b"},
        )
        .expect_err("another tenant");
    assert_mismatch(&err, "'b'");
    // Another tenant's row is not the tenant's: nothing to compare, nothing changed.
    assert_eq!(
        conn.execute(
            "DELETE FROM vendors WHERE tenant_id = :tenant AND id = :id",
            named_params! {":tenant": "b", ":id": 2},
        )
        .expect("another tenant's row"),
        0
    );
    assert_eq!(all_rows(&conn), before);
    assert_eq!(
        conn.execute(
            "DELETE FROM vendors WHERE tenant_id = :tenant AND id = :id",
            named_params! {":tenant": "a", ":id": 3},
        )
        .expect("right tenant"),
        1
    );
    assert_eq!(all_rows(&conn).len(), before.len() - 1);
}

#[test]
fn select_star_on_a_table_with_its_own_tenant_column_returns_what_it_did() {
    let (db, conn) = open();
    let sql = "SELECT * FROM vendors WHERE tenant_id = ? ORDER BY id";
    let read = |stmt: &mut rusqlite::Statement<'_>| -> (Vec<String>, Vec<Vec<String>>) {
        let names = stmt.column_names().map(str::to_owned).collect();
        let rows = stmt
            .query_map(["a"], |r| {
                (0..4)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect()
            })
            .expect("query")
            .collect::<rusqlite::Result<Vec<_>>>()
            .expect("rows");
        (names, rows)
    };
    let legacy = rusqlite::Connection::open(&db.path).expect("open");
    let before = read(&mut legacy.prepare(sql).expect("legacy"));
    let after = read(&mut conn.prepare(sql).expect("scoped"));
    assert_eq!(before.0, ["id", "name", "note", "tenant_id"]);
    assert_eq!(before.1.len(), 2);
    assert_eq!(after, before);
}

/// An upsert that sets the tenant column from what it inserts (`tenant_id =
/// excluded.tenant_id`, common in code that passes its tenant) runs: the value is checked
/// when it runs, on the tenant's own row. Another value fails and changes nothing; a plain
/// UPDATE of the column stays refused.
#[test]
fn an_upsert_may_set_the_tenant_column_to_the_checked_tenant() {
    let (_db, conn) = open();
    let upsert = "INSERT INTO vendors (id, name, note, tenant_id) VALUES (?1, ?2, ?3, ?4) \
                  ON CONFLICT (id) DO UPDATE SET note = excluded.note, tenant_id = excluded.tenant_id";
    conn.execute(upsert, (1, "Acme", "updated", "a"))
        .expect("the tenant's own value on its own row");
    conn.execute(upsert, (4, "Dyn", "new", "a"))
        .expect("an insert through the upsert");
    let before = all_rows(&conn);
    assert_eq!(
        before[0],
        (1, "Acme".into(), Some("updated".into()), "a".into())
    );
    assert_eq!(before[3], (4, "Dyn".into(), Some("new".into()), "a".into()));
    let err = conn
        .execute(upsert, (1, "Acme", "moved", "b"))
        .expect_err("another tenant's value");
    assert_mismatch(&err, "'b'");
    // The value set, given separately: checked too.
    let err = conn
        .execute(
            "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET tenant_id = ?4",
            (1, "Acme", "a", "b"),
        )
        .expect_err("another tenant's value in the SET");
    assert_mismatch(&err, "'b'");
    // Another tenant's row (id 2, Bolt, of b) is never the one updated.
    let changed = conn
        .execute(upsert, (2, "Bolt 2", "taken", "a"))
        .expect("id 2 is b's: the insert collides, the update finds no row of a");
    assert_eq!(changed, 0);
    assert_eq!(all_rows(&conn), before);
    let err = conn
        .execute("UPDATE vendors SET tenant_id = ?1 WHERE id = 1", ["a"])
        .expect_err("a plain UPDATE of the column");
    assert!(matches!(Error::of(&err), Some(Error::Rewrite(_))), "{err}");
    assert_eq!(all_rows(&conn), before);
}
