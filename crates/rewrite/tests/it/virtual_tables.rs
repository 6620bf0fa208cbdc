//! Virtual tables with the tenant column (FTS5, FTS4, R*Tree) on the two-database oracle of
//! `support`: MATCH searches, their ranking and highlighting, joins, INSERT, UPDATE and
//! DELETE return and change for tenant A exactly what the original does on A's
//! single-tenant database, and nothing of B's or C's, whose rows match the same searches.

use rusqlite::Connection;
use rusqlite::types::Value;
use tenantry_rewrite::{Module, Refusal, Rewriter, VirtualForm};
use tenantry_testkit::oracle::build::{Migration, Rows, Setup};

use crate::support::{World, query, schema_of};

/// The application's schema: its own FTS5 index declares the tenant column (the first
/// user's `product_search_index`), beside an FTS4 index and an R*Tree that do too.
const LEGACY: &str = "
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE VIRTUAL TABLE product_search_index USING fts5(product_id UNINDEXED, searchable_text, \
    category UNINDEXED, tenant_id UNINDEXED);
CREATE VIRTUAL TABLE notes USING fts4(product_id, body, tenant_id, notindexed=product_id, \
    tokenize=porter);
CREATE VIRTUAL TABLE places USING rtree(id, minx, maxx, +tenant_id);
";

/// Tenant A's rows (rowids given, so both databases number them alike).
const A_ROWS: &str = "
INSERT INTO products (id, name) VALUES (1, 'red widget'), (2, 'blue gadget'), (3, 'red gadget'),
  (4, 'green thing');
INSERT INTO product_search_index (rowid, product_id, searchable_text, category, tenant_id) VALUES
  (1, 1, 'red widget shiny', 'tools', 'A'),
  (2, 2, 'blue gadget', 'toys', 'A'),
  (3, 3, 'red red red gadget', 'toys', 'A');
INSERT INTO notes (docid, product_id, body, tenant_id) VALUES
  (1, 1, 'the red widgets are running out', 'A'), (2, 3, 'gadget returns', 'A');
INSERT INTO places VALUES (1, 0, 10, 'A'), (2, 20, 30, 'A');
";

/// Other tenants' rows, after A's: they match the same searches.
const OTHER_ROWS: &str = "
INSERT INTO products (id, name, tenant_id) VALUES (101, 'red widget', 'B'), (102, 'red lamp', 'B'),
  (201, 'red gadget', 'C');
INSERT INTO product_search_index (rowid, product_id, searchable_text, category, tenant_id) VALUES
  (101, 101, 'red widget', 'tools', 'B'),
  (102, 102, 'red lamp light', 'home', 'B'),
  (201, 201, 'red gadget', 'toys', 'C');
INSERT INTO notes (docid, product_id, body, tenant_id) VALUES
  (101, 101, 'red widget running', 'B'), (201, 201, 'gadget', 'C');
INSERT INTO places VALUES (101, 0, 10, 'B'), (201, 5, 25, 'C');
";

fn world() -> World {
    let open = || Connection::open_in_memory().expect("open");
    let setup = Setup {
        legacy: LEGACY,
        triggers: &[],
    };
    let single = setup.legacy(open(), &[A_ROWS]);
    // Migrated as the migrator does: `products` gets the tenant column; the virtual tables
    // had it.
    let multi = setup.migrated(
        open(),
        Migration::AddColumn {
            tables: &["products"],
            default: "A",
        },
        &[
            Rows::Legacy {
                tenant: "A",
                sql: A_ROWS,
            },
            Rows::Migrated(OTHER_ROWS),
        ],
    );
    let rewriter = Rewriter::new(schema_of(&multi));
    World::from_parts(single, multi, rewriter)
}

fn refusal(w: &World, sql: &str) -> Refusal {
    match w.rewrite(sql) {
        Ok(out) => panic!("not refused: {sql}\n  {out}"),
        Err(e) => e.refusal().cloned().unwrap_or_else(|| panic!("{sql}: {e}")),
    }
}

