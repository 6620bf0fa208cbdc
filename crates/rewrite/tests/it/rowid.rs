//! Rowid reads a red team of the rowid lookup (`rowid.rs` in the rewriter) found wrong, one
//! test per finding, each statement run through the oracle of `support.rs`. None crossed
//! tenants; all returned or changed the wrong rows of tenant A, or failed where the
//! original runs.

use rusqlite::Connection;

use crate::support::{World, schema_of};

/// Two more tenant tables: a key declared `INTEGER PRIMARY KEY DESC` (not the rowid), and a
/// real column named `rowid`. A's rows come first in both databases, so they have the same
/// rowids; B's follow.
fn world_with_odd_rowids() -> World {
    const DDL: &str = "CREATE TABLE tdesc (id INTEGER PRIMARY KEY DESC, v TEXT);
                       CREATE TABLE trc (rowid TEXT, v TEXT);";
    const ROWS: &str = "INSERT INTO tdesc (id, v) VALUES (10, '{s}x'), (20, '{s}y'), (30, '{s}z');
                        INSERT INTO trc (rowid, v) VALUES ('r9', '{s}a'), ('r8', '{s}b');";
    let mut w = World::new();
    w.single.execute_batch(DDL).expect("legacy tables");
    w.single
        .execute_batch(&ROWS.replace("{s}", "a"))
        .expect("A's rows");
    let multi: &Connection = &w.multi;
    multi.execute_batch(DDL).expect("tables");
    for table in ["tdesc", "trc"] {
        multi
            .execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN tenant_id VARCHAR(255) NOT NULL DEFAULT 'A'"
            ))
            .expect("tenant column");
    }
    multi
        .execute_batch(&ROWS.replace("{s}", "a"))
        .expect("A's rows");
    multi
        .execute_batch(
            "INSERT INTO tdesc (id, v, tenant_id) VALUES (-10, 'bx', 'B'), (-20, 'by', 'B');
             INSERT INTO trc (rowid, v, tenant_id) VALUES ('q1', 'ba', 'B');",
        )
        .expect("B's rows");
    w.rewriter = tenantry_rewrite::Rewriter::new(schema_of(&w.multi));
    w
}

/// The ORDER BY (and LIMIT) of a query sees its SELECT's FROM, which `sqlparser` keeps
/// beside the SELECT: the lookup started one query too far out. A read of the inner table's
/// rowid became the outer table's key (a constant inside the subquery), or stayed a read
/// SQLite then took from the outer table.
#[test]
fn order_by_reads_the_rowid_of_its_own_from() {
    let w = World::new();
    w.check("SELECT (SELECT customer_id FROM vip ORDER BY rowid DESC LIMIT 1) FROM customers");
    w.check("SELECT (SELECT customer_id FROM vip ORDER BY -oid LIMIT 1) FROM settings");
    w.check(
        "SELECT id FROM customers \
         WHERE id IN (SELECT customer_id FROM vip ORDER BY rowid DESC LIMIT 1)",
    );
    w.check_ordered("SELECT name, 5 AS id FROM customers ORDER BY rowid DESC");
    w.check_ordered("SELECT * FROM customers ORDER BY rowid DESC");
    w.check_ordered("SELECT c.* FROM customers c ORDER BY c.rowid");
    // Writes that changed the wrong rows of A.
    w.check(
        "DELETE FROM vip WHERE customer_id IN \
         (SELECT customer_id FROM vip ORDER BY rowid DESC LIMIT 1)",
    );
    w.check(
        "UPDATE customers SET tier = 'q' \
         WHERE id = (SELECT customer_id FROM vip ORDER BY rowid DESC LIMIT 1)",
    );
    w.check("INSERT INTO vip (customer_id) SELECT id FROM customers ORDER BY rowid DESC LIMIT 1");
}

/// An unqualified rowid read that leaves its query for an outer one may meet a result alias
/// on the way: the key column's name it became was taken by the alias `id`, and an alias
/// named `rowid` is what SQLite reads.
#[test]
fn an_unqualified_read_from_an_outer_query_keeps_its_name() {
    let w = World::new();
    w.check("SELECT (SELECT 5 AS id WHERE rowid > 102) FROM customers");
    w.check("SELECT (SELECT count(*) AS id HAVING oid > 102) FROM customers");
    w.check("SELECT (SELECT 5 AS rowid WHERE rowid > 102) FROM customers");
}

/// A subquery in UPDATE … FROM names its columns as every subquery does (by the word
/// written), though no query encloses it.
#[test]
fn a_subquery_in_update_from_names_its_rowid_column_as_written() {
    let w = World::new();
    w.check(
        "UPDATE vip SET customer_id = s.rowid \
         FROM (SELECT rowid FROM customers WHERE id = 102) AS s WHERE vip.rowid = 1",
    );
    w.check(
        "UPDATE vip SET customer_id = s.oid \
         FROM (SELECT oid FROM \"Mixed Case\" LIMIT 1) AS s WHERE vip.rowid = 1",
    );
}

/// `INTEGER PRIMARY KEY DESC` declared on the column does not make it the rowid.
#[test]
fn integer_primary_key_desc_is_not_the_rowid() {
    let w = world_with_odd_rowids();
    w.check("SELECT rowid, v FROM tdesc");
    w.check("SELECT v FROM tdesc WHERE rowid = 1");
    w.check("SELECT (SELECT v FROM tdesc WHERE tdesc.rowid = vip.rowid) FROM vip");
}

/// A table with a column named `rowid` still has its rowid under the other names: the
/// derived table exposes it by one of those.
#[test]
fn a_column_named_rowid_does_not_hide_the_rowid_from_its_other_names() {
    let w = world_with_odd_rowids();
    w.check("SELECT oid, rowid, v FROM trc");
    w.check("SELECT t._rowid_ FROM trc AS t");
    w.check("UPDATE vip SET customer_id = (SELECT oid FROM trc WHERE v = 'ab')");
}

/// SQLite names a column by what is inside parentheses, and a subquery's column by what is
/// under COLLATE too: a rowid read there kept the text as its name.
#[test]
fn parentheses_and_collate_around_a_rowid_read_keep_its_name() {
    let w = World::new();
    w.check("SELECT (rowid) FROM customers");
    w.check("SELECT (c.oid), name FROM customers c");
    w.check("SELECT (oid) FROM vip");
    w.check("SELECT rowid COLLATE binary FROM customers");
    w.check("SELECT * FROM (SELECT (rowid) FROM customers)");
    w.check("SELECT * FROM (SELECT rowid COLLATE binary FROM customers)");
    w.check("SELECT s.rowid FROM (SELECT rowid COLLATE binary FROM customers) AS s");
    w.check("SELECT (main.customers.name) FROM customers");
}
