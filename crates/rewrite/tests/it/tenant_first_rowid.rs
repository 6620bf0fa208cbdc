//! Rowid reads on the tenant-first schema: a rowid kept in a key column is read as that
//! column; a rowid that is gone is refused, never looked up further out.

use crate::tenant_first::{rewrite, world};

#[test]
fn a_rowid_kept_in_a_key_column_reads_that_column() {
    let w = world();
    for sql in [
        "SELECT rowid, username FROM users",
        "SELECT u.oid, u._rowid_ FROM users u ORDER BY u.rowid DESC",
        "SELECT rowid FROM vehicles WHERE plate = 'A-5'",
        "SELECT max(rowid) FROM vehicles",
        "SELECT v.rowid, c.name FROM vehicles v JOIN customers c ON c.id = v.customer_id",
        // Read from a subquery, through a WITHOUT ROWID table to the outer one: exposed.
        "SELECT (SELECT count(*) FROM price_levels WHERE rowid > 1) FROM users",
        "SELECT id FROM users WHERE rowid IN (SELECT max(rowid) FROM users)",
        // A string before a dot is a name (`'u'.rowid`), which sqlparser reads otherwise.
        "SELECT 'u'.rowid, username FROM users 'u'",
        "SELECT 'users'.oid FROM users ORDER BY 'users'.rowid",
    ] {
        w.check(sql);
    }
    assert_eq!(
        rewrite(&w, "SELECT rowid FROM vehicles").as_deref(),
        Ok(
            "SELECT \"vehicles\".\"id\" FROM (SELECT \"id\" FROM main.\"vehicles\" \
            WHERE \"tenant_id\" = 'A') AS vehicles"
        ),
    );
}

#[test]
fn a_write_targets_rowid_is_its_key_column() {
    let w = world();
    w.check("UPDATE vehicles SET plate = 'X' WHERE rowid = 2");
    w.check("DELETE FROM users WHERE oid = 3 RETURNING rowid, username");
    w.check("UPDATE users SET note = 'n' || rowid RETURNING _rowid_");
    w.check("UPDATE vehicles AS 'v' SET plate = 'Y' WHERE 'v'.rowid = 2");
    w.check("DELETE FROM users AS 'u' WHERE 'u'.oid = 2");
    w.assert_slices_equal("writes by rowid");
    assert_eq!(
        rewrite(&w, "DELETE FROM vehicles WHERE rowid = 2").as_deref(),
        Ok("DELETE FROM vehicles WHERE vehicles.\"tenant_id\" = 'A' AND (\"vehicles\".\"id\" = 2)"),
    );
}

#[test]
fn a_rowid_that_is_gone_is_refused_not_looked_up_further_out() {
    let w = world();
    for sql in [
        "SELECT rowid FROM customers",
        "SELECT c.oid FROM customers c",
        "SELECT 'c'.rowid FROM customers 'c'",
        "UPDATE customers SET name = 'x' WHERE rowid = 1",
        // Legacy: the inner rowid is customers' (it had one), not vehicles'.
        "SELECT (SELECT max(rowid) FROM customers) FROM vehicles",
    ] {
        assert_eq!(rewrite(&w, sql), Err("RowidGone"), "{sql}");
    }
    // A table that never had a rowid still passes the read on.
    w.check("SELECT (SELECT max(rowid) FROM price_levels) FROM vehicles");
}

#[test]
fn the_old_layout_and_legacy_without_rowid_tables_are_as_before() {
    let w = world();
    // notes is still a rowid table; price_levels never had one.
    w.check("SELECT rowid, body FROM notes");
    assert_eq!(rewrite(&w, "SELECT rowid FROM price_levels"), Ok("SELECT rowid FROM (SELECT \"code\" FROM main.\"price_levels\" WHERE \"tenant_id\" = 'A') AS price_levels".to_owned()));
}

#[test]
fn a_targets_key_read_from_a_subquery_that_may_mean_something_nearer_is_refused() {
    let w = world();
    // Unqualified, past a subquery (whose result aliases could have taken the name).
    assert_eq!(
        rewrite(
            &w,
            "UPDATE vehicles SET plate = (SELECT count(*) FROM price_levels WHERE rowid > 1)"
        ),
        Err("RowidUnsure"),
    );
    // Qualified by the target, it is its key.
    w.check(
        "UPDATE vehicles SET plate = (SELECT count(*) FROM price_levels WHERE vehicles.rowid > 1)",
    );
    w.assert_slices_equal("qualified rowid of the target from a subquery");
}