#[test]
fn the_schema_reads_each_modules_columns() {
    let w = world();
    let schema = w.rewriter.schema();
    let columns = |name: &str| -> Vec<String> {
        let table = schema.table(name).expect(name);
        table.columns.iter().map(|c| c.name.clone()).collect()
    };
    assert_eq!(
        columns("product_search_index"),
        ["product_id", "searchable_text", "category", "tenant_id"]
    );
    assert_eq!(columns("notes"), ["product_id", "body", "tenant_id"]);
    assert_eq!(columns("places"), ["id", "minx", "maxx", "tenant_id"]);
    for (name, module) in [
        ("product_search_index", Module::Fts5),
        ("notes", Module::Fts4),
        ("places", Module::Rtree),
    ] {
        assert!(schema.is_scoped(name), "{name}");
        assert_eq!(schema.table(name).and_then(|t| t.module), Some(module));
    }
    assert!(schema.unreadable().is_empty(), "{:?}", schema.unreadable());
    assert_eq!(
        schema.shadow_owner("product_search_index_data"),
        Some("product_search_index")
    );
    assert_eq!(schema.shadow_owner("notes_segdir"), Some("notes"));
    assert_eq!(schema.shadow_owner("places_node"), Some("places"));
    assert_eq!(schema.shadow_owner("products"), None);
}

#[test]
fn the_oracle_sees_a_leak_when_a_search_is_not_rewritten() {
    let w = world();
    let sql = "SELECT product_id FROM product_search_index WHERE product_search_index MATCH 'red'";
    let single = query(&w.single, sql, &[]).expect("single");
    let multi = query(&w.multi, sql, &[]).expect("multi");
    assert_ne!(single.sorted().rows, multi.sorted().rows);
}

#[test]
fn fts5_searches_return_only_the_tenants_rows() {
    let w = world();
    w.check("SELECT * FROM product_search_index WHERE product_search_index MATCH 'red'");
    w.check("SELECT * FROM product_search_index");
    w.check("SELECT count(*) FROM product_search_index");
    w.check("SELECT product_id FROM product_search_index WHERE searchable_text MATCH 'gadget'");
    w.check(
        "SELECT product_id FROM product_search_index \
         WHERE product_search_index.searchable_text MATCH 'red' AND category = 'toys'",
    );
    w.check("SELECT product_id FROM product_search_index WHERE product_search_index = 'red'");
    w.check(
        "SELECT rowid, product_id FROM product_search_index WHERE product_search_index MATCH 'red'",
    );
    w.check_with(
        "SELECT product_id FROM product_search_index WHERE product_search_index MATCH ?1 \
         ORDER BY rank",
        &[Value::Text("red".into())],
        true,
    );
    w.check_ordered(
        "SELECT product_id, highlight(product_search_index, 1, '[', ']'), \
         snippet(product_search_index, 1, '<', '>', '…', 4) \
         FROM product_search_index WHERE product_search_index MATCH 'red' ORDER BY rank",
    );
    // bm25 counts every tenant's rows (see ARCHITECTURE, "Virtual tables"): its order is
    // compared here, not its values.
    w.check_ordered(
        "SELECT product_id, bm25(product_search_index) < 0 FROM product_search_index \
         WHERE product_search_index MATCH 'red' ORDER BY bm25(product_search_index)",
    );
    w.check(
        "SELECT category, count(*) FROM product_search_index \
         WHERE product_search_index MATCH 'red OR gadget' GROUP BY category",
    );
    w.check("SELECT * FROM product_search_index ORDER BY product_id LIMIT 2");
}

#[test]
fn fts5_searches_joined_nested_and_combined() {
    let w = world();
    // With an alias, SQLite names the hidden column by the table's name, not the alias.
    w.check(
        "SELECT p.name, s.category FROM products p JOIN product_search_index s \
         ON s.product_id = p.id WHERE product_search_index MATCH 'red'",
    );
    w.check(
        "SELECT p.name, highlight(product_search_index, 1, '[', ']') FROM products AS p, \
         product_search_index AS s WHERE s.product_id = p.id AND s.product_search_index MATCH 'red' \
         ORDER BY s.rank",
    );
    w.check(
        "SELECT s.product_id, p.name FROM product_search_index s LEFT JOIN products p \
         ON p.id = s.product_id WHERE product_search_index MATCH 'gadget'",
    );
    w.check(
        "SELECT name FROM products WHERE id IN (SELECT product_id FROM product_search_index \
         WHERE product_search_index MATCH 'red')",
    );
    w.check(
        "WITH hits AS (SELECT product_id FROM product_search_index \
         WHERE product_search_index MATCH 'red') \
         SELECT p.name FROM products p JOIN hits ON hits.product_id = p.id",
    );
    w.check(
        "SELECT product_id FROM product_search_index WHERE product_search_index MATCH 'red' \
         UNION SELECT id FROM products WHERE name LIKE 'blue%'",
    );
    w.check(
        "SELECT (SELECT count(*) FROM product_search_index \
         WHERE product_search_index MATCH 'red') AS hits",
    );
    w.check(
        "SELECT product_id FROM (SELECT * FROM product_search_index \
         WHERE product_search_index MATCH 'gadget') AS q",
    );
}

