//! A drop-in replacement for `rusqlite::Connection` that scopes every statement to the
//! current tenant with `tenantry-rewrite`, or refuses it.
//!
//! This is the first part of the interceptor: the connection, its tenant context, the
//! cache of rewrites, the schema read from the database (and re-read when it changes), an
//! authorizer guard behind the rewriter, and an explicit, logged escape hatch. See
//! [`Connection`].
#![deny(missing_docs)]

mod connection;
mod error;
mod guard;
mod key;
mod passthrough;
pub mod pool;
mod pragma;
mod refused;
pub mod schema;
mod scoping;
mod tenant_value;

pub use connection::{
    AuditEvent, Connection, DEFAULT_TENANT_COLUMN, STATEMENT_CACHE_CAPACITY, Savepoint,
    SharedPlans, Transaction,
};
pub use error::Error;
pub use tenantry_rewrite::TenantId;
