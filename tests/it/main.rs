//! End-to-end tests of the `tenantry` binary and libraries: one test binary, one module
//! per behaviour.

/// Shared helpers: fixture databases, logical snapshots, running the binary.
mod support;

/// An application adopts Tenantry: schema built at start-up (in memory too), two tenants,
/// a table added by its next version.
mod adoption;
/// `tenantry audit` on a small application: every call form, constants, run-time SQL.
mod audit;
/// The command line: JSON reports, dry runs, verify and rollback, help.
mod cli;
/// A condition that raises an error for some values tells a tenant nothing about another
/// tenant's rows: the error is the same whatever the other tenant holds.
mod error_channel;
/// A failure injected at every step leaves the database logically identical.
mod faults;
/// Tables without the tenant column: used only when declared global, refused otherwise.
mod globals;
/// The application our requirements come from, in its own shape: half-migrated, an FTS5
/// search table with a tenant column, triggers with `WHEN (SELECT …)`, tenant values passed
/// as parameters; it migrates, opens, and each store sees and changes only its own rows.
mod half_migrated;
/// Isolation on the POS fixture with three tenants: the catalogue and attacks as tenant A
/// leave B's and C's rows byte for byte as they were and read nothing of them.
mod isolation;
/// The POS fixture migrated end to end, re-run, completed when half-migrated, rolled back.
mod migrate_pos;
/// The tenant-sliced oracle: random schemas, rows of three tenants and statements; A's
/// outcomes equal a single-tenant database's, B's and C's rows never change.
mod oracle;
/// The planner does not start preferring the tenant index over better ones.
mod planner;
/// A legacy module with its own tests, ported by changing its imports and constructor.
mod port;
/// Bad input is refused with a clear message, exit status 2, and the file untouched.
mod refusals;
/// `tenantry rewrite`: scoped SQL, refusals (exit 1), bad input (exit 2), JSON.
mod rewrite_cli;
/// The rewriter on the POS catalogue: same results as before migration; another tenant
/// reads nothing and changes nothing.
mod rewrite_pos;
/// Awkward schemas: WITHOUT ROWID, AUTOINCREMENT, quoted names, empty and STRICT tables,
/// pre-existing foreign-key violations, virtual tables, registries.
mod schemas;
/// `tenantry sql`: statements run as one tenant (JSON lines, tables), refusals, bad input.
mod sql_cli;
/// The tenant-first layout: per-tenant keys, composite foreign keys and their actions,
/// AUTOINCREMENT per tenant, the upgrade from the column layout, rowids kept.
mod tenant_first;
/// On the tenant-first schema every catalogue read plans as before, narrowed to the tenant.
mod tenant_first_plans;
/// Tidiness of the repository's sources, on the files as they are on disk: every library
/// file opens with a `//!` header; no test is `#[ignore]`d without a reason.
mod tidy;
