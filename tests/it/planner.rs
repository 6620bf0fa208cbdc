//! The tenant index is low-selectivity (one tenant holds every existing row). These checks
//! take the application's typical lookups, plan them before the migration, then plan the
//! same lookups with the tenant predicate the interceptor adds, after the migration: the
//! access path must stay the one the application had.

use rusqlite::Connection;
use tenantry_migrate::{MigrateOptions, migrate};

use crate::support::tiny_fixture;

/// (legacy statement, the same statement scoped to one tenant)
const LOOKUPS: &[(&str, &str)] = &[
    (
        "SELECT * FROM work_orders WHERE customer_id = ?1",
        "SELECT * FROM work_orders WHERE customer_id = ?1 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM customers WHERE phone = ?1",
        "SELECT * FROM customers WHERE phone = ?1 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM customers WHERE last_name = ?1 AND first_name = ?2",
        "SELECT * FROM customers WHERE last_name = ?1 AND first_name = ?2 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM sessions WHERE user_id = ?1",
        "SELECT * FROM sessions WHERE user_id = ?1 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM work_order_lines WHERE work_order_id = ?1",
        "SELECT * FROM work_order_lines WHERE work_order_id = ?1 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM audit_log WHERE created_at >= ?1 AND created_at < ?2",
        "SELECT * FROM audit_log WHERE created_at >= ?1 AND created_at < ?2 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM work_orders WHERE status = ?1 AND created_at > ?2",
        "SELECT * FROM work_orders WHERE status = ?1 AND created_at > ?2 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM inventory_transactions WHERE product_id = ?1 ORDER BY created_at",
        "SELECT * FROM inventory_transactions WHERE product_id = ?1 AND tenant_id = 'caps-automotive' ORDER BY created_at",
    ),
    (
        "SELECT * FROM fitment_data WHERE make = ?1 AND model = ?2 AND year = ?3",
        "SELECT * FROM fitment_data WHERE make = ?1 AND model = ?2 AND year = ?3 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT * FROM products WHERE sku = ?1",
        "SELECT * FROM products WHERE sku = ?1 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT count(*) FROM sync_log WHERE synced = 0",
        "SELECT count(*) FROM sync_log WHERE synced = 0 AND tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT w.order_number, c.last_name FROM work_orders w JOIN customers c ON c.id = w.customer_id WHERE c.phone = ?1",
        "SELECT w.order_number, c.last_name FROM work_orders w JOIN customers c ON c.id = w.customer_id AND c.tenant_id = 'caps-automotive' \
         WHERE c.phone = ?1 AND w.tenant_id = 'caps-automotive'",
    ),
    (
        "SELECT l.* FROM work_order_lines l JOIN work_orders w ON w.id = l.work_order_id WHERE w.status = 'open' AND w.created_at > ?1",
        "SELECT l.* FROM work_order_lines l JOIN work_orders w ON w.id = l.work_order_id AND w.tenant_id = 'caps-automotive' \
         WHERE w.status = 'open' AND w.created_at > ?1 AND l.tenant_id = 'caps-automotive'",
    ),
];

/// The access path of each plan step: `SEARCH c USING INDEX idx_customers_phone`, with the
/// constraint text and `COVERING` dropped (a scoped query also reads the tenant column).
fn access_paths(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let nulls = vec![rusqlite::types::Value::Null; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap()
        .map(|d| {
            let d = d.unwrap();
            let d = d.split(" (").next().unwrap_or(&d).replace("COVERING ", "");
            d.trim().to_owned()
        })
        .collect()
}

#[test]
fn scoped_lookups_keep_the_access_paths_the_application_had() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before: Vec<Vec<String>> = {
        let conn = Connection::open(&db).unwrap();
        LOOKUPS
            .iter()
            .map(|(legacy, _)| access_paths(&conn, legacy))
            .collect()
    };
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let conn = Connection::open(&db).unwrap();
    for ((legacy, scoped), expected) in LOOKUPS.iter().zip(&before) {
        let after = access_paths(&conn, scoped);
        assert_eq!(&after, expected, "\nlegacy: {legacy}\nscoped: {scoped}");
        assert!(
            !after.iter().any(|p| p.contains("_tenant_id")),
            "{scoped} uses the tenant index: {after:?}"
        );
        // The legacy statement itself plans exactly as before.
        assert_eq!(&access_paths(&conn, legacy), expected, "{legacy}");
    }
}

#[test]
fn a_whole_tenant_listing_does_not_use_the_tenant_index_needlessly() {
    // With one tenant owning every row, reading "all of this tenant's customers" through the
    // tenant index would visit the index and then every row: a plain scan is cheaper.
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let conn = Connection::open(&db).unwrap();
    let plan = access_paths(
        &conn,
        "SELECT * FROM customers WHERE tenant_id = 'caps-automotive'",
    );
    assert_eq!(plan, ["SCAN customers"]);
}
