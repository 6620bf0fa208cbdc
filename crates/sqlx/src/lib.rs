//! sqlx's SQLite pool, scoped: an async service keeps its `sqlx::query(…)` calls and
//! changes the pool's type, and every statement runs for the current tenant only, or is
//! refused.
//!
//! - [`TenantPool`] wraps a `sqlx::SqlitePool` of a migrated database. `&TenantPool` is a
//!   `sqlx::Executor`: `sqlx::query(sql).bind(…).fetch_all(&pool)`, `query_as`,
//!   `query_scalar` and `execute` run the rewriter's text for the tenant, with the bound
//!   arguments untouched.
//! - The tenant travels with the task: [`scope`] runs a future with a tenant, which
//!   follows every `.await` and is not inherited by tasks spawned elsewhere. With no
//!   tenant, every statement is refused. [`TenantPool::with_tenant`] is the explicit form.
//! - Transactions and held connections run for the tenant they were taken for:
//!   [`TenantPool::begin`] / [`TenantPool::acquire`] (the task's tenant) give a
//!   [`Transaction`] / [`PoolConnection`] that legacy code passes as `&mut *tx`.
//! - Every connection the pool opens carries the guard a tenant connection has (SQLite's
//!   authorizer), the check of tenant values and the reporting of tenant-first keys
//!   ([`tenantry_sqlite::PoolScope`]); the schema is read again after it changes.
//! - A pooled connection never keeps a tenant: the tenant is read for each statement.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("shop.db");
//! # rusqlite::Connection::open(&path)?.execute_batch(
//! #     "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);
//! #      INSERT INTO customers (name, tenant_id) VALUES ('Ada', 'store-1'), ('Bo', 'store-2');")?;
//! let pool = tenantry_sqlx::TenantPool::connect(&format!("sqlite://{}", path.display())).await?;
//! let tenant = tenantry_rewrite::TenantId::new("store-1")?;
//! let names: Vec<String> = tenantry_sqlx::scope(tenant, async {
//!     sqlx::query_scalar("SELECT name FROM customers").fetch_all(&pool).await
//! })
//! .await?;
//! assert_eq!(names, ["Ada"]);
//! // No tenant: refused, nothing runs.
//! let err = sqlx::query("DELETE FROM customers").execute(&pool).await.unwrap_err();
//! assert!(matches!(tenantry_sqlx::Error::of(&err), Some(tenantry_sqlx::Error::NoTenant)));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod connection;
mod context;
mod error;
mod executor;
mod pool;

pub use connection::{PoolConnection, ScopedConnection, Transaction};

/// The name legacy helpers give the connection they take: with the import changed to
/// `use tenantry_sqlx::SqliteConnection;`, a helper taking `&mut SqliteConnection` accepts
/// `&mut *tx` of a [`Transaction`] begun on the pool and `&mut *conn` of a
/// [`PoolConnection`] (see [`ScopedConnection`]). A transaction begun on a held connection
/// or nested in another borrows it, so a helper that must take those too names
/// `&mut ScopedConnection<'_>`.
pub type SqliteConnection = ScopedConnection<'static>;
pub use context::{current_tenant, scope, sync_scope};
pub use error::Error;
pub use executor::TenantExecutor;
pub use pool::TenantPool;
