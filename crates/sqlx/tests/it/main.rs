//! Integration tests of the tenant pool.

/// Shared helpers: the three-tenant fixture, binding and reading values.
mod support;

mod catalogue;
mod guard;
mod macros;
mod pooled_state;
mod transactions;
