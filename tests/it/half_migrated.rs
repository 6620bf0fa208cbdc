//! The application our requirements come from, in its own shape (`fixtures/half-migrated/`):
//! half-way to multi-tenancy, with an FTS5 search table holding an `UNINDEXED` tenant
//! column, triggers that emulate foreign keys with a `WHEN (SELECT …)`, a price-history
//! trigger writing `NEW.tenant_id`, and INSERTs that pass the tenant as a parameter. It
//! migrates (tenant-first), opens, and runs for each store what it ran for one.

use std::path::{Path, PathBuf};

use crate::support::{Errors, on_the_oracle, snapshot};
use rusqlite::Connection;
use rusqlite::types::Value;
use tenantry_migrate::{Layout, MigrateOptions, VerifyOptions, migrate, verify};
use tenantry_testkit::oracle::tenancy::Tenancy;

const SCHEMA: &str = include_str!("../../fixtures/half-migrated/schema.sql");
const ROWS: &str = include_str!("../../fixtures/half-migrated/rows.sql");
const TRIGGERS: &str = include_str!("../../fixtures/half-migrated/triggers.sql");
const STATEMENTS: &str = include_str!("../../fixtures/half-migrated/statements.sql");

const CAPS: &str = "caps-automotive";
const STORE_2: &str = "store-2";
const STORE_3: &str = "store-3";

/// The application's database before Tenantry: its schema, its one store's rows, then its
/// triggers.
fn legacy(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let conn = Connection::open(&path).expect("create");
    conn.execute_batch(SCHEMA).expect("schema");
    conn.execute_batch(ROWS).expect("rows");
    conn.execute_batch(TRIGGERS).expect("triggers");
    path
}

fn tenant_first() -> MigrateOptions {
    MigrateOptions {
        layout: Layout::TenantFirst,
        ..MigrateOptions::default()
    }
}

/// The legacy database migrated tenant-first, with `stores` registered.
fn migrated(dir: &Path, name: &str, stores: &[&str]) -> PathBuf {
    let path = legacy(dir, name);
    migrate(&path, &tenant_first(), &mut |_| {}).expect("migrate");
    register(&path, stores);
    path
}

/// Adds `stores` to the registry (a global table: the same in every database compared).
fn register(path: &Path, stores: &[&str]) {
    let conn = Connection::open(path).expect("open");
    for store in stores {
        conn.execute(
            "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?1, '2026-12-01T00:00:00Z')",
            [store],
        )
        .expect("register");
    }
}

/// A tenant connection to `path` as `tenant`.
fn store(path: &Path, tenant: &str) -> tenantry_sqlite::Connection {
    let conn = tenantry_sqlite::Connection::open(path).expect("tenant connection");
    conn.set_tenant(tenant).expect("tenant");
    conn
}

