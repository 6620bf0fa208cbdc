//! The tenant of each web request: resolved by the application's rule, checked against the
//! tenant registry, and carried to every statement the handler runs through a
//! [`tenantry_sqlx::TenantPool`] (the handler runs inside [`tenantry_sqlx::scope`]), with
//! the tenant on the request's tracing span.
//!
//! - [`TenantResolver`]: where the tenant comes from: a verified token's claim (the
//!   application's function), the subdomain ([`Subdomain`]), or a header accepted only from
//!   trusted proxies ([`TrustedHeader`]). There is no default tenant.
//! - [`Registry`]: the tenants that exist (the registry table, or a list).
//! - [`Tenancy`]: both, and the HTTP status of each refusal ([`Statuses`]: 401 missing,
//!   403 untrusted, 404 unknown by default). A refused request never reaches the handler.
//! - The middleware, each behind a feature: [`actix`] (`actix`) and [`axum`] (`axum`).
//!
//! A handler that spawns a task does not pass its tenant on: the task runs with no tenant,
//! and its statements are refused, unless it is scoped itself.
#![deny(missing_docs)]

mod registry;
mod request;
mod resolvers;
mod tenancy;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;

pub use registry::Registry;
pub use request::{Request, TenantResolver};
pub use resolvers::{Subdomain, TrustedHeader};
pub use tenancy::{Rejection, Statuses, Tenancy};
pub use tenantry_rewrite::TenantId;
