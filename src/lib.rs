//! Tenantry turns a single-tenant SQLite application into a multi-tenant one.
//!
//! This package is the `tenantry` command line; as a library it re-exports the crates
//! that do the work, so an application can depend on `tenantry` alone:
//! - [`rewrite`] (`tenantry-rewrite`): rewrites SQL written for one tenant so it reads
//!   and writes only the current tenant's rows, or refuses it;
//! - [`sqlite`] (`tenantry-sqlite`): the drop-in rusqlite connection that runs every
//!   statement through the rewriter (first part: tenant context, scoped methods, caches);
//! - [`migrate`] (`tenantry-migrate`): adds the tenant column to every table, with a
//!   backup, one transaction, verification and rollback;
//! - [`fixtures`] (`tenantry-fixtures`): the point-of-sale fixture database used by the
//!   tests, the benchmarks and `tenantry demo`.
//!
//! ```
//! assert_eq!(tenantry::migrate::DEFAULT_TENANT, "caps-automotive");
//! ```
#![deny(missing_docs)]

pub use tenantry_fixtures as fixtures;
pub use tenantry_migrate as migrate;
pub use tenantry_rewrite as rewrite;
pub use tenantry_sqlite as sqlite;
