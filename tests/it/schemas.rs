use rusqlite::Connection;
use tenantry_migrate::{
    Check, Error, GlobalReason, MigrateOptions, Outcome, Risk, VerifyOptions, migrate, verify,
};

use crate::support::{db_from_sql, snapshot, tables_with_column};

const AWKWARD: &str = "
    CREATE TABLE \"order\" (id INTEGER PRIMARY KEY AUTOINCREMENT, total INTEGER);
    CREATE TABLE \"line items\" (order_id INTEGER NOT NULL REFERENCES \"order\"(id) ON DELETE CASCADE,
                                 line INTEGER NOT NULL, sku TEXT, PRIMARY KEY (order_id, line)) WITHOUT ROWID;
    CREATE TABLE empty_one (x TEXT);
    CREATE TABLE strict_one (id INTEGER PRIMARY KEY, v TEXT) STRICT;
    CREATE TABLE \"Mixed Case\" (\"select\" TEXT, \"quote\"\"d\" INTEGER);
    CREATE TABLE _migrations (version TEXT PRIMARY KEY);
    INSERT INTO \"order\" (total) VALUES (10), (20), (30);
    DELETE FROM \"order\" WHERE id = 3;
    INSERT INTO \"line items\" VALUES (1, 1, 'A'), (1, 2, 'B'), (2, 1, 'C');
    INSERT INTO strict_one VALUES (1, 'x');
    INSERT INTO \"Mixed Case\" VALUES ('s', 1);
    INSERT INTO _migrations VALUES ('001');
";

/// Migrates a database made of `sql` in each layout and expects a refusal that changes
/// nothing; returns each layout with its database and the error.
fn refused_in_each_layout(
    dir: &std::path::Path,
    sql: &str,
) -> Vec<(
    tenantry_migrate::Layout,
    std::path::PathBuf,
    tenantry_migrate::Error,
)> {
    [
        tenantry_migrate::Layout::Column,
        tenantry_migrate::Layout::TenantFirst,
    ]
    .into_iter()
    .map(|layout| {
        let db = db_from_sql(dir, &format!("{layout:?}.db"), sql);
        let before = snapshot(&db);
        let options = MigrateOptions {
            layout,
            ..MigrateOptions::default()
        };
        let error = migrate(&db, &options, &mut |_| {}).unwrap_err();
        assert!(error.is_bad_input(), "{layout:?}: {error}");
        assert_eq!(snapshot(&db), before, "{layout:?}");
        (layout, db, error)
    })
    .collect()
}

