//! The point-of-sale back end both example services serve: the application's own SQL,
//! unchanged, through a `TenantPool`; the tenant comes from the request's scope.
//!
//! Shared by `actix_pos.rs` and `axum_pos.rs`, which only map it to their framework.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use tenantry_migrate::{Layout, MigrateOptions};
use tenantry_sqlx::TenantPool;
use tenantry_web::{Registry, Tenancy, TrustedHeader};

/// Where the services listen.
pub const ADDR: &str = "127.0.0.1:3000";

/// The stores the demo database holds (`cargo run --release -- demo`).
pub const STORES: [&str; 2] = ["caps-automotive", "second-store"];

/// `POST /products`'s query string.
#[derive(Deserialize)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub price: f64,
}

/// `POST /sales`'s query string.
#[derive(Deserialize)]
pub struct Sale {
    pub sku: String,
    pub qty: i64,
}

/// A failed request: its status and why.
pub struct Failure {
    pub status: u16,
    pub message: String,
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        let status = match &e {
            sqlx::Error::RowNotFound => 404,
            sqlx::Error::Database(d) if d.is_unique_violation() => 409,
            _ => 500,
        };
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

/// The database to serve: the first argument, or a tenant-first copy of the demo's
/// database (made on first run: copied, then migrated `--layout tenant-first`, so each
/// store has its own SKUs and order numbers).
pub fn database() -> Result<PathBuf, String> {
    if let Some(path) = std::env::args_os().nth(1) {
        return Ok(PathBuf::from(path));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tenantry-demo");
    let demo = root.join("pos-typical.db");
    let served = root.join("pos-typical-tenant-first.db");
    if served.exists() {
        return Ok(served);
    }
    if !demo.exists() {
        return Err(format!(
            "no demo database at {}: run `cargo run --release -- demo` first, or pass a \
             migrated database as the first argument",
            demo.display()
        ));
    }
    eprintln!(
        "Copying {} and migrating the copy tenant-first (once)…",
        demo.display()
    );
    let partial = root.join("pos-typical-tenant-first.db.partial");
    std::fs::copy(&demo, &partial).map_err(|e| format!("cannot copy the demo database: {e}"))?;
    let options = MigrateOptions {
        layout: Layout::TenantFirst,
        backup: Some(root.join("pos-typical-tenant-first.db.backup")),
        ..MigrateOptions::default()
    };
    tenantry_migrate::migrate(&partial, &options, &mut |_| {}).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, &served).map_err(|e| e.to_string())?;
    Ok(served)
}

/// Requests carry their store in `X-Tenant-ID`, trusted from this machine only (the
/// service would sit behind a proxy on it); the stores are the demo's.
pub fn tenancy() -> Tenancy {
    Tenancy::new(
        TrustedHeader::new("x-tenant-id", [std::net::Ipv4Addr::LOCALHOST.into()]),
        Registry::listed(STORES),
    )
}

/// What to try, printed at start.
pub fn usage(framework: &str, db: &Path) -> String {
    format!(
        "{framework} point-of-sale service on http://{ADDR}, database {db}\n\
         Try:\n  \
         curl -H 'X-Tenant-ID: caps-automotive' http://{ADDR}/customers\n  \
         curl -H 'X-Tenant-ID: second-store' -X POST 'http://{ADDR}/products?sku=BRK-001&name=Brake%20pads&price=39.5'\n  \
         curl -H 'X-Tenant-ID: second-store' -X POST 'http://{ADDR}/sales?sku=BRK-001&qty=2'\n  \
         curl -H 'X-Tenant-ID: caps-automotive' http://{ADDR}/reports/categories\n  \
         curl http://{ADDR}/customers   (no store: 401)",
        db = db.display()
    )
}

/// `GET /customers`: the first customers by name.
pub async fn customers(pool: &TenantPool) -> Result<Value, Failure> {
    let rows = sqlx::query(
        "SELECT id, first_name, last_name, phone FROM customers \
         ORDER BY last_name, first_name LIMIT 20",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({
                "id": r.get::<String, _>(0),
                "name": format!("{} {}", r.get::<String, _>(1), r.get::<String, _>(2)),
                "phone": r.get::<Option<String>, _>(3),
            })
        })
        .collect())
}

/// `POST /products?sku=&name=&price=`: a product and its stock row, in one transaction.
pub async fn add_product(
    pool: &TenantPool,
    sku: &str,
    name: &str,
    price: f64,
) -> Result<Value, Failure> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query("INSERT INTO products (sku, name, price) VALUES (?, ?, ?)")
        .bind(sku)
        .bind(name)
        .bind(price)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
    sqlx::query(
        "INSERT INTO inventory (product_id, quantity_on_hand, reorder_point) VALUES (?, 10, 2)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(json!({ "id": id, "sku": sku, "name": name, "price": price, "on_hand": 10 }))
}

/// `POST /sales?sku=&qty=`: a sale across three tables in one transaction (the order,
/// its line, the stock movement, whose trigger lowers the stock).
pub async fn sell(pool: &TenantPool, sku: &str, qty: i64) -> Result<Value, Failure> {
    let mut tx = pool.begin().await?;
    let (product_id, price): (i64, f64) =
        sqlx::query_as("SELECT id, price FROM products WHERE sku = ?")
            .bind(sku)
            .fetch_one(&mut *tx)
            .await?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let order = format!("web-{nanos}");
    let cents = (price * 100.0).round() as i64 * qty;
    sqlx::query(
        "INSERT INTO work_orders (id, order_number, status, subtotal_cents, total_cents, created_at) \
         VALUES (?1, ?1, 'completed', ?2, ?2, datetime('now'))",
    )
    .bind(&order)
    .bind(cents)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO work_order_lines (work_order_id, line_no, line_type, product_id, description, \
         quantity, unit_price_cents, created_at) VALUES (?, 1, 'part', ?, ?, ?, ?, datetime('now'))",
    )
    .bind(&order)
    .bind(product_id)
    .bind(sku)
    .bind(qty as f64)
    .bind((price * 100.0).round() as i64)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO inventory_transactions (product_id, quantity_change, kind, work_order_id, created_at) \
         VALUES (?, ?, 'sale', ?, datetime('now'))",
    )
    .bind(product_id)
    .bind(-qty)
    .bind(&order)
    .execute(&mut *tx)
    .await?;
    let on_hand: i64 =
        sqlx::query_scalar("SELECT quantity_on_hand FROM inventory WHERE product_id = ?")
            .bind(product_id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(json!({ "order": order, "sku": sku, "qty": qty, "total_cents": cents, "on_hand": on_hand }))
}

/// `GET /reports/categories`: revenue of part lines by product category (joins and
/// aggregates).
pub async fn category_report(pool: &TenantPool) -> Result<Value, Failure> {
    let rows = sqlx::query(
        "SELECT c.name, count(*) AS lines, sum(l.quantity * l.unit_price_cents) / 100.0 AS revenue \
         FROM work_order_lines l \
         JOIN products p ON p.id = l.product_id \
         JOIN product_categories c ON c.id = p.category_id \
         WHERE l.line_type = 'part' \
         GROUP BY c.name ORDER BY revenue DESC LIMIT 10",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({
                "category": r.get::<String, _>(0),
                "lines": r.get::<i64, _>(1),
                "revenue": r.get::<f64, _>(2),
            })
        })
        .collect())
}