#[test]
fn fts5_writes_change_only_the_tenants_rows() {
    let w = world();
    w.check(
        "INSERT INTO product_search_index (product_id, searchable_text, category, tenant_id) \
         VALUES (9, 'red kite', 'toys', 'A')",
    );
    w.check(
        "INSERT INTO product_search_index (product_id, searchable_text, category, tenant_id) \
         VALUES (10, 'blue kite', 'toys', 'A')",
    );
    w.check("SELECT product_id FROM product_search_index WHERE product_search_index MATCH 'kite'");
    w.check(
        "UPDATE product_search_index SET category = 'sale' \
         WHERE product_search_index MATCH 'gadget'",
    );
    w.check("DELETE FROM product_search_index WHERE product_search_index MATCH 'red'");
    w.check("SELECT * FROM product_search_index WHERE product_search_index MATCH 'red OR blue'");
    w.check("DELETE FROM product_search_index");
    w.check("SELECT count(*) FROM product_search_index");
}

#[test]
fn an_insert_that_leaves_the_tenant_column_out_gets_the_tenant() {
    // The legacy statement would have left the application's tenant column NULL; scoped, the
    // row is the tenant's, like any insert into a tenant table.
    let w = world();
    let others = w.others();
    for sql in [
        "INSERT INTO product_search_index (product_id, searchable_text, category) \
         VALUES (9, 'red kite', 'toys')",
        "INSERT INTO notes (product_id, body) VALUES (9, 'red kite')",
        "INSERT INTO places (id, minx, maxx) VALUES (9, 1, 2)",
    ] {
        let rewritten = w.rewrite(sql).expect("rewrite");
        w.multi.execute(&rewritten, []).expect(&rewritten);
    }
    assert_eq!(w.others(), others);
    for table in ["product_search_index", "notes", "places"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE tenant_id = 'A'");
        let single = query(&w.single, &format!("SELECT count(*) + 1 FROM {table}"), &[]);
        assert_eq!(
            query(&w.multi, &sql, &[]).expect(&sql).rows,
            single.expect(table).rows
        );
    }
    let hits = w
        .rewrite(
            "SELECT product_id FROM product_search_index WHERE product_search_index MATCH 'kite'",
        )
        .expect("rewrite");
    let got = query(&w.multi, &hits, &[]).expect(&hits);
    assert_eq!(got.rows, [[Value::Integer(9)]]);
}

#[test]
fn fts4_and_rtree_are_scoped_alike() {
    let w = world();
    w.check("SELECT * FROM notes WHERE notes MATCH 'red'");
    w.check("SELECT docid, snippet(notes), offsets(notes) FROM notes WHERE notes MATCH 'running'");
    w.check("SELECT product_id FROM notes WHERE body MATCH 'gadget'");
    w.check(
        "SELECT p.name FROM products p JOIN notes n ON n.product_id = p.id \
         WHERE notes MATCH 'red'",
    );
    w.check("INSERT INTO notes (product_id, body, tenant_id) VALUES (4, 'green runs', 'A')");
    w.check("DELETE FROM notes WHERE notes MATCH 'gadget'");
    w.check("SELECT * FROM places WHERE minx < 7");
    w.check("SELECT id FROM places WHERE maxx > 5 AND minx < 25");
    w.check("INSERT INTO places (id, minx, maxx, tenant_id) VALUES (3, 1, 2, 'A')");
    w.check("UPDATE places SET maxx = maxx + 1 WHERE minx >= 0");
    w.check("DELETE FROM places WHERE minx = 0");
}