#[test]
fn awkward_tables_are_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(dir.path(), "awkward.db", AWKWARD);
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.outcome, Outcome::Migrated);
    assert_eq!(
        tables_with_column(&db, "tenant_id"),
        [
            "Mixed Case",
            "empty_one",
            "line items",
            "order",
            "strict_one"
        ]
    );

    let conn = Connection::open(&db).unwrap();
    // AUTOINCREMENT keeps its sequence: the next id is 4, not 3.
    conn.execute("INSERT INTO \"order\" (total) VALUES (40)", [])
        .unwrap();
    let last: i64 = conn
        .query_row("SELECT max(id) FROM \"order\"", [], |r| r.get(0))
        .unwrap();
    assert_eq!(last, 4);
    // WITHOUT ROWID still enforces its key, and rows carry the tenant.
    assert!(
        conn.execute(
            "INSERT INTO \"line items\" (order_id, line) VALUES (1, 1)",
            []
        )
        .is_err()
    );
    let tenants: i64 = conn
        .query_row(
            "SELECT count(*) FROM \"line items\" WHERE tenant_id = 'caps-automotive'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tenants, 3);
    // STRICT tables get TEXT (VARCHAR is not a strict type).
    let decl: String = conn
        .query_row(
            "SELECT type FROM pragma_table_info('strict_one') WHERE name = 'tenant_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(decl, "TEXT");
    let empty: i64 = conn
        .query_row("SELECT count(*) FROM empty_one", [], |r| r.get(0))
        .unwrap();
    assert_eq!(empty, 0);
    let index: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'idx_line items_tenant_id'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(index, 1);
    assert!(
        verify(&db, &VerifyOptions::default())
            .unwrap()
            .verification
            .passed()
    );
}

#[test]
fn pre_existing_foreign_key_violations_are_reported_not_blamed() {
    // Told old from new on the file's committed state (WAL) or on the backup.
    for mode in ["delete", "wal"] {
        pre_existing_violations_in(mode);
    }
}

fn pre_existing_violations_in(journal_mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "fk.db",
        &format!(
            "PRAGMA journal_mode = {journal_mode};
         PRAGMA foreign_keys = OFF;
         CREATE TABLE customers (id INTEGER PRIMARY KEY);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
         INSERT INTO customers VALUES (1);
         INSERT INTO orders VALUES (1, 1), (2, 99), (3, 98);"
        ),
    );
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.fk_violations_before.len(), 1);
    assert_eq!(
        (
            report.fk_violations_before[0].table.as_str(),
            report.fk_violations_before[0].rows
        ),
        ("orders", 2)
    );
    let verification = report.verification.unwrap();
    assert!(verification.passed(), "{:?}", verification.problems);
    assert_eq!(
        verification.foreign_key_violations,
        report.fk_violations_before
    );
    // Standalone verify knows they were there before.
    assert!(
        verify(&db, &VerifyOptions::default())
            .unwrap()
            .verification
            .passed()
    );
    // A violation added later is caught.
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; INSERT INTO orders (id, customer_id) VALUES (4, 97);",
    )
    .unwrap();
    let later = verify(&db, &VerifyOptions::default()).unwrap();
    assert!(
        later
            .verification
            .problems
            .iter()
            .any(|p| p.check == Check::ForeignKeys),
        "{:?}",
        later.verification.problems
    );
}

#[test]
fn virtual_tables_are_refused_unless_excluded() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "fts.db",
        "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT);
         CREATE VIRTUAL TABLE products_fts USING fts5(name);
         INSERT INTO products VALUES (1, 'brake pad');
         INSERT INTO products_fts VALUES ('brake pad');",
    );
    let before = snapshot(&db);
    let error = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(&error, Error::Unsupported { table, reason } if table == "products_fts" && reason.contains("--exclude")),
        "{error}"
    );
    assert!(error.is_bad_input());
    assert_eq!(snapshot(&db), before);

    let options = MigrateOptions {
        exclude: vec!["products_fts".into()],
        ..MigrateOptions::default()
    };
    let report = migrate(&db, &options, &mut |_| {}).unwrap();
    assert_eq!(
        report
            .plan
            .scoped
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["products"]
    );
    assert!(
        report
            .plan
            .global
            .iter()
            .any(|g| g.name == "products_fts_data"
                && g.reason == GlobalReason::ShadowOf("products_fts".into()))
    );
    assert!(
        verify(&db, &VerifyOptions::default())
            .unwrap()
            .verification
            .passed()
    );
}

#[test]
fn an_incompatible_existing_tenant_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "nullable.db",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, tenant_id TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY);
         INSERT INTO a VALUES (1, NULL);",
    );
    let before = snapshot(&db);
    let error = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("allows NULL and 1 rows hold NULL"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(r#"UPDATE "a" SET "tenant_id" = '<tenant>' WHERE "tenant_id" IS NULL"#),
        "{error}"
    );
    assert_eq!(snapshot(&db), before);
}

/// A tenant column that compares with NOCASE would let tenant `acme` read `Acme`'s rows:
/// refused by both layouts, and reported by `verify` on a database that has one.
#[test]
fn an_own_tenant_column_with_a_collation_is_refused_and_verify_reports_one() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL COLLATE NOCASE, body TEXT);
               INSERT INTO notes VALUES (1, 'caps-automotive', 'x');";
    for (layout, _, error) in refused_in_each_layout(dir.path(), sql) {
        assert!(
            error.to_string().contains("collation NOCASE"),
            "{layout:?}: {error}"
        );
    }
    // As an earlier release left it: the column and its index, adopted as they were.
    let db = db_from_sql(
        dir.path(),
        "adopted.db",
        &format!("{sql} CREATE INDEX idx_notes_tenant_id ON notes (tenant_id);"),
    );
    let report = verify(&db, &VerifyOptions::default()).unwrap();
    assert!(
        report
            .verification
            .problems
            .iter()
            .any(|p| p.check == Check::Column
                && p.table.as_deref() == Some("notes")
                && p.detail.contains("NOCASE")),
        "{:?}",
        report.verification.problems
    );
}

