use std::collections::BTreeMap;

use rusqlite::Connection;
use tenantry_migrate::{
    GlobalReason, MigrateOptions, Outcome, RollbackOptions, VerifyOptions, migrate, rollback,
    verify,
};

use crate::support::{files_containing, snapshot, tables_with_column, tiny_fixture};

fn counts(path: &std::path::Path) -> BTreeMap<String, u64> {
    let conn = Connection::open(path).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
        .into_iter()
        .map(|n| {
            let c: u64 = conn
                .query_row(&format!("SELECT count(*) FROM \"{n}\""), [], |r| r.get(0))
                .unwrap();
            (n, c)
        })
        .collect()
}

#[test]
fn tiny_fixture_migrates_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before = snapshot(&db);
    let rows_before = counts(&db);

    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.outcome, Outcome::Migrated);

    // Exactly the 32 application tables are scoped; `_migrations` stays global.
    let mut expected: Vec<String> = tenantry_fixtures::expected_tables()
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    let mut scoped: Vec<String> = report.plan.scoped.iter().map(|t| t.name.clone()).collect();
    scoped.sort();
    assert_eq!(scoped, expected);
    assert_eq!(tables_with_column(&db, "tenant_id"), expected);
    assert!(
        report
            .plan
            .global
            .iter()
            .any(|g| g.name == "_migrations" && g.reason == GlobalReason::MigrationTable)
    );
    assert!(
        report
            .plan
            .global
            .iter()
            .any(|g| g.name == "_tenantry_migrations" || g.reason == GlobalReason::MigrationTable)
    );

    // No row lost, every row belongs to the default tenant, the column is NOT NULL VARCHAR(255), indexed.
    let conn = Connection::open(&db).unwrap();
    for table in &expected {
        let (total, tenant): (u64, u64) = conn
            .query_row(
                &format!("SELECT count(*), count(*) FILTER (WHERE tenant_id = 'caps-automotive') FROM \"{table}\""),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(total, rows_before[table], "{table}");
        assert_eq!(tenant, total, "{table}");
        let (decl, notnull): (String, bool) = conn
            .query_row(&format!("SELECT type, \"notnull\" FROM pragma_table_info('{table}') WHERE name = 'tenant_id'"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((decl.as_str(), notnull), ("VARCHAR(255)", true), "{table}");
        let index: String = conn
            .query_row(
                &format!("SELECT il.name FROM pragma_index_list('{table}') il, pragma_index_info(il.name) ii WHERE ii.name = 'tenant_id' AND ii.seqno = 0"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, format!("idx_{table}_tenant_id"));
    }
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
    assert_eq!(
        counts(&db).get("_migrations"),
        rows_before.get("_migrations")
    );

    // The view can be scoped by tenant connections and the trigger is scoped by the
    // migration: neither is a risk. The global unique keys are.
    let risks: Vec<String> = report.plan.risks.iter().map(|r| r.to_string()).collect();
    assert!(
        !risks
            .iter()
            .any(|r| r.starts_with("view ") || r.starts_with("trigger ")),
        "{risks:?}"
    );
    let scoped: Vec<&str> = report
        .plan
        .triggers
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(scoped, ["trg_inventory_after_transaction"]);
    let trigger_sql: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'trg_inventory_after_transaction'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        trigger_sql.contains(tenantry::rewrite::SCOPED_TRIGGER_MARK)
            && trigger_sql.contains(r#"inventory."tenant_id" = NEW."tenant_id""#),
        "{trigger_sql}"
    );
    assert!(
        risks.iter().any(|r| r.contains("products(sku)")),
        "{risks:?}"
    );

    // The backup holds the database exactly as it was.
    let backup = report.backup.clone().unwrap();
    assert_eq!(snapshot(&backup), before);

    // Verification ran before COMMIT, and passes standalone.
    assert!(report.verification.as_ref().unwrap().passed());
    let check = verify(&db, &VerifyOptions::default()).unwrap();
    assert!(
        check.verification.passed(),
        "{:?}",
        check.verification.problems
    );
    assert_eq!(check.scoped.len(), 32);
    assert_eq!(check.record.unwrap().backup.unwrap(), backup);
}

#[test]
fn rerun_on_a_migrated_database_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let after_first = snapshot(&db);
    let backups = files_containing(dir.path(), "tenantry-backup");
    assert_eq!(backups.len(), 1);

    let again = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyMigrated);
    assert!(again.backup.is_none());
    assert_eq!(snapshot(&db), after_first);
    assert_eq!(files_containing(dir.path(), "tenantry-backup"), backups);
}

#[test]
fn half_migrated_database_is_completed() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "ALTER TABLE customers ADD COLUMN tenant_id VARCHAR(255) NOT NULL DEFAULT 'caps-automotive';
             CREATE INDEX idx_customers_tenant_id ON customers(tenant_id);
             ALTER TABLE users ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'caps-automotive';",
        )
        .unwrap();
    }
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.outcome, Outcome::Completed);
    let customers = report
        .plan
        .scoped
        .iter()
        .find(|t| t.name == "customers")
        .unwrap();
    assert!(customers.is_complete());
    let users = report
        .plan
        .scoped
        .iter()
        .find(|t| t.name == "users")
        .unwrap();
    assert!(!users.add_column && users.create_index.as_deref() == Some("idx_users_tenant_id"));
    assert_eq!(tables_with_column(&db, "tenant_id").len(), 32);
    assert!(
        verify(&db, &VerifyOptions::default())
            .unwrap()
            .verification
            .passed()
    );
}

