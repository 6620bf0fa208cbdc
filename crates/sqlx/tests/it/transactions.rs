//! Transactions, connections held across statements and `QueryBuilder`, on the tenant pool:
//! each statement runs for the tenant the transaction or connection was taken for.

use sqlx::{QueryBuilder, Sqlite};
use tenantry_migrate::{DEFAULT_TENANT, Layout};
use tenantry_sqlx::{Error, TenantPool, scope};

use crate::support::{B, shop, tenant, url};

/// A sale that writes two tables: a new product, then its stock under the new product's
/// key, as legacy code reads it (`last_insert_rowid`). Returns the product's key.
async fn sell_new_product(tx: &mut tenantry_sqlx::Transaction<'_>, sku: &str) -> i64 {
    let id = sqlx::query("INSERT INTO products (sku, name, price) VALUES (?, 'Brake pads', 39.0)")
        .bind(sku)
        .execute(&mut **tx)
        .await
        .expect("insert product")
        .last_insert_rowid();
    sqlx::query("INSERT INTO stock (product_id, qty) VALUES (?, 3)")
        .bind(id)
        .execute(&mut **tx)
        .await
        .expect("insert stock");
    id
}

async fn products(pool: &TenantPool, store: &str) -> Vec<(i64, String, i64)> {
    sqlx::query_as(
        "SELECT p.id, p.sku, s.qty FROM products p JOIN stock s ON s.product_id = p.id ORDER BY p.id",
    )
    .fetch_all(&pool.with_tenant(tenant(store)))
    .await
    .expect("products")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_in_a_transaction_is_the_tenants_own_and_commits_or_rolls_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::TenantFirst)))
        .await
        .unwrap();
    // Both stores sell a new product with the same SKU, each in its own transaction, the
    // tenant taken from the task.
    for store in [DEFAULT_TENANT, B] {
        scope(tenant(store), async {
            let mut tx = pool.begin().await.unwrap();
            sell_new_product(&mut tx, "BRK-001").await;
            tx.commit().await.unwrap();
        })
        .await;
    }
    let a = [(1, "OIL-5W30".to_owned(), 12), (2, "BRK-001".to_owned(), 3)];
    // B's first product gets B's first key.
    let b = [(1, "BRK-001".to_owned(), 3)];
    assert_eq!(products(&pool, DEFAULT_TENANT).await, a);
    assert_eq!(products(&pool, B).await, b);

    // Rolled back, or dropped without a commit: nothing of it stays.
    let mut tx = pool.with_tenant(tenant(B)).begin().await.unwrap();
    sell_new_product(&mut tx, "WIP-1").await;
    sqlx::query("UPDATE stock SET qty = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut tx = pool.with_tenant(tenant(B)).begin().await.unwrap();
    sell_new_product(&mut tx, "WIP-2").await;
    drop(tx);
    assert_eq!(products(&pool, B).await, b);
    assert_eq!(products(&pool, DEFAULT_TENANT).await, a);

    // The transaction keeps its tenant, whatever the task's tenant is meanwhile.
    let mut tx = pool.with_tenant(tenant(B)).begin().await.unwrap();
    let seen: Vec<String> = scope(tenant(DEFAULT_TENANT), async {
        sqlx::query_scalar("SELECT sku FROM products")
            .fetch_all(&mut *tx)
            .await
    })
    .await
    .unwrap();
    assert_eq!(seen, ["BRK-001"]);
    assert_eq!(tx.tenant(), &tenant(B));
}