/// A tenant column the application added itself, nullable but with no NULL row: layout
/// `column` cannot make it NOT NULL in place and says so; `tenant-first` rebuilds the table
/// with it NOT NULL, where it stood, keeping each row's tenant.
#[test]
fn an_own_nullable_tenant_column_without_nulls_is_adopted_by_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "own.db",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, tenant_id TEXT, name TEXT);
         INSERT INTO a VALUES (1, 'caps-automotive', 'x'), (2, 'store-2', 'y');",
    );
    let before = snapshot(&db);
    let error = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap_err();
    assert!(
        error.to_string().contains("--layout tenant-first"),
        "{error}"
    );
    assert_eq!(snapshot(&db), before);
    let options = MigrateOptions {
        layout: tenantry_migrate::Layout::TenantFirst,
        ..MigrateOptions::default()
    };
    migrate(&db, &options, &mut |_| {}).unwrap();
    use rusqlite::types::Value::{Integer, Text};
    let conn = Connection::open(&db).unwrap();
    let rows = |sql: &str| tenantry_testkit::db::query(&conn, sql, &[]).unwrap().rows;
    let text = |s: &str| Text(s.to_owned());
    assert_eq!(
        rows("SELECT name, \"notnull\" FROM pragma_table_info('a') ORDER BY cid"),
        [
            [text("id"), Integer(1)],
            [text("tenant_id"), Integer(1)],
            [text("name"), Integer(0)]
        ]
    );
    assert_eq!(
        rows("SELECT id, tenant_id FROM a ORDER BY id"),
        [
            [Integer(1), text("caps-automotive")],
            [Integer(2), text("store-2")]
        ]
    );
}

#[test]
fn the_tenant_registry_stays_global_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT);
               CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
               INSERT INTO customers VALUES (1, 'Ada');";
    let db = db_from_sql(dir.path(), "registry.db", sql);
    let before = snapshot(&db);
    let error = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("not in it"), "{error}");
    assert_eq!(snapshot(&db), before);

    Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO tenants VALUES ('caps-automotive', 'Caps')", [])
        .unwrap();
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert!(
        report
            .plan
            .global
            .iter()
            .any(|g| g.name == "tenants" && g.reason == GlobalReason::TenantRegistry)
    );
    assert_eq!(report.plan.registry.as_ref().unwrap().column, "id");

    // A row of a tenant missing from the registry fails verification.
    Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO customers VALUES (2, 'Eve', 'ghost-store')", [])
        .unwrap();
    let check = verify(&db, &VerifyOptions::default()).unwrap();
    assert!(
        check
            .verification
            .problems
            .iter()
            .any(|p| p.check == Check::UnregisteredTenant && p.detail.contains("ghost-store"))
    );
}

