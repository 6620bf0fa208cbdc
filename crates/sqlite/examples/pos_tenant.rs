//! `pos_legacy.rs` moved to the tenant connection: the data-access module is the same
//! text; only the import of `Connection` and the constructor (which now also sets the
//! tenant) changed. Every statement it sends is scoped to the store that is signed in.
//!
//! Run: `cargo run -p tenantry-sqlite --example pos_tenant`

use tenantry_sqlite::Connection;

// --- data access ---
mod pos {
    use super::Connection;
    use rusqlite::{OptionalExtension, Result, params};

    /// A customer as the counter screen shows it.
    pub struct Customer {
        pub id: String,
        pub name: String,
        pub phone: Option<String>,
    }

    pub fn customer(conn: &Connection, id: &str) -> Result<Option<Customer>> {
        conn.query_row(
            "SELECT id, first_name || ' ' || last_name, phone FROM customers WHERE id = ?1",
            [id],
            |row| {
                Ok(Customer {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    phone: row.get(2)?,
                })
            },
        )
        .optional()
    }

    pub fn add_customer(conn: &Connection, id: &str, first: &str, last: &str) -> Result<()> {
        conn.execute(
            "INSERT INTO customers (id, first_name, last_name) VALUES (?1, ?2, ?3)",
            params![id, first, last],
        )?;
        Ok(())
    }

    pub fn open_work_orders(conn: &Connection, customer_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = conn.prepare_cached(
            "SELECT order_number, status FROM work_orders \
             WHERE customer_id = ?1 AND status IN ('open', 'in_progress') ORDER BY order_number",
        )?;
        let rows = stmt.query_map([customer_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }

    /// Takes `cents` off a gift card if its balance covers them.
    pub fn redeem_gift_card(conn: &mut Connection, card: &str, cents: i64) -> Result<bool> {
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE gift_cards SET balance_cents = balance_cents - ?2 \
             WHERE card_number = ?1 AND balance_cents >= ?2",
            params![card, cents],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }
}
// --- end ---

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
    pos::add_customer(&conn, "c1", "Ada", "Lovelace")?;
    if let Some(customer) = pos::customer(&conn, "c1")? {
        println!("{} {} {:?}", customer.id, customer.name, customer.phone);
    }
    println!("{:?}", pos::open_work_orders(&conn, "c1")?);
    println!(
        "redeemed: {}",
        pos::redeem_gift_card(&mut conn, "GC-1", 1200)?
    );
    drop(conn);
    let _ = std::fs::remove_file(&path);
    Ok(())
}
