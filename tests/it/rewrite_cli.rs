use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::support::{db_from_sql, outcome, tenantry, tenantry_stdin};

/// A migrated-looking schema: two tenant tables and one global table.
const SCHEMA: &str = "\
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tenant_id VARCHAR(255) NOT NULL DEFAULT 'store-1');
CREATE INDEX idx_customers_tenant_id ON customers(tenant_id);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total INTEGER NOT NULL, tenant_id VARCHAR(255) NOT NULL DEFAULT 'store-1');
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
";

/// Two tenants' rows in the schema above.
const ROWS: &str = "\
INSERT INTO customers VALUES (1, 'Ada', 'store-1'), (2, 'Grace', 'store-2'), (3, 'Edsger', 'store-2');
INSERT INTO orders VALUES (10, 1, 100, 'store-1'), (11, 2, 200, 'store-2'), (12, 3, 300, 'store-2');
INSERT INTO settings VALUES ('currency', 'USD');
";

/// Writes the schema file and the two-tenant database into `dir`.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let schema = dir.join("schema.sql");
    std::fs::write(&schema, SCHEMA).expect("write schema file");
    let db = db_from_sql(dir, "app.db", &format!("{SCHEMA}{ROWS}"));
    (schema, db)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Rewrites `sql` for `tenant` against the schema file; exit 0 and the SQL printed.
fn rewrite_ok(schema: &Path, tenant: &str, sql: &str) -> String {
    let (code, out, err) = outcome(&tenantry(&[
        "rewrite",
        "--schema",
        path(schema),
        "--tenant",
        tenant,
        sql,
    ]));
    assert_eq!(code, 0, "{sql}: {err}");
    assert!(err.is_empty(), "{sql}: unexpected stderr: {err}");
    out.strip_suffix('\n')
        .unwrap_or_else(|| panic!("output ends with a newline: {out:?}"))
        .to_owned()
}

/// `tenantry rewrite --db db --tenant tenant sql`: its exit code, standard output and error.
fn rewrite_db(db: &Path, tenant: &str, sql: &str) -> (i32, String, String) {
    outcome(&tenantry(&[
        "rewrite",
        "--db",
        path(db),
        "--tenant",
        tenant,
        sql,
    ]))
}

fn names(conn: &Connection, sql: &str) -> Vec<String> {
    let mut statement = conn.prepare(sql).expect("rewritten SQL prepares");
    statement
        .query_map([], |row| row.get(0))
        .expect("rewritten SQL runs")
        .collect::<Result<_, _>>()
        .expect("rows read")
}

#[test]
fn schema_file_rewrite_reads_and_writes_only_the_tenants_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, db) = setup(dir.path());
    let conn = Connection::open(&db).expect("open the two-tenant db");

    let select =
        "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY c.name";
    // Unscoped, the query sees both tenants.
    assert_eq!(names(&conn, select), ["Ada", "Edsger", "Grace"]);
    let scoped = rewrite_ok(&schema, "store-2", select);
    assert!(scoped.contains("'store-2'"), "{scoped}");
    assert!(!scoped.contains("'store-1'"), "{scoped}");
    assert_eq!(names(&conn, &scoped), ["Edsger", "Grace"]);
    assert_eq!(
        names(&conn, &rewrite_ok(&schema, "store-1", select)),
        ["Ada"]
    );
    // `*` does not show the tenant column.
    let star = rewrite_ok(&schema, "store-1", "SELECT * FROM customers");
    let columns = conn
        .prepare(&star)
        .expect("prepare")
        .column_names()
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(columns, "id,name");

    // UPDATE changes only the tenant's rows.
    let update = rewrite_ok(&schema, "store-2", "UPDATE orders SET total = 0");
    assert_eq!(conn.execute(&update, []).expect("run update"), 2);
    let totals: Vec<String> = names(
        &conn,
        "SELECT tenant_id || ':' || total FROM orders ORDER BY id",
    );
    assert_eq!(totals, ["store-1:100", "store-2:0", "store-2:0"]);

    // DELETE too.
    let delete = rewrite_ok(&schema, "store-1", "DELETE FROM orders WHERE total < 1000");
    assert_eq!(conn.execute(&delete, []).expect("run delete"), 1);

    // INSERT writes the tenant column.
    let insert = rewrite_ok(
        &schema,
        "store-2",
        "INSERT INTO customers (id, name) VALUES (4, 'Barbara')",
    );
    conn.execute(&insert, []).expect("run insert");
    let owner: String = conn
        .query_row("SELECT tenant_id FROM customers WHERE id = 4", [], |r| {
            r.get(0)
        })
        .expect("inserted row");
    assert_eq!(owner, "store-2");

    // A global table is left alone.
    let global = "SELECT value FROM settings WHERE key = 'currency'";
    assert_eq!(rewrite_ok(&schema, "store-2", global), global);
}