#[test]
fn verify_finds_null_empty_and_invalid_tenants_and_missing_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "v.db",
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY);",
    );
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "INSERT INTO a (id, tenant_id) VALUES (1, ''), (2, 'bad id!'), (3, 'fine');
         DROP INDEX idx_b_tenant_id;",
    )
    .unwrap();
    let problems = verify(&db, &VerifyOptions::default())
        .unwrap()
        .verification
        .problems;
    let checks: Vec<Check> = problems.iter().map(|p| p.check).collect();
    assert!(checks.contains(&Check::NullTenant), "{problems:?}");
    assert!(checks.contains(&Check::InvalidTenant), "{problems:?}");
    assert!(checks.contains(&Check::Index), "{problems:?}");
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn views_triggers_and_global_uniques_are_risks() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "risks.db",
        "CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT UNIQUE, qty INTEGER);
         CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT);
         CREATE TABLE schema_migrations (version TEXT);
         CREATE VIEW everything AS SELECT * FROM products;
         CREATE VIEW versions AS SELECT * FROM schema_migrations;
         CREATE VIEW named (code) AS SELECT sku FROM products;
         CREATE TRIGGER audit AFTER UPDATE ON products BEGIN INSERT INTO log (msg) VALUES ('changed'); END;
         CREATE TRIGGER guarded AFTER INSERT ON products WHEN (SELECT count(*) FROM log) > 0
           BEGIN DELETE FROM log; END;
         CREATE TRIGGER on_version AFTER INSERT ON schema_migrations BEGIN DELETE FROM log; END;",
    );
    let options = MigrateOptions {
        dry_run: true,
        ..MigrateOptions::default()
    };
    let before = snapshot(&db);
    let report = migrate(&db, &options, &mut |_| {}).unwrap();
    assert_eq!(report.outcome, Outcome::DryRun);
    assert_eq!(snapshot(&db), before);
    let risks = &report.plan.risks;
    let names: Vec<String> = risks
        .iter()
        .filter_map(|r| match r {
            Risk::View { name, .. } | Risk::Trigger { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    // Tenant connections scope `everything`; `versions` reads a global table; `audit` and
    // `guarded` (its WHEN reads a table, scoped too) are scoped by the migration. A view
    // with a column list and a trigger on a global table that deletes tenant rows cannot be
    // scoped.
    assert_eq!(names, ["named", "on_version"], "{risks:?}");
    assert!(risks.iter().any(|r| matches!(r, Risk::View { name, tables, reason } if name == "named" && tables == &["products"] && reason.contains("column list"))));
    assert!(risks.iter().any(|r| matches!(r, Risk::Trigger { name, tables, reason, .. } if name == "on_version" && tables == &["log"] && reason.contains("global table"))));
    let scoped: Vec<&str> = report
        .plan
        .triggers
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(scoped, ["audit", "guarded"]);
    assert!(risks.iter().any(|r| matches!(r, Risk::GlobalUnique { table, columns, .. } if table == "products" && columns == &["sku"])));
    assert_eq!(
        report
            .plan
            .scoped
            .iter()
            .map(|t| t.rows)
            .collect::<Vec<_>>(),
        [Some(0), Some(0)]
    );
}

#[test]
fn a_view_the_migration_would_break_is_refused_and_a_broken_one_is_not_blamed() {
    let dir = tempfile::tempdir().unwrap();
    for layout in [
        tenantry_migrate::Layout::Column,
        tenantry_migrate::Layout::TenantFirst,
    ] {
        // Its column list would meet `SELECT *` with one column more once the table has the
        // tenant column: the plan says so, and the migration refuses before changing
        // anything.
        let db = db_from_sql(
            dir.path(),
            &format!("{layout:?}-star.db"),
            "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO products VALUES (1, 'bolt');
             CREATE VIEW product_names (pid, pname) AS SELECT * FROM products;
             CREATE VIEW named (pid, pname) AS SELECT id, name FROM products;",
        );
        let before = snapshot(&db);
        let dry = MigrateOptions {
            layout,
            dry_run: true,
            ..MigrateOptions::default()
        };
        let report = migrate(&db, &dry, &mut |_| {}).unwrap();
        let breaking: Vec<&str> = report
            .plan
            .risks
            .iter()
            .filter_map(|r| match r {
                Risk::ViewWouldBreak { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(breaking, ["product_names"], "{layout:?}");
        let options = MigrateOptions {
            layout,
            ..MigrateOptions::default()
        };
        let error = migrate(&db, &options, &mut |_| {}).expect_err("the view would break");
        assert!(
            error.is_bad_input()
                && matches!(&error, Error::ViewWouldBreak { view, .. } if view == "product_names"),
            "{layout:?}: {error}"
        );
        assert!(error.to_string().contains("Name the columns"), "{error}");
        assert_eq!(snapshot(&db), before, "{layout:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(&format!("{layout:?}-star.db.")) && name.contains("backup")
            })
            .collect();
        assert!(left.is_empty(), "no backup is written: {left:?}");

        // A view that fails already (its table was dropped) does not stop the migration.
        let db = db_from_sql(
            dir.path(),
            &format!("{layout:?}-broken.db"),
            "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE gone (x);
             CREATE VIEW stale AS SELECT x FROM gone;
             DROP TABLE gone;",
        );
        migrate(&db, &options, &mut |_| {}).expect("a view broken before is not blamed");
    }
}

/// `verify` on the column layout: a guard trigger dropped since the migration, and a row
/// that references another tenant's row, are each reported.
#[test]
fn verify_reports_a_missing_guard_and_a_reference_to_another_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "guards.db",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
         CREATE INDEX orders_customer ON orders (customer_id);
         INSERT INTO customers VALUES (1, 'Ada');",
    );
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let checks = |db: &std::path::Path| -> Vec<Check> {
        verify(db, &VerifyOptions::default())
            .unwrap()
            .verification
            .problems
            .iter()
            .map(|p| p.check)
            .collect()
    };
    assert_eq!(checks(&db), []);
    let plain = Connection::open(&db).unwrap();
    plain
        .execute_batch(
            "DROP TRIGGER tenantry_fk_orders_insert;
             INSERT INTO orders (id, customer_id, tenant_id) VALUES (70, 1, 'store-2');",
        )
        .unwrap();
    assert_eq!(checks(&db), [Check::CrossTenant, Check::Guard]);
    // Migrating again puts the guard back; the reference stays reported until it is fixed.
    migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(checks(&db), [Check::CrossTenant]);
}

#[test]
fn an_index_name_already_taken_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "taken.db",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT); CREATE INDEX idx_a_tenant_id ON a(x);",
    );
    let before = snapshot(&db);
    let error = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("idx_a_tenant_id"), "{error}");
    assert_eq!(snapshot(&db), before);
}

