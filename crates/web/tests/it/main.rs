//! The middleware over HTTP on loopback: each framework serves the small shop to three
//! tenants at once, and refuses requests with no tenant, an unknown one, or a tenant
//! header from a peer that is not a trusted proxy.

/// The shop, its handlers' SQL, and the load both frameworks get.
mod support;

mod actix;
mod axum;