#[test]
fn the_tenant_test_goes_into_the_select_that_reads_the_table() {
    let w = world();
    let out = w
        .rewrite(
            "SELECT p.name FROM products p JOIN product_search_index s ON s.product_id = p.id \
             WHERE product_search_index MATCH ? ORDER BY rank",
        )
        .expect("rewrite");
    assert!(
        out.contains(
            "WHERE +s.\"tenant_id\" = 'A' AND +p.\"tenant_id\" = 'A' \
             AND (product_search_index MATCH ?) ORDER BY rank"
        ),
        "{out}"
    );
    let out = w
        .rewrite("SELECT count(*) FROM notes GROUP BY product_id")
        .expect("rewrite");
    assert_eq!(
        out,
        "SELECT count(*) FROM notes WHERE +notes.\"tenant_id\" = 'A' GROUP BY product_id"
    );
}

#[test]
fn commands_shadow_tables_and_outer_joins_are_refused() {
    let w = world();
    for sql in [
        "INSERT INTO product_search_index (product_search_index) VALUES ('rebuild')",
        "INSERT INTO product_search_index(product_search_index) VALUES ('delete-all')",
        "INSERT INTO product_search_index(product_search_index) VALUES ('optimize')",
        "INSERT INTO product_search_index(product_search_index, rank) VALUES ('merge', 500)",
        "INSERT INTO product_search_index(product_search_index) VALUES ('integrity-check')",
        "INSERT INTO product_search_index(product_search_index, rank) VALUES ('rank', 'bm25(10.0)')",
        "INSERT INTO notes(notes) VALUES ('optimize')",
        "INSERT INTO notes(notes) VALUES ('rebuild')",
    ] {
        assert!(
            matches!(
                refusal(&w, sql),
                Refusal::VirtualTable {
                    form: VirtualForm::Command { .. },
                    ..
                }
            ),
            "{sql}"
        );
    }
    assert!(matches!(
        refusal(&w, "INSERT INTO places VALUES (5, 1, 2, 'A')"),
        Refusal::VirtualTable {
            form: VirtualForm::InsertWithoutColumns,
            ..
        }
    ));
    for sql in [
        "SELECT * FROM product_search_index_data",
        "SELECT count(*) FROM product_search_index_content",
        "DELETE FROM product_search_index_docsize",
        "INSERT INTO product_search_index_config VALUES ('version', 4)",
        "SELECT * FROM notes_segdir",
        "UPDATE notes_content SET c1body = ''",
        "SELECT * FROM places_node",
        "SELECT * FROM products WHERE id IN (SELECT rowid FROM places_rowid)",
    ] {
        assert!(
            matches!(refusal(&w, sql), Refusal::ShadowTable { .. }),
            "{sql}"
        );
    }
    for sql in [
        "SELECT p.name FROM products p LEFT JOIN product_search_index s ON s.product_id = p.id",
        "SELECT p.name FROM product_search_index s RIGHT JOIN products p ON s.product_id = p.id",
        "SELECT * FROM products p FULL JOIN notes n ON n.product_id = p.id",
    ] {
        assert!(
            matches!(
                refusal(&w, sql),
                Refusal::VirtualTable {
                    form: VirtualForm::OuterJoin,
                    ..
                }
            ),
            "{sql}"
        );
    }
    assert!(matches!(
        refusal(
            &w,
            "UPDATE products SET name = 'x' FROM notes WHERE notes.product_id = products.id"
        ),
        Refusal::VirtualTable {
            form: VirtualForm::UpdateFrom,
            ..
        }
    ));
    assert!(matches!(
        refusal(
            &w,
            "INSERT INTO product_search_index (product_id, searchable_text, tenant_id) \
             VALUES (1, 'x', 'B')"
        ),
        Refusal::ForeignTenant { .. }
    ));
}

#[test]
fn bm25_scores_count_every_tenants_rows() {
    // The documented difference: FTS statistics are the whole index's, so a score differs
    // from the single-tenant database's (the order of A's rows is kept here).
    let w = world();
    let sql = "SELECT bm25(product_search_index) FROM product_search_index \
               WHERE product_search_index MATCH 'red' ORDER BY rank";
    let single = query(&w.single, sql, &[]).expect("single");
    let multi = query(&w.multi, &w.rewrite(sql).expect("rewrite"), &[]).expect("multi");
    assert_eq!(single.rows.len(), multi.rows.len());
    assert_ne!(single.rows, multi.rows);
}

