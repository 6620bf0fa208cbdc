//! Conditions that may raise an error run only on the tenant's rows: guarded by a CASE on
//! the tenant where the statement's shape allows it (the other conditions keep their
//! indexes), read through the tenant index otherwise.

use tenantry_rewrite::{Policy, Rewriter, Schema, TenantFilter, TenantId};

const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT, note TEXT, tenant_id TEXT NOT NULL);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX idx_customers_tenant_id ON customers (tenant_id);
CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL, tenant_id TEXT NOT NULL);
CREATE INDEX idx_orders_tenant_id ON orders (tenant_id);
";

fn rewrite(policy: Policy, sql: &str) -> String {
    let schema = Schema::from_sql(SCHEMA, "tenant_id").expect("schema");
    let tenant = TenantId::new("B").expect("tenant");
    Rewriter::with_policy(schema, policy)
        .rewrite(sql, &tenant)
        .expect("rewritten")
        .sql()
        .to_owned()
}

#[test]
fn a_raising_term_is_guarded_and_the_others_keep_their_indexes() {
    let out = rewrite(
        Policy::default(),
        "SELECT id FROM customers WHERE phone = ?1 AND json(note) = 1",
    );
    assert_eq!(
        out,
        "SELECT id FROM customers WHERE +customers.\"tenant_id\" = 'B' AND (phone = ?1 AND \
         CASE WHEN customers.\"tenant_id\" = 'B' THEN (json(note) = 1) END)"
    );
    let out = rewrite(
        Policy::default(),
        "DELETE FROM customers AS c WHERE c.phone || 'x' = ? AND id BETWEEN 1 AND 5",
    );
    assert_eq!(
        out,
        "DELETE FROM customers AS c WHERE +c.\"tenant_id\" = 'B' AND (CASE WHEN \
         c.\"tenant_id\" = 'B' THEN (c.phone || 'x' = ?) END AND id BETWEEN 1 AND 5)"
    );
}

#[test]
fn a_star_over_one_table_is_spelled_out_so_the_table_stays_in_place() {
    let out = rewrite(
        Policy::default(),
        "SELECT * FROM customers WHERE phone = ?1 AND json(note) = 1",
    );
    assert_eq!(
        out,
        "SELECT customers.\"id\", customers.\"phone\", customers.\"note\" FROM customers \
         WHERE +customers.\"tenant_id\" = 'B' AND (phone = ?1 AND CASE WHEN \
         customers.\"tenant_id\" = 'B' THEN (json(note) = 1) END)"
    );
    let out = rewrite(
        Policy::default(),
        "SELECT c.*, 1 FROM customers AS c WHERE json(note) = 1",
    );
    assert!(
        out.starts_with("SELECT c.\"id\", c.\"phone\", c.\"note\", 1 FROM customers AS c"),
        "{out}"
    );
}

#[test]
fn where_a_guard_cannot_reach_the_tenant_the_tables_go_through_the_tenant_index() {
    // A `*` over a join is not spelled out: the tables become derived tables, whose tenant
    // column is out of reach.
    let out = rewrite(
        Policy::default(),
        "SELECT * FROM customers AS a JOIN customers AS b ON a.id = b.id WHERE json(a.note) = 1",
    );
    assert!(
        out.contains("INDEXED BY \"idx_customers_tenant_id\" WHERE \"tenant_id\" = 'B'"),
        "{out}"
    );
    assert!(!out.contains("CASE WHEN"), "{out}");
    // A tenant test without `+` would let SQLite put 'B' in place of the guard's column
    // (constant propagation), so the guard would always hold.
    let mut policy = Policy::default();
    policy.tenant_filter = TenantFilter::UseTenantIndex;
    let out = rewrite(
        policy,
        "SELECT id FROM customers WHERE phone = ?1 AND json(note) = 1",
    );
    assert!(out.contains("INDEXED BY"), "{out}");
    assert!(!out.contains("CASE WHEN"), "{out}");
}

/// The result columns SQLite gives `sql` rewritten, on the schema (so it must prepare).
fn columns_of(sql: &str) -> Vec<String> {
    let db = rusqlite::Connection::open_in_memory().expect("open");
    db.execute_batch(SCHEMA).expect("schema");
    let out = rewrite(Policy::default(), sql);
    let statement = db.prepare(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
    statement.column_names().map(str::to_owned).collect()
}

/// Red team 9: a `*` touching the words around it, and `t.*` with quoted or look-alike
/// qualifiers, are spelled out as the table they name showed them.
#[test]
fn spelled_out_stars_keep_their_words_apart_and_name_the_right_table() {
    for sql in [
        "SELECT*FROM customers WHERE json(note) IS NULL",
        "SELECT DISTINCT*FROM customers WHERE json(note) IS NULL",
        "SELECT c.*FROM customers c WHERE json(note) IS NULL",
    ] {
        assert_eq!(columns_of(sql), ["id", "phone", "note"], "{sql}");
    }
    let sql = "SELECT \"c\"\"\".* FROM customers AS \"c\"\"\" WHERE json(note) = 1";
    assert_eq!(columns_of(sql), ["id", "phone", "note"], "{sql}");
    let sql = "SELECT c.* FROM customers AS \"[c]\", orders AS c WHERE abs(c.total) > 0";
    assert_eq!(columns_of(sql), ["id", "total"], "{sql}");
    // A DELETE's subquery keeps its `*` (its table is a derived table of the tenant's rows).
    let out = rewrite(
        Policy::default(),
        "DELETE FROM customers WHERE json(note) = 2 AND EXISTS (SELECT*FROM orders)",
    );
    assert!(out.contains("EXISTS (SELECT*FROM (SELECT"), "{out}");
}