#[test]
fn db_schema_is_read_without_changing_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, db) = setup(dir.path());
    let before = std::fs::read(&db).expect("read db");
    let files_before = std::fs::read_dir(dir.path()).expect("list").count();

    let (code, out, err) = rewrite_db(&db, "store-2", "SELECT name FROM customers WHERE id = ?1");
    assert_eq!(code, 0, "{err}");
    // The same schema as the file gives the same rewrite, which reads only the tenant's row.
    let sql = out.strip_suffix('\n').expect("a final line break");
    assert_eq!(
        sql,
        rewrite_ok(
            &schema,
            "store-2",
            "SELECT name FROM customers WHERE id = ?1"
        )
    );
    let conn = Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    for (id, found) in [(2, vec!["Grace".to_owned()]), (1, vec![])] {
        let names: Vec<String> = conn
            .prepare(sql)
            .expect("prepare")
            .query_map([id], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(names, found, "customer {id}");
    }
    drop(conn);
    assert_eq!(std::fs::read(&db).expect("read db"), before);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("list").count(),
        files_before,
        "no journal or other file was created"
    );
}

#[test]
fn sql_is_read_from_standard_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, _) = setup(dir.path());
    let sql = "DELETE FROM orders WHERE id = 1";
    let expected = format!("{}\n", rewrite_ok(&schema, "store-2", sql));
    assert!(
        expected.contains("orders.\"tenant_id\" = 'store-2'"),
        "{expected}"
    );
    for args in [
        &["rewrite", "--schema", path(&schema), "--tenant", "store-2"][..],
        &[
            "rewrite",
            "--schema",
            path(&schema),
            "--tenant",
            "store-2",
            "-",
        ][..],
    ] {
        // A final line break of standard input is dropped.
        let (code, out, err) = outcome(&tenantry_stdin(args, &format!("{sql}\n")));
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(out, expected, "{args:?}");
    }

    // Several statements at once.
    let (code, out, err) = outcome(&tenantry_stdin(
        &["rewrite", "--schema", path(&schema), "--tenant", "s1"],
        "BEGIN;\nUPDATE orders SET total = 1;\nCOMMIT;\n",
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("BEGIN;\nUPDATE orders SET total = 1 "),
        "{out}"
    );
    assert!(out.contains("orders.\"tenant_id\" = 's1'"), "{out}");
    assert!(out.ends_with(";\nCOMMIT;\n"), "{out}");

    // Nothing to rewrite is bad input.
    let (code, out, err) = outcome(&tenantry_stdin(
        &["rewrite", "--schema", path(&schema), "--tenant", "s1"],
        "  \n",
    ));
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("no SQL statement"), "{err}");
}

#[test]
fn a_refusal_exits_1_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, _) = setup(dir.path());
    for (sql, reason) in [
        ("DROP TABLE customers", "changes the schema"),
        (
            "SELECT * FROM invoices",
            "\"invoices\" is not in the schema",
        ),
        (
            "REPLACE INTO customers (id, name) VALUES (1, 'x')",
            "could delete another tenant's row",
        ),
        ("ATTACH 'other.db' AS o", "reaches other database files"),
        (
            "SELECT 1; UPDATE customers SET tenant_id = 'store-1'",
            "statement 2",
        ),
    ] {
        let (code, out, err) = outcome(&tenantry(&[
            "rewrite",
            "--schema",
            path(&schema),
            "--tenant",
            "store-2",
            sql,
        ]));
        assert_eq!(code, 1, "{sql}: {err}");
        assert!(out.is_empty(), "{sql}: nothing printed on stdout: {out}");
        assert!(err.starts_with("error: "), "{sql}: {err}");
        assert!(err.contains("refused"), "{sql}: {err}");
        assert!(err.contains(reason), "{sql}: expected {reason:?} in {err}");
    }

    // A statement that cannot be parsed is not run either.
    let (code, _, err) = outcome(&tenantry(&[
        "rewrite",
        "--schema",
        path(&schema),
        "--tenant",
        "store-2",
        "SELEKT 1",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("could not be parsed"), "{err}");
}

#[test]
fn an_invalid_tenant_id_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, _) = setup(dir.path());
    for tenant in ["a b", "x' OR '1'='1", "", "-lead", &"x".repeat(256)] {
        let (code, out, err) = outcome(&tenantry(&[
            "rewrite",
            "--schema",
            path(&schema),
            &format!("--tenant={tenant}"),
            "SELECT 1",
        ]));
        assert_eq!(code, 2, "{tenant:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("invalid tenant id"), "{tenant:?}: {err}");
        assert!(err.contains("pass --tenant"), "{tenant:?}: {err}");
    }
}

