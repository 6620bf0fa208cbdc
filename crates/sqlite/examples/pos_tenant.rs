//! `pos_legacy.rs` moved to the tenant connection: the data-access module is the same
//! file (`pos/data_access.rs`, included by both); only the import of `Connection` and the
//! constructor (which now also sets the tenant) changed. Every statement the module sends
//! is scoped to the store that is signed in.
//!
//! Run: `cargo run -p tenantry-sqlite --example pos_tenant`

use tenantry_sqlite::Connection;

#[path = "pos/data_access.rs"]
mod pos;

fn main() -> rusqlite::Result<()> {
    let path = std::env::temp_dir().join(format!("pos-tenant-{}.db", std::process::id()));
    let setup = rusqlite::Connection::open(&path)?;
    setup.execute_batch(
        "DROP TABLE IF EXISTS customers; DROP TABLE IF EXISTS work_orders;
         DROP TABLE IF EXISTS gift_cards;
         CREATE TABLE customers (id TEXT PRIMARY KEY, first_name TEXT NOT NULL,
                                 last_name TEXT NOT NULL, phone TEXT,
                                 tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
         CREATE TABLE work_orders (id TEXT PRIMARY KEY, order_number TEXT NOT NULL UNIQUE,
                                   customer_id TEXT, status TEXT NOT NULL DEFAULT 'open',
                                   tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
         CREATE TABLE gift_cards (id TEXT PRIMARY KEY, card_number TEXT NOT NULL UNIQUE,
                                  balance_cents INTEGER NOT NULL,
                                  tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
         INSERT INTO work_orders VALUES ('w1', 'WO-1', 'c1', 'open', 'store-1');
         INSERT INTO work_orders VALUES ('w2', 'WO-2', 'c1', 'open', 'store-2');
         INSERT INTO gift_cards VALUES ('g1', 'GC-1', 5000, 'store-1');",
    )?;
    let mut conn = Connection::open(&path)?;
    conn.set_tenant("store-1")?;
    pos::demo(&mut conn)?;
    drop(conn);
    let _ = std::fs::remove_file(&path);
    Ok(())
}
