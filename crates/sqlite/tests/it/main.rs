//! Integration tests of the tenant connection.

/// Shared helpers: temporary databases, reading a column.
mod support;

mod basics;
mod concurrency;
mod counts;
mod held;
mod keys;
mod methods;
mod passthrough;
mod port;
mod pragmas;
mod same_schema;
mod tenant_values;
mod virtual_tables;
