//! Before: rusqlite, an in-memory database built by the application's schema code.

pub use rusqlite::Connection;

pub fn test_db() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    notes::create_schema(&conn).expect("schema");
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
