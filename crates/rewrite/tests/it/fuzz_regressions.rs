//! Findings of the fuzz target (`fuzz/`, see README "Fuzzing"), minimized, one test each,
//! run through the oracle of `support.rs` (original on the single-tenant database, rewrite on
//! the multi-tenant one). Every finding is fixed: a test here fails if it comes back.

use rusqlite::Connection;
use tenantry_testkit::db::prepare_all;

use crate::support::World;

/// The result-column names of every statement of `sql`, prepared (not run) on `conn`.
fn batch_columns(conn: &Connection, sql: &str) -> Result<Vec<Vec<String>>, String> {
    prepare_all(conn, sql)
        .map(|all| all.into_iter().map(|p| p.columns).collect())
        .map_err(|e| e.to_string())
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
fn subquery_as_last_item_then_semicolon() {
    let w = World::new();
    w.check("SELECT (SELECT count(*) FROM orders);");
    w.check("SELECT 1, (SELECT count(*) FROM orders) ;");
}

/// Fuzz finding 1, next statement: the alias lands in the following statement, before its
/// first FROM or at its end: it renames that statement's last column, with the text of both,
/// or breaks it (`DELETE AS "…" FROM vip`).
#[test]
fn subquery_as_last_item_then_another_statement() {
    let w = World::new();
    check_batch_columns(&w, "SELECT (SELECT count(*) FROM orders); SELECT 1");
    check_batch_columns(&w, "SELECT EXISTS (SELECT 1 FROM orders); SELECT 1");
    check_batch_columns(&w, "SELECT (SELECT count(*) FROM orders); DELETE FROM vip");
}

/// Fuzz finding 1, trailing comment: SQLite names the last column of a statement with a
/// trailing comment by its text up to the end, comment included; the rewrite's alias
/// leaves the comment out.
#[test]
fn subquery_as_last_item_then_comment() {
    let w = World::new();
    w.check("SELECT (SELECT count(*) FROM orders) -- how many");
    w.check("SELECT (SELECT count(*) FROM orders) /* how many */");
}

/// Fuzz finding 2: a rowid read, inside a subquery, qualified by a name that the subquery
/// gives a view, a derived table or a CTE (none has a rowid), while an outer table of the
/// same name has one. SQLite finds no rowid in the inner source and takes the outer table's;
/// the rewriter took the inner source's, so it neither exposed the outer table's rowid nor
/// read its INTEGER PRIMARY KEY, and the rewrite failed to prepare ("no such column:
/// g.rowid"). Fixed by resolving rowid reads as SQLite does (`rowid.rs` in the rewriter):
/// the outer derived table exposes its rowid.
#[test]
fn rowid_of_outer_table_behind_an_inner_source_of_the_same_name() {
    let w = World::new();
    // A view (vip has no INTEGER PRIMARY KEY).
    w.check("SELECT count(*) FROM vip AS g WHERE 1 IN (SELECT g.rowid FROM gold AS g)");
    w.check("SELECT (SELECT g.rowid FROM gold AS g) FROM vip AS g");
    // A derived table (orders.rowid is orders.id).
    w.check("SELECT (SELECT o.rowid FROM (SELECT 1) AS o) FROM orders AS o");
    // ... which has a column `id`: the outer key must not be read as `o."id"`.
    w.check("SELECT (SELECT o.rowid FROM (SELECT 5 AS id) AS o) FROM orders AS o");
    // A CTE named like the table.
    w.check(
        "SELECT count(*) FROM customers WHERE EXISTS \
         (WITH customers(n) AS (SELECT 1) SELECT * FROM customers WHERE customers.oid > 101)",
    );
    // Unqualified, through a subquery, a WITHOUT ROWID table, a view.
    w.check("SELECT (SELECT rowid FROM (SELECT 5 AS id)) FROM customers");
    w.check("SELECT (SELECT rowid FROM items LIMIT 1) FROM customers");
    w.check("SELECT (SELECT oid FROM gold LIMIT 1) FROM vip");
    // A subquery column of that name is what SQLite reads, not the outer rowid.
    w.check("SELECT (SELECT rowid FROM (SELECT 5 AS rowid)) FROM customers");
    w.check("SELECT (SELECT o.rowid FROM (SELECT 5 AS rowid) AS o) FROM orders AS o");
}

/// SQLite takes the rowid of the one item of a FROM that has one: the INTEGER PRIMARY KEY
/// it becomes is qualified, so another item's column of the same name cannot take it, and
/// the result column keeps SQLite's name for it.
#[test]
fn rowid_of_the_only_item_with_a_rowid() {
    let w = World::new();
    w.check("SELECT rowid FROM customers, (SELECT 5 AS id)");
    w.check("SELECT rowid, sku FROM customers, items WHERE order_id = 1");
    w.check("SELECT rowid FROM vip, (SELECT 1 AS a)");
    w.check("SELECT rowid FROM customers JOIN gold USING (id)");
    // A table-valued function has a rowid of its own: the read is the function's.
    w.check("SELECT (SELECT rowid FROM json_each('[1, 2]') LIMIT 1) FROM customers");
    w.check("SELECT (SELECT id FROM json_each('[1, 2]') LIMIT 1) FROM customers");
}

/// Fuzz finding 3: SQLite's postfix `ISNULL` ending a result column. `sqlparser` read
/// `x ISNULL` in a select list as `x` with the alias `ISNULL`, so the rewriter took the
/// column for aliased and added no `AS "<old text>"`; SQLite reads `ISNULL` as the operator
/// and names the column by its text, which held the derived table (or `"id"` for `rowid`).
/// First refused; now read as SQLite reads it (`dialect.rs`), and scoped.
#[test]
fn result_column_ending_in_postfix_isnull() {
    let w = World::new();
    w.check("SELECT (SELECT count(*) FROM orders) ISNULL");
    w.check("SELECT rowid ISNULL FROM orders");
    w.check("SELECT (SELECT max(total) FROM orders) ISNULL FROM settings");
}

/// Fuzz finding 4: a rowid read of a table with an INTEGER PRIMARY KEY, as an unaliased
/// result column of a subquery in FROM or a CTE. The rewriter makes `rowid` a read of the
/// key column, which keeps the name of a statement's own result column ("id" both ways),
/// but SQLite names a subquery's or CTE's column by its text: "rowid" before, "id" after.
/// So `*` over it shows another name, `s.rowid` no longer resolves, and a NATURAL join
/// gains a join column: the cross join of 5 x 5 rows becomes a join on `id`. Wrong results
/// within tenant A's rows, no other tenant's.
#[test]
fn rowid_in_a_subquery_keeps_its_name() {
    let w = World::new();
    w.check("SELECT * FROM (SELECT rowid FROM customers)");
    w.check("WITH c AS (SELECT orders.rowid FROM orders) SELECT * FROM c");
    w.check("SELECT s.rowid FROM (SELECT rowid FROM customers) AS s");
    w.check("SELECT count(*) FROM (SELECT rowid FROM orders) NATURAL JOIN customers");
}

/// Fuzz finding 5: a rowid read inside a subquery in FROM, qualified by the name of another
/// item of the same FROM. A subquery in FROM cannot see its siblings, so SQLite reads the
/// rowid of the outer table of that name; the rewriter took the sibling's (and, the sibling
/// having an INTEGER PRIMARY KEY, wrote `g."id"`), so the rewrite failed to prepare ("no
/// such column: g.id"). Fixed: a FROM's items are hidden from its subqueries.
#[test]
fn rowid_in_a_from_subquery_naming_a_sibling() {
    let w = World::new();
    w.check(
        "SELECT (SELECT s.r FROM customers AS g JOIN (SELECT g.rowid AS r) AS s ON 1 LIMIT 1) \
         FROM vip AS g",
    );
    w.check(
        "SELECT count(*) FROM vip AS g \
         WHERE EXISTS (SELECT 1 FROM customers AS g, (SELECT g.rowid AS r) AS s WHERE s.r > 1)",
    );
    // With the outer table's key: exposed, never `g."id"` (the sibling has an `id`).
    w.check(
        "SELECT (SELECT s.r FROM orders AS g JOIN (SELECT g.rowid AS r) AS s ON 1 LIMIT 1) \
         FROM customers AS g",
    );
    // The target of UPDATE … FROM is such a sibling too.
    w.check("UPDATE vip SET customer_id = (SELECT r FROM (SELECT vip.rowid AS r)) WHERE 0");
}

/// Fuzz finding 3, in RETURNING: the same postfix `ISNULL` ending a RETURNING column; read
/// and scoped like the select list's.
#[test]
fn returning_column_ending_in_postfix_isnull() {
    let w = World::new();
    w.check("UPDATE vip SET customer_id = 7 RETURNING (SELECT count(*) FROM orders) ISNULL");
    w.check("INSERT INTO vip VALUES (7) RETURNING (SELECT count(*) FROM orders) ISNULL");
}

/// Fuzz finding 6: INSERT … SELECT without FROM, with a WINDOW clause: the tenant value is
/// appended to the select list right before `WINDOW`, and `sqlparser` reads
/// `'A' WINDOW` as the value with the alias `WINDOW`, so the rewrite does not parse again
/// (SQLite runs it as meant).
#[test]
fn insert_select_with_a_window_clause_and_no_from_parses_again() {
    use sqlparser::parser::Parser;
    use tenantry_rewrite::SqliteDialect;
    let w = World::new();
    let sql = "INSERT INTO vip SELECT 7 AS c0 WINDOW win AS ()";
    w.check(sql);
    let rewritten = w.rewrite(sql).expect("rewrite");
    if let Err(e) = Parser::parse_sql(&SqliteDialect, &rewritten) {
        panic!("the rewrite does not parse again ({e}): {rewritten}");
    }
}
