//! Tenant tables scoped in place (a tenant test in their SELECT's WHERE) and where they must
//! still become derived tables: each boundary of `analysis/in_place.rs`, run through the
//! oracle, with the form the rewrite took.

use crate::support::{World, query};

/// Whether the rewrite of `sql` reads `table` as a derived table.
fn derived(w: &World, sql: &str, table: &str) -> bool {
    let out = w.rewrite(sql).expect("rewrite");
    out.contains(&format!("FROM main.\"{table}\" WHERE"))
}

#[test]
fn inner_joins_subqueries_and_clauses_are_scoped_in_place() {
    let w = World::new();
    for sql in [
        "SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id \
         WHERE o.status = 'open' OR c.tier = 'gold'",
        "SELECT c.name FROM customers c, orders o WHERE o.customer_id = c.id",
        "SELECT city, count(*) FROM customers GROUP BY city HAVING count(*) > 1 ORDER BY 1 LIMIT 5",
        "SELECT name FROM customers UNION ALL SELECT status FROM orders ORDER BY 1",
        "SELECT id, sum(total) OVER w FROM orders WINDOW w AS (ORDER BY id)",
        "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 5)",
        "SELECT a.name, b.name FROM customers a JOIN customers b ON a.city = b.city AND a.id < b.id",
        "SELECT code, shout FROM codes WHERE label LIKE 'e%'",
    ] {
        for table in ["customers", "orders", "codes"] {
            assert!(!derived(&w, sql, table), "{table} derived in {sql}");
        }
        w.check(sql);
    }
}

#[test]
fn a_subquery_in_a_result_column_keeps_the_columns_name() {
    let w = World::new();
    let sql = "SELECT (SELECT count(*) FROM orders o WHERE o.customer_id = c.id), \
               EXISTS (SELECT 1 FROM orders WHERE total > 50) FROM customers c";
    assert!(!derived(&w, sql, "orders"));
    let out = w.check(sql);
    assert_eq!(
        out.columns,
        [
            "(SELECT count(*) FROM orders o WHERE o.customer_id = c.id)",
            "EXISTS (SELECT 1 FROM orders WHERE total > 50)",
        ]
    );
}

#[test]
fn an_outer_joins_nullable_side_stays_a_derived_table() {
    let w = World::new();
    // A's customer 105 has no order: the LEFT JOIN must keep it, with NULLs.
    let left = "SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id";
    assert!(derived(&w, left, "orders"));
    assert!(!derived(&w, left, "customers"));
    let rows = w.check(left);
    assert!(
        rows.rows
            .iter()
            .any(|r| r[1] == rusqlite::types::Value::Null)
    );
    // A RIGHT or FULL join anywhere makes every table of its FROM derived.
    let right = "SELECT c.name, o.id FROM orders o RIGHT JOIN customers c ON o.customer_id = c.id";
    assert!(derived(&w, right, "orders"));
    assert!(derived(&w, right, "customers"));
    w.check(right);
    let nested = "SELECT c.name, o.id FROM customers c LEFT JOIN (orders o JOIN items i ON i.order_id = o.id) \
         ON o.customer_id = c.id";
    assert!(derived(&w, nested, "orders"));
    assert!(derived(&w, nested, "items"));
    w.check(nested);
}

#[test]
fn a_star_a_natural_join_or_a_rowid_read_keeps_the_derived_table() {
    let w = World::new();
    // `c.*` would show the tenant column; `o` is not under a star.
    let star = "SELECT c.*, o.total FROM customers c JOIN orders o ON o.customer_id = c.id";
    assert!(derived(&w, star, "customers"));
    assert!(!derived(&w, star, "orders"));
    w.check(star);
    let natural = "SELECT count(*) FROM customers a NATURAL JOIN customers b";
    assert!(derived(&w, natural, "customers"));
    w.check(natural);
    let rowid = "SELECT o.rowid, o.total FROM orders o";
    assert!(derived(&w, rowid, "orders"));
    w.check(rowid);
}

#[test]
fn a_qualifier_two_items_share_keeps_the_derived_tables() {
    let w = World::new();
    let sql = "SELECT count(*) FROM customers, main.customers";
    assert!(derived(&w, sql, "customers"));
    w.check(sql);
}

#[test]
fn a_statement_that_spells_the_tenant_column_cannot_reach_it() {
    let w = World::new();
    // In place, `tenant_id` would name the table's new column; the derived table hides it,
    // so the statement fails as it did before the migration.
    let sql = "SELECT name, tenant_id FROM customers";
    assert!(derived(&w, sql, "customers"));
    let rewritten = w.rewrite(sql).expect("rewrite");
    let err = query(&w.multi, &rewritten, &[]).expect_err("no such column");
    assert!(err.to_string().contains("tenant_id"), "{err}");
}

#[test]
fn a_views_tables_read_in_place_are_not_captured_by_the_callers_ctes() {
    let w = World::new();
    let sql = "WITH customers AS (SELECT 1 AS id, 'gold' AS tier) SELECT id FROM gold";
    let out = w.rewrite(sql).expect("rewrite");
    assert!(out.contains("FROM main.customers WHERE"), "{out}");
    w.check(sql);
}

#[test]
fn an_insert_from_a_select_in_place_keeps_its_source_whole() {
    let w = World::new();
    for sql in [
        "INSERT INTO vip (customer_id) SELECT id FROM customers WHERE tier = 'gold'",
        "INSERT INTO vip (customer_id) SELECT id FROM customers",
        "INSERT INTO items (order_id, sku, qty) SELECT id, 'NEW', 1 FROM orders WHERE status = 'open'",
    ] {
        assert!(!derived(&w, sql, "customers"), "{sql}");
        w.check(sql);
    }
}
