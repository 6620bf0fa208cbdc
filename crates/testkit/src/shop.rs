//! A small shop for the async crates' tests: a tenant registry (`tenants`: A, B and C),
//! products with a unique SKU, stock per product, and a currency table every store shares
//! (declared global); A's first product. Its legacy schema is `shop.sql`, which the
//! `query!` macros of `tenantry-sqlx`'s tests are checked against.

use std::path::{Path, PathBuf};

use tenantry_migrate::{Layout, MigrateOptions, declare_global, migrate};

/// The legacy schema and A's rows.
pub const SCHEMA: &str = include_str!("shop.sql");

/// The tenants the registry lists: A (the migration's default tenant), B and C.
pub const TENANTS: [&str; 3] = [tenantry_migrate::DEFAULT_TENANT, "store-b", "store-c"];

/// The shop as `dir/shop.db`, migrated with `layout`.
///
/// # Panics
/// When the file cannot be made or migrated (a test's set-up).
pub fn migrated(dir: &Path, layout: Layout) -> PathBuf {
    let path = dir.join("shop.db");
    let conn = rusqlite::Connection::open(&path).expect("open the shop");
    conn.execute_batch(SCHEMA).expect("the shop's schema");
    declare_global(&conn, &["currencies"]).expect("declare currencies global");
    drop(conn);
    let options = MigrateOptions {
        layout,
        ..MigrateOptions::default()
    };
    migrate(&path, &options, &mut |_| {}).expect("migrate the shop");
    path
}
