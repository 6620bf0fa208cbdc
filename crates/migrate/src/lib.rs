//! Adds a tenant column to every table of an existing SQLite database, without losing a
//! row: the first half of making a single-tenant application multi-tenant.
//!
//! [`migrate`] runs the whole migration under one write lock and one transaction:
//! preflight (refusing missing, non-SQLite, corrupt, read-only and busy files), a [`Plan`]
//! (which tables get the column, which stay global, which views, triggers and unique
//! constraints are risks), row counts, an online backup checked beside the change
//! (`quick_check`, which is the file's, and row counts; `COMMIT` waits for it), the
//! change itself — with
//! [`Layout::Column`], `ALTER TABLE … ADD COLUMN` and an index per table with planner
//! statistics; with [`Layout::TenantFirst`], each table rebuilt with its keys per tenant
//! (see [`Keying`]) — a record in `_tenantry_migrations`, and a [`Verification`] with
//! `foreign_key_check` before `COMMIT`. Any failure rolls the transaction back, so the
//! database is as it was. [`verify`] re-runs the checks later; [`rollback`] restores the
//! recorded backup.
//!
//! This crate never prints and never exits; it logs through `tracing` and reports through
//! [`Report`], [`Progress`] events and [`Error`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tenantry_migrate::{migrate, verify, MigrateOptions, VerifyOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let db = dir.path().join("pos.db");
//! rusqlite::Connection::open(&db)?.execute_batch(
//!     "CREATE TABLE products(sku TEXT PRIMARY KEY, price INTEGER);
//!      INSERT INTO products VALUES ('BRK-100', 4999);
//!      CREATE TABLE _migrations(version TEXT PRIMARY KEY);",
//! )?;
//!
//! let options = MigrateOptions { default_tenant: "store-1".into(), ..Default::default() };
//! let report = migrate(&db, &options, &mut |_| {})?;
//! assert_eq!(report.plan.scoped.len(), 1); // `_migrations` stays global
//! assert!(report.backup.as_ref().is_some_and(|b| b.exists()));
//!
//! let check = verify(&db, &VerifyOptions::default())?;
//! assert!(check.verification.passed());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod apply;
mod backup;
mod checks;
mod error;
#[cfg(any(test, feature = "fault-injection"))]
mod fault;
mod files;
mod globals;
mod inspect;
mod migrate;
mod open;
mod options;
mod plan;
mod preflight;
mod rebuild;
mod record;
mod report;
mod rollback;
mod sql;
mod tenant;
mod triggers;
mod verify;
mod views;

pub use checks::FkViolations;
pub use error::{Error, Result, Step};
#[cfg(any(test, feature = "fault-injection"))]
pub use fault::Fault;
pub use files::copy_permissions;
pub use globals::{
    Declaration, GLOBALS_TABLE, declare_global, declare_global_with_column, declared_global,
    undeclare_global,
};
pub use inspect::{
    Catalog, ColumnInfo, ForeignKeyInfo, IndexInfo, SchemaObject, TableInfo, TableKind,
    mentioned_tables, read_catalog,
};
pub use migrate::{SchemaCode, migrate, migrate_with_schema};
pub use open::{migrate_connection, migrate_connection_with_schema};
pub use options::{
    DEFAULT_BUSY_WAIT, DEFAULT_COLUMN, DEFAULT_TENANT, Layout, MigrateOptions, RollbackOptions,
    TenantIndex, VerifyOptions,
};
pub use plan::{
    DEFAULT_TENANTS_TABLE, Expectation, GlobalReason, GlobalTable, MIGRATION_TABLES, Plan,
    Registry, Risk, ScopedTable, global_reason_text,
};
pub use preflight::open_existing;
pub use rebuild::{AUTOINCREMENT_MARK, CLUSTERED_MARK, Keying, ROWID_MARK, SEQUENCE_TABLE};
pub use record::{RECORD_TABLE, Record};
pub use report::{Outcome, Progress, Report, Timing};
pub use rollback::{RollbackReport, rollback};
pub use tenant::{MAX_TENANT_ID_LEN, TenantId, check_tenant_id};
pub use triggers::ScopedTrigger;
pub use verify::{Check, Problem, TableTenants, Verification, VerifyReport, verify};