#[test]
fn foreign_keys_between_tenant_tables_cannot_reach_another_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_from_sql(
        dir.path(),
        "fk.db",
        "CREATE TABLE kinds (code TEXT PRIMARY KEY);
         CREATE TABLE parents (id INTEGER PRIMARY KEY, a INT, b INT, UNIQUE (a, b));
         CREATE TABLE children (
             id INTEGER PRIMARY KEY,
             parent_id INTEGER REFERENCES parents ON DELETE CASCADE,
             a INT, b INT,
             FOREIGN KEY (a, b) REFERENCES parents (a, b));
         CREATE INDEX children_parent ON children (parent_id);
         CREATE INDEX children_ba ON children (b, a, id);
         CREATE TABLE notes (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES children (id));
         CREATE TABLE _migrations (v TEXT PRIMARY KEY);
         CREATE TABLE tagged (id INTEGER PRIMARY KEY, v TEXT REFERENCES _migrations (v));
         INSERT INTO parents VALUES (1, 10, 20);
         INSERT INTO children VALUES (1, 1, 10, 20);",
    );
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    // Two keys of `children` reach a tenant table, each guarded on INSERT and UPDATE at both
    // ends; the key of `tagged` reaches a global table and needs no guard.
    let mut guards: Vec<&str> = report
        .plan
        .fk_guards
        .iter()
        .map(|g| g.on.as_str())
        .collect();
    guards.sort();
    guards.dedup();
    assert_eq!(guards, ["children", "notes", "parents"]);
    // One guard per table and event. `notes.child_id` has no index: its parent-side check
    // would scan `notes` on every insert into `children`, so only its child side is
    // guarded, and the key is a risk.
    assert_eq!(report.plan.fk_guards.len(), 6);
    assert!(
        report.plan.risks.iter().any(|r| matches!(r,
            tenantry_migrate::Risk::UnindexedForeignKey { table, columns, parent }
                if table == "notes" && columns == &["child_id"] && parent == "children")),
        "{:?}",
        report.plan.risks
    );

    // Another tenant's parent, through either key, on insert or update, fails as a
    // missing parent; the tenant's own parent passes.
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         INSERT INTO parents VALUES (2, 11, 21, 'store-2');",
    )
    .unwrap();
    for sql in [
        "INSERT INTO children (parent_id, tenant_id) VALUES (1, 'store-2')",
        "INSERT INTO children (a, b, tenant_id) VALUES (10, 20, 'store-2')",
        "UPDATE children SET parent_id = 2 WHERE id = 1",
        "UPDATE children SET tenant_id = 'store-2' WHERE id = 1",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert_eq!(err.to_string(), "FOREIGN KEY constraint failed", "{sql}");
    }
    conn.execute(
        "INSERT INTO children (parent_id, a, b, tenant_id) VALUES (2, 11, 21, 'store-2')",
        [],
    )
    .unwrap();
    conn.execute("INSERT INTO children (parent_id) VALUES (NULL)", [])
        .unwrap();
    // A reference left dangling (foreign keys off) by store-2: no other tenant may then
    // create the row it points at, or store-2's row would hang on it (and go with its
    // DELETE ... CASCADE).
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO children (parent_id, tenant_id) VALUES (77, 'store-2');
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    for sql in [
        "INSERT INTO parents (id) VALUES (77)",
        "UPDATE parents SET id = 77 WHERE id = 1",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert_eq!(err.to_string(), "FOREIGN KEY constraint failed", "{sql}");
    }
    conn.execute(
        "INSERT INTO parents (id, tenant_id) VALUES (77, 'store-2')",
        [],
    )
    .unwrap();
    // A rerun finds nothing left to do.
    let again = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert!(again.plan.fk_guards.is_empty());
    assert_eq!(again.outcome, Outcome::AlreadyMigrated);
}

