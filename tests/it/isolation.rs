//! Isolation on the POS fixture with three tenants (issue 4): reading, inserting, updating
//! and deleting as tenant A through `tenantry_sqlite::Connection` never sees, changes or
//! deletes a row of B or C.
//!
//! The tiny fixture is migrated (every row belongs to A, `caps-automotive`), then
//! `tenantry_fixtures::copy_tenant` copies A's rows as B and C, with shifted keys
//! (`id + offset`, `sku~store-b`) and amounts raised by one. Two databases are compared:
//! `only_a` (the fixture before migration, through plain rusqlite: what the application
//! saw before) and `three` (A, B and C, through A's tenant connection). A statement must
//! give the same outcome on both, which proves it read nothing of B or C and that the
//! legacy statement still works; and B's and C's rows, every value rendered with its type
//! and every rowid, must be byte for byte what they were.

use std::path::{Path, PathBuf};

use rusqlite::OpenFlags;
use rusqlite::types::Value;
use tenantry_fixtures::{CopyReport, DEFAULT_TENANT, QueryClass, TenantCopy, copy_tenant};
use tenantry_migrate::{MigrateOptions, migrate};
use tenantry_rewrite::{Refusal, RewriteError};
use tenantry_sqlite::{Connection, Error};

use crate::support::{render_value, tiny_fixture};

/// The tenant the fixture's rows belong to, who runs every statement here.
const A: &str = DEFAULT_TENANT;
/// The first copy of A's rows.
const B: &str = "store-b";
/// The second copy.
const C: &str = "store-c";

struct Pos {
    _dir: tempfile::TempDir,
    /// The fixture before migration: A's rows only, no tenant column.
    only_a: PathBuf,
    /// The migrated fixture plus B's and C's copies.
    three: PathBuf,
    /// How B's copy was made (its key offset).
    b: CopyReport,
}

fn pos() -> Pos {
    let dir = tempfile::tempdir().expect("temp dir");
    let only_a = tiny_fixture(dir.path(), "only-a.db");
    let three = dir.path().join("three.db");
    std::fs::copy(&only_a, &three).expect("copy the fixture");
    migrate(&three, &MigrateOptions::default(), &mut |_| {}).expect("migrate");
    let conn = rusqlite::Connection::open(&three).expect("open three");
    let b = copy_tenant(&conn, &TenantCopy::pos(A, B)).expect("copy A as B");
    copy_tenant(&conn, &TenantCopy::pos(A, C)).expect("copy A as C");
    Pos {
        _dir: dir,
        only_a,
        three,
        b,
    }
}

/// A tenant connection to `path`, scoped to A.
fn as_a(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open tenant connection");
    conn.set_tenant(A).expect("set tenant A");
    conn
}

/// Every row of B and C in every tenant table, with its rowid where it has one, each value
/// rendered with its type (`i1`, `r2.5`, `t"x"`, `b[..]`, `NULL`), rows sorted.
fn others(path: &Path) -> String {
    let conn = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    let tables: Vec<(String, bool)> = conn
        .prepare(
            "SELECT l.name, l.wr FROM pragma_table_list l WHERE l.schema = 'main' \
             AND l.type = 'table' AND EXISTS \
             (SELECT 1 FROM pragma_table_info(l.name) c WHERE c.name = 'tenant_id') \
             ORDER BY l.name",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("tenant tables");
    assert_eq!(tables.len(), 32, "every POS table is a tenant table");
    let mut out = String::new();
    for (table, without_rowid) in tables {
        let rowid = if without_rowid { "" } else { "rowid, " };
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {rowid}* FROM \"{table}\" WHERE tenant_id IN (?1, ?2)"
            ))
            .expect("prepare snapshot");
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([B, C], |r| {
                (0..n)
                    .map(|i| r.get_ref(i).map(render_value))
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map(|v| v.join("|"))
            })
            .and_then(|rows| rows.collect())
            .expect("snapshot rows");
        rows.sort();
        out.push_str(&format!("{table}: {} rows\n", rows.len()));
        for row in rows {
            out.push_str(&row);
            out.push('\n');
        }
    }
    out
}

/// Asserts that B's and C's rows in `three_path` are still `before`, naming only the rows
/// that differ.
fn assert_unchanged(before: &str, three_path: &Path, what: &str) {
    let after = others(three_path);
    if before == after {
        return;
    }
    let old: std::collections::BTreeSet<&str> = before.lines().collect();
    let new: std::collections::BTreeSet<&str> = after.lines().collect();
    let gone: Vec<&&str> = old.difference(&new).take(5).collect();
    let added: Vec<&&str> = new.difference(&old).take(5).collect();
    panic!("{what} changed B or C:\n  gone: {gone:#?}\n  new: {added:#?}");
}

/// What a statement did: its rows (in order, typed), its changes, or its error.
#[derive(Debug, PartialEq)]
enum Outcome {
    Rows(Vec<String>, Vec<String>),
    Changed(usize),
    Failed(String),
}

