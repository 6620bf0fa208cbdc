//! Errors are not a side channel: a condition that raises an error for some values
//! (`json(CASE WHEN phone = '…' THEN 'x' ELSE '1' END)`) must fail or succeed for tenant B
//! the same way whatever tenant A holds. Before, SQLite evaluated such a condition on A's
//! index entries (an index without the tenant column, or an OR branch over a skip-scan)
//! before the tenant test, so B could read A's values one error at a time (red team 4).
//!
//! Each probe runs as B twice: once guessing A's value, once guessing a value nobody
//! holds. The two outcomes (rows or error message) must be equal, and not an error: the
//! statement is legitimate SQL, and B holds neither value.

use std::path::Path;

use tenantry_migrate::{Layout, MigrateOptions, migrate};
use tenantry_sqlite::Connection;

use crate::support::{db_from_sql, render_value};

/// A's rows, in the legacy database; A is the default tenant after the migration.
const LEGACY: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, note TEXT);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX customers_name ON customers (name);
CREATE TABLE audit_log (msg TEXT, k INTEGER);
CREATE INDEX audit_msg ON audit_log (msg);
CREATE INDEX audit_k ON audit_log (k);
CREATE VIEW phones AS SELECT name, phone FROM customers;
CREATE VIEW contacts AS SELECT id, name, phone, phone ->> '$.ext' AS ext FROM customers;
CREATE VIEW log_view AS SELECT msg, k, msg ->> '$.x' AS x FROM audit_log;
CREATE VIRTUAL TABLE psi USING fts5(title, body, tenant_id UNINDEXED);
INSERT INTO customers VALUES (1, 'Zelda Secret', '555-0199', 'private');
INSERT INTO audit_log VALUES ('card 4111 refunded', 1);
INSERT INTO psi (rowid, title, body, tenant_id) VALUES (1, 'doc', 'secret plan', 'caps-automotive');
";

/// A's values, and a value of the same shape nobody holds.
const HELD: [&str; 5] = [
    "555-0199",
    "private",
    "card 4111 refunded",
    "Zelda Secret",
    "secret plan",
];
const NOT_HELD: &str = "nobody holds this";