#[test]
fn unreadable_schemas_are_bad_input_and_nothing_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("absent.db");
    let (code, _, err) = outcome(&tenantry(&[
        "rewrite",
        "--db",
        path(&missing),
        "--tenant",
        "store-2",
        "SELECT 1",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such file"), "{err}");
    assert!(err.contains("--schema"), "{err}");
    assert!(!missing.exists(), "the database was created");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);

    let cases: Vec<(PathBuf, &str, &str)> = vec![
        (
            dir.path().join("absent.sql"),
            "--schema",
            "cannot read the schema file",
        ),
        (dir.path().to_path_buf(), "--db", "it is not a file"),
        (
            {
                let p = dir.path().join("notes.db");
                std::fs::write(&p, "id,name\n1,Ada\n".repeat(200)).expect("write");
                p
            },
            "--db",
            "not a database",
        ),
        (
            {
                let p = dir.path().join("empty.db");
                std::fs::write(&p, b"").expect("write");
                p
            },
            "--db",
            "has no tables",
        ),
    ];
    for (file, flag, says) in cases {
        let (code, out, err) = outcome(&tenantry(&[
            "rewrite",
            flag,
            path(&file),
            "--tenant",
            "store-2",
            "SELECT 1",
        ]));
        assert_eq!(code, 2, "{file:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(says), "{file:?}: expected {says:?} in {err}");
    }

    // A table the parser cannot read does not make the schema unusable: it is named in a
    // warning, and only the statements that name it are refused.
    let broken = dir.path().join("broken.sql");
    std::fs::write(
        &broken,
        "CREATE TABLE t (a TEXT,, b); CREATE TABLE u (id INTEGER, tenant_id TEXT NOT NULL);",
    )
    .expect("write");
    let run = |sql: &str| {
        outcome(&tenantry(&[
            "rewrite",
            "--schema",
            path(&broken),
            "--tenant",
            "store-2",
            sql,
        ]))
    };
    let (code, out, err) = run("SELECT id FROM u");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("'store-2'"), "{out}");
    assert!(err.contains("table \"t\" could not be read"), "{err}");
    let (code, out, err) = run("SELECT * FROM t");
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("could not be read"), "{err}");

    // A bad tenant column name.
    let (schema, _) = setup(dir.path());
    let (code, _, err) = outcome(&tenantry(&[
        "rewrite",
        "--schema",
        path(&schema),
        "--column",
        "tenant id",
        "--tenant",
        "store-2",
        "SELECT 1",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --column"), "{err}");
}

#[test]
fn exactly_one_schema_source_is_required() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, db) = setup(dir.path());
    for args in [
        &["rewrite", "--tenant", "s1", "SELECT 1"][..],
        &[
            "rewrite",
            "--tenant",
            "s1",
            "--db",
            path(&db),
            "--schema",
            path(&schema),
            "SELECT 1",
        ][..],
    ] {
        let (code, out, err) = outcome(&tenantry(args));
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.contains("--db") && err.contains("--schema"), "{err}");
    }
}

#[test]
fn a_database_without_the_tenant_column_warns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_from_sql(
        dir.path(),
        "legacy.db",
        "CREATE TABLE t (id INTEGER, a TEXT);",
    );
    let (code, out, err) = outcome(&tenantry(&[
        "rewrite",
        "--db",
        path(&db),
        "--tenant",
        "s1",
        "SELECT a FROM t",
    ]));
    // As a tenant connection would, it refuses a table that is neither scoped nor declared
    // global.
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("warning: no table"), "{err}");
    assert!(err.contains("tenantry migrate"), "{err}");
    assert!(err.contains("is not declared global"), "{err}");
}

