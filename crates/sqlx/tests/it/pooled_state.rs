//! What a pooled connection carries from one request to the next: no transaction, no
//! setting a statement changed, and no schema older than the transaction it runs.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenantry_migrate::{DEFAULT_TENANT, Layout, MigrateOptions};
use tenantry_sqlx::{Error, TenantPool};

use crate::support::{B, shop, skus, tenant};

/// The shop migrated with `layout`, in a folder of its own, and a pool of one connection
/// on it: every request gets the connection the previous one used, if the pool keeps it.
async fn one_connection_shop(
    layout: Layout,
) -> (tempfile::TempDir, std::path::PathBuf, TenantPool) {
    let dir = tempfile::tempdir().unwrap();
    let path = shop(dir.path(), layout);
    let pool = TenantPool::connect_with(
        SqlitePoolOptions::new().max_connections(1),
        SqliteConnectOptions::new().filename(&path),
    )
    .await
    .unwrap();
    (dir, path, pool)
}

/// Inserts product `sku` through `executor`; what sqlx reports of it.
async fn add_product<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    sku: &str,
) -> sqlx::sqlite::SqliteQueryResult {
    sqlx::query("INSERT INTO products (sku, name, price) VALUES (?, 'x', 1)")
        .bind(sku.to_owned())
        .execute(executor)
        .await
        .unwrap()
}

/// Scopes `currencies`, global until now, while `pool` is open: undeclared, then migrated
/// (its rows go to the default tenant), as a release of the application would.
fn scope_currencies(path: &std::path::Path) {
    let admin = rusqlite::Connection::open(path).unwrap();
    tenantry_migrate::undeclare_global(&admin, &["currencies"]).unwrap();
    drop(admin);
    let options = MigrateOptions {
        skip_backup: true,
        ..MigrateOptions::default()
    };
    tenantry_migrate::migrate(path, &options, &mut |_| {}).unwrap();
}

/// In `tx`: the currencies read, and how many an UPDATE of all of them changed; committed.
async fn read_and_overwrite(mut tx: tenantry_sqlx::Transaction<'_>) -> (Vec<String>, u64) {
    let seen: Vec<String> = sqlx::query_scalar("SELECT symbol FROM currencies ORDER BY code")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let changed = sqlx::query("UPDATE currencies SET symbol = 'B'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (seen, changed.rows_affected())
}

/// A table scoped while the pool is open is scoped in the next transaction, begun on the
/// pool or on a held connection, at once: B reads none of the default tenant's rows and
/// changes none. (Transactions never looked at the schema, and used up the look of the
/// statements around them: B read and overwrote the other tenant's rows.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_scoped_while_the_pool_is_open_is_scoped_in_the_next_transaction() {
    for held in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = shop(dir.path(), Layout::Column);
        let pool = TenantPool::connect_with(
            SqlitePoolOptions::new().max_connections(2),
            SqliteConnectOptions::new().filename(&path),
        )
        .await
        .unwrap();
        let b = pool.with_tenant(tenant(B));
        let global: Vec<String> = sqlx::query_scalar("SELECT symbol FROM currencies ORDER BY code")
            .fetch_all(&b)
            .await
            .unwrap();
        assert_eq!(global, ["E", "$"]);
        let mut conn = b.acquire().await.unwrap();

        scope_currencies(&path);
        let (seen, changed) = if held {
            read_and_overwrite(conn.begin().await.unwrap()).await
        } else {
            read_and_overwrite(b.begin().await.unwrap()).await
        };
        assert!(seen.is_empty(), "held {held}: B read {seen:?}");
        assert_eq!(changed, 0, "held {held}");
        drop(conn);
        let owner: Vec<(String, String)> = rusqlite::Connection::open(&path)
            .unwrap()
            .prepare("SELECT symbol, tenant_id FROM currencies ORDER BY code")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let a = DEFAULT_TENANT.to_owned();
        assert_eq!(owner, [("E".to_owned(), a.clone()), ("$".to_owned(), a)]);
    }
}

/// BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE through the pool itself are refused: the
/// transaction would stay open on a connection the pool hands to the next request. (A's
/// BEGIN was accepted, B's INSERT then ran inside it, and A's ROLLBACK discarded it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_statement_through_the_pool_is_refused() {
    let (_dir, path, pool) = one_connection_shop(Layout::Column).await;
    let a = pool.with_tenant(tenant(DEFAULT_TENANT));
    let refused = |sql: &'static str| {
        let a = &a;
        async move {
            let err = sqlx::query(sql).execute(a).await.unwrap_err();
            assert!(
                matches!(Error::of(&err), Some(Error::TransactionOnPool)),
                "{sql}: {err}"
            );
        }
    };
    refused("BEGIN").await;
    let b = pool.with_tenant(tenant(B));
    add_product(&b, "B-1").await;
    refused("ROLLBACK").await;
    for sql in [
        "BEGIN IMMEDIATE",
        "SAVEPOINT s",
        "RELEASE s",
        "COMMIT",
        "END",
    ] {
        refused(sql).await;
    }
    let plain = rusqlite::Connection::open(&path).unwrap();
    let kept: i64 = plain
        .query_row("SELECT count(*) FROM products WHERE sku = 'B-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, 1);
}

/// A connection on which a statement changed a setting, or left a transaction open, is
/// closed when it goes back to the pool: the next request, another tenant's, gets a
/// connection as the pool opens them. (A's `query_only` refused B's writes; A's
/// `foreign_keys = OFF` let B insert an orphan; B's INSERT ran inside the transaction A
/// left open on a held connection, never committed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_open_transactions_do_not_reach_the_next_request() {
    let (_dir, path, pool) = one_connection_shop(Layout::Column).await;
    let a = pool.with_tenant(tenant(DEFAULT_TENANT));
    let b = pool.with_tenant(tenant(B));

    sqlx::query("PRAGMA query_only = ON")
        .execute(&a)
        .await
        .unwrap();
    add_product(&b, "B-1").await;

    let mut held = a.acquire().await.unwrap();
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *held)
        .await
        .unwrap();
    drop(held);
    let orphan = sqlx::query("INSERT INTO stock (product_id, qty) VALUES (999, 1)")
        .execute(&b)
        .await
        .unwrap_err();
    assert!(orphan.to_string().contains("FOREIGN KEY"), "{orphan}");

    let mut held = a.acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *held).await.unwrap();
    add_product(&mut *held, "A-OPEN").await;
    drop(held);
    add_product(&b, "B-2").await;
    let plain = rusqlite::Connection::open(&path).unwrap();
    let skus: Vec<String> = plain
        .prepare("SELECT sku FROM products WHERE sku IN ('A-OPEN', 'B-1', 'B-2') ORDER BY sku")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(skus, ["B-1", "B-2"]);
}

/// The key another request inserted last on a pooled connection is not the next request's
/// to read: an INSERT that inserts nothing, an UPDATE, a DELETE and a SELECT report 0, as
/// does `last_insert_rowid()` read through the pool or first thing on a held connection; a held connection reports its own
/// INSERT's key to its next statement. (B read A's key, on the tenant-first layout A's own
/// key counter.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_key_another_request_inserted_is_not_reported() {
    let (_dir, _path, pool) = one_connection_shop(Layout::TenantFirst).await;
    let a = pool.with_tenant(tenant(DEFAULT_TENANT));
    let b = pool.with_tenant(tenant(B));
    let inserted = add_product(&a, "A-2").await;
    assert_eq!(inserted.last_insert_rowid(), 2);
    let none = sqlx::query("INSERT INTO products (sku, name, price) SELECT 'B-0', 'b', 1 WHERE 0")
        .execute(&b)
        .await
        .unwrap();
    assert_eq!((none.rows_affected(), none.last_insert_rowid()), (0, 0));
    // sqlx reports the connection's last key after any statement.
    for sql in [
        "UPDATE products SET name = name WHERE 0",
        "DELETE FROM products WHERE 0",
        "SELECT 1",
    ] {
        add_product(&a, sql).await;
        let done = sqlx::query(sql).execute(&b).await.unwrap();
        assert_eq!(done.last_insert_rowid(), 0, "{sql}");
    }
    let read = "SELECT last_insert_rowid()";
    add_product(&a, "A-3").await;
    let through_pool: i64 = sqlx::query_scalar(read).fetch_one(&b).await.unwrap();
    assert_eq!(through_pool, 0);
    add_product(&a, "A-4").await;
    let mut held = b.acquire().await.unwrap();
    let first: i64 = sqlx::query_scalar(read)
        .fetch_one(&mut *held)
        .await
        .unwrap();
    assert_eq!(first, 0);
    add_product(&mut *held, "B-1").await;
    let own: i64 = sqlx::query_scalar(read)
        .fetch_one(&mut *held)
        .await
        .unwrap();
    assert_eq!(own, 1);
}