fn describe(err: &rusqlite::Error) -> String {
    match Error::of(err) {
        Some(Error::Rewrite(e)) => format!("{}: {e}", e.kind()),
        Some(other) => format!("tenantry: {other}"),
        // The message without the SQL text and offset rusqlite adds: the text SQLite saw
        // is the rewritten one.
        None => match err {
            rusqlite::Error::SqlInputError { msg, .. } => format!("sqlite: {msg}"),
            other => format!("sqlite: {other}"),
        },
    }
}

fn run(conn: &Connection, sql: &str, params: &[Value]) -> Outcome {
    outcome(conn.prepare(sql), params)
}

/// Plain rusqlite on the database before migration: the legacy application.
fn legacy(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open the legacy database")
}

fn outcome(prepared: rusqlite::Result<rusqlite::Statement<'_>>, params: &[Value]) -> Outcome {
    let mut stmt = match prepared {
        Ok(stmt) => stmt,
        Err(e) => return Outcome::Failed(describe(&e)),
    };
    let params = rusqlite::params_from_iter(params);
    if stmt.readonly() {
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let n = columns.len();
        let rows = stmt
            .query_map(params, |r| {
                (0..n)
                    .map(|i| r.get_ref(i).map(render_value))
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map(|v| v.join("|"))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>());
        match rows {
            Ok(rows) => Outcome::Rows(columns, rows),
            Err(e) => Outcome::Failed(describe(&e)),
        }
    } else {
        match stmt.execute(params) {
            Ok(n) => Outcome::Changed(n),
            Err(e) => Outcome::Failed(describe(&e)),
        }
    }
}

/// Text of B's or C's copies: keys end in `~store-b` / `~store-c`.
fn shows_another_tenant(outcome: &Outcome) -> bool {
    let Outcome::Rows(_, rows) = outcome else {
        return false;
    };
    rows.iter()
        .any(|r| r.contains(&format!("~{B}")) || r.contains(&format!("~{C}")))
}

/// Runs `sql` as A on both databases: the same outcome on both, nothing of B or C in it,
/// B and C unchanged. Returns the outcome.
fn same_as_with_a_alone(
    only_a: &rusqlite::Connection,
    three: &Connection,
    three_path: &Path,
    before: &str,
    sql: &str,
    params: &[Value],
) -> Outcome {
    let alone = outcome(only_a.prepare(sql), params);
    let shared = run(three, sql, params);
    assert_eq!(alone, shared, "{sql} with {params:?}");
    assert!(!shows_another_tenant(&shared), "{sql} returned {shared:?}");
    assert_unchanged(before, three_path, sql);
    shared
}

/// One value of B's rows, read unscoped: `sql` takes B as `?1`.
fn of_b(pos: &Pos, sql: &str) -> String {
    let conn = rusqlite::Connection::open(&pos.three).expect("open");
    let value: Value = conn
        .query_row(sql, [B], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    match value {
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
        other => panic!("{sql} gave {other:?}"),
    }
}

/// The refusal inside a connection error, if it is one.
fn refusal(err: &rusqlite::Error) -> Option<&Refusal> {
    match Error::of(err) {
        Some(Error::Rewrite(e)) => e.refusal(),
        _ => None,
    }
}

/// A's rows in every table, counted, read unscoped.
fn counts_of_a(path: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).expect("open");
    tenantry_fixtures::expected_tables()
        .iter()
        .map(|t| {
            let n = conn
                .query_row(
                    &format!("SELECT count(*) FROM \"{t}\" WHERE tenant_id = ?1"),
                    [A],
                    |r| r.get(0),
                )
                .expect("count");
            ((*t).to_owned(), n)
        })
        .collect()
}

/// Runs `sql` as A on `three` and expects the refusal `expected`; B, C and A unchanged.
fn refused(pos: &Pos, conn: &Connection, sql: &str, expected: &str) {
    let before = others(&pos.three);
    let a_before = counts_of_a(&pos.three);
    let err = conn
        .execute(sql, [])
        .expect_err(&format!("{sql} should be refused"));
    let got = refusal(&err).map(Refusal::name);
    assert_eq!(got, Some(expected), "{sql}: {err}");
    assert_unchanged(&before, &pos.three, sql);
    assert_eq!(a_before, counts_of_a(&pos.three), "{sql} changed A");
}

/// Runs the write `sql` as A on `three`; it must succeed and change `changes` rows, and B
/// and C must be unchanged.
fn harmless(pos: &Pos, conn: &Connection, sql: &str, changes: usize) {
    let before = others(&pos.three);
    let changed = conn
        .execute(sql, [])
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
    assert_eq!(changed, changes, "{sql}");
    assert_unchanged(&before, &pos.three, sql);
}

#[test]
fn the_copies_hold_all_of_as_rows_with_shifted_keys() {
    let pos = pos();
    let skipped: Vec<&str> = pos.b.skipped.iter().map(|s| s.name.as_str()).collect();
    // The singleton settings row (CHECK (id = 1)) cannot exist twice while keys are global.
    assert_eq!(skipped, ["backup_settings"]);
    let conn = rusqlite::Connection::open(&pos.three).expect("open");
    for table in tenantry_fixtures::expected_tables() {
        let counts: (i64, i64, i64) = conn
            .query_row(
                &format!(
                    "SELECT count(*) FILTER (WHERE tenant_id = ?1), \
                     count(*) FILTER (WHERE tenant_id = ?2), \
                     count(*) FILTER (WHERE tenant_id = ?3) FROM \"{table}\""
                ),
                [A, B, C],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("counts");
        let copies = if table == "backup_settings" {
            0
        } else {
            counts.0
        };
        assert!(counts.0 > 0, "{table}");
        assert_eq!((counts.1, counts.2), (copies, copies), "{table}");
    }
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("foreign_key_check");
    assert_eq!(violations, 0);
}

#[test]
fn every_catalogue_statement_as_a_reads_only_a_and_leaves_b_and_c_alone() {
    let pos = pos();
    let only_a = legacy(&pos.only_a);
    let three = as_a(&pos.three);
    let sampler = rusqlite::Connection::open(&pos.only_a).expect("open sampler");
    let before = others(&pos.three);
    let mut rows_read = 0;
    // First with A's own parameters, then with B's (B's keys, B's card numbers...): the
    // statements A's code would send if it got hold of B's values.
    for query in tenantry_fixtures::catalogue() {
        let params = tenantry_fixtures::sample_params(&sampler, query).expect("A's params");
        let outcome =
            same_as_with_a_alone(&only_a, &three, &pos.three, &before, query.sql, &params);
        if let Outcome::Rows(_, rows) = &outcome {
            rows_read += rows.len();
        }
    }
    assert!(rows_read > 20, "the reads found A's rows ({rows_read})");
    for query in tenantry_fixtures::catalogue() {
        let Some(sample) = query.sample_params else {
            continue;
        };
        let params: Vec<Value> = three
            .with_tenant(B, |b| {
                let mut stmt = b.prepare(sample)?;
                let n = stmt.column_count();
                stmt.query_row([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
            })
            .unwrap_or_else(|e| panic!("B's params for {}: {e}", query.name));
        if query.class == QueryClass::Insert {
            // An insert of A's that names B's keys as its references runs on `three` and
            // fails the foreign key on `only_a`, so the outcomes differ; see
            // `a_reference_to_another_tenants_row_lets_its_delete_cascade_across`.
            run(&three, query.sql, &params);
            assert_unchanged(&before, &pos.three, query.name);
        } else {
            same_as_with_a_alone(&only_a, &three, &pos.three, &before, query.sql, &params);
        }
    }
}

#[test]
fn an_upsert_with_another_tenants_key_changes_nothing() {
    let pos = pos();
    let conn = as_a(&pos.three);
    let a_before = counts_of_a(&pos.three);
    let product = of_b(
        &pos,
        "SELECT id FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    let sku = of_b(
        &pos,
        "SELECT sku FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    let customer = of_b(
        &pos,
        "SELECT id FROM customers WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    // The conflict is with B's row; the DO UPDATE is limited to A's rows, so nothing is
    // updated, and SQLite inserts nothing either. Where B's rows reference the key, the
    // migration's foreign-key guard stops the insert first: an error, and still no change.
    for sql in [
        format!(
            "INSERT INTO products (id, sku, name, price) VALUES ({product}, 'NEW-1', 'x', 1.0) \
             ON CONFLICT (id) DO UPDATE SET price = 0, name = 'taken'"
        ),
        format!(
            "INSERT INTO products (id, sku, name, price) VALUES (999999, {sku}, 'x', 1.0) \
             ON CONFLICT (sku) DO UPDATE SET price = excluded.price"
        ),
        format!(
            "INSERT INTO customers (id, first_name, last_name, created_at) \
             VALUES ({customer}, 'Mal', 'Lory', '2025-01-01') \
             ON CONFLICT (id) DO UPDATE SET first_name = 'Mal', deleted_at = '2025-01-01'"
        ),
        format!(
            "INSERT INTO products (id, sku, name, price) VALUES ({product}, 'NEW-2', 'x', 1.0) \
             ON CONFLICT DO NOTHING"
        ),
    ] {
        let before = others(&pos.three);
        match conn.execute(&sql, []) {
            Ok(changed) => assert_eq!(changed, 0, "{sql}"),
            Err(e) => assert_eq!(e.to_string(), "FOREIGN KEY constraint failed", "{sql}"),
        }
        assert_unchanged(&before, &pos.three, &sql);
    }
    assert_eq!(
        a_before,
        counts_of_a(&pos.three),
        "nothing was inserted for A"
    );
}

#[test]
fn replace_with_another_tenants_key_is_refused() {
    let pos = pos();
    let conn = as_a(&pos.three);
    let product = of_b(
        &pos,
        "SELECT id FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    let sku = of_b(
        &pos,
        "SELECT sku FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    for sql in [
        format!("REPLACE INTO products (id, sku, name, price) VALUES ({product}, 'R-1', 'x', 1.0)"),
        format!(
            "INSERT OR REPLACE INTO products (id, sku, name, price) VALUES (1, {sku}, 'x', 1.0)"
        ),
        format!("UPDATE OR REPLACE products SET sku = {sku} WHERE id = 1"),
        format!("UPDATE OR REPLACE products SET id = {product} WHERE id = 1"),
    ] {
        refused(&pos, &conn, &sql, "Replace");
    }
}

#[test]
fn a_collision_with_another_tenants_unique_key_is_ignored_or_fails() {
    let pos = pos();
    let conn = as_a(&pos.three);
    let sku = of_b(
        &pos,
        "SELECT sku FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    let product = of_b(
        &pos,
        "SELECT id FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    // INSERT OR IGNORE: SQLite skips the row that collides with B's SKU. B's row is
    // untouched, A gets no row: 0 changes. The collision itself is the documented side
    // channel of global unique keys (A learns that the SKU is taken, not by whom).
    harmless(
        &pos,
        &conn,
        &format!("INSERT OR IGNORE INTO products (sku, name, price) VALUES ({sku}, 'x', 1.0)"),
        0,
    );
    harmless(
        &pos,
        &conn,
        &format!("UPDATE OR IGNORE products SET sku = {sku}"),
        0,
    );
    // Without IGNORE the statement fails on the UNIQUE constraint (or, for a key B's rows
    // reference, on the migration's foreign-key guard, which runs first) and changes
    // nothing.
    let before = others(&pos.three);
    let a_before = counts_of_a(&pos.three);
    for sql in [
        format!("INSERT INTO products (sku, name, price) VALUES ({sku}, 'x', 1.0)"),
        format!("INSERT INTO products (id, sku, name, price) VALUES ({product}, 'U-1', 'x', 1.0)"),
        format!("UPDATE products SET id = {product} WHERE id = 1"),
    ] {
        let err = conn.execute(&sql, []).expect_err(&sql);
        assert!(
            err.to_string().contains("UNIQUE constraint failed")
                || err.to_string() == "FOREIGN KEY constraint failed",
            "{sql}: {err}"
        );
    }
    assert_unchanged(&before, &pos.three, "the failed writes");
    assert_eq!(a_before, counts_of_a(&pos.three));
}

#[test]
fn the_tenant_column_cannot_be_written() {
    let pos = pos();
    let conn = as_a(&pos.three);
    let customer = of_b(
        &pos,
        "SELECT id FROM customers WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    for sql in [
        format!("UPDATE products SET tenant_id = '{B}'"),
        format!("UPDATE products SET price = 0, TENANT_ID = '{B}' WHERE id = 1"),
        format!(
            "UPDATE customers SET tenant_id = \
             (SELECT tenant_id FROM customers WHERE id = {customer})"
        ),
        format!("UPDATE customers SET (first_name, tenant_id) = ('x', '{C}')"),
    ] {
        refused(&pos, &conn, &sql, "TenantColumnWrite");
    }
    for sql in [
        format!(
            "INSERT INTO products (id, sku, name, price) VALUES (1, 'x', 'x', 1) \
             ON CONFLICT (id) DO UPDATE SET tenant_id = '{B}'"
        ),
        format!("INSERT INTO products (sku, name, price, tenant_id) VALUES ('T-1', 'x', 1, '{B}')"),
        format!(
            "INSERT INTO products (sku, name, price, tenant_id) \
             VALUES ('T-2', 'x', 1, '{A}'), ('T-3', 'y', 1, '{C}')"
        ),
    ] {
        refused(&pos, &conn, &sql, "ForeignTenant");
    }
    // A value known only when the statement runs is checked then: another tenant's (or
    // NULL) fails the statement, which changes nothing.
    for (sql, params) in [
        (
            "INSERT INTO products (sku, name, price, tenant_id) VALUES ('T-4', 'x', 1, NULL)"
                .to_owned(),
            vec![],
        ),
        (
            format!(
                "INSERT INTO products (sku, name, price, tenant_id) VALUES ('T-5', 'x', 1, '{B}' || '')"
            ),
            vec![],
        ),
        (
            "INSERT INTO products (sku, name, price, tenant_id) \
             SELECT sku || '-2', name, price, 'store-b' FROM products"
                .to_owned(),
            vec![],
        ),
        (
            "INSERT INTO products (sku, name, price, tenant_id) VALUES ('T-6', 'x', 1, ?1)"
                .to_owned(),
            vec![B],
        ),
    ] {
        let before = others(&pos.three);
        let a_before = counts_of_a(&pos.three);
        let err = conn
            .execute(&sql, rusqlite::params_from_iter(params))
            .expect_err(&sql);
        assert!(
            matches!(Error::of(&err), Some(Error::TenantMismatch { .. })),
            "{sql}: {err}"
        );
        assert_unchanged(&before, &pos.three, &sql);
        assert_eq!(a_before, counts_of_a(&pos.three), "{sql} changed A");
    }
    // Naming the current tenant is allowed.
    harmless(
        &pos,
        &conn,
        &format!(
            "INSERT INTO products (sku, name, price, tenant_id) VALUES ('T-7', 'x', 1, '{A}')"
        ),
        1,
    );
}

#[test]
fn writes_aimed_at_another_tenants_rows_change_nothing() {
    let pos = pos();
    let conn = as_a(&pos.three);
    let product = of_b(
        &pos,
        "SELECT id FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    let customer = of_b(
        &pos,
        "SELECT id FROM customers WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    let order = of_b(
        &pos,
        "SELECT id FROM work_orders WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    let rowid = of_b(
        &pos,
        "SELECT rowid FROM customers WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    for sql in [
        format!("DELETE FROM products WHERE id = {product}"),
        format!("UPDATE products SET price = 0 WHERE id = {product}"),
        format!("DELETE FROM customers WHERE id = {customer}"),
        format!("UPDATE customers SET deleted_at = 'now' WHERE id = {customer}"),
        format!("DELETE FROM customers WHERE rowid = {rowid}"),
        format!("UPDATE customers SET notes = 'x' WHERE _rowid_ = {rowid}"),
        // Cascades from B's work order would reach its lines, commissions, payments...
        format!("DELETE FROM work_orders WHERE id = {order}"),
        format!("DELETE FROM work_orders WHERE id = {order} OR 1 = 0"),
        format!(
            "DELETE FROM work_order_lines WHERE work_order_id IN \
             (SELECT id FROM work_orders WHERE id = {order})"
        ),
        format!(
            "WITH theirs AS (SELECT {product} AS id) \
             DELETE FROM products WHERE id IN (SELECT id FROM theirs)"
        ),
        format!(
            "UPDATE inventory SET quantity_on_hand = 0 \
             FROM (SELECT {product} AS pid) t WHERE inventory.product_id = t.pid"
        ),
        format!(
            "UPDATE products SET price = price * 2 WHERE id = {product} \
             RETURNING id, price"
        ),
    ] {
        harmless(&pos, &conn, &sql, 0);
    }
}

#[test]
fn reads_aimed_at_another_tenants_rows_see_only_a() {
    let pos = pos();
    let only_a = legacy(&pos.only_a);
    let three = as_a(&pos.three);
    let before = others(&pos.three);
    let product = of_b(
        &pos,
        "SELECT id FROM products WHERE tenant_id = ?1 ORDER BY id LIMIT 1",
    );
    let customer = of_b(
        &pos,
        "SELECT id FROM customers WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    let rowid = of_b(
        &pos,
        "SELECT rowid FROM customers WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
    );
    let mut rows = 0;
    for sql in [
        format!("SELECT * FROM customers WHERE tenant_id = '{B}'"),
        format!("SELECT count(*) FROM products WHERE tenant_id <> '{A}'"),
        "SELECT id, sku, price FROM products WHERE id = -1 OR 1 = 1 ORDER BY id".to_owned(),
        "SELECT sum(price), count(*), max(id) FROM products".to_owned(),
        "SELECT sku FROM products UNION SELECT email FROM users ORDER BY 1".to_owned(),
        "SELECT id FROM customers UNION ALL SELECT id FROM work_orders ORDER BY 1".to_owned(),
        format!("SELECT * FROM products WHERE id = {product}"),
        format!("SELECT * FROM main.\"PRODUCTS\" WHERE id = {product}"),
        format!("SELECT first_name FROM customers WHERE rowid = {rowid}"),
        format!("SELECT (SELECT name FROM products WHERE id = {product}) AS theirs"),
        format!(
            "SELECT c.id FROM customers c WHERE EXISTS \
             (SELECT 1 FROM customers o WHERE o.id = {customer})"
        ),
        format!(
            "WITH theirs AS (SELECT * FROM products WHERE id = {product}) \
             SELECT * FROM theirs"
        ),
        format!(
            "WITH RECURSIVE ids(n) AS (SELECT {product} UNION ALL SELECT n + 1 FROM ids \
             WHERE n < {product} + 5) SELECT p.id, p.sku FROM ids JOIN products p ON p.id = ids.n"
        ),
        "SELECT p.sku, count(*) FROM products p, products q GROUP BY p.sku ORDER BY 1".to_owned(),
        "SELECT l.id, p.sku FROM work_order_lines l LEFT JOIN products p ON p.id = l.product_id \
         ORDER BY l.id"
            .to_owned(),
        "SELECT * FROM customers NATURAL JOIN customer_vehicles".to_owned(),
        "SELECT name, sum(price) OVER (ORDER BY id) FROM products ORDER BY id".to_owned(),
        // Schema reads are allowed; the migration added indexes and triggers, not views.
        "SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name".to_owned(),
        // (Ordered: where the legacy plan read a covering index, the scoped one reads the
        // table for its tenant column, so an order SQL leaves open may differ.)
        "SELECT key, value FROM json_each((SELECT json_group_array(id) FROM \
         (SELECT id FROM products ORDER BY id)))"
            .to_owned(),
    ] {
        if let Outcome::Rows(_, found) =
            same_as_with_a_alone(&only_a, &three, &pos.three, &before, &sql, &[])
        {
            rows += found.len();
        }
    }
    assert!(rows > 100, "the reads found A's rows ({rows})");
}

#[test]
fn with_no_tenant_set_nothing_runs_and_there_is_no_default_tenant() {
    let pos = pos();
    let mut conn = Connection::open(&pos.three).expect("open");
    let before = others(&pos.three);
    let a_before = counts_of_a(&pos.three);
    let no_tenant = |r: rusqlite::Result<()>| {
        let err = r.expect_err("no tenant");
        assert!(matches!(Error::of(&err), Some(Error::NoTenant)), "{err}");
    };
    // The migration's column default is A: an INSERT that reached SQLite unscoped would
    // land in A. It must not reach SQLite.
    let insert = "INSERT INTO products (sku, name, price) VALUES ('NT-1', 'x', 1.0)";
    no_tenant(conn.execute(insert, []).map(drop));
    no_tenant(conn.execute("DELETE FROM products", []).map(drop));
    no_tenant(
        conn.execute_batch("UPDATE products SET price = 0")
            .map(drop),
    );
    no_tenant(conn.prepare("SELECT * FROM products").map(drop));
    no_tenant(conn.prepare_cached(insert).map(drop));
    no_tenant(
        conn.query_row("SELECT count(*) FROM products", [], |r| r.get::<_, i64>(0))
            .map(drop),
    );
    no_tenant(conn.execute("SELECT 1", []).map(drop));
    {
        let tx = conn.transaction().expect("begin");
        no_tenant(tx.execute(insert, []).map(drop));
    }
    // Set, then cleared: refused again.
    conn.set_tenant(A).expect("tenant");
    conn.clear_tenant();
    no_tenant(conn.execute(insert, []).map(drop));
    // An invalid id is refused, and leaves no tenant set.
    let err = conn.set_tenant("store-b' OR '1'='1").expect_err("invalid");
    assert!(
        matches!(Error::of(&err), Some(Error::InvalidTenantId(_))),
        "{err}"
    );
    no_tenant(conn.execute(insert, []).map(drop));
    // The only way around is the logged escape hatch, which sees every tenant...
    let all: i64 = conn
        .unscoped(|admin| admin.query_row("SELECT count(*) FROM products", [], |r| r.get(0)))
        .expect("unscoped count");
    assert_eq!(all, 90, "30 products each for A, B and C");
    // ...and after it the connection is scoped again, still with no tenant.
    no_tenant(conn.execute(insert, []).map(drop));
    assert_unchanged(&before, &pos.three, "the failed writes");
    assert_eq!(a_before, counts_of_a(&pos.three));
}

#[test]
fn every_refusal_kind_is_typed_and_changes_nothing() {
    let pos = pos();
    let conn = as_a(&pos.three);
    // A tenant registry, global and read-only to tenants (the policy's default name).
    conn.unscoped(|admin| {
        admin.execute_batch(
            "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL);
             INSERT INTO tenants VALUES ('caps-automotive', 'Caps Automotive'),
               ('store-b', 'Store B'), ('store-c', 'Store C');",
        )
    })
    .expect("registry");
    let long = format!(
        "SELECT '{}' FROM products",
        "x".repeat(tenantry_rewrite::MAX_SQL_LEN)
    );
    let deep = format!(
        "SELECT {}1{} FROM products",
        "(".repeat(200),
        ")".repeat(200)
    );
    let cases: Vec<(&str, String)> = vec![
        ("SchemaChange", "DROP TABLE customers".to_owned()),
        ("SchemaChange", "CREATE TABLE notes (body TEXT)".to_owned()),
        (
            "SchemaChange",
            "ALTER TABLE products ADD COLUMN x".to_owned(),
        ),
        (
            "SchemaChange",
            "CREATE TRIGGER t AFTER INSERT ON products BEGIN DELETE FROM customers; END".to_owned(),
        ),
        ("Attach", "ATTACH DATABASE ':memory:' AS other".to_owned()),
        ("Pragma", "PRAGMA writable_schema = ON".to_owned()),
        ("Pragma", "PRAGMA integrity_check".to_owned()),
        ("Maintenance", "VACUUM".to_owned()),
        ("Maintenance", "ANALYZE".to_owned()),
        ("Maintenance", "REINDEX".to_owned()),
        ("UnknownTable", "SELECT * FROM suppliers".to_owned()),
        ("UnknownTable", "DELETE FROM suppliers".to_owned()),
        ("OtherSchema", "SELECT * FROM temp.products".to_owned()),
        ("SystemTable", "SELECT * FROM sqlite_sequence".to_owned()),
        (
            "SystemTable",
            "UPDATE sqlite_sequence SET seq = 0".to_owned(),
        ),
        ("SystemTable", "SELECT * FROM sqlite_stat1".to_owned()),
        ("Protected", "SELECT * FROM _tenantry_migrations".to_owned()),
        ("Protected", "DELETE FROM _tenantry_migrations".to_owned()),
        (
            "ReadOnly",
            "INSERT INTO tenants VALUES ('evil', 'Evil')".to_owned(),
        ),
        ("ReadOnly", "UPDATE tenants SET name = 'x'".to_owned()),
        ("SchemaWrite", "DELETE FROM sqlite_master".to_owned()),
        (
            "TableFunction",
            "SELECT * FROM pragma_integrity_check()".to_owned(),
        ),
        ("Function", "SELECT load_extension('evil')".to_owned()),
        (
            "Function",
            "SELECT sku FROM products WHERE load_extension('x') IS NULL".to_owned(),
        ),
        (
            "Replace",
            "REPLACE INTO products (id, sku, name, price) VALUES (1, 'x', 'x', 1)".to_owned(),
        ),
        (
            "TenantColumnWrite",
            format!("UPDATE products SET tenant_id = '{B}'"),
        ),
        (
            "ForeignTenant",
            format!(
                "INSERT INTO products (sku, name, price, tenant_id) VALUES ('x', 'x', 1, '{B}')"
            ),
        ),
        (
            "UncheckedTenantValue",
            "INSERT INTO products (sku, name, price, tenant_id) \
             SELECT 'x', 'x', 1, 'a' UNION SELECT 'y', 'y', 1, NULL"
                .to_owned(),
        ),
        (
            "RowidAmbiguous",
            "SELECT rowid, * FROM customers".to_owned(),
        ),
        (
            "Tokenization",
            "DELETE FROM customers --\0\nWHERE id = 1".to_owned(),
        ),
        (
            "TableSource",
            "SELECT * FROM products AS p (a, b)".to_owned(),
        ),
        ("TooComplex", long),
    ];
    for (expected, sql) in &cases {
        refused(&pos, &conn, sql, expected);
    }
    // Not reached from SQL here: UnsupportedStatement (other dialects' statements fail to
    // parse first) and Internal (the rewriter's own consistency check). Nesting deeper
    // than the parser's recursion limit is a parse error, not TooComplex.
    for sql in [
        "SHOW TABLES",
        "TRUNCATE TABLE products",
        "SELEC * FROM products",
        &deep,
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        match Error::of(&err) {
            Some(Error::Rewrite(e)) => assert!(
                matches!(e, RewriteError::Parse { .. })
                    || matches!(e.refusal(), Some(Refusal::UnsupportedStatement { .. })),
                "{sql}: {e}"
            ),
            other => panic!("{sql}: {other:?}"),
        }
    }
    // The registry stays readable.
    let n: i64 = conn
        .query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))
        .expect("registry read");
    assert_eq!(n, 3);
}

/// A's work order, and the planted line of B's that references it (if B's insert runs).
fn plant_bs_line_on_as_order(pos: &Pos) -> (String, rusqlite::Result<usize>) {
    let conn = rusqlite::Connection::open(&pos.three).expect("open");
    let order: String = conn
        .query_row(
            "SELECT id FROM work_orders WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
            [A],
            |r| r.get(0),
        )
        .expect("A's work order");
    let b = Connection::open(&pos.three).expect("open");
    b.set_tenant(B).expect("tenant B");
    let planted = b.execute(
        "INSERT INTO work_order_lines (work_order_id, line_no, line_type, description, \
         unit_price_cents, created_at) VALUES (?1, 99, 'fee', 'planted by B', 1, '2025-01-02')",
        [&order],
    );
    (order, planted)
}

#[test]
fn a_reference_to_another_tenants_row_cannot_be_planted_so_no_delete_cascades_across() {
    let pos = pos();
    let (order, planted) = plant_bs_line_on_as_order(&pos);
    // The migration's foreign-key guard stops B's line (see the next test).
    assert!(planted.is_err(), "B's line on A's work order was accepted");
    let before = others(&pos.three);
    let a = as_a(&pos.three);
    // The catalogue's delete_work_order, as A, on A's own work order: its ON DELETE
    // CASCADE reaches A's lines only.
    let deleted = a
        .execute("DELETE FROM work_orders WHERE id = ?1", [&order])
        .expect("A deletes its work order");
    assert_eq!(deleted, 1);
    assert_unchanged(&before, &pos.three, "A's DELETE of its own work order");
}

#[test]
fn a_foreign_key_to_another_tenants_row_fails_as_a_missing_parent_would() {
    let pos = pos();
    let (_, planted) = plant_bs_line_on_as_order(&pos);
    let b = Connection::open(&pos.three).expect("open");
    b.set_tenant(B).expect("tenant B");
    b.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys on");
    let missing = b.execute(
        "INSERT INTO work_order_lines (work_order_id, line_no, line_type, description, \
         unit_price_cents, created_at) VALUES (987654321, 99, 'fee', 'no parent', 1, '2025-01-02')",
        [],
    );
    // Both fail with SQLite's own message: A's key looks like no key at all.
    let message = |r: &rusqlite::Result<usize>| match r {
        Err(e) => e.to_string(),
        Ok(n) => format!("accepted ({n} rows)"),
    };
    assert_eq!(message(&planted), "FOREIGN KEY constraint failed");
    assert_eq!(message(&missing), "FOREIGN KEY constraint failed");
    // And an update cannot move B's own line onto A's order either.
    let a_order: String = rusqlite::Connection::open(&pos.three)
        .and_then(|c| {
            c.query_row(
                "SELECT id FROM work_orders WHERE tenant_id = ?1 ORDER BY rowid LIMIT 1",
                [A],
                |r| r.get(0),
            )
        })
        .expect("A's work order");
    let before = others(&pos.three);
    let moved = b.execute(
        "UPDATE work_order_lines SET work_order_id = ?1 WHERE id = (SELECT min(id) FROM work_order_lines)",
        [&a_order],
    );
    assert_eq!(message(&moved), "FOREIGN KEY constraint failed");
    assert_unchanged(&before, &pos.three, "B's UPDATE onto A's work order");
}

// ---- views and triggers -----------------------------------------------------------------

#[test]
fn views_show_a_only_its_rows_whatever_they_read() {
    let pos = pos();
    // Views an administrator adds after the migration, over every tenant's rows.
    for path in [&pos.only_a, &pos.three] {
        rusqlite::Connection::open(path)
            .and_then(|c| {
                c.execute_batch(
                    "CREATE VIEW every_customer AS SELECT * FROM customers;
                     CREATE VIEW stock_value AS
                       SELECT p.sku, i.quantity_on_hand * p.price AS value
                         FROM v_low_stock l JOIN products p ON p.id = l.product_id
                         JOIN inventory i ON i.product_id = p.id;
                     CREATE VIEW customer_count AS SELECT count(*) AS n FROM customers;",
                )
            })
            .expect("create views");
    }
    let before = others(&pos.three);
    let only_a = legacy(&pos.only_a);
    let three = as_a(&pos.three);
    for sql in [
        "SELECT * FROM v_open_work_orders ORDER BY id",
        "SELECT * FROM v_low_stock ORDER BY product_id",
        "SELECT * FROM every_customer ORDER BY id",
        "SELECT * FROM stock_value ORDER BY sku",
        "SELECT n FROM customer_count",
        "SELECT c.id FROM customers c WHERE c.id IN (SELECT id FROM every_customer) ORDER BY 1",
        "WITH customers AS (SELECT 1 AS id) SELECT count(*) FROM every_customer",
        "UPDATE customers SET notes = 'seen' WHERE id IN (SELECT id FROM every_customer)",
    ] {
        let outcome = same_as_with_a_alone(&only_a, &three, &pos.three, &before, sql, &[]);
        assert!(!matches!(outcome, Outcome::Failed(_)), "{sql}: {outcome:?}");
    }
    // A view that names the tenant column cannot read it: scoped tables do not have one.
    for path in [&pos.only_a, &pos.three] {
        rusqlite::Connection::open(path)
            .and_then(|c| {
                c.execute_batch(
                    "CREATE VIEW b_customers AS SELECT * FROM customers WHERE tenant_id = 'store-b'",
                )
            })
            .expect("create view");
    }
    let three = as_a(&pos.three);
    let err = three
        .prepare("SELECT * FROM b_customers")
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string().contains("no such column: tenant_id"),
        "{err}"
    );
    // Writes to a view are refused: its INSTEAD OF triggers would run unscoped.
    let err = three.execute("DELETE FROM every_customer", []).unwrap_err();
    assert!(
        matches!(refusal(&err), Some(Refusal::ViewWrite { .. })),
        "{err}"
    );
    assert_unchanged(&before, &pos.three, "reads through views");
}

#[test]
fn the_migrated_trigger_changes_only_the_inserting_tenants_inventory() {
    let pos = pos();
    let sql: String = rusqlite::Connection::open(&pos.three)
        .and_then(|c| {
            c.query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'trg_inventory_after_transaction'",
                [],
                |r| r.get(0),
            )
        })
        .expect("trigger");
    assert!(
        sql.contains(tenantry::rewrite::SCOPED_TRIGGER_MARK),
        "{sql}"
    );
    let before = others(&pos.three);
    let only_a = legacy(&pos.only_a);
    let three = as_a(&pos.three);
    // A's product: the trigger moves its stock on both databases alike.
    let insert = "INSERT INTO inventory_transactions (product_id, quantity_change, kind, created_at) \
         SELECT id, 5, 'receive', '2026-11-28' FROM products ORDER BY id LIMIT 1";
    let inserted = same_as_with_a_alone(&only_a, &three, &pos.three, &before, insert, &[]);
    assert_eq!(inserted, Outcome::Changed(1));
    let stock =
        "SELECT product_id, quantity_on_hand, updated_at FROM inventory ORDER BY product_id";
    let stock = same_as_with_a_alone(&only_a, &three, &pos.three, &before, stock, &[]);
    assert!(
        matches!(&stock, Outcome::Rows(_, rows) if rows.iter().any(|r| r.contains("2026-11-28"))),
        "the trigger did not run: {stock:?}"
    );
}

#[test]
fn a_trigger_added_after_the_migration_is_refused_or_stopped() {
    let pos = pos();
    let admin = Connection::open(&pos.three).expect("open");
    admin
        .unscoped(|c| {
            c.execute_batch(
                "CREATE TRIGGER wipe_b AFTER UPDATE ON customers BEGIN
                   DELETE FROM gift_cards WHERE tenant_id = 'store-b';
                 END;
                 CREATE TABLE global_log (msg TEXT);
                 CREATE TRIGGER wipe_all AFTER INSERT ON global_log BEGIN
                   DELETE FROM customers;
                 END;",
            )
        })
        .expect("admin creates triggers");
    let before = others(&pos.three);
    let a = as_a(&pos.three);
    // A statement that would fire the unscoped trigger on a tenant table is refused.
    let err = a
        .execute("UPDATE customers SET notes = 'x'", [])
        .unwrap_err();
    assert!(
        matches!(refusal(&err), Some(Refusal::UnscopedTrigger { trigger, .. }) if trigger == "wipe_b"),
        "{err}"
    );
    // A write to a global table whose trigger names a tenant table is refused too.
    let err = a
        .execute("INSERT INTO global_log (msg) VALUES ('hi')", [])
        .unwrap_err();
    assert!(
        matches!(refusal(&err), Some(Refusal::UnscopedTrigger { trigger, .. }) if trigger == "wipe_all"),
        "{err}"
    );
    assert_unchanged(
        &before,
        &pos.three,
        "statements that would fire unscoped triggers",
    );
}
