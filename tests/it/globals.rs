//! Tables without the tenant column: a tenant connection uses one only when the database
//! declares it global (the last migration's global tables, `_tenantry_globals`) and refuses
//! every other, so a table an application version creates after the migration is never
//! shared by accident.

use std::path::Path;

use tenantry_migrate::{
    DEFAULT_TENANT, Error as MigrateError, GlobalReason, MigrateOptions, VerifyOptions,
    declare_global, declared_global, migrate, verify,
};
use tenantry_rewrite::Refusal;
use tenantry_sqlite::{Connection, Error};

use crate::support::{outcome, tenantry, tiny_fixture};

/// A tenant connection to `path` as `tenant`.
fn as_tenant(path: &Path, tenant: &str) -> Connection {
    let conn = Connection::open(path).expect("open tenant connection");
    conn.set_tenant(tenant).expect("set tenant");
    conn
}

/// The tiny fixture, migrated, with a table a later application version created at
/// start-up through a plain connection, holding one row.
fn migrated_then_extended(dir: &Path, table: &str) -> std::path::PathBuf {
    let db = tiny_fixture(dir, "app.db");
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).expect("migrate");
    rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, note TEXT);
                 INSERT INTO {table} (note) VALUES ('first');"
            ))
        })
        .expect("the application's start-up schema code");
    db
}

fn rows(path: &Path, table: &str) -> i64 {
    rusqlite::Connection::open(path)
        .and_then(|c| c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)))
        .expect("count")
}

fn is_undeclared(err: &rusqlite::Error, table: &str) -> bool {
    matches!(
        Error::of(err),
        Some(Error::Rewrite(e))
            if matches!(e.refusal(), Some(Refusal::UndeclaredTable { name }) if name == table)
    )
}

#[test]
fn a_table_created_after_the_migration_is_refused_until_a_migration_scopes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_then_extended(dir.path(), "invoices");
    let b = as_tenant(&db, "store-b");
    for sql in [
        "SELECT * FROM invoices",
        "SELECT c.id FROM customers c JOIN invoices i ON i.id = c.rowid",
        "SELECT (SELECT count(*) FROM invoices)",
        "INSERT INTO invoices (note) VALUES ('mine')",
        "UPDATE invoices SET note = 'taken'",
        "DELETE FROM invoices",
    ] {
        let err = b.execute(sql, []).expect_err(sql);
        assert!(is_undeclared(&err, "invoices"), "{sql}: {err}");
        assert!(err.to_string().contains("tenantry global add"), "{err}");
    }
    assert_eq!(rows(&db, "invoices"), 1, "nothing ran");
    drop(b);

    // Migrating again brings the new table under tenancy: its row is the default tenant's.
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).expect("migrate again");
    let b = as_tenant(&db, "store-b");
    let count = |conn: &Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM invoices", [], |r| r.get(0))
            .expect("scoped read")
    };
    assert_eq!(count(&b), 0);
    b.execute("INSERT INTO invoices (note) VALUES ('mine')", [])
        .expect("scoped insert");
    assert_eq!(count(&b), 1);
    let a = as_tenant(&db, DEFAULT_TENANT);
    let notes: Vec<String> = a
        .prepare("SELECT note FROM invoices")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("read");
    assert_eq!(notes, ["first"]);
}

#[test]
fn a_declared_global_table_is_shared_and_a_migration_leaves_it_global() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_then_extended(dir.path(), "currencies");
    declare_global(&rusqlite::Connection::open(&db).unwrap(), &["currenc*"]).expect("declare");
    let a = as_tenant(&db, DEFAULT_TENANT);
    let b = as_tenant(&db, "store-b");
    b.execute("INSERT INTO currencies (note) VALUES ('EUR')", [])
        .expect("a global write");
    let notes = |conn: &Connection| -> Vec<String> {
        conn.prepare("SELECT note FROM currencies ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("a global read")
    };
    assert_eq!(notes(&a), ["first", "EUR"]);
    assert_eq!(notes(&b), ["first", "EUR"]);
    // Tenants cannot read or change the declarations.
    let err = b
        .execute("DELETE FROM _tenantry_globals", [])
        .expect_err("declarations are protected");
    assert!(
        matches!(Error::of(&err), Some(Error::Rewrite(e)) if matches!(e.refusal(), Some(Refusal::Protected { .. }))),
        "{err}"
    );
    drop((a, b));
    // `tenantry verify` agrees: a declared table is global, not a table left unscoped.
    let checked = verify(&db, &VerifyOptions::default()).expect("verify");
    assert!(
        checked.verification.passed(),
        "{:?}",
        checked.verification.problems
    );

    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).expect("migrate again");
    assert!(
        report
            .plan
            .global
            .iter()
            .any(|g| g.name == "currencies" && g.reason == GlobalReason::Declared),
        "{:?}",
        report.plan.global
    );
    assert_eq!(notes(&as_tenant(&db, "store-c")), ["first", "EUR"]);
}