/// A name `rank` stands only in an ORDER BY or among the statement's own result columns:
/// anywhere else SQLite may hand FTS5 a constraint on it (a ranking function FTS5 runs on
/// every tenant's matches), however it is written or from however far out it is pushed
/// down (red team 12).
#[test]
fn fts5_rank_is_read_and_ordered_by_never_constrained() {
    let w = world();
    let m = "product_search_index MATCH 'red'";
    for sql in [
        format!("SELECT rowid FROM product_search_index WHERE {m} AND rank MATCH 'bm25()'"),
        format!("SELECT rowid FROM product_search_index WHERE {m} AND (rank) = 'bm25()'"),
        format!("SELECT rowid FROM product_search_index WHERE {m} AND rank COLLATE binary = 'x'"),
        format!(
            "SELECT rowid FROM product_search_index WHERE {m} AND main.product_search_index.rank = 'x'"
        ),
        format!(
            "SELECT rowid FROM product_search_index WHERE {m} \
             AND 'main'.'product_search_index'.'rank' = 'x'"
        ),
        format!("SELECT rowid FROM product_search_index WHERE {m} AND rank IN ('x')"),
        format!(
            "SELECT d.rowid FROM (SELECT rowid, rank AS r FROM product_search_index WHERE {m}) AS d \
             WHERE d.r = 'x'"
        ),
        format!(
            "WITH d AS (SELECT rowid, rank FROM product_search_index WHERE {m} ORDER BY rank) \
             SELECT rowid FROM d WHERE d.rank = 'x'"
        ),
        format!(
            "SELECT p.name FROM products p JOIN product_search_index s ON s.product_id = p.id \
             AND s.rank = 'x' WHERE {m}"
        ),
        // USING matches the hidden column: SQLite adds `x.rank = s.rank`.
        format!(
            "SELECT s.rowid FROM (SELECT 'x' AS rank) AS x JOIN product_search_index AS s \
             USING (rank) WHERE {m} ORDER BY s.rank"
        ),
        format!(
            "SELECT s.rowid FROM products AS p JOIN ((SELECT 'x' AS rank) AS x \
             JOIN product_search_index AS s USING (rank)) ON s.product_id = p.id \
             WHERE {m} ORDER BY s.rank"
        ),
        // A result column's alias names its expression in the WHERE.
        format!("SELECT rank AS r FROM product_search_index WHERE {m} AND r = 'x' ORDER BY rank"),
        // A subquery in a result column or an ORDER BY has a WHERE of its own.
        format!("SELECT (SELECT rowid FROM product_search_index WHERE {m} AND rank = 'x' LIMIT 1)"),
        format!(
            "SELECT rowid FROM product_search_index WHERE {m} ORDER BY (SELECT p.rowid \
             FROM product_search_index AS p WHERE {m} AND p.rank = 'x' LIMIT 1)"
        ),
    ] {
        // (`rank MATCH` also counts as a condition that may raise, which a full-text
        // table cannot be bounded for.)
        assert!(
            matches!(
                refusal(&w, &sql),
                Refusal::VirtualTable {
                    form: VirtualForm::RankConstraint,
                    ..
                } | Refusal::BoundedVirtualTable { .. }
            ),
            "{sql}: {:?}",
            refusal(&w, &sql)
        );
    }
    // Read, and ordered by, at any depth.
    w.check_ordered(&format!(
        "SELECT product_id, rank < 0 FROM product_search_index WHERE {m} ORDER BY rank"
    ));
    w.check_ordered(&format!(
        "SELECT s.product_id FROM (SELECT product_id FROM product_search_index WHERE {m} \
         ORDER BY rank) AS s ORDER BY s.product_id"
    ));
    w.check_ordered(&format!(
        "SELECT product_id FROM product_search_index WHERE {m} ORDER BY product_search_index.rank"
    ));
    w.check_ordered(&format!(
        "SELECT product_id, rank < 0 AS r FROM product_search_index WHERE {m} \
         ORDER BY r, product_id"
    ));
}
