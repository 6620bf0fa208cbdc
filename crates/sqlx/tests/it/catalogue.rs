//! The POS catalogue through sqlx: every read, for each of three tenants, returns exactly what
//! plain sqlx returns on that tenant's own legacy database (tenant-first); as A among copies
//! of its rows with other amounts, what plain rusqlite returns on A's rows alone (column
//! layout); a statement with no tenant is refused; B's writes leave A's rows as they were.

use rusqlite::types::Value;
use sqlx::{Column, Row};
use tenantry_migrate::DEFAULT_TENANT;
use tenantry_rewrite::TenantId;
use tenantry_sqlx::{Error, TenantPool, scope};

use crate::support::{B, bind, fixture, per_tenant_fixture, plain, values};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalogue_read_as_a_returns_what_a_alone_returns() {
    let dir = tempfile::tempdir().unwrap();
    let (only_a, three) = fixture(dir.path());
    let legacy = rusqlite::Connection::open(&only_a).unwrap();
    let pool = TenantPool::connect(&format!("sqlite://{}", three.display()))
        .await
        .unwrap();
    let a = TenantId::new(DEFAULT_TENANT).unwrap();
    let mut compared = 0;
    for query in tenantry_fixtures::catalogue() {
        if !query.class.is_read_only() {
            continue;
        }
        let params = tenantry_fixtures::sample_params(&legacy, query).unwrap();
        let (names, expected) = plain(&legacy, query.sql, &params);
        let rows = scope(a.clone(), async {
            bind(sqlx::query(query.sql), &params).fetch_all(&pool).await
        })
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", query.name));
        let got: Vec<Vec<Value>> = rows.iter().map(values).collect();
        assert_eq!(got, expected, "{}", query.name);
        if let Some(row) = rows.first() {
            let got_names: Vec<String> =
                row.columns().iter().map(|c| c.name().to_owned()).collect();
            assert_eq!(got_names, names, "{}", query.name);
        }
        compared += 1;
    }
    assert_eq!(compared, 22);
}

/// Each of three tenants, whose rows differ, on the tenant-first schema: every catalogue
/// read through the tenant pool returns what plain sqlx returns on that tenant's own
/// legacy database (same column names, same values, same order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalogue_read_for_each_tenant_equals_plain_sqlx_on_its_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (alone, shared) = per_tenant_fixture(dir.path());
    let pool = TenantPool::connect(&format!("sqlite://{}", shared.display()))
        .await
        .unwrap();
    let legacy = rusqlite::Connection::open(&alone[0].1).unwrap();
    let mut compared = 0;
    for (tenant, own) in &alone {
        let plain_pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", own.display()))
            .await
            .unwrap();
        for query in tenantry_fixtures::catalogue() {
            if !query.class.is_read_only() {
                continue;
            }
            let params = tenantry_fixtures::sample_params(&legacy, query).unwrap();
            let expected = bind(sqlx::query(query.sql), &params)
                .fetch_all(&plain_pool)
                .await
                .unwrap_or_else(|e| panic!("{} on plain sqlx: {e}", query.name));
            let got = scope(TenantId::new(tenant).unwrap(), async {
                bind(sqlx::query(query.sql), &params).fetch_all(&pool).await
            })
            .await
            .unwrap_or_else(|e| panic!("{} as {tenant}: {e}", query.name));
            let rows = |rows: &[sqlx::sqlite::SqliteRow]| -> Vec<Vec<Value>> {
                rows.iter().map(values).collect()
            };
            assert_eq!(rows(&got), rows(&expected), "{} as {tenant}", query.name);
            if let (Some(g), Some(e)) = (got.first(), expected.first()) {
                let names = |r: &sqlx::sqlite::SqliteRow| -> Vec<String> {
                    r.columns().iter().map(|c| c.name().to_owned()).collect()
                };
                assert_eq!(names(g), names(e), "{} as {tenant}", query.name);
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 3 * 22);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tenant_is_refused_and_b_changes_none_of_as_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (_, three) = fixture(dir.path());
    let pool = TenantPool::connect(&format!("sqlite://{}", three.display()))
        .await
        .unwrap();
    let err = sqlx::query("UPDATE customers SET notes = 'x'")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(matches!(Error::of(&err), Some(Error::NoTenant)), "{err}");
    // A task spawned from a scoped one does not inherit its tenant.
    let b = TenantId::new(B).unwrap();
    let spawned = scope(b.clone(), {
        let pool = pool.clone();
        async move {
            tokio::spawn(async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM customers")
                    .fetch_one(&pool)
                    .await
            })
            .await
            .unwrap()
        }
    })
    .await;
    assert!(
        matches!(
            spawned.as_ref().map_err(Error::of),
            Err(Some(Error::NoTenant))
        ),
        "{spawned:?}"
    );

    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM customers WHERE notes = 'x'")
        .fetch_one(&pool.with_tenant(TenantId::new(DEFAULT_TENANT).unwrap()))
        .await
        .unwrap();
    let changed = scope(b, async {
        sqlx::query("UPDATE customers SET notes = 'x'")
            .execute(&pool)
            .await
    })
    .await
    .unwrap()
    .rows_affected();
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(&pool.with_tenant(TenantId::new(B).unwrap()))
        .await
        .unwrap();
    assert_eq!(changed as i64, all, "B changed its own rows");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM customers WHERE notes = 'x'")
        .fetch_one(&pool.with_tenant(TenantId::new(DEFAULT_TENANT).unwrap()))
        .await
        .unwrap();
    assert_eq!(after, before, "A's rows are as they were");
    // A refused statement says why, typed.
    let err = scope(TenantId::new(B).unwrap(), async {
        sqlx::query("DROP TABLE customers").execute(&pool).await
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            Error::refusal(&err),
            Some(tenantry_rewrite::Refusal::SchemaChange { .. })
        ),
        "{err}"
    );
}
