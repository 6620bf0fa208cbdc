use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::support::{db_from_sql, outcome, tenantry, tenantry_stdin};

/// A migrated-looking database: two tenant tables holding three tenants' rows, and one
/// global table, declared global as `tenantry global add` does.
const SETUP: &str = "\
CREATE TABLE _tenantry_globals (pattern TEXT PRIMARY KEY COLLATE NOCASE,
                                declared_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO _tenantry_globals (pattern) VALUES ('settings');
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, data BLOB, note TEXT,
                    tenant_id TEXT NOT NULL DEFAULT 'store-a');
CREATE INDEX idx_items_tenant_id ON items(tenant_id);
CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT NOT NULL, tenant_id TEXT NOT NULL DEFAULT 'store-a');
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO items VALUES
  (1, 'apple', 2.5, X'00FF10', NULL, 'store-a'),
  (2, 'pear', 1.0, NULL, 'x;y', 'store-a'),
  (3, 'plum', 3.25, NULL, NULL, 'store-b'),
  (4, 'fig', 4.0, X'AA', 'b''s', 'store-b'),
  (5, 'kiwi', 5.5, NULL, NULL, 'store-c');
INSERT INTO log VALUES (1, 'a1', 'store-a'), (2, 'b1', 'store-b'), (3, 'c1', 'store-c');
INSERT INTO settings VALUES ('currency', 'EUR');
";

fn setup(dir: &Path) -> PathBuf {
    db_from_sql(dir, "app.db", SETUP)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Runs `tenantry sql DB --tenant TENANT [extra...] SQL`.
fn sql(db: &Path, tenant: &str, extra: &[&str], statements: &str) -> (i32, String, String) {
    let mut args = vec!["sql", path(db), "--tenant", tenant];
    args.extend_from_slice(extra);
    args.push(statements);
    outcome(&tenantry(&args))
}

/// The lines of standard output.
fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

/// The first column of each row of `sql`, run unscoped with plain rusqlite.
fn rows(db: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(db).expect("open db");
    let mut statement = conn.prepare(sql).expect("prepare");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn reads_as_a_tenant_return_only_its_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());

    let (code, out, err) = sql(
        &db,
        "store-a",
        &["--json"],
        "SELECT id, name FROM items ORDER BY id; SELECT count(*) AS n FROM log; \
         SELECT * FROM log",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"SELECT id, name FROM items ORDER BY id","columns":["id","name"],"rows":[[1,"apple"],[2,"pear"]],"changes":0}"#,
            r#"{"sql":"SELECT count(*) AS n FROM log","columns":["n"],"rows":[[1]],"changes":0}"#,
            // `*` does not show the tenant column.
            r#"{"sql":"SELECT * FROM log","columns":["id","msg"],"rows":[[1,"a1"]],"changes":0}"#,
        ]
    );
    assert!(err.is_empty(), "unexpected stderr: {err}");

    let (code, out, err) = sql(
        &db,
        "store-b",
        &["--json"],
        "SELECT i.name, l.msg FROM items i JOIN log l ORDER BY i.id",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"SELECT i.name, l.msg FROM items i JOIN log l ORDER BY i.id","columns":["name","msg"],"rows":[["plum","b1"],["fig","b1"]],"changes":0}"#
        ]
    );

    // A global table is everyone's.
    let (code, out, _) = sql(&db, "store-c", &["--json"], "SELECT value FROM settings");
    assert_eq!(code, 0);
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"SELECT value FROM settings","columns":["value"],"rows":[["EUR"]],"changes":0}"#
        ]
    );
}

#[test]
fn every_value_type_in_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    let (code, out, err) = sql(
        &db,
        "store-a",
        &["--json"],
        "SELECT id, name, price, data, note FROM items ORDER BY id",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"SELECT id, name, price, data, note FROM items ORDER BY id","columns":["id","name","price","data","note"],"rows":[[1,"apple",2.5,{"blob_hex":"00ff10"},null],[2,"pear",1.0,null,"x;y"]],"changes":0}"#
        ]
    );
    // Parsed, the values have the right JSON types.
    let value: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON line");
    let first = &value["rows"][0];
    assert!(first[0].is_i64());
    assert!(first[1].is_string());
    assert!(first[2].is_f64());
    assert!(first[3].is_object());
    assert!(first[4].is_null());
    // A real that is a whole number stays a real.
    assert!(value["rows"][1][2].is_f64());
}