#[test]
fn a_tenant_table_cannot_be_declared_global_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_then_extended(dir.path(), "currencies");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let err = declare_global(&conn, &["currencies", "cust*"]).expect_err("customers is a tenant's");
    assert!(
        matches!(&err, MigrateError::NotGlobal { pattern, reason } if pattern == "cust*" && reason.contains("\"customer")),
        "{err}"
    );
    assert!(declared_global(&conn).unwrap().is_empty());
    // The store still refuses the undeclared table.
    let err = as_tenant(&db, "store-b")
        .execute("SELECT * FROM currencies", [])
        .expect_err("undeclared");
    assert!(is_undeclared(&err, "currencies"), "{err}");
}

#[test]
fn the_global_command_declares_lists_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_then_extended(dir.path(), "cache_pages");
    let path = db.to_str().unwrap();
    let (code, _, err) = outcome(&tenantry(&["global", "add", path, "cache_*"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = outcome(&tenantry(&["global", "list", path, "--json"]));
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        listed,
        serde_json::json!([{ "pattern": "cache_*", "tables": ["cache_pages"] }])
    );
    let (code, _, err) = outcome(&tenantry(&["global", "add", path, "customers"]));
    assert_eq!(code, 2, "a tenant table: {err}");
    let (code, _, err) = outcome(&tenantry(&["global", "add", "missing.db", "x"]));
    assert_eq!(code, 2, "{err}");
    assert!(!Path::new("missing.db").exists());
    let (code, out, _) = outcome(&tenantry(&["global", "remove", path, "cache_*"]));
    assert_eq!((code, out.trim()), (0, "removed 1 declaration(s)"));
    let err = as_tenant(&db, "store-b")
        .execute("SELECT * FROM cache_pages", [])
        .expect_err("no longer declared");
    assert!(is_undeclared(&err, "cache_pages"), "{err}");
}

/// A declared global table's trigger or foreign-key action that would reach an undeclared
/// table (or a tenant table's action that would) is refused, and nothing changes.
#[test]
fn triggers_and_foreign_key_actions_cannot_reach_an_undeclared_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_then_extended(dir.path(), "invoices");
    rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.execute_batch(
                "CREATE TABLE rates (code TEXT PRIMARY KEY, rate REAL);
                 INSERT INTO rates VALUES ('EUR', 1.0), ('USD', 1.1);
                 CREATE TABLE payments (id INTEGER PRIMARY KEY,
                     currency TEXT REFERENCES rates(code) ON DELETE CASCADE);
                 INSERT INTO payments (currency) VALUES ('EUR');
                 CREATE TRIGGER rates_touch AFTER UPDATE ON rates
                 BEGIN UPDATE invoices SET note = 'touched'; END;",
            )
        })
        .unwrap();
    declare_global(&rusqlite::Connection::open(&db).unwrap(), &["rates"]).unwrap();
    let b = as_tenant(&db, "store-b");
    b.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let err = b
        .execute("UPDATE rates SET rate = 2 WHERE code = 'EUR'", [])
        .unwrap_err();
    assert!(
        matches!(
            tenantry_sqlite::Error::refusal(&err),
            Some(Refusal::UnscopedTrigger { .. })
        ),
        "{err}"
    );
    let err = b
        .execute("DELETE FROM rates WHERE code = 'USD'", [])
        .unwrap_err();
    assert!(
        matches!(tenantry_sqlite::Error::refusal(&err), Some(Refusal::GlobalCascade { child, .. }) if child == "payments"),
        "{err}"
    );
    let notes: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT group_concat(note) FROM invoices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(notes, "first");
    assert_eq!(rows(&db, "payments"), 1);
    assert_eq!(rows(&db, "rates"), 2);
}

/// Removing a declaration is seen by a connection that is already open.
#[test]
fn an_open_connection_sees_a_declaration_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_then_extended(dir.path(), "currencies");
    let admin = rusqlite::Connection::open(&db).unwrap();
    declare_global(&admin, &["currencies"]).unwrap();
    let b = as_tenant(&db, "store-b");
    let read = |conn: &Connection| {
        conn.query_row("SELECT count(*) FROM currencies", [], |r| {
            r.get::<_, i64>(0)
        })
    };
    assert_eq!(read(&b).unwrap(), 1);
    assert_eq!(
        tenantry_migrate::undeclare_global(&admin, &["currencies"]).unwrap(),
        1
    );
    // The connection looks at the schema version again once 10 ms have passed since its
    // last look (as one idle in a pool would have).
    std::thread::sleep(std::time::Duration::from_millis(20));
    let err = read(&b).unwrap_err();
    assert!(is_undeclared(&err, "currencies"), "{err}");
}

/// A migration run again leaves what an earlier one excluded global.
#[test]
fn migrating_again_keeps_what_an_earlier_migration_excluded_global() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "app.db");
    rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.execute_batch(
                "CREATE TABLE currencies (code TEXT); INSERT INTO currencies VALUES ('EUR');",
            )
        })
        .unwrap();
    let excluded = MigrateOptions {
        exclude: vec!["currencies".to_owned()],
        ..MigrateOptions::default()
    };
    migrate(&db, &excluded, &mut |_| {}).unwrap();
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert!(
        report
            .plan
            .global
            .iter()
            .any(|g| g.name == "currencies" && g.reason == GlobalReason::Recorded),
        "{:?}",
        report.plan.global
    );
    let n: i64 = as_tenant(&db, "store-b")
        .query_row("SELECT count(*) FROM currencies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "still everyone's");
}