/// Gives `tenant` a copy of the caps store's rows, same keys, written by its own tenant
/// connection with the application's statements (the triggers fill its search index).
fn copy_store(path: &Path, tenant: &str) {
    let raw = Connection::open(path).expect("open");
    let conn = store(path, tenant);
    let rows = |sql: &str| -> Vec<Vec<Value>> {
        let mut stmt = raw.prepare(sql).expect("read caps");
        let n = stmt.column_count();
        stmt.query_map([CAPS], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let copies = [
        (
            "SELECT id, name, phone FROM vendors WHERE tenant_id = ?1 ORDER BY id",
            "INSERT INTO vendors (id, name, phone, tenant_id) VALUES (?1, ?2, ?3, ?4)",
        ),
        (
            "SELECT id, sku, name, category, price, parent_id, vendor_id FROM products \
             WHERE tenant_id = ?1 ORDER BY id",
            "INSERT INTO products (id, sku, name, category, price, parent_id, vendor_id, tenant_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        ),
        (
            "SELECT id, name, email FROM customers WHERE tenant_id = ?1 ORDER BY id",
            "INSERT INTO customers (id, name, email) VALUES (?1, ?2, ?3)",
        ),
        (
            "SELECT id, customer_id, total FROM sales WHERE tenant_id = ?1 ORDER BY id",
            "INSERT INTO sales (id, customer_id, total, tenant_id) VALUES (?1, ?2, ?3, ?4)",
        ),
        (
            "SELECT id, sale_id, product_id, qty, price FROM sale_items WHERE tenant_id = ?1 \
             ORDER BY id",
            "INSERT INTO sale_items (id, sale_id, product_id, qty, price, tenant_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        ),
    ];
    for (read, write) in copies {
        let passes_tenant = write.contains("tenant_id");
        for mut row in rows(read) {
            if passes_tenant {
                row.push(Value::Text(tenant.to_owned()));
            }
            conn.execute(write, rusqlite::params_from_iter(row))
                .unwrap_or_else(|e| panic!("{write}: {e}"));
        }
    }
}

#[test]
fn the_application_migrates_tenant_first_and_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = legacy(dir.path(), "pos.db");
    let report = migrate(&path, &tenant_first(), &mut |_| {}).expect("migrate");
    let plan = &report.plan;
    let search = plan
        .scoped
        .iter()
        .find(|t| t.name == "product_search_index")
        .expect("the search table is scoped");
    assert!(search.virtual_table && search.own_column);
    let mut own: Vec<&str> = plan
        .scoped
        .iter()
        .filter(|t| t.own_column)
        .map(|t| t.name.as_str())
        .collect();
    own.sort_unstable();
    assert_eq!(
        own,
        [
            "product_price_history",
            "product_search_index",
            "products",
            "sale_items",
            "sales",
            "vendors"
        ]
    );
    assert!(
        verify(&path, &VerifyOptions::default())
            .unwrap()
            .verification
            .passed()
    );
    let caps = store(&path, CAPS);
    let names: Vec<String> = caps
        .prepare("SELECT name FROM products ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("products");
    assert_eq!(names.len(), 6);
}

#[test]
fn an_unregistered_seed_tenant_rolls_back_with_the_sql_that_registers_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = legacy(dir.path(), "pos.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE vendors SET tenant_id = 'default-tenant' WHERE id = 2")
        .unwrap();
    let error = migrate(&path, &tenant_first(), &mut |_| {}).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(r#"INSERT INTO "tenants" ("id") VALUES ('default-tenant')"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"UPDATE "vendors" SET "tenant_id" = '<tenant>' WHERE "tenant_id" = 'default-tenant'"#
        ),
        "{text}"
    );
}

#[test]
fn a_search_joined_to_products_returns_only_the_tenants_products() {
    let dir = tempfile::tempdir().unwrap();
    let path = migrated(dir.path(), "pos.db", &[STORE_2]);
    copy_store(&path, STORE_2);
    let other = store(&path, STORE_2);
    other
        .execute(
            "INSERT INTO products (sku, name, category, price, tenant_id) VALUES (?, ?, ?, ?, ?)",
            ("BRK-900", "Brake fluid DOT4", "brakes", 11.0, STORE_2),
        )
        .expect("a product only store-2 has");
    let search = "SELECT p.id, p.sku, p.name FROM product_search_index s \
                  JOIN products p ON p.id = s.product_id \
                  WHERE product_search_index MATCH ? ORDER BY p.id";
    let found = |conn: &tenantry_sqlite::Connection| -> Vec<(i64, String)> {
        conn.prepare(search)
            .and_then(|mut s| {
                s.query_map(["brake"], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .expect("search")
    };
    let caps = store(&path, CAPS);
    let expected = |skus: &[(i64, &str)]| -> Vec<(i64, String)> {
        skus.iter().map(|(id, s)| (*id, (*s).to_owned())).collect()
    };
    // What the legacy database answers, for the one store it held.
    let single = legacy(dir.path(), "single.db");
    let legacy_found: Vec<(i64, String)> = Connection::open(&single)
        .unwrap()
        .prepare(search)
        .and_then(|mut s| {
            s.query_map(["brake"], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .unwrap();
    let caps_brakes = [
        (1, "BRK-001"),
        (2, "BRK-002"),
        (3, "KIT-001"),
        (4, "KIT-001-A"),
    ];
    assert_eq!(legacy_found, expected(&caps_brakes));
    assert_eq!(found(&caps), expected(&caps_brakes));
    let mut store_2 = caps_brakes.to_vec();
    store_2.push((7, "BRK-900"));
    assert_eq!(found(&other), expected(&store_2));
    // The search table itself, read alone: only the tenant's rows, with its own column.
    let rows: Vec<(i64, String)> = caps
        .prepare("SELECT product_id, tenant_id FROM product_search_index WHERE product_search_index MATCH 'brake' ORDER BY rank, product_id")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("search alone");
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|(_, t)| t == CAPS), "{rows:?}");
}

#[test]
fn a_bound_tenant_value_is_checked_when_the_statement_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = migrated(dir.path(), "pos.db", &[STORE_2]);
    let caps = store(&path, CAPS);
    let insert = "INSERT INTO vendors (name, phone, tenant_id) VALUES (?, ?, ?)";
    caps.execute(insert, ("Lights Inc", "555-0103", CAPS))
        .expect("the connection's own tenant");
    let before = snapshot(&path);
    for (given, sql) in [
        (Value::Text(STORE_2.into()), insert),
        (Value::Null, insert),
        (
            Value::Text(STORE_2.into()),
            "INSERT OR IGNORE INTO vendors (name, phone, tenant_id) VALUES (?, ?, ?)",
        ),
    ] {
        let params = [
            Value::Text("Sneaky".into()),
            Value::Text("555-0199".into()),
            given.clone(),
        ];
        let error = caps
            .execute(sql, rusqlite::params_from_iter(params))
            .expect_err("another tenant's value");
        let typed = tenantry_sqlite::Error::of(&error);
        assert!(
            matches!(typed, Some(tenantry_sqlite::Error::TenantMismatch { .. })),
            "{sql} with {given:?}: {error} ({typed:?})"
        );
        assert_eq!(
            snapshot(&path),
            before,
            "{sql} with {given:?} changed a row"
        );
    }
    // Several rows: the second one's tenant is wrong, so none is written.
    let error = caps
        .execute(
            "INSERT INTO vendors (name, tenant_id) VALUES (?1, ?2), (?3, ?4)",
            ("A", CAPS, "B", STORE_2),
        )
        .expect_err("the second row's tenant");
    assert!(tenantry_sqlite::Error::of(&error).is_some(), "{error}");
    assert_eq!(snapshot(&path), before);
}

/// The application's triggers, for one store among three that hold the same keys (and a
/// parent product and a vendor only store-2 has), do what they did on the store's own
/// database: the tenant oracle compares each statement's outcome and the store's rows
/// after it with the legacy database, and the other stores' rows with themselves.
#[test]
fn the_triggers_do_for_each_tenant_what_they_did_before() {
    let dir = tempfile::tempdir().unwrap();
    let single_path = legacy(dir.path(), "single.db");
    register(&single_path, &[STORE_2, STORE_3]);
    let multi_path = migrated(dir.path(), "multi.db", &[STORE_2, STORE_3]);
    copy_store(&multi_path, STORE_2);
    copy_store(&multi_path, STORE_3);
    let b = store(&multi_path, STORE_2);
    b.execute_batch(
        "INSERT INTO vendors (id, name) VALUES (9, 'Only store-2');
         INSERT INTO products (id, sku, name, category, price, vendor_id)
             VALUES (50, 'B-50', 'Brake kit of store-2', 'brakes', 20, 9);",
    )
    .expect("store-2's own parent and vendor");
    let single = Connection::open(&single_path).unwrap();
    let raw = Connection::open(&multi_path).unwrap();
    let tenancy = Tenancy::read(&single, &raw, CAPS);
    let caps = store(&multi_path, CAPS);
    let statements = [
        // The parent and vendor checks (WHEN reads products / vendors).
        "INSERT INTO products (sku, name, category, price, parent_id, vendor_id, tenant_id) \
         VALUES ('KIT-002', 'Kit clips', 'brakes', 3.5, 3, 1, 'caps-automotive')",
        "INSERT INTO products (sku, name, category, price, parent_id, tenant_id) \
         VALUES ('KIT-003', 'Kit of a parent only store-2 has', 'brakes', 3.5, 50, 'caps-automotive')",
        "INSERT INTO products (sku, name, category, price, vendor_id) \
         VALUES ('X-1', 'From a vendor only store-2 has', 'misc', 1, 9)",
        "UPDATE products SET parent_id = 50 WHERE id = 2",
        "UPDATE products SET parent_id = 3 WHERE id = 2",
        // The price history (NEW.tenant_id), and no history when the price stays.
        "UPDATE products SET price = 52.5 WHERE id = 1 AND tenant_id = 'caps-automotive'",
        "UPDATE products SET price = price WHERE id = 1",
        "UPDATE products SET price = price * 1.1 WHERE category = 'filters'",
        // The search index kept by triggers.
        "UPDATE products SET name = 'Ceramic pads', category = 'pads' WHERE id = 1",
        "DELETE FROM products WHERE id = 4 AND tenant_id = 'caps-automotive'",
        "INSERT INTO products (sku, name, category, price) VALUES ('BRK-010', 'Brake cleaner', 'brakes', 6)",
        "SELECT p.sku FROM product_search_index s JOIN products p ON p.id = s.product_id \
         WHERE product_search_index MATCH 'brake OR pads' ORDER BY p.sku",
        // A duplicate SKU: the unique key is the store's own.
        "INSERT INTO products (sku, name, price) VALUES ('BRK-001', 'Duplicate', 1)",
    ];
    for sql in statements {
        on_the_oracle(&single, &caps, &tenancy, sql, Errors::Alike)
            .unwrap_or_else(|e| panic!("refused: {sql}: {e}"));
    }
}

#[test]
fn an_unreadable_virtual_table_does_not_stop_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = migrated(dir.path(), "pos.db", &[]);
    // A virtual table of a module this SQLite does not have, as a database from another
    // build holds it (SQLite reads its text only when a statement uses it).
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "PRAGMA writable_schema = ON;
             INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES
               ('table', 'store_map', 'store_map', 0,
                'CREATE VIRTUAL TABLE store_map USING geo_index(lat, lon, tenant_id)');
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    let caps = store(&path, CAPS);
    let n: i64 = caps
        .query_row("SELECT count(*) FROM products", [], |r| r.get(0))
        .expect("a statement that does not touch it");
    assert_eq!(n, 6);
    caps.execute("UPDATE products SET price = 50 WHERE id = 1", [])
        .expect("a write that does not touch it");
    let error = caps
        .prepare("SELECT * FROM store_map")
        .map(|_| ())
        .expect_err("the unreadable table");
    assert!(
        matches!(
            tenantry_sqlite::Error::of(&error),
            Some(tenantry_sqlite::Error::Rewrite(_))
        ),
        "{error}"
    );
}

/// The application's statements (`statements.sql`), each prepared by a tenant connection:
/// runs or is refused as written there; the tally is printed for the record.
#[test]
fn the_applications_statements_run_or_are_refused_as_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = migrated(dir.path(), "pos.db", &[]);
    let caps = store(&path, CAPS);
    let mut tally: std::collections::BTreeMap<String, usize> = Default::default();
    let mut wrong = Vec::new();
    for (expect, sql) in statements() {
        let got = match caps.prepare(&sql) {
            Ok(_) => "runs".to_owned(),
            Err(e) => match tenantry_sqlite::Error::of(&e) {
                Some(tenantry_sqlite::Error::Rewrite(r)) => format!(
                    "refused {}",
                    r.refusal()
                        .map_or("(parse)", tenantry_rewrite::Refusal::name)
                ),
                _ => format!("fails: {e}"),
            },
        };
        *tally.entry(got.clone()).or_default() += 1;
        if got != expect {
            wrong.push(format!("{sql}\n  expected {expect}, got {got}"));
        }
    }
    eprintln!("the application's statements: {tally:#?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `statements.sql` as (expected outcome, statement) pairs.
fn statements() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut expect: Option<String> = None;
    let mut sql = String::new();
    let mut flush = |expect: &mut Option<String>, sql: &mut String| {
        if let Some(e) = expect.take() {
            out.push((e, sql.trim().trim_end_matches(';').to_owned()));
        }
        sql.clear();
    };
    for line in STATEMENTS.lines() {
        if let Some(e) = line.strip_prefix("-- expect: ") {
            flush(&mut expect, &mut sql);
            expect = Some(e.trim().to_owned());
        } else if line.starts_with("--") || line.trim().is_empty() {
            flush(&mut expect, &mut sql);
        } else {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    flush(&mut expect, &mut sql);
    out
}

/// Attacks in the new shapes, as the caps store on a database where store-2 holds rows only
/// it has (marked "zebra"): searches, the search table's own tenant column, its shadow
/// tables and commands, explicit tenant values. None returns a store-2 value, none changes
/// a store-2 row.
#[test]
fn the_new_shapes_cannot_reach_another_store() {
    use tenantry_testkit::oracle::tenancy::Markers;

    let dir = tempfile::tempdir().unwrap();
    let single_path = legacy(dir.path(), "single.db");
    let path = migrated(dir.path(), "pos.db", &[STORE_2]);
    copy_store(&path, STORE_2);
    store(&path, STORE_2)
        .execute_batch(
            "INSERT INTO vendors (id, name) VALUES (9, 'Zebra parts');
             INSERT INTO products (id, sku, name, category, price, vendor_id)
                 VALUES (50, 'ZEBRA-50', 'Zebra brake kit', 'brakes', 20, 9);",
        )
        .unwrap();
    let raw = Connection::open(&path).unwrap();
    let tenancy = Tenancy::read(&Connection::open(&single_path).unwrap(), &raw, CAPS);
    let markers = Markers {
        ints: &[],
        texts: &["zebra", STORE_2],
        blobs: true,
    };
    let caps = store(&path, CAPS);
    let attacks = [
        "SELECT * FROM product_search_index WHERE product_search_index MATCH 'zebra'",
        "SELECT * FROM product_search_index WHERE tenant_id = 'store-2'",
        "SELECT highlight(product_search_index, 1, '[', ']'), tenant_id FROM product_search_index \
         WHERE product_search_index MATCH 'zebra OR brake'",
        "SELECT * FROM product_search_index WHERE rowid IN (SELECT rowid FROM product_search_index)",
        "SELECT p.name FROM products p JOIN product_search_index s ON s.product_id = 50 \
         WHERE product_search_index MATCH 'zebra'",
        "SELECT p.name FROM products p LEFT JOIN product_search_index s ON s.product_id = p.id",
        "SELECT * FROM product_search_index_content",
        "SELECT count(*) FROM product_search_index_docsize",
        "DELETE FROM product_search_index WHERE tenant_id = 'store-2'",
        "DELETE FROM product_search_index WHERE product_search_index MATCH 'zebra'",
        "UPDATE product_search_index SET searchable_text = 'x' WHERE tenant_id = 'store-2'",
        "INSERT INTO product_search_index (product_search_index) VALUES ('delete-all')",
        "INSERT INTO product_search_index (product_search_index, rank) VALUES ('rank', 'bm25(10.0)')",
        "INSERT INTO product_search_index (product_id, searchable_text, tenant_id) \
         VALUES (50, 'planted', 'store-2')",
        "INSERT INTO vendors (name, tenant_id) VALUES ('x', 'store-2')",
        "INSERT INTO vendors (name, tenant_id) VALUES ('x', (SELECT 'store-' || '2'))",
        "INSERT INTO vendors (name, tenant_id) SELECT 'x', 'store-' || '2'",
        "UPDATE vendors SET name = 'pwned' WHERE tenant_id = 'store-2'",
        "UPDATE vendors SET name = 'pwned' WHERE id = 9",
        "DELETE FROM products WHERE tenant_id <> 'caps-automotive'",
        "UPDATE products SET price = 0 WHERE id = 50",
        "UPDATE products SET parent_id = 50 WHERE id = 1",
        "SELECT * FROM product_price_history WHERE tenant_id IS NOT 'caps-automotive'",
    ];
    let before = tenancy.others(&raw, true).unwrap();
    for sql in attacks {
        let run = match caps.prepare(sql) {
            Ok(stmt) => tenantry_testkit::db::collect(stmt, &[]),
            Err(e) => Err(e.to_string()),
        };
        let runs: Vec<tenantry_testkit::db::StatementRun> = match &run {
            Ok(outcome) => vec![tenantry_testkit::db::StatementRun {
                columns: outcome.columns.clone(),
                rows: outcome.rows.clone(),
                error: None,
            }],
            Err(_) => Vec::new(),
        };
        tenancy
            .isolated(&raw, &before, true, Some(&markers), &runs)
            .unwrap_or_else(|leak| panic!("{sql}: {leak:?} ({run:?})"));
    }
}