#[test]
fn writes_change_only_the_tenants_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    let (code, out, err) = sql(
        &db,
        "store-a",
        &["--json"],
        "UPDATE items SET price = 0; DELETE FROM log; INSERT INTO log (id, msg) VALUES (10, 'new'); \
         SELECT id, price FROM items ORDER BY id",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"UPDATE items SET price = 0","columns":[],"rows":[],"changes":2}"#,
            r#"{"sql":"DELETE FROM log","columns":[],"rows":[],"changes":1}"#,
            r#"{"sql":"INSERT INTO log (id, msg) VALUES (10, 'new')","columns":[],"rows":[],"changes":1}"#,
            r#"{"sql":"SELECT id, price FROM items ORDER BY id","columns":["id","price"],"rows":[[1,0.0],[2,0.0]],"changes":0}"#,
        ]
    );
    // Seen unscoped: B's and C's rows are as they were; A's changed; the insert is A's.
    assert_eq!(
        rows(
            &db,
            "SELECT tenant_id || '|' || id || '|' || name || '|' || price FROM items ORDER BY id"
        ),
        [
            "store-a|1|apple|0.0",
            "store-a|2|pear|0.0",
            "store-b|3|plum|3.25",
            "store-b|4|fig|4.0",
            "store-c|5|kiwi|5.5",
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT tenant_id || '|' || id || '|' || msg FROM log ORDER BY id"
        ),
        ["store-b|2|b1", "store-c|3|c1", "store-a|10|new"]
    );
}

#[test]
fn a_refused_statement_stops_the_run_unless_keep_going() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    let input = "INSERT INTO log (id, msg) VALUES (20, 'before'); DROP TABLE items; \
                 INSERT INTO log (id, msg) VALUES (21, 'after')";

    let (code, out, err) = sql(&db, "store-a", &["--json"], input);
    assert_eq!(code, 1, "{err}");
    let out = lines(&out);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        out[0],
        r#"{"sql":"INSERT INTO log (id, msg) VALUES (20, 'before')","columns":[],"rows":[],"changes":1}"#
    );
    let refused: serde_json::Value = serde_json::from_str(out[1]).expect("JSON line");
    assert_eq!(refused["sql"], "DROP TABLE items");
    assert_eq!(refused["error"]["kind"], "refused");
    let message = refused["error"]["message"].as_str().expect("message");
    assert!(message.contains("schema"), "{message}");
    assert_eq!(
        refused.as_object().map(|o| o.len()),
        Some(2),
        "only sql and error: {refused}"
    );
    assert!(err.contains("DROP TABLE items"), "{err}");
    // The statement after the refusal was not run; the table is still there.
    assert_eq!(
        rows(&db, "SELECT msg FROM log WHERE id >= 20 ORDER BY id"),
        ["before"]
    );
    assert_eq!(rows(&db, "SELECT count(*) || '' FROM items"), ["5"]);

    let input = input.replace("20, 'before'", "30, 'before2'");
    let input = input.replace("21, 'after'", "31, 'after2'");
    let (code, out, err) = sql(&db, "store-a", &["--json", "--keep-going"], &input);
    assert_eq!(code, 1, "{err}");
    let out = lines(&out);
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[1].contains(r#""kind":"refused""#), "{}", out[1]);
    assert_eq!(
        out[2],
        r#"{"sql":"INSERT INTO log (id, msg) VALUES (31, 'after2')","columns":[],"rows":[],"changes":1}"#
    );
    assert_eq!(
        rows(
            &db,
            "SELECT tenant_id || '|' || msg FROM log WHERE id >= 30 ORDER BY id"
        ),
        ["store-a|before2", "store-a|after2"]
    );
}

