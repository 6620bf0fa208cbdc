//! A database with an FTS5 index that declares the tenant column (the first user's
//! `product_search_index`) and a virtual table of a module this build does not have: the
//! tenant connection opens it, serves the statements that do not touch the unreadable
//! table, refuses those that do, and runs full-text searches — joined to a tenant table,
//! ranked, highlighted, and written — over the tenant's rows only.

use tenantry_rewrite::{ObjectKind, Refusal, RewriteError, VirtualForm};
use tenantry_sqlite::{Connection, Error};

use crate::support::{self, Db, column};

/// Migrated with plain SQL: every table has a `tenant_id TEXT NOT NULL` column.
const SCHEMA: &str = "
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tenant_id TEXT NOT NULL);
CREATE VIRTUAL TABLE product_search_index USING fts5(product_id UNINDEXED, searchable_text,
    category UNINDEXED, tenant_id UNINDEXED);
INSERT INTO products VALUES (1, 'red widget', 'a'), (2, 'blue gadget', 'a'),
    (3, 'red lamp', 'b'), (4, 'red widget', 'b');
INSERT INTO product_search_index VALUES (1, 'red widget shiny', 'tools', 'a'),
    (2, 'blue gadget', 'toys', 'a'), (3, 'red lamp', 'home', 'b'), (4, 'red widget', 'tools', 'b');
";

/// The database, with `x USING nosuchmodule(a, tenant_id)` written into the schema table
/// (SQLite creates a virtual table only when its module is registered; it reads the schema
/// without it, and fails only when the table is used).
fn db() -> Db {
    support::db(&format!(
        "{SCHEMA}
         PRAGMA writable_schema = ON;
         INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'x',
           'x', 0, 'CREATE VIRTUAL TABLE x USING nosuchmodule(a, tenant_id)');
         PRAGMA writable_schema = OFF;"
    ))
}

fn open(db: &Db, tenant: &str) -> Connection {
    let conn = Connection::open(&db.path).expect("a database with an unreadable table opens");
    conn.set_tenant(tenant).expect("tenant");
    conn
}

fn refusal(conn: &Connection, sql: &str) -> Refusal {
    let err = conn
        .prepare(sql)
        .err()
        .unwrap_or_else(|| panic!("not refused: {sql}"));
    match Error::of(&err) {
        Some(Error::Rewrite(RewriteError::Refused { reason, .. })) => reason.clone(),
        _ => panic!("{sql}: {err}"),
    }
}

#[test]
fn the_unreadable_table_is_refused_and_the_rest_is_served() {
    let db = db();
    let conn = open(&db, "a");
    assert_eq!(
        column::<String>(&conn, "SELECT name FROM products ORDER BY id"),
        ["red widget", "blue gadget"]
    );
    for sql in [
        "SELECT * FROM x",
        "INSERT INTO x (a) VALUES (1)",
        "DELETE FROM x",
    ] {
        assert!(
            matches!(
                refusal(&conn, sql),
                Refusal::UnreadableObject {
                    kind: ObjectKind::VirtualTable,
                    ref name,
                    ..
                } if name == "x"
            ),
            "{sql}"
        );
    }
    // Unscoped, SQLite itself cannot use it: the module is not there.
    let err = conn.unscoped(|c| c.prepare("SELECT * FROM x").map(|_| ()));
    assert!(err.is_err());
}

#[test]
fn searches_joined_to_a_tenant_table_return_only_the_tenants_rows() {
    let db = db();
    let a = open(&db, "a");
    let b = open(&db, "b");
    let search = "SELECT p.name || ':' || highlight(product_search_index, 1, '[', ']') \
                  FROM products p JOIN product_search_index s ON s.product_id = p.id \
                  WHERE product_search_index MATCH 'red' ORDER BY rank";
    assert_eq!(
        column::<String>(&a, search),
        ["red widget:[red] widget shiny"]
    );
    let mut got = column::<String>(&b, search);
    got.sort();
    assert_eq!(got, ["red lamp:[red] lamp", "red widget:[red] widget"]);
    assert_eq!(
        column::<String>(&a, "SELECT tenant_id FROM product_search_index"),
        ["a", "a"]
    );
    let count = "SELECT count(*) FROM product_search_index WHERE product_search_index MATCH 'red'";
    let n: i64 = a.query_row(count, [], |r| r.get(0)).expect("count");
    assert_eq!(n, 1);
}

#[test]
fn writes_reach_only_the_tenants_rows() {
    let db = db();
    let a = open(&db, "a");
    a.execute(
        "INSERT INTO product_search_index (product_id, searchable_text, category) \
         VALUES (5, 'red kite', 'toys')",
        [],
    )
    .expect("insert");
    let hits = "SELECT product_id FROM product_search_index WHERE product_search_index MATCH 'red' \
                ORDER BY product_id";
    assert_eq!(column::<i64>(&a, hits), [1, 5]);
    let deleted = a
        .execute(
            "DELETE FROM product_search_index WHERE product_search_index MATCH 'red'",
            [],
        )
        .expect("delete");
    assert_eq!(deleted, 2);
    let b = open(&db, "b");
    assert_eq!(column::<i64>(&b, hits), [3, 4]);
    assert!(column::<i64>(&a, hits).is_empty());
    assert!(matches!(
        refusal(
            &a,
            "INSERT INTO product_search_index(product_search_index) VALUES ('rebuild')"
        ),
        Refusal::VirtualTable {
            form: VirtualForm::Command { .. },
            ..
        }
    ));
    for sql in [
        "SELECT * FROM product_search_index_content",
        "DELETE FROM product_search_index_data",
    ] {
        assert!(
            matches!(refusal(&a, sql), Refusal::ShadowTable { .. }),
            "{sql}"
        );
    }
}
