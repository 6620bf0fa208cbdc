//! A legacy point-of-sale application on plain rusqlite: its data-access module
//! (`pos/data_access.rs`: customers, work orders, gift cards) used through
//! `rusqlite::Connection`. `pos_tenant.rs` is the same application moved to the tenant
//! connection: it includes the same module file and differs only in the import of
//! `Connection`, the schema it starts from (migrated) and the line that sets the tenant
//! (`tests/it/port.rs` checks it).
//!
//! Run: `cargo run -p tenantry-sqlite --example pos_legacy`

use rusqlite::Connection;

#[path = "pos/data_access.rs"]
mod pos;

fn main() -> rusqlite::Result<()> {
    let path = std::env::temp_dir().join(format!("pos-legacy-{}.db", std::process::id()));
    let setup = rusqlite::Connection::open(&path)?;
    setup.execute_batch(
        "DROP TABLE IF EXISTS customers; DROP TABLE IF EXISTS work_orders;
         DROP TABLE IF EXISTS gift_cards;
         CREATE TABLE customers (id TEXT PRIMARY KEY, first_name TEXT NOT NULL,
                                 last_name TEXT NOT NULL, phone TEXT);
         CREATE TABLE work_orders (id TEXT PRIMARY KEY, order_number TEXT NOT NULL UNIQUE,
                                   customer_id TEXT, status TEXT NOT NULL DEFAULT 'open');
         CREATE TABLE gift_cards (id TEXT PRIMARY KEY, card_number TEXT NOT NULL UNIQUE,
                                  balance_cents INTEGER NOT NULL);
         INSERT INTO work_orders VALUES ('w1', 'WO-1', 'c1', 'open');
         INSERT INTO gift_cards VALUES ('g1', 'GC-1', 5000);",
    )?;
    let mut conn = Connection::open(&path)?;
    pos::demo(&mut conn)?;
    drop(conn);
    let _ = std::fs::remove_file(&path);
    Ok(())
}
