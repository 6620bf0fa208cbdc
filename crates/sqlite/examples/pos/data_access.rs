//! The data-access module of the point-of-sale examples: customers, work orders, gift
//! cards, as a legacy application writes them.
//!
//! One file, included by both examples with `#[path]`: `pos_legacy.rs` imports
//! `rusqlite::Connection`, `pos_tenant.rs` imports `tenantry_sqlite::Connection`, and this
//! module uses whichever its includer imported (`super::Connection`). That the port is a
//! change of import holds by construction: there is no second copy to keep in step.

use rusqlite::{OptionalExtension, Result, params};

use super::Connection;

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

/// What both examples do with the module: add a customer, read it back, list its open
/// work orders, redeem a gift card; each result printed.
pub fn demo(conn: &mut Connection) -> Result<()> {
    add_customer(conn, "c1", "Ada", "Lovelace")?;
    if let Some(customer) = customer(conn, "c1")? {
        println!("{} {} {:?}", customer.id, customer.name, customer.phone);
    }
    println!("{:?}", open_work_orders(conn, "c1")?);
    println!("redeemed: {}", redeem_gift_card(conn, "GC-1", 1200)?);
    Ok(())
}