#[test]
fn rollback_restores_the_database_and_keeps_what_was_written_since() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before = snapshot(&db);
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();

    // The application writes after the migration, and keeps a connection open (WAL mode).
    let app = Connection::open(&db).unwrap();
    let mode: String = app
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    app.execute(
        "INSERT INTO price_levels (code, name, tenant_id) VALUES ('zz', 'after', 'store-2')",
        [],
    )
    .unwrap();

    let report = rollback(&db, &RollbackOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(snapshot(&db), before);
    // The open connection sees the restored database, not a stale WAL.
    let cols: i64 = app
        .query_row(
            "SELECT count(*) FROM pragma_table_info('price_levels') WHERE name = 'tenant_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cols, 0);
    drop(app);
    assert_eq!(snapshot(&db), before);

    // What was there just before the restore is saved, the post-migration row included.
    let saved = Connection::open(&report.saved_current).unwrap();
    let kept: String = saved
        .query_row(
            "SELECT tenant_id FROM price_levels WHERE code = 'zz'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, "store-2");
}

#[test]
fn rollback_restores_only_the_copy_the_migration_made() {
    use tenantry_migrate::Error;
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before = snapshot(&db);
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let backup = report.backup.unwrap();
    let migrated = snapshot(&db);

    // The database named as its own backup: refused, nothing written.
    let itself = RollbackOptions {
        backup: Some(db.clone()),
        ..RollbackOptions::default()
    };
    let error = rollback(&db, &itself, &mut |_| {}).unwrap_err();
    assert!(
        matches!(&error, Error::BadBackup { detail, .. } if detail.contains("the database itself")),
        "{error}"
    );
    assert!(files_containing(dir.path(), "pre-rollback").is_empty());

    // The recorded backup changed since the migration: refused, nothing restored.
    Connection::open(&backup)
        .unwrap()
        .execute(
            "DELETE FROM customers WHERE id = (SELECT min(id) FROM customers)",
            [],
        )
        .unwrap();
    let error = rollback(&db, &RollbackOptions::default(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(&error, Error::BadBackup { detail, .. }
            if detail.contains("the migration copied") && detail.contains("--backup")),
        "{error}"
    );
    assert_eq!(snapshot(&db), migrated);

    // Named on purpose, it is restored as it is.
    let named = RollbackOptions {
        backup: Some(backup),
        ..RollbackOptions::default()
    };
    rollback(&db, &named, &mut |_| {}).unwrap();
    assert_ne!(snapshot(&db), migrated);
    assert_ne!(snapshot(&db), before, "one customer fewer");
}
