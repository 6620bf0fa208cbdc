//! Findings of the fuzz target (`fuzz/`, see README "Fuzzing"), minimized, one test each,
//! run through the oracle of `support.rs` (original on the single-tenant database, rewrite on
//! the multi-tenant one). A test marked `#[ignore = "fuzz finding: …"]` pins a bug that is
//! not fixed yet: it fails until the rewriter is fixed, then the `ignore` goes.

use rusqlite::Connection;
use rusqlite::fallible_iterator::FallibleIterator;

use crate::support::World;

/// The result-column names of every statement of `sql`, prepared (not run) on `conn`.
fn batch_columns(conn: &Connection, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let mut batch = rusqlite::Batch::new(conn, sql);
    let mut out = Vec::new();
    while let Some(stmt) = batch.next().map_err(|e| e.to_string())? {
        out.push(stmt.column_names().map(str::to_owned).collect());
    }
    Ok(out)
}

/// Rewrites `sql` (one or more statements) and asserts that the rewrite parses and prepares
/// on the multi-tenant database, statement for statement with the same result-column names
/// the original has on the single-tenant one.
fn check_batch_columns(w: &World, sql: &str) {
    let rewritten = w
        .rewrite(sql)
        .unwrap_or_else(|e| panic!("rewrite refused {sql}: {e}"));
    let expected = batch_columns(&w.single, sql).expect("the original prepares");
    let got = batch_columns(&w.multi, &rewritten).unwrap_or_else(|e| {
        panic!("the rewrite does not prepare ({e})\n  original:  {sql}\n  rewritten: {rewritten}")
    });
    assert_eq!(
        expected, got,
        "result columns differ\n  original:  {sql}\n  rewritten: {rewritten}"
    );
}

/// The shape of the finding, without what triggers it: passes today.
#[test]
fn subquery_as_last_item_alone() {
    let w = World::new();
    w.check("SELECT (SELECT count(*) FROM orders)");
    check_batch_columns(
        &w,
        "SELECT 1, (SELECT count(*) FROM orders) FROM settings; SELECT 2",
    );
}

/// Fuzz finding 1: a result column holding a subquery, last in a SELECT without FROM, gets
/// its `AS "<old text>"` after the statement's `;`, so the rewrite does not parse.
#[test]
#[ignore = "fuzz finding: the result-column alias is spliced after the statement's `;`"]
fn subquery_as_last_item_then_semicolon() {
    let w = World::new();
    w.check("SELECT (SELECT count(*) FROM orders);");
    w.check("SELECT 1, (SELECT count(*) FROM orders) ;");
}

/// Fuzz finding 1, next statement: the alias lands in the following statement and renames
/// its column, with the text of both.
#[test]
#[ignore = "fuzz finding: the result-column alias is spliced into the next statement"]
fn subquery_as_last_item_then_another_statement() {
    let w = World::new();
    check_batch_columns(&w, "SELECT (SELECT count(*) FROM orders); SELECT 1");
    check_batch_columns(&w, "SELECT EXISTS (SELECT 1 FROM orders); SELECT 1");
}

/// Fuzz finding 1, trailing comment: SQLite names the last column of a statement with a
/// trailing comment by its text up to the end, comment included; the rewrite's alias
/// leaves the comment out.
#[test]
#[ignore = "fuzz finding: the result-column name loses a trailing comment"]
fn subquery_as_last_item_then_comment() {
    let w = World::new();
    w.check("SELECT (SELECT count(*) FROM orders) -- how many");
    w.check("SELECT (SELECT count(*) FROM orders) /* how many */");
}

/// Fuzz finding 2: `g.rowid` inside a subquery whose FROM has a view aliased `g`, under an
/// outer table without an INTEGER PRIMARY KEY also aliased `g`. SQLite finds no rowid in the
/// view and takes the outer table's; the rewriter takes the view's, so the outer derived
/// table does not expose `rowid` and the rewrite fails to prepare ("no such column: g.rowid").
/// Fails closed (an error, no other tenant's rows).
#[test]
#[ignore = "fuzz finding: rowid of an outer table, shadowed by a view of the same alias"]
fn rowid_of_outer_table_behind_a_view_of_the_same_alias() {
    let w = World::new();
    w.check("SELECT count(*) FROM vip AS g WHERE 1 IN (SELECT g.rowid FROM gold AS g)");
    w.check("SELECT (SELECT g.rowid FROM gold AS g) FROM vip AS g");
}
