//! Integration tests of the tenant connection.

mod basics;
mod concurrency;
mod keys;
mod port;
mod virtual_tables;
