//! The second half of `tenantry demo`: the product, not only the migration. A second store
//! is added through the tenant connection; the same legacy statements run as each store,
//! side by side; a refused statement shows its reason; and one statement's cost is
//! measured against plain rusqlite with the same settings.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tenantry::migrate::DEFAULT_TENANT;
use tenantry::sqlite::Connection;

/// The store the demo adds.
const SECOND: &str = "second-store";

/// Legacy statements of the application, unchanged, with what each shows.
const SIDE_BY_SIDE: &[(&str, &str)] = &[
    ("customers", "SELECT count(*) FROM customers"),
    (
        "open work orders",
        "SELECT count(*) FROM work_orders WHERE status = 'open'",
    ),
    ("products", "SELECT count(*) FROM products"),
    (
        "customer with the first phone number",
        "SELECT first_name || ' ' || last_name FROM customers WHERE phone = ?1",
    ),
    (
        "gift-card balance, all cards",
        "SELECT printf('%.2f', coalesce(sum(balance_cents), 0) / 100.0) FROM gift_cards",
    ),
];

/// Runs the showcase on the migrated database at `db`; prints to standard output.
pub fn run(db: &Path) -> anyhow::Result<()> {
    let plain = rusqlite::Connection::open(db).context("opening the migrated database")?;
    let phone: String = plain
        .query_row(
            "SELECT phone FROM customers WHERE phone IS NOT NULL ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .context("reading a phone number")?;
    let conn = Connection::open(db).context("opening a tenant connection")?;

    println!();
    println!("Two stores in one database, through the tenant connection:");
    conn.set_tenant(SECOND)?;
    conn.execute(
        "INSERT INTO customers (id, first_name, last_name, phone, created_at) \
         VALUES ('second-store-c1', 'Grace', 'Hopper', ?1, '2026-12-06'), \
                ('second-store-c2', 'Alan', 'Kay', NULL, '2026-12-06')",
        [&phone],
    )?;
    println!(
        "  added store {SECOND:?}: 2 customers, one with the same phone number as a \
         {DEFAULT_TENANT} customer, written as {SECOND} with the application's INSERT"
    );
    println!();
    let width = SIDE_BY_SIDE.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    println!("  {:<width$}  {:>18}  {:>14}", "", DEFAULT_TENANT, SECOND);
    for (label, sql) in SIDE_BY_SIDE {
        let mut cells = Vec::new();
        for tenant in [DEFAULT_TENANT, SECOND] {
            conn.set_tenant(tenant)?;
            let mut stmt = conn.prepare(sql)?;
            let value = if stmt.parameter_count() == 1 {
                stmt.query_row([&phone], |r| r.get::<_, rusqlite::types::Value>(0))
            } else {
                stmt.query_row([], |r| r.get::<_, rusqlite::types::Value>(0))
            };
            cells.push(match value {
                Ok(v) => show(&v),
                Err(rusqlite::Error::QueryReturnedNoRows) => "(none)".to_owned(),
                Err(e) => return Err(e.into()),
            });
        }
        println!("  {label:<width$}  {:>18}  {:>14}", cells[0], cells[1]);
    }
    println!("  (each line is one legacy statement, unchanged, run once per store)");

    println!();
    let refused = "UPDATE customers SET phone = NULL, tenant_id = 'caps-automotive'";
    println!("A statement the connection refuses, and why:");
    println!("  {refused}");
    match conn.execute(refused, []) {
        Ok(n) => anyhow::bail!("the demo's refused statement changed {n} rows"),
        Err(e) => println!("  -> {e}"),
    }

    println!();
    cost(db, &conn, &phone)?;
    Ok(())
}

/// One point lookup, cached, as plain rusqlite and as the tenant connection, alternating.
fn cost(db: &Path, conn: &Connection, phone: &str) -> anyhow::Result<()> {
    const RUNS: usize = 2_000;
    const ROUNDS: usize = 5;
    let sql = "SELECT id, first_name, last_name FROM customers WHERE phone = ?1";
    let plain = rusqlite::Connection::open(db)?;
    // The tenant connection's settings, so that they do not hide the cost of isolation.
    plain.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    plain.set_prepared_statement_cache_capacity(tenantry::sqlite::STATEMENT_CACHE_CAPACITY);
    conn.set_tenant(DEFAULT_TENANT)?;
    let mut plain_best = f64::MAX;
    let mut tenant_best = f64::MAX;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..RUNS {
            let mut stmt = plain.prepare_cached(sql)?;
            let mut rows = stmt.query([phone])?;
            while rows.next()?.is_some() {}
        }
        plain_best = plain_best.min(started.elapsed().as_secs_f64() / RUNS as f64);
        let started = Instant::now();
        for _ in 0..RUNS {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query([phone])?;
            while rows.next()?.is_some() {}
        }
        tenant_best = tenant_best.min(started.elapsed().as_secs_f64() / RUNS as f64);
    }
    println!(
        "What it costs here: a point lookup by phone, cached, best of {ROUNDS} rounds of {RUNS}:"
    );
    println!(
        "  plain rusqlite {:.1} µs, tenant connection {:.1} µs ({:.2}x); both with the tenant \
         connection's settings",
        plain_best * 1e6,
        tenant_best * 1e6,
        tenant_best / plain_best
    );
    println!("  (every statement class, measured properly: cargo bench --bench cost)");
    Ok(())
}

fn show(value: &rusqlite::types::Value) -> String {
    match value {
        rusqlite::types::Value::Null => "NULL".to_owned(),
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Real(r) => r.to_string(),
        rusqlite::types::Value::Text(t) => t.clone(),
        rusqlite::types::Value::Blob(b) => format!("({} bytes)", b.len()),
    }
}