/// The rows another request changed are not the next request's to count: through the
/// pool and first thing on a held connection, `changes()` and `total_changes()` read 0
/// after A's UPDATE of two rows (they read 2 and 2); a held connection counts its own
/// statements, and sqlx's `rows_affected()` reports each statement's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rows_another_request_changed_are_not_counted() {
    let (_dir, _path, pool) = one_connection_shop(Layout::TenantFirst).await;
    let a = pool.with_tenant(tenant(DEFAULT_TENANT));
    let b = pool.with_tenant(tenant(B));
    add_product(&b, "B-1").await;
    add_product(&a, "A-2").await;
    let read = "SELECT changes(), total_changes()";
    let touch = "UPDATE products SET name = name || '!'";
    let touched = sqlx::query(touch).execute(&a).await.unwrap();
    assert_eq!(touched.rows_affected(), 2);
    let through_pool: (i64, i64) = sqlx::query_as(read).fetch_one(&b).await.unwrap();
    assert_eq!(through_pool, (0, 0));
    sqlx::query(touch).execute(&a).await.unwrap();
    let mut held = b.acquire().await.unwrap();
    let first: (i64, i64) = sqlx::query_as(read).fetch_one(&mut *held).await.unwrap();
    assert_eq!(first, (0, 0));
    let own = sqlx::query(touch).execute(&mut *held).await.unwrap();
    assert_eq!(own.rows_affected(), 1);
    let after: (i64, i64) = sqlx::query_as(read).fetch_one(&mut *held).await.unwrap();
    assert_eq!(after, (1, 1));
    drop(held);
    // sqlx reports SQLite's count for a statement that is not read-only (a checkpoint),
    // and SQLite restores it when a trigger ends (the key-counter trigger of the
    // tenant-first layout); both read A's 2 before (red team 15).
    sqlx::query(touch).execute(&a).await.unwrap();
    let checkpoint = sqlx::query("PRAGMA wal_checkpoint")
        .execute(&b)
        .await
        .unwrap();
    assert_eq!(checkpoint.rows_affected(), 0);
    sqlx::query(touch).execute(&a).await.unwrap();
    let returned: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO products (sku, name, price) VALUES ('B-2', 'x', 1), ('B-3', 'x', 1) \
         RETURNING sku, changes()",
    )
    .fetch_all(&b)
    .await
    .unwrap();
    assert_eq!(returned, [("B-2".to_owned(), 0), ("B-3".to_owned(), 0)]);
}

/// A statement prepared through the pool (`Executor::prepare`) runs through it for the
/// tenant that runs it. (Its text, already rewritten, was rewritten again and failed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_prepared_through_the_pool_runs_for_each_tenant() {
    use sqlx::{Executor, Row, Statement};
    let (_dir, _path, pool) = one_connection_shop(Layout::Column).await;
    let a = pool.with_tenant(tenant(DEFAULT_TENANT));
    let b = pool.with_tenant(tenant(B));
    add_product(&b, "B-1").await;
    let stmt = (&a)
        .prepare(sqlx::SqlSafeStr::into_sql_str("SELECT sku FROM products"))
        .await
        .unwrap();
    for (executor, expected) in [(&a, "OIL-5W30"), (&b, "B-1")] {
        let rows = stmt.query().fetch_all(executor).await.unwrap();
        let skus: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(skus, [expected]);
    }
}

/// A pool whose connect options turn `query_only` on (a reporting pool) opens, reads each
/// tenant's rows, and stays read-only. Before, every new connection failed Tenantry's set-up
/// (its temporary table is a write) and the pool waited out its acquire timeout (red team
/// 21).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_whose_options_turn_query_only_on_reads_and_stays_read_only() {
    for layout in [Layout::Column, Layout::TenantFirst] {
        let dir = tempfile::tempdir().unwrap();
        let path = shop(dir.path(), layout);
        let pool = TenantPool::connect_with(
            SqlitePoolOptions::new()
                .max_connections(2)
                .acquire_timeout(std::time::Duration::from_secs(5)),
            SqliteConnectOptions::new()
                .filename(&path)
                .pragma("query_only", "ON"),
        )
        .await
        .unwrap_or_else(|e| panic!("{layout:?}: {e}"));
        let mut a = skus(&pool, DEFAULT_TENANT).await;
        a.sort();
        assert!(!a.is_empty(), "{layout:?}");
        assert!(skus(&pool, B).await.iter().all(|sku| !a.contains(sku)));
        let refused = sqlx::query("INSERT INTO products (sku, name, price) VALUES ('Q', 'q', 1)")
            .execute(&pool.with_tenant(tenant(B)))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("readonly"),
            "{layout:?}: {refused}"
        );
    }
}
