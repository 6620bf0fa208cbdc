//! Integration tests of the tenant connection.

mod basics;
mod concurrency;
mod keys;
mod port;
mod pragmas;
mod same_schema;
mod tenant_values;
mod virtual_tables;
