//! sqlx's compile-time checked macros on the tenant pool: `query!`, `query_as!` and
//! `query_scalar!` are checked against the legacy schema when the tests are built (the
//! query data in `crates/sqlx/.sqlx`, made from `tenantry_testkit::shop`'s schema by
//! `prepare-macros.sh`; no database is needed to build) and run scoped.

use tenantry_migrate::{DEFAULT_TENANT, Layout};
use tenantry_sqlx::{TenantPool, scope};

use crate::support::{B, shop, tenant, url};

/// A row `query_as!` fills, as legacy code declares it.
#[derive(Debug, PartialEq)]
struct Product {
    sku: String,
    name: String,
    price: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checked_macros_run_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::TenantFirst)))
        .await
        .unwrap();
    scope(tenant(B), async {
        let added = sqlx::query!(
            "INSERT INTO products (sku, name, price) VALUES (?, ?, ?)",
            "OIL-5W30",
            "B's oil",
            19.5
        )
        .execute(&pool)
        .await
        .unwrap();
        // B's first product, B's first key, with A's SKU.
        assert_eq!(added.last_insert_rowid(), 1);
        let rows = sqlx::query!("SELECT id, sku, price FROM products WHERE price < ?", 100.0)
            .fetch_all(&pool)
            .await
            .unwrap();
        let rows: Vec<(i64, String, f64)> =
            rows.into_iter().map(|r| (r.id, r.sku, r.price)).collect();
        assert_eq!(rows, [(1, "OIL-5W30".to_owned(), 19.5)]);
    })
    .await;
    let a = scope(tenant(DEFAULT_TENANT), async {
        sqlx::query_as!(
            Product,
            "SELECT sku, name, price FROM products ORDER BY sku"
        )
        .fetch_all(&pool)
        .await
    })
    .await
    .unwrap();
    assert_eq!(
        a,
        [Product {
            sku: "OIL-5W30".into(),
            name: "Motor oil".into(),
            price: 24.5
        }]
    );
    let qty = sqlx::query_scalar!("SELECT qty FROM stock WHERE product_id = ?", 1_i64)
        .fetch_optional(&pool.with_tenant(tenant(B)))
        .await
        .unwrap();
    assert_eq!(qty, None, "B has no stock row");
    // Without a tenant, the checked macro is refused like any statement.
    let err = sqlx::query_scalar!("SELECT count(*) FROM products")
        .fetch_one(&pool)
        .await
        .unwrap_err();
    assert!(
        matches!(
            tenantry_sqlx::Error::of(&err),
            Some(tenantry_sqlx::Error::NoTenant)
        ),
        "{err}"
    );
}