/// The probes, `{g}` the guess: index-covered conditions, an OR branch reading a column no
/// index holds, a table without a primary key (its rowid kept by the tenant-first layout),
/// a view and a subquery in FROM, and UPDATE and DELETE (red team 4); a failing call of
/// constants under a CASE, MATCH on an ordinary column, a result column's alias in WHERE
/// and HAVING, and an OR over a full-text table (red team 7); the tenant column named by a
/// string (`t.'tenant_id'`), whose constant SQLite would put in place of a guard's column,
/// and a full-text ranking function FTS5 runs on every tenant's matches (red team 8); a
/// view's column that may raise, which SQLite puts into the statement's WHERE, alone or
/// beside another table's index (red team 10); a ranking function set through a `main.`
/// prefix, parentheses, COLLATE, or a subquery's or CTE's column that SQLite pushes down
/// into the full-text scan (red team 12), or through a result column's alias, in a
/// subquery inside a result column or an ORDER BY, or by `JOIN … USING (rank)` (red team
/// 13); `NOT MATCH` and `NOT GLOB` (a pattern too long), which sqlparser did not read.
const PROBES: &[&str] = &[
    "SELECT count(*) FROM customers WHERE phone > '' \
     AND json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) = 1",
    "SELECT count(*) FROM customers WHERE (phone > '' \
     AND json(CASE WHEN note = '{g}' THEN 'x' ELSE '1' END)) OR name = 'none'",
    "SELECT count(*) FROM audit_log WHERE (msg > '' \
     AND json(CASE WHEN msg = '{g}' THEN 'x' ELSE '1' END)) OR k = -42",
    "SELECT count(*) FROM phones WHERE phone > '' \
     AND json(CASE WHEN name = '{g}' THEN 'x' ELSE '1' END) = 1",
    "SELECT count(*) FROM (SELECT phone FROM customers) AS s WHERE s.phone > '' \
     AND json(CASE WHEN s.phone = '{g}' THEN 'x' ELSE '1' END) = 1",
    "SELECT count(*) FROM customers WHERE name > '' AND phone || '' = '{g}' \
     AND json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) = 1",
    "UPDATE customers SET note = 'b' WHERE phone > '' \
     AND json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) = 1",
    "DELETE FROM customers WHERE phone > '' \
     AND json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) = 1",
    "SELECT count(*) FROM customers WHERE phone > '' \
     AND CASE WHEN phone = '{g}' THEN json('x') ELSE 1 END",
    "SELECT count(*) FROM customers WHERE phone > '' \
     AND CASE WHEN phone = '{g}' THEN abs(-9223372036854775808) ELSE 1 END",
    "SELECT count(*) FROM audit_log WHERE (msg > '' \
     AND CASE WHEN msg = '{g}' THEN json('x') ELSE 1 END) OR k = -42",
    "SELECT count(*) FROM customers WHERE phone > '' \
     AND CASE WHEN phone = '{g}' THEN phone MATCH 'x' ELSE 1 END",
    "SELECT count(*) FROM customers WHERE phone > '' \
     AND CASE WHEN phone = '{g}' THEN phone NOT MATCH 'x' ELSE 1 END",
    "SELECT count(*) FROM customers WHERE phone NOTNULL AND note ISNULL IS 0 \
     AND CASE WHEN phone = '{g}' THEN phone NOT GLOB hex(zeroblob(30000)) ELSE 1 END",
    "SELECT json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) AS j FROM customers \
     WHERE phone > '' AND j = 1",
    "SELECT phone, json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) AS j FROM customers \
     WHERE phone > '' GROUP BY phone HAVING j",
    "SELECT count(*) FROM psi WHERE (psi MATCH 'doc' \
     AND json(CASE WHEN body = '{g}' THEN 'x' ELSE '1' END)) OR rowid = -42",
    "SELECT count(*) FROM customers NOT INDEXED \
     WHERE json(CASE WHEN phone = '{g}' THEN 'x' ELSE '1' END) = 1 \
     AND customers.'tenant_id' = 'store-b'",
    "SELECT count(*) FROM audit_log NOT INDEXED \
     WHERE json(CASE WHEN msg = '{g}' THEN 'x' ELSE '1' END) = 1 \
     AND audit_log.'tenant_id' = 'store-b'",
    "SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' AND psi.rank MATCH 'snippet()' \
     ORDER BY rank",
    "SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' AND 'main'.psi.rank = 'highlight(9)' \
     ORDER BY rank",
    "SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' \
     AND 'main'.'psi'.'rank' = 'highlight(9)' ORDER BY rank",
    "SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' AND main.psi.rank = 'highlight(9)' \
     ORDER BY rank",
    "SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' AND (rank) = 'highlight(9)' \
     ORDER BY rank",
    "SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' \
     AND rank COLLATE binary = 'highlight(9)' ORDER BY rank",
    "SELECT d.rowid FROM (SELECT rowid, rank AS r FROM psi WHERE psi MATCH '\"{g}\"' \
     ORDER BY rank) AS d WHERE d.r = 'highlight(9)'",
    "WITH d AS (SELECT rowid, rank FROM psi WHERE psi MATCH '\"{g}\"' ORDER BY rank) \
     SELECT rowid FROM d WHERE d.rank = 'highlight(9)'",
    "SELECT rank AS r FROM psi WHERE psi MATCH '\"{g}\"' AND r = 'highlight(9)' ORDER BY rank",
    "SELECT (SELECT rowid FROM psi WHERE psi MATCH '\"{g}\"' AND rank = 'highlight(9)' \
     ORDER BY rank LIMIT 1)",
    "SELECT rowid FROM psi WHERE psi MATCH 'doc' ORDER BY (SELECT p2.rowid FROM psi AS p2 \
     WHERE psi MATCH '\"{g}\"' AND p2.rank = 'highlight(9)' ORDER BY p2.rank LIMIT 1)",
    "SELECT rowid, rank AS r FROM psi WHERE psi MATCH '\"{g}\"' GROUP BY r \
     HAVING r = 'highlight(9)' ORDER BY rank",
    "SELECT rowid FROM psi WHERE psi MATCH 'doc' UNION ALL SELECT (SELECT rowid FROM psi \
     WHERE psi MATCH '\"{g}\"' AND rank = 'highlight(9)' ORDER BY rank)",
    "SELECT psi.rowid FROM (SELECT 'highlight(9)' AS rank) AS x JOIN psi USING (rank) \
     WHERE psi MATCH '\"{g}\"' ORDER BY psi.rank",
    "SELECT count(*) FROM contacts WHERE phone > '' \
     AND CASE WHEN phone = '{g}' THEN ext END IS NULL",
    "SELECT count(*) FROM log_view WHERE (msg > '' \
     AND CASE WHEN msg = '{g}' THEN x END IS NULL) OR k = -42",
    "SELECT count(*) FROM customers AS c, contacts AS v WHERE c.phone > '' \
     AND CASE WHEN c.phone = '{g}' THEN v.ext END IS NULL",
];

