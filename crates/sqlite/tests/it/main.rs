//! Integration tests of the tenant connection.

mod basics;
mod concurrency;
mod port;
