//! `tenantry audit` on `fixtures/audit-sample`, a small application that hands SQL to
//! rusqlite and sqlx in every form the audit reads, against the migrated POS fixture.

use std::path::{Path, PathBuf};

use tenantry_migrate::{MigrateOptions, migrate};

use crate::support::{outcome, tenantry, tiny_fixture};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audit-sample")
}

fn migrated_pos(dir: &Path) -> PathBuf {
    let db = tiny_fixture(dir, "pos.db");
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).expect("migrate");
    db
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 paths")
}

/// `tenantry audit SOURCE --db DB --json`: its exit code, its report and standard error.
fn audit_json(source: &Path, db: &Path) -> (i32, serde_json::Value, String) {
    let (code, out, err) = outcome(&tenantry(&[
        "audit",
        path(source),
        "--db",
        path(db),
        "--json",
    ]));
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("JSON ({e}): {out}"));
    (code, report, err)
}

#[test]
fn every_call_form_constants_and_run_time_sql_get_their_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_pos(dir.path());
    let sample = sample();
    let (code, report, err) = audit_json(&sample, &db);
    assert_eq!(code, 1, "three statements would be refused: {err}");
    let found: Vec<(String, u64, String, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let detail = match f["verdict"].as_str() {
                Some("scoped") => f["tables"][0].as_str().unwrap_or("").to_owned(),
                Some("refused") => f["kind"].as_str().unwrap_or("").to_owned(),
                Some("run_time") => f["why"].as_str().unwrap_or("").to_owned(),
                _ => String::new(),
            };
            (
                f["file"].as_str().unwrap_or("").to_owned(),
                f["line"].as_u64().unwrap_or(0),
                f["form"].as_str().unwrap_or("").to_owned(),
                f["verdict"].as_str().unwrap_or("").to_owned(),
                detail,
            )
        })
        .collect();
    let expected: Vec<(&str, u64, &str, &str, &str)> = vec![
        ("src/lib.rs", 9, "execute", "scoped", "sessions"),
        ("src/lib.rs", 10, "execute_batch", "refused", "SchemaChange"),
        ("src/lib.rs", 11, "prepare", "scoped", "products"),
        // Line 12, `stmt.query_row([1], …)`, takes parameters: not a call with SQL.
        ("src/lib.rs", 13, "prepare_cached", "scoped", "customers"),
        ("src/lib.rs", 14, "query_row", "scoped", "work_orders"),
        (
            "src/lib.rs",
            15,
            "query_row_and_then",
            "scoped",
            "gift_cards",
        ),
        ("src/lib.rs", 20, "query_row", "unchanged", ""),
        ("src/lib.rs", 21, "execute", "refused", "TenantColumnWrite"),
        ("src/lib.rs", 22, "execute", "run_time", "built by format!"),
        ("src/lib.rs", 24, "prepare", "run_time", "the variable sql"),
        ("src/lib.rs", 29, "sqlx::query", "scoped", "gift_cards"),
        ("src/lib.rs", 33, "sqlx::query_as", "scoped", "users"),
        (
            "src/lib.rs",
            36,
            "sqlx::query_scalar",
            "scoped",
            "loyalty_accounts",
        ),
        ("src/lib.rs", 39, "sqlx::query!", "scoped", "customers"),
        ("src/lib.rs", 42, "sqlx::query_as!", "scoped", "work_orders"),
        (
            "src/lib.rs",
            45,
            "sqlx::query_scalar!",
            "refused",
            "Replace",
        ),
    ];
    let expected: Vec<(String, u64, String, String, String)> = expected
        .into_iter()
        .map(|(f, l, form, v, d)| (f.to_owned(), l, form.to_owned(), v.to_owned(), d.to_owned()))
        .collect();
    assert_eq!(found, expected);
    // Constants are named, from the other file of the crate.
    let constants: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["constant"].as_str())
        .collect();
    assert_eq!(constants, ["CUSTOMER_BY_PHONE", "OPEN_ORDERS"]);
    assert_eq!(
        report["summary"],
        serde_json::json!({"statements": 16, "scoped": 10, "unchanged": 1, "refused": 3, "run_time": 2})
    );

    // The terminal form: one line per call and the counts.
    let (code, out, _) = outcome(&tenantry(&["audit", path(&sample), "--db", path(&db)]));
    assert_eq!(code, 1);
    assert!(out.contains("src/lib.rs:21  execute"), "{out}");
    assert!(
        out.ends_with(
            "16 statements: 10 scoped, 1 unchanged, 3 refused, 2 built at run time (not checked)\n"
        ),
        "{out}"
    );
}

#[test]
fn a_clean_file_exits_zero_and_bad_input_exits_two_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_pos(dir.path());
    let queries = sample().join("src/queries.rs");
    // Constants alone hand nothing over: nothing to refuse.
    let (code, out, err) = outcome(&tenantry(&["audit", path(&queries), "--db", path(&db)]));
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "0 statements: 0 scoped, 0 unchanged, 0 refused, 0 built at run time (not checked)\n"
        ),
        "{err}"
    );

    let (code, _, err) = outcome(&tenantry(&["audit", "no/such/dir", "--db", path(&db)]));
    assert_eq!(code, 2);
    assert!(err.contains("no such file or directory"), "{err}");
    let legacy = tiny_fixture(dir.path(), "legacy.db");
    let (code, _, err) = outcome(&tenantry(&[
        "audit",
        path(&sample()),
        "--db",
        path(&legacy),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("tenantry migrate"), "{err}");
}

#[test]
fn the_audit_refuses_what_a_tenant_connection_refuses_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_pos(dir.path());
    // A tenant value bound as a parameter: a tenant connection takes it and checks it when
    // the statement runs; a schema change it refuses.
    let insert = "INSERT INTO sessions (id, user_id, created_at, expires_at, tenant_id) VALUES (?1, ?2, 0, 1, ?3)";
    let create = "CREATE TABLE extra (x)";
    let source = dir.path().join("app.rs");
    std::fs::write(
        &source,
        format!(
            "fn f(c: &rusqlite::Connection) {{\n    c.execute({insert:?}, ()).unwrap();\n    c.execute({create:?}, ()).unwrap();\n}}\n"
        ),
    )
    .unwrap();
    let (code, report, err) = audit_json(&source, &db);
    assert_eq!(code, 1, "{err}");
    let verdicts: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["verdict"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(verdicts, ["scoped", "refused"], "{report}");

    let conn = tenantry_sqlite::Connection::open(&db).unwrap();
    conn.set_tenant("caps-automotive").unwrap();
    let user: i64 = conn
        .query_row("SELECT min(id) FROM users", [], |r| r.get(0))
        .unwrap();
    let run = |tenant: &str| {
        conn.execute(
            insert,
            rusqlite::params![format!("token-{tenant}"), user, tenant],
        )
    };
    assert_eq!(run("caps-automotive").unwrap(), 1);
    assert!(
        run("store-2").is_err(),
        "another tenant's value fails when it runs"
    );
    assert!(conn.execute_batch(create).is_err());
}
