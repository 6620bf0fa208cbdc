//! After: the import and the constructor changed (a tenant set where a request begins).

pub use tenantry_sqlite::Connection;

pub fn test_db() -> Connection {
    let conn = tenantry::open_in_memory(notes::create_schema).expect("open");
    // Nothing runs before a tenant is set, a PRAGMA included.
    conn.set_tenant("store-1").expect("tenant");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    conn
}

#[allow(
    clippy::duplicate_mod,
    reason = "the same file built with each connection is the point: the port changes no line of it"
)]
#[path = "notes.rs"]
pub mod notes;
