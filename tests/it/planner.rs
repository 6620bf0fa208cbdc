//! The planner after migration.
//!
//! By default a tenant connection tests the tenant with `+tenant_id = 'A'`, which SQLite's
//! planner cannot use an index for: every statement of the application must get exactly
//! the plan it had before the migration. Statements that may use the tenant index
//! (`TenantFilter::UseTenantIndex`, or SQL written by hand) rely on the statistics row the
//! migration writes for analysed tables: the index is low-selectivity (one tenant holds every
//! row), and the application's lookups must keep their access paths.

use rusqlite::Connection;
use tenantry_migrate::{MigrateOptions, migrate};
use tenantry_rewrite::{Rewriter, TenantId};

use crate::support::tiny_fixture;

/// Every step of a statement's plan, as `EXPLAIN QUERY PLAN` prints it, without the name it
/// gives the table a step reads (a table read through a view is named after the table
/// before the migration and after its alias in the view's query once the view is inlined),
/// without `COVERING` (a scoped statement also reads the tenant column, which no legacy
/// index holds) and without subquery numbers (derived tables take numbers too).
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let nulls = vec![rusqlite::types::Value::Null; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap()
        .map(|d| {
            let d = d.unwrap().replace("COVERING ", "");
            let mut words: Vec<&str> = d.split(' ').collect();
            if matches!(words.first(), Some(&"SCAN" | &"SEARCH")) && words.len() > 1 {
                words[1] = "_";
            }
            if words.len() > 1 && words[words.len() - 2] == "SUBQUERY" {
                words.pop();
            }
            for w in &mut words {
                if w.starts_with("(subquery-") {
                    *w = "(subquery)";
                }
            }
            words.join(" ")
        })
        .collect()
}

#[test]
fn every_catalogue_statement_plans_exactly_as_before_migration() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = tiny_fixture(dir.path(), "legacy.db");
    let migrated = dir.path().join("migrated.db");
    std::fs::copy(&legacy, &migrated).unwrap();
    migrate(&migrated, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let legacy = Connection::open(&legacy).unwrap();
    let migrated = Connection::open(&migrated).unwrap();
    // As on a tenant connection: plans that do not depend on bound values.
    migrated
        .set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .unwrap();
    // The fixture was never analysed, and the migration adds no statistics to it.
    let stat1: i64 = migrated
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stat1, 0);
    let rewriter = Rewriter::new(tenantry_sqlite::schema::load(&migrated, "tenant_id").unwrap());
    let tenant = TenantId::new(tenantry_migrate::DEFAULT_TENANT).unwrap();
    for query in tenantry_fixtures::catalogue() {
        let scoped = rewriter
            .rewrite(query.sql, &tenant)
            .unwrap_or_else(|e| panic!("{}: {e}", query.name));
        let before = plan(&legacy, query.sql);
        let after = plan(&migrated, scoped.sql());
        let context = format!("{}\n  {}\n  {}", query.name, query.sql, scoped.sql());
        if query.class.is_read_only() {
            assert_eq!(after, before, "{context}");
        } else {
            // A write's plan also lists the programs of the triggers it fires, and the
            // migration adds foreign-key guards: the statement's own steps come in order.
            let mut rest = after.iter();
            for step in &before {
                assert!(
                    rest.any(|s| s == step),
                    "{context}\n  {step:?} missing from {after:?}"
                );
            }
        }
    }
}

/// (legacy statement, the same statement with an indexable tenant test)
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

/// The tiny fixture, analysed (so the migration writes statistics for its tenant indexes).
fn analysed_fixture(dir: &std::path::Path) -> std::path::PathBuf {
    let db = tiny_fixture(dir, "pos.db");
    Connection::open(&db)
        .and_then(|c| c.execute_batch("ANALYZE"))
        .unwrap();
    db
}

#[test]
fn indexable_tenant_tests_keep_the_access_paths_the_application_had() {
    let dir = tempfile::tempdir().unwrap();
    let db = analysed_fixture(dir.path());
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
    let db = analysed_fixture(dir.path());
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let conn = Connection::open(&db).unwrap();
    let plan = access_paths(
        &conn,
        "SELECT * FROM customers WHERE tenant_id = 'caps-automotive'",
    );
    assert_eq!(plan, ["SCAN customers"]);
}
