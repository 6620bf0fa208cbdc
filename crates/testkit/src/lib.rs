//! Tenantry's test kit (dev only): what the tests of the rewriter and of the tenant
//! connection share to check them against SQLite.
//!
//! - [`oracle`]: the two-database tenant oracle. A legacy (single-tenant) database and a
//!   migrated one with other tenants' rows ([`oracle::build`]); a statement runs as it is on
//!   the first and scoped on the second, rewritten or through a tenant connection
//!   ([`oracle::Scoped`]); results, the tenant's slice and the other tenants' rows are
//!   compared, and leak markers looked for ([`oracle::tenancy`]).
//! - [`db`]: running SQL and collecting what it did ([`db::query`], [`db::run_batch`],
//!   [`db::prepare_all`]), and a database's schema as the rewriter reads it
//!   ([`db::schema_of`]).
//! - [`sql`]: quoting a name, parsing a rewrite again ([`sql::reparse`]).
//! - The SQL generators: [`ast`], the proptest AST and its printer (the rewriter's property
//!   tests); [`soup`], arbitrary SQL-ish strings (the same); [`grammar`], the fuzz target's
//!   byte-driven generator; [`world`], random schemas and statements (the end-to-end oracle
//!   of the tenant connection).
//!
//! Features: `proptest` (default) for the generators that are proptest strategies; `sqlite`
//! for a tenant connection as the oracle's scoped side.
//!
//! Users: `crates/rewrite/tests/it` (the oracle with a fixed schema, the property tests),
//! `tests/it/oracle.rs` (random schemas, the real migrator, a tenant connection: feature
//! `sqlite`), and the fuzz target in `fuzz/`.

#![warn(missing_docs)]

#[cfg(feature = "proptest")]
pub mod ast;
pub mod db;
pub mod grammar;
pub mod oracle;
#[cfg(feature = "shop")]
pub mod shop;
#[cfg(feature = "proptest")]
pub mod soup;
pub mod sql;
#[cfg(feature = "sqlx")]
pub mod sqlx_values;
#[cfg(feature = "proptest")]
pub mod world;