#[test]
fn json_reports_statements_and_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, _) = setup(dir.path());
    let run = |tenant: &str, sql: &str| {
        let (code, out, err) = outcome(&tenantry(&[
            "rewrite",
            "--schema",
            path(&schema),
            "--tenant",
            tenant,
            "--json",
            sql,
        ]));
        let value: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?} ({err})"));
        (code, value)
    };

    let (code, value) = run(
        "store-2",
        "SELECT c.name, s.value FROM customers c, settings s; \
         EXPLAIN QUERY PLAN UPDATE orders SET total = 1 WHERE customer_id IN (SELECT id FROM customers)",
    );
    assert_eq!(code, 0, "{value}");
    let sql = value["sql"].as_str().expect("sql is a string");
    assert!(sql.contains("'store-2'"), "{sql}");
    assert_eq!(
        value["statements"],
        serde_json::json!([
            {"kind": "select", "explain": false, "tables": [
                {"name": "customers", "scoped": true, "access": "read"},
                {"name": "settings", "scoped": false, "access": "read"},
            ]},
            {"kind": "update", "explain": true, "tables": [
                {"name": "orders", "scoped": true, "access": "write"},
                {"name": "customers", "scoped": true, "access": "read"},
            ]},
        ])
    );
    assert_eq!(value.as_object().expect("object").len(), 2, "{value}");

    let (code, value) = run("store-2", "DROP TABLE customers");
    assert_eq!(code, 1);
    assert_eq!(value["error"]["kind"], "refused");
    let message = value["error"]["message"].as_str().expect("message");
    assert!(message.contains("changes the schema"), "{message}");

    let (code, value) = run("store-2", "SELEKT");
    assert_eq!(code, 1);
    assert_eq!(value["error"]["kind"], "parse");

    let (code, value) = run("no spaces", "SELECT 1");
    assert_eq!(code, 2);
    assert_eq!(value["error"]["kind"], "tenant");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid tenant id")),
        "{value}"
    );
}

#[test]
fn help_explains_the_rewrite_and_its_examples_are_true() {
    let (code, out, err) = outcome(&tenantry(&["rewrite", "--help"]));
    assert_eq!(code, 0, "{err}");
    for needle in [
        "derived table",
        "its SELECT's WHERE",
        "only the tenant's rows",
        "UPDATE and DELETE",
        "INSERT gets the tenant column",
        "--schema",
        "--db",
        "Examples:",
        "Exit status",
    ] {
        assert!(out.contains(needle), "{needle:?} not in: {out}");
    }

    // The examples' outputs are what the command prints for the schema they imply. An
    // output line may be wrapped; its continuation lines keep its indent.
    let dir = tempfile::tempdir().expect("temp dir");
    let (schema, _) = setup(dir.path());
    let lines: Vec<&str> = out.lines().collect();
    let example = |command_start: &str| -> String {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(command_start))
            .unwrap_or_else(|| panic!("no example starting {command_start:?}: {out}"));
        lines[at + 1..]
            .iter()
            .take_while(|l| l.starts_with("      "))
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        example("tenantry rewrite --db app.db --tenant store-2 'SELECT name"),
        rewrite_ok(
            &schema,
            "store-2",
            "SELECT name FROM customers WHERE id = ?1"
        )
    );
    assert_eq!(
        example("tenantry rewrite --db app.db --tenant store-2 'SELECT *"),
        rewrite_ok(&schema, "store-2", "SELECT * FROM customers WHERE id = ?1")
    );
    assert_eq!(
        example("echo 'DELETE FROM orders WHERE id = 1'"),
        rewrite_ok(&schema, "store-2", "DELETE FROM orders WHERE id = 1")
    );
}