#[test]
fn sqlite_errors_have_the_sqlite_kind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    // Integer overflow in abs(): SQLite's own error, at run time.
    let (code, out, _) = sql(
        &db,
        "store-a",
        &["--json"],
        "SELECT abs(-9223372036854775807 - 1)",
    );
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON line");
    assert_eq!(value["error"]["kind"], "sqlite", "{value}");
    let (code, out, _) = sql(&db, "store-a", &["--json"], "SELECT 'open");
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON line");
    assert_eq!(value["error"]["kind"], "parse", "{value}");
}

#[test]
fn statements_split_on_real_boundaries_not_on_every_semicolon() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    let (code, out, err) = sql(
        &db,
        "store-a",
        &["--json"],
        "SELECT 'a;b' AS s; SELECT id FROM items WHERE note = 'x;y'; -- a; comment\nSELECT \"x;\" FROM (SELECT 1 AS \"x;\");",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"SELECT 'a;b' AS s","columns":["s"],"rows":[["a;b"]],"changes":0}"#,
            r#"{"sql":"SELECT id FROM items WHERE note = 'x;y'","columns":["id"],"rows":[[2]],"changes":0}"#,
            r#"{"sql":"-- a; comment\nSELECT \"x;\" FROM (SELECT 1 AS \"x;\")","columns":["x;"],"rows":[[1]],"changes":0}"#,
        ]
    );
}

#[test]
fn plain_output_is_an_aligned_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    let (code, out, err) = sql(
        &db,
        "store-b",
        &[],
        "SELECT id, name, price, data, note FROM items ORDER BY id; UPDATE log SET msg = 'x'",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "\
id  name  price  data   note
--  ----  -----  -----  ----
 3  plum   3.25  NULL   NULL
 4  fig     4.0  X'AA'  b's
(2 rows)

(1 row changed)
"
    );
}

#[test]
fn sql_is_read_from_standard_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    let output = tenantry_stdin(
        &["sql", path(&db), "--tenant", "store-c", "--json"],
        "SELECT name FROM items;\nSELECT msg FROM log;\n",
    );
    let (code, out, err) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            r#"{"sql":"SELECT name FROM items","columns":["name"],"rows":[["kiwi"]],"changes":0}"#,
            r#"{"sql":"SELECT msg FROM log","columns":["msg"],"rows":[["c1"]],"changes":0}"#,
        ]
    );
    // `-` too.
    let output = tenantry_stdin(
        &["sql", path(&db), "--tenant", "store-c", "-"],
        "SELECT name FROM items",
    );
    let (code, out, err) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "name\n----\nkiwi\n(1 row)\n");
}

#[test]
fn an_invalid_tenant_is_bad_usage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = setup(dir.path());
    for tenant in ["store a", "", "x'; DROP TABLE items; --"] {
        let (code, out, err) = sql(&db, tenant, &["--json"], "SELECT name FROM items");
        assert_eq!(code, 2, "{tenant:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("--tenant"), "{err}");
    }
}

#[test]
fn a_missing_database_is_bad_usage_and_not_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.db");
    let (code, out, err) = sql(&missing, "store-a", &[], "SELECT 1");
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no such file"), "{err}");
    assert!(!missing.exists(), "the database was created");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
}

#[test]
fn an_unmigrated_database_is_bad_usage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_from_sql(
        dir.path(),
        "legacy.db",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO items VALUES (1, 'apple');",
    );
    let (code, out, err) = sql(&db, "store-a", &["--json"], "SELECT name FROM items");
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("tenantry migrate"), "{err}");
}

#[test]
fn help_explains_the_scope_and_the_json() {
    let (code, out, _) = outcome(&tenantry(&["sql", "--help"]));
    assert_eq!(code, 0);
    for needle in [
        "scoped to the tenant",
        "--keep-going",
        "\"columns\"",
        "blob_hex",
        "Examples:",
        "Exit status",
    ] {
        assert!(out.contains(needle), "help lacks {needle:?}:\n{out}");
    }
}