/// A virtual table that declares the tenant column itself (FTS5, `UNINDEXED`) is scoped as
/// it is: no column, no index (SQLite can add neither), its rows' tenants checked like any
/// table's. One without the column is refused until it is declared global.
#[test]
fn a_virtual_table_with_its_own_tenant_column_is_scoped_and_one_without_is_declared_global() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);
         CREATE VIRTUAL TABLE search USING fts5(product_id UNINDEXED, body, tenant_id UNINDEXED);
         CREATE VIRTUAL TABLE docs USING fts5(body);
         INSERT INTO products VALUES (1, 'brake pad', 'caps-automotive');
         INSERT INTO search VALUES (1, 'brake pad', 'caps-automotive');
         INSERT INTO docs VALUES ('manual');";
    for (layout, db, error) in refused_in_each_layout(dir.path(), sql) {
        let text = error.to_string();
        assert!(
            text.contains("\"docs\"") && text.contains("--exclude docs"),
            "{text}"
        );
        let options = MigrateOptions {
            layout,
            exclude: vec!["docs".into()],
            ..MigrateOptions::default()
        };
        let report = migrate(&db, &options, &mut |_| {}).unwrap();
        let plan = &report.plan;
        let search = plan.scoped.iter().find(|t| t.name == "search").unwrap();
        assert!(search.virtual_table && search.own_column && !search.add_column);
        assert!(search.create_index.is_none() && search.keying.is_none());
        assert_eq!(search.rows, Some(1));
        assert!(
            plan.global
                .iter()
                .any(|g| g.name == "docs" && g.reason == GlobalReason::Excluded)
        );
        assert!(plan.global.iter().any(|g| g.name == "search_content"
            && matches!(&g.reason, GlobalReason::ShadowOf(v) if v == "search")));
        let verification = verify(&db, &VerifyOptions::default()).unwrap().verification;
        assert!(verification.passed(), "{verification:?}");
        // The virtual table is the application's own, as it was.
        let conn = Connection::open(&db).unwrap();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'search'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            sql,
            "CREATE VIRTUAL TABLE search USING fts5(product_id UNINDEXED, body, tenant_id UNINDEXED)"
        );
    }
}