/// A transaction nested in another (`tx.begin()`, a savepoint, as on sqlx's own
/// transactions) runs for the same tenant; rolled back it is undone alone, committed its
/// work stays with the outer transaction's. (Legacy code calling `tx.begin()` did not
/// compile.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_transaction_is_a_savepoint_of_the_same_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::TenantFirst)))
        .await
        .unwrap();
    let mut tx = pool.with_tenant(tenant(B)).begin().await.unwrap();
    sell_new_product(&mut tx, "KEPT-1").await;
    let mut undone = tx.begin().await.unwrap();
    assert_eq!(undone.tenant(), &tenant(B));
    sell_new_product(&mut undone, "UNDONE").await;
    undone.rollback().await.unwrap();
    let mut joined = tx.begin().await.unwrap();
    sell_new_product(&mut joined, "KEPT-2").await;
    joined.commit().await.unwrap();
    tx.commit().await.unwrap();
    let skus: Vec<String> = products(&pool, B)
        .await
        .into_iter()
        .map(|(_, sku, _)| sku)
        .collect();
    assert_eq!(skus, ["KEPT-1", "KEPT-2"]);
    assert_eq!(products(&pool, DEFAULT_TENANT).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tenant_no_transaction_or_connection_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::Column)))
        .await
        .unwrap();
    let err = pool.begin().await.unwrap_err();
    assert!(matches!(Error::of(&err), Some(Error::NoTenant)), "{err}");
    let err = pool.acquire().await.unwrap_err();
    assert!(matches!(Error::of(&err), Some(Error::NoTenant)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_connection_and_its_transaction_run_for_its_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::Column)))
        .await
        .unwrap();
    let mut conn = pool.with_tenant(tenant(B)).acquire().await.unwrap();
    sqlx::query("INSERT INTO products (sku, name, price) VALUES ('TIRE-1', 'Tire', 90)")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("UPDATE products SET price = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let skus: Vec<(String, f64)> = sqlx::query_as("SELECT sku, price FROM products")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(skus, [("TIRE-1".to_owned(), 1.0)]);
    drop(conn);
    let a: Vec<(String, f64)> = sqlx::query_as("SELECT sku, price FROM products")
        .fetch_all(&pool.with_tenant(tenant(DEFAULT_TENANT)))
        .await
        .unwrap();
    assert_eq!(a, [("OIL-5W30".to_owned(), 24.5)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_builder_statements_are_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::TenantFirst)))
        .await
        .unwrap();
    let mut insert: QueryBuilder<Sqlite> =
        QueryBuilder::new("INSERT INTO products (sku, name, price) ");
    insert.push_values(
        [("OIL-5W30", "B's oil", 20.0), ("FLT-9", "Filter", 7.5)],
        |mut row, p| {
            row.push_bind(p.0).push_bind(p.1).push_bind(p.2);
        },
    );
    scope(tenant(B), async { insert.build().execute(&pool).await })
        .await
        .unwrap();

    let names = |store: &'static str| {
        let pool = pool.clone();
        async move {
            let mut select: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT name FROM products WHERE sku IN (");
            let mut list = select.separated(", ");
            for sku in ["OIL-5W30", "FLT-9"] {
                list.push_bind(sku);
            }
            select.push(") ORDER BY name");
            scope(tenant(store), async {
                select.build_query_scalar::<String>().fetch_all(&pool).await
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(names(B).await, ["B's oil", "Filter"]);
    assert_eq!(names(DEFAULT_TENANT).await, ["Motor oil"]);
}

/// Legacy helpers that take `&mut SqliteConnection`, as sqlx services write them, with
/// only their import changed: they accept the tenant pool's transaction (`&mut *tx`) and
/// held connection (`&mut *conn`) alike, and `conn.begin()` inside one begins a
/// transaction (or a savepoint) of the same tenant.
mod legacy_helpers {
    use tenantry_sqlx::SqliteConnection; // was: use sqlx::SqliteConnection;

    pub async fn skus(conn: &mut SqliteConnection) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT sku FROM products ORDER BY sku")
            .fetch_all(conn)
            .await
    }

    pub async fn reprice(conn: &mut SqliteConnection, price: f64) -> Result<u64, sqlx::Error> {
        let mut tx = conn.begin().await?;
        let done = sqlx::query("UPDATE products SET price = ?")
            .bind(price)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(done)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpers_taking_a_sqlite_connection_take_transactions_and_held_connections() {
    use legacy_helpers::{reprice, skus};
    for layout in [Layout::Column, Layout::TenantFirst] {
        let dir = tempfile::tempdir().unwrap();
        let pool = TenantPool::connect(&url(&shop(dir.path(), layout)))
            .await
            .unwrap();
        let b = pool.with_tenant(tenant(B));
        let mut conn = b.acquire().await.unwrap();
        sqlx::query("INSERT INTO products (sku, name, price) VALUES ('TIRE-1', 'Tire', 90)")
            .execute(&mut *conn)
            .await
            .unwrap();
        assert_eq!(skus(&mut conn).await.unwrap(), ["TIRE-1"], "{layout:?}");
        assert_eq!(reprice(&mut conn, 2.0).await.unwrap(), 1, "{layout:?}");
        drop(conn);

        let mut tx = b.begin().await.unwrap();
        assert_eq!(skus(&mut tx).await.unwrap(), ["TIRE-1"], "{layout:?}");
        // A savepoint inside the transaction, rolled back with it.
        assert_eq!(reprice(&mut tx, 3.0).await.unwrap(), 1, "{layout:?}");
        tx.rollback().await.unwrap();

        let prices = |store| {
            let pool = &pool;
            async move {
                sqlx::query_as::<_, (String, f64)>("SELECT sku, price FROM products")
                    .fetch_all(&pool.with_tenant(tenant(store)))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(prices(B).await, [("TIRE-1".to_owned(), 2.0)], "{layout:?}");
        assert_eq!(
            prices(DEFAULT_TENANT).await,
            [("OIL-5W30".to_owned(), 24.5)],
            "{layout:?}"
        );
    }
}
