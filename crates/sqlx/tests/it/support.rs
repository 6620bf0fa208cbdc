//! Helpers the tests share: the three-tenant POS fixture, binding rusqlite values to a
//! sqlx query, reading a row back as rusqlite values, and plain rusqlite's answer.

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use sqlx::{Row, TypeInfo, ValueRef};
use tenantry_fixtures::{Interleave, POS_AMOUNT_COLUMNS, TenantCopy, copy_tenant};
use tenantry_migrate::{DEFAULT_TENANT, Layout, MigrateOptions, migrate};

/// The second tenant.
pub const B: &str = "store-b";
/// The third tenant.
pub const C: &str = "store-c";

/// The tiny POS fixture as A alone (`only-a.db`), and migrated with B and C holding copies
/// of A's rows (`three.db`).
pub fn fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let only_a = dir.join("only-a.db");
    let options = tenantry_fixtures::Options {
        size: tenantry_fixtures::Size::Tiny,
        seed: tenantry_fixtures::DEFAULT_SEED,
        overwrite: false,
    };
    tenantry_fixtures::generate(&only_a, &options, &mut |_| {}).expect("fixture");
    let three = dir.join("three.db");
    std::fs::copy(&only_a, &three).expect("copy");
    migrate(&three, &MigrateOptions::default(), &mut |_| {}).expect("migrate");
    let conn = rusqlite::Connection::open(&three).expect("open");
    copy_tenant(&conn, &TenantCopy::pos(DEFAULT_TENANT, B)).expect("copy A as B");
    copy_tenant(&conn, &TenantCopy::pos(DEFAULT_TENANT, C)).expect("copy A as C");
    (only_a, three)
}

/// Each tenant's own database, legacy schema, and the shared one: the tiny POS fixture
/// as A alone; B and C alone as A's rows with every amount of [`POS_AMOUNT_COLUMNS`]
/// raised by 1 and 2 (SQLite's UPDATE on a copy of A's file); and all three migrated
/// tenant-first into one database, B and C copied from A with the same keys and the same
/// raises. Each tenant's statements on the shared database must return what plain SQLite
/// returns on its own file.
pub fn per_tenant_fixture(dir: &Path) -> (Vec<(&'static str, PathBuf)>, PathBuf) {
    let (only_a, _) = fixture(dir);
    let mut alone = vec![(DEFAULT_TENANT, only_a.clone())];
    let shared = dir.join("tenant-first.db");
    std::fs::copy(&only_a, &shared).expect("copy");
    let options = MigrateOptions {
        layout: Layout::TenantFirst,
        backup: Some(dir.join("tenant-first.backup")),
        ..MigrateOptions::default()
    };
    migrate(&shared, &options, &mut |_| {}).expect("migrate tenant-first");
    let conn = rusqlite::Connection::open(&shared).expect("open");
    for (tenant, add) in [(B, 1), (C, 2)] {
        let own = dir.join(format!("only-{tenant}.db"));
        std::fs::copy(&only_a, &own).expect("copy");
        let legacy = rusqlite::Connection::open(&own).expect("open");
        for (table, column) in POS_AMOUNT_COLUMNS {
            legacy
                .execute(
                    &format!("UPDATE {table} SET {column} = {column} + {add}"),
                    [],
                )
                .expect("raise");
        }
        alone.push((tenant, own));
        let mut copy = TenantCopy::pos(DEFAULT_TENANT, tenant);
        for adjustment in &mut copy.adjustments {
            adjustment.add = add;
        }
        copy.interleave = Some(Interleave {
            stride: 1,
            slot: 0,
            base: 0,
        });
        copy_tenant(&conn, &copy).expect("copy A");
    }
    (alone, shared)
}

pub use tenantry_testkit::sqlx_values::bind;

/// A row's values as rusqlite's `Value`s, by the storage class SQLite reports.
pub fn values(row: &sqlx::sqlite::SqliteRow) -> Vec<Value> {
    (0..row.columns().len())
        .map(|i| {
            let raw = row.try_get_raw(i).expect("raw value");
            if raw.is_null() {
                return Value::Null;
            }
            match raw.type_info().name() {
                "INTEGER" => Value::Integer(row.try_get(i).expect("integer")),
                "REAL" => Value::Real(row.try_get(i).expect("real")),
                "BLOB" => Value::Blob(row.try_get(i).expect("blob")),
                _ => Value::Text(row.try_get(i).expect("text")),
            }
        })
        .collect()
}

/// Plain rusqlite's column names and rows for `sql`.
pub fn plain(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> (Vec<String>, Vec<Vec<Value>>) {
    let mut stmt = conn.prepare(sql).expect(sql);
    let names = stmt.column_names().map(str::to_owned).collect();
    let n = stmt.column_count();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            (0..n)
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .expect(sql)
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect(sql);
    (names, rows)
}

/// The URL sqlx opens `path` by.
pub fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The small shop (`tenantry_testkit::shop`), migrated with `layout`.
pub fn shop(dir: &Path, layout: tenantry_migrate::Layout) -> PathBuf {
    tenantry_testkit::shop::migrated(dir, layout)
}

/// A tenant by name.
pub fn tenant(name: &str) -> tenantry_rewrite::TenantId {
    tenantry_rewrite::TenantId::new(name).expect("tenant id")
}

/// `store`'s SKUs, read through `pool`.
pub async fn skus(pool: &tenantry_sqlx::TenantPool, store: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT sku FROM products")
        .fetch_all(&pool.with_tenant(tenant(store)))
        .await
        .expect("SKUs")
}
