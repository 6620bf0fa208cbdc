//! What every pooled connection carries besides the rewriter: SQLite's authorizer (the
//! guard), the check of tenant values when a statement runs, and a schema read again after
//! it changes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenantry_migrate::{DEFAULT_TENANT, Layout};
use tenantry_rewrite::Refusal;
use tenantry_sqlx::{Error, TenantPool, scope};

use crate::support::{B, shop, skus, tenant, url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pooled_connection_carries_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let path = shop(dir.path(), Layout::Column);
    let pool = TenantPool::connect_with(
        SqlitePoolOptions::new()
            .max_connections(3)
            .min_connections(0),
        SqliteConnectOptions::new().filename(&path),
    )
    .await
    .unwrap();
    // Three connections at once, so the pool opens three; even the unscoped pool's
    // statements meet the guard: no schema change, no tenant column written.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(pool.unscoped().acquire().await.unwrap());
    }
    for conn in &mut held {
        for sql in [
            "CREATE TABLE notes (body TEXT)",
            "DROP TABLE stock",
            "UPDATE products SET tenant_id = 'store-b'",
        ] {
            let err = sqlx::query(sql).execute(&mut **conn).await.unwrap_err();
            assert!(err.to_string().contains("not authorized"), "{sql}: {err}");
        }
    }
    drop(held);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM products WHERE tenant_id = ?")
        .bind(DEFAULT_TENANT)
        .fetch_one(pool.unscoped())
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_value_the_statement_gives_is_checked_when_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let pool = TenantPool::connect(&url(&shop(dir.path(), Layout::Column)))
        .await
        .unwrap();
    let insert = "INSERT INTO products (sku, name, price, tenant_id) VALUES ('X-1', 'x', 1, ?)";
    scope(tenant(B), async {
        sqlx::query(insert).bind(B).execute(&pool).await.unwrap();
        let err = sqlx::query(insert)
            .bind(DEFAULT_TENANT)
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(DEFAULT_TENANT), "{err}");
    })
    .await;
    assert_eq!(skus(&pool, DEFAULT_TENANT).await, ["OIL-5W30"]);
    assert_eq!(skus(&pool, B).await, ["X-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declaration_removed_while_the_pool_is_open_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let path = shop(dir.path(), Layout::Column);
    let pool = TenantPool::connect(&url(&path)).await.unwrap();
    let read = || async {
        sqlx::query_scalar::<_, String>("SELECT symbol FROM currencies ORDER BY code")
            .fetch_all(&pool.with_tenant(tenant(B)))
            .await
    };
    assert_eq!(read().await.unwrap(), ["E", "$"]);
    let admin = rusqlite::Connection::open(&path).unwrap();
    tenantry_migrate::undeclare_global(&admin, &["currencies"]).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let err = read().await.unwrap_err();
    assert!(
        matches!(Error::refusal(&err), Some(Refusal::UndeclaredTable { .. })),
        "{err}"
    );
}

/// An in-memory database the application built and migrated at start-up (rusqlite), kept
/// open, served by the tenant pool through shared cache; a plain `:memory:` URL gives each
/// pooled connection an empty database of its own, which is refused as not migrated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_database_is_served_through_shared_cache() {
    let name = "file:tenantry-sqlx-memory?mode=memory&cache=shared";
    let flags = rusqlite::OpenFlags::default() | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let mut keeper = rusqlite::Connection::open_with_flags(name, flags).unwrap();
    keeper
        .execute_batch(tenantry_testkit::shop::SCHEMA)
        .unwrap();
    let options = tenantry_migrate::MigrateOptions {
        skip_backup: true,
        ..Default::default()
    };
    tenantry_migrate::migrate_connection(&mut keeper, &options, &mut |_| {}).unwrap();
    let connect = SqliteConnectOptions::from_str(&format!("sqlite:{name}")).unwrap();
    let pool = TenantPool::connect_with(SqlitePoolOptions::new().max_connections(2), connect)
        .await
        .unwrap();
    assert_eq!(skus(&pool, DEFAULT_TENANT).await, ["OIL-5W30"]);
    assert!(skus(&pool, B).await.is_empty());

    let err = TenantPool::connect("sqlite::memory:").await.unwrap_err();
    assert!(
        matches!(Error::of(&err), Some(Error::NotMigrated { .. })),
        "{err}"
    );
}