/// The errors the probes raise when what they evaluate fails.
const RUN_TIME: [&str; 4] = [
    "malformed JSON",
    "integer overflow",
    "unable to use function MATCH",
    "SQL logic error",
];

/// The legacy database migrated with `layout`, B's rows added through B's connection.
fn as_b(dir: &Path, layout: Layout) -> Connection {
    let db = db_from_sql(dir, "pos.db", LEGACY);
    let options = MigrateOptions {
        layout,
        ..MigrateOptions::default()
    };
    migrate(&db, &options, &mut |_| {}).expect("migrate");
    let b = Connection::open(&db).expect("open as a tenant connection");
    b.set_tenant("store-b").expect("tenant B");
    b.execute_batch(
        "INSERT INTO customers (id, name, phone, note) VALUES (100, 'b-name', 'b-phone', 'b');
         INSERT INTO audit_log VALUES ('b own row', 1);
         INSERT INTO psi (rowid, title, body) VALUES (2, 'doc', 'b own');",
    )
    .expect("B's rows");
    b
}

/// What `sql` gives B: its rows rendered, or the number of rows it changed, or its error (a
/// refusal by its reason: the message quotes the statement).
fn outcome(b: &Connection, sql: &str) -> Result<String, String> {
    let mut statement = b.prepare(sql).map_err(|e| {
        let message = e.to_string();
        match message.split_once(" refused: ") {
            Some((_, reason)) => format!("refused: {reason}"),
            None => message,
        }
    })?;
    if statement.column_count() == 0 {
        return statement
            .execute([])
            .map(|n| format!("{n} changed"))
            .map_err(|e| e.to_string());
    }
    let width = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            (0..width)
                .map(|i| row.get_ref(i).map(render_value))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| e.to_string())?;
    rows.map(|r| r.map(|v| v.join("|")).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.join(","))
}

fn no_probe_tells(layout: Layout) {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = as_b(dir.path(), layout);
    for probe in PROBES {
        for held in HELD {
            // An error may quote the statement and where in it SQLite stopped: the guess is
            // put back as `{g}`, the offset left out.
            let same = |e: String, guess: &str| match e.split_once(" at offset ") {
                Some((message, _)) => message.replace(guess, "{g}"),
                None => e.replace(guess, "{g}"),
            };
            let guessed = outcome(&b, &probe.replace("{g}", held)).map_err(|e| same(e, held));
            let missed =
                outcome(&b, &probe.replace("{g}", NOT_HELD)).map_err(|e| same(e, NOT_HELD));
            assert_eq!(
                guessed, missed,
                "{layout:?}: B's outcome tells whether A holds {held:?}: {probe}"
            );
            // Run, or refused or rejected before it runs; never failed by what it evaluated
            // (B holds neither value, so only another tenant's row could make it fail).
            if let Err(error) = &guessed {
                assert!(
                    !RUN_TIME.iter().any(|m| error.contains(m)),
                    "{layout:?}: {probe}: {error}"
                );
            }
        }
    }
    // B's own value still raises: the condition runs on B's rows as it did before.
    let own = outcome(&b, &PROBES[0].replace("{g}", "b-phone"));
    assert!(
        own.as_ref().is_err_and(|e| e.contains("malformed JSON")),
        "{own:?}"
    );
    // A guarded term that touches the AND next to it still runs.
    for sql in [
        "SELECT count(*) FROM customers WHERE json_valid(note)AND id>0",
        "SELECT count(*) FROM customers WHERE id>0 AND(json_valid(note))",
    ] {
        assert_eq!(outcome(&b, sql), Ok("i0".to_owned()), "{layout:?}: {sql}");
    }
}

#[test]
fn the_column_layout_tells_nothing_through_errors() {
    no_probe_tells(Layout::Column);
}

#[test]
fn the_tenant_first_layout_tells_nothing_through_errors() {
    no_probe_tells(Layout::TenantFirst);
}