#[test]
fn the_pos_catalogue_rewritten_from_a_migrated_fixture_sees_only_its_tenant() {
    use rusqlite::params_from_iter;
    use rusqlite::types::Value;

    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::support::tiny_fixture(dir.path(), "pos.db");
    let options = tenantry_migrate::MigrateOptions {
        backup: Some(dir.path().join("pos.backup")),
        ..Default::default()
    };
    tenantry_migrate::migrate(&db, &options, &mut |_| {}).expect("migrate the tiny fixture");
    let conn = Connection::open(&db).expect("open the migrated fixture");
    // The same rows before migration, where `*` has no tenant column.
    let legacy = Connection::open(crate::support::tiny_fixture(dir.path(), "legacy.db"))
        .expect("open the legacy fixture");
    let rows = |conn: &Connection, sql: &str, params: &[Value]| -> Vec<Vec<Value>> {
        let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
        let columns = statement.column_count();
        statement
            .query_map(params_from_iter(params), |row| {
                (0..columns).map(|i| row.get::<_, Value>(i)).collect()
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };

    let mut refused = Vec::new();
    for query in tenantry_fixtures::catalogue() {
        let scoped = |tenant: &str| {
            let (code, out, err) = outcome(&tenantry(&[
                "rewrite",
                "--db",
                path(&db),
                "--tenant",
                tenant,
                query.sql,
            ]));
            (code, out.trim_end_matches('\n').to_owned(), err)
        };
        let (code, sql, err) = scoped(tenantry_migrate::DEFAULT_TENANT);
        if code == 1 {
            refused.push((query, err));
            continue;
        }
        assert_eq!(code, 0, "{}: {err}", query.name);
        let params = tenantry_fixtures::sample_params(&conn, query).expect("sample parameters");
        if query.class.is_read_only() {
            // The fixture holds one tenant: scoped to it, a read sees what it saw before
            // the migration; scoped to another tenant, it sees nothing.
            assert_eq!(
                rows(&conn, &sql, &params),
                rows(&legacy, query.sql, &params),
                "{}: {sql}",
                query.name
            );
            let (code, other, err) = scoped("another-store");
            assert_eq!(code, 0, "{}: {err}", query.name);
            let seen = rows(&conn, &other, &params);
            let aggregate_row =
                query.class == tenantry_fixtures::QueryClass::Aggregate && seen.len() <= 1;
            assert!(
                seen.is_empty() || aggregate_row,
                "{} shows another tenant {seen:?}: {other}",
                query.name
            );
        } else {
            conn.execute_batch("SAVEPOINT w").expect("savepoint");
            let changed = conn
                .execute(&sql, params_from_iter(&params))
                .unwrap_or_else(|e| panic!("{}: {e}: {sql}", query.name));
            assert!(changed >= 1, "{} changed nothing: {sql}", query.name);
            conn.execute_batch("ROLLBACK TO w; RELEASE w")
                .expect("rollback");
        }
    }
    // What is refused today reads a view, which no schema table describes.
    for (query, err) in &refused {
        assert!(
            query.sql.contains("v_open_work_orders") && err.contains("not in the schema"),
            "{} refused: {err}",
            query.name
        );
    }
    assert!(
        refused.len() < tenantry_fixtures::catalogue().len() / 4,
        "{refused:?}"
    );
}

#[test]
fn the_rewrite_of_a_database_is_what_a_tenant_connection_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::tiny_fixture(dir.path(), "pos.db");
    let options = tenantry_migrate::MigrateOptions {
        layout: tenantry_migrate::Layout::TenantFirst,
        ..Default::default()
    };
    tenantry_migrate::migrate(&db, &options, &mut |_| {}).unwrap();
    let conn = tenantry_sqlite::Connection::open(&db).unwrap();
    conn.set_tenant("store-2").unwrap();
    for sql in [
        // The key the tenant's row gets, reported as last_insert_rowid().
        "INSERT INTO products (sku, name, price) VALUES ('BRK-001', 'Brake pads', 49.99)",
        // A tenant value bound as a parameter, checked when the statement runs.
        "INSERT INTO product_categories (code, name, tenant_id) VALUES ('X', 'Misc', ?1)",
        "SELECT sku, name FROM products WHERE price > 10 ORDER BY sku",
    ] {
        let (code, out, err) = rewrite_db(&db, "store-2", sql);
        assert_eq!(code, 0, "{sql}: {err}");
        // A statement the application holds checks its tenant each time it runs; the
        // same text otherwise.
        let held = conn.prepare(sql).unwrap().expanded_sql().unwrap();
        assert!(held.contains("tenantry_current('store-2')"), "{held}");
        let runs = held
            .strip_prefix("/* tenantry_held store-2 */ ")
            .unwrap_or_else(|| panic!("no marker: {held}"))
            .replace("tenantry_current('store-2')", "'store-2'");
        // Unbound parameters expand to NULL.
        assert_eq!(out.trim_end().replace("?1", "NULL"), runs, "{sql}");
    }
}
