//! An application adopts Tenantry as the two ported applications did: a time tracker that
//! creates its schema at start-up, on an in-memory database in its tests, and whose next
//! version adds a table. Its SQL is unchanged; only the constructor and one migration call
//! are new.

use tenantry_migrate::{
    Error as MigrateError, Fault, Layout, MigrateOptions, Step, migrate_connection,
    migrate_connection_with_schema,
};
use tenantry_rewrite::Refusal;
use tenantry_sqlite::{Connection, Error};

/// The application's start-up schema code, as it was before Tenantry.
fn create_schema(db: &rusqlite::Connection) -> rusqlite::Result<()> {
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS projects (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL UNIQUE,
             archived INTEGER NOT NULL DEFAULT 0
         );
         CREATE TABLE IF NOT EXISTS entries (
             id INTEGER PRIMARY KEY,
             project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
             minutes INTEGER NOT NULL,
             note TEXT
         );
         CREATE INDEX IF NOT EXISTS idx_entries_project ON entries(project_id);",
    )
}

/// The next version's addition, run at start-up after the first version's schema.
fn create_schema_v2(db: &rusqlite::Connection) -> rusqlite::Result<()> {
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS invoices (
             id INTEGER PRIMARY KEY,
             project_id INTEGER NOT NULL REFERENCES projects(id),
             total_minutes INTEGER NOT NULL
         );",
    )
}

// The application's own queries, unchanged: only the connection type is Tenantry's.

fn add_project(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    conn.execute("INSERT INTO projects (name) VALUES (?1)", [name])?;
    Ok(conn.last_insert_rowid())
}

fn log_time(conn: &Connection, project: &str, minutes: i64) -> rusqlite::Result<()> {
    let id: i64 = conn.query_row("SELECT id FROM projects WHERE name = ?1", [project], |r| {
        r.get(0)
    })?;
    conn.execute(
        "INSERT INTO entries (project_id, minutes) VALUES (?1, ?2)",
        (id, minutes),
    )?;
    Ok(())
}

fn report(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare(
        "SELECT p.name, coalesce(sum(e.minutes), 0) FROM projects p \
         LEFT JOIN entries e ON e.project_id = p.id GROUP BY p.id ORDER BY p.name",
    )?
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

fn invoice(conn: &Connection, project: &str) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO invoices (project_id, total_minutes) \
         SELECT p.id, sum(e.minutes) FROM projects p JOIN entries e ON e.project_id = p.id \
         WHERE p.name = ?1 GROUP BY p.id",
        [project],
    )?;
    conn.query_row(
        "SELECT total_minutes FROM invoices ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
}

fn has_tenant_column(db: &rusqlite::Connection) -> bool {
    db.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('projects') WHERE name = 'tenant_id'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn tenant_first() -> MigrateOptions {
    MigrateOptions {
        layout: Layout::TenantFirst,
        skip_backup: true,
        ..MigrateOptions::default()
    }
}

fn as_two_tenants(conn: &Connection) {
    conn.set_tenant("acme").unwrap();
    assert_eq!(add_project(conn, "website").unwrap(), 1);
    log_time(conn, "website", 90).unwrap();
    conn.set_tenant("globex").unwrap();
    // The same project name and the same first key: keys are per tenant.
    assert_eq!(add_project(conn, "website").unwrap(), 1);
    add_project(conn, "audit").unwrap();
    log_time(conn, "website", 15).unwrap();
    assert_eq!(
        report(conn).unwrap(),
        [("audit".to_owned(), 0), ("website".to_owned(), 15)]
    );
    conn.set_tenant("acme").unwrap();
    assert_eq!(report(conn).unwrap(), [("website".to_owned(), 90)]);
    // A duplicate within one tenant still fails as SQLite says.
    let err = add_project(conn, "website").unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation),
        "{err}"
    );
}

#[test]
fn an_in_memory_database_built_at_start_up_serves_two_tenants_with_the_applications_sql() {
    let conn = tenantry::open_in_memory_with(&tenant_first(), create_schema).unwrap();
    as_two_tenants(&conn);
}

#[test]
fn the_next_version_adds_a_table_refused_until_the_schema_path_scopes_it() {
    let dir = tempfile::tempdir().unwrap();
    for file in [false, true] {
        let mut conn = if file {
            let path = dir.path().join("tracker.db");
            let mut db = rusqlite::Connection::open(&path).unwrap();
            create_schema(&db).unwrap();
            migrate_connection(&mut db, &tenant_first(), &mut |_| {}).unwrap();
            Connection::open(&path).unwrap()
        } else {
            tenantry::open_in_memory_with(&tenant_first(), create_schema).unwrap()
        };
        as_two_tenants(&conn);
        // Version 2 runs its schema code at start-up, as it always did.
        conn.unscoped_mut(|db| create_schema(db).and_then(|()| create_schema_v2(db)))
            .unwrap();
        let err = invoice(&conn, "website").unwrap_err();
        assert!(
            matches!(Error::of(&err), Some(Error::Rewrite(e)) if matches!(e.refusal(), Some(Refusal::UndeclaredTable { name }) if name == "invoices")),
            "file {file}: {err}"
        );
        // The schema path: the same migration, on the open connection.
        conn.unscoped_mut(|db| migrate_connection(db, &tenant_first(), &mut |_| {}).map(|_| ()))
            .unwrap();
        assert_eq!(invoice(&conn, "website").unwrap(), 90, "file {file}");
        conn.set_tenant("globex").unwrap();
        assert_eq!(invoice(&conn, "website").unwrap(), 15, "file {file}");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM invoices", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "file {file}: globex sees only its invoice");
    }
}

#[test]
fn an_in_memory_migration_needs_a_backup_decision_and_a_failed_one_changes_nothing() {
    let mut db = rusqlite::Connection::open_in_memory().unwrap();
    create_schema(&db).unwrap();
    let err = migrate_connection(&mut db, &MigrateOptions::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, MigrateError::NoBackupPlace), "{err}");
    // Carried in a rusqlite::Error for code that returns rusqlite::Result.
    let carried: rusqlite::Error = err.into();
    assert!(matches!(
        MigrateError::of(&carried),
        Some(MigrateError::NoBackupPlace)
    ));

    db.execute_batch("BEGIN").unwrap();
    let err = migrate_connection(&mut db, &tenant_first(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, MigrateError::InTransaction), "{err}");
    db.execute_batch("ROLLBACK").unwrap();

    // A refusal of the migrator (an invalid default tenant) leaves the database as it was.
    let bad = MigrateOptions {
        default_tenant: "no spaces allowed".to_owned(),
        ..tenant_first()
    };
    assert!(migrate_connection(&mut db, &bad, &mut |_| {}).is_err());
    assert!(!has_tenant_column(&db));

    // With a backup path, the database as it was is kept there.
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("before.db");
    let options = MigrateOptions {
        backup: Some(backup.clone()),
        skip_backup: false,
        ..tenant_first()
    };
    let report = migrate_connection(&mut db, &options, &mut |_| {}).unwrap();
    assert_eq!(report.backup.as_deref(), Some(backup.as_path()));
    let kept = rusqlite::Connection::open(&backup).unwrap();
    assert!(!has_tenant_column(&kept));
}

/// The schema path in one transaction: the next version's schema code runs inside the
/// migration's transaction, so its new table is scoped the moment it exists, and a failure
/// anywhere (the schema code itself, or any later step) leaves neither the table nor the
/// migration behind.
#[test]
fn the_schema_path_runs_in_the_migrations_transaction_or_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracker.db");
    let mut db = rusqlite::Connection::open(&path).unwrap();
    create_schema(&db).unwrap();
    migrate_connection(&mut db, &tenant_first(), &mut |_| {}).unwrap();
    drop(db);
    let mut conn = Connection::open(&path).unwrap();
    as_two_tenants(&conn);
    let snapshot = crate::support::snapshot(&path);
    let has_invoices = |conn: &mut Connection| -> bool {
        conn.unscoped_mut(|db| {
            db.query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'invoices'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap()
    };

    // The schema code fails half-way: its first table is rolled back with it.
    let err = conn
        .unscoped_mut(|db| {
            migrate_connection_with_schema(db, &tenant_first(), &mut |_| {}, &mut |db| {
                create_schema_v2(db)?;
                db.execute_batch("CREATE TABLE broken (")
            })
        })
        .unwrap_err();
    assert!(
        matches!(
            &err,
            MigrateError::RolledBack {
                step: Step::Schema,
                ..
            }
        ),
        "{err}"
    );
    assert!(!has_invoices(&mut conn));
    assert_eq!(crate::support::snapshot(&path), snapshot);

    // A step after the schema code fails: the schema code's work goes too.
    for step in [Step::Schema, Step::Rebuild, Step::Verify, Step::Commit] {
        let options = MigrateOptions {
            fault: Some(Fault { step, after: 0 }),
            ..tenant_first()
        };
        let result = conn.unscoped_mut(|db| {
            migrate_connection_with_schema(db, &options, &mut |_| {}, &mut |db| {
                create_schema_v2(db)
            })
        });
        assert!(result.is_err(), "{step:?}");
        assert!(!has_invoices(&mut conn), "{step:?}");
        assert_eq!(crate::support::snapshot(&path), snapshot, "{step:?}");
    }

    // It succeeds: the new table is scoped as soon as it exists.
    conn.unscoped_mut(|db| {
        migrate_connection_with_schema(db, &tenant_first(), &mut |_| {}, &mut |db| {
            create_schema(db)?;
            create_schema_v2(db)
        })
    })
    .unwrap();
    conn.set_tenant("acme").unwrap();
    assert_eq!(invoice(&conn, "website").unwrap(), 90);
    conn.set_tenant("globex").unwrap();
    assert_eq!(invoice(&conn, "website").unwrap(), 15);
}

/// Schema code that would end the migration's transaction, or rebuild a tenant table
/// without its tenant column, is refused and leaves nothing; schema code on a database
/// with nothing left to migrate still gets the backup and the checks.
#[test]
fn schema_code_cannot_commit_drop_the_tenant_column_or_skip_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracker.db");
    let mut db = rusqlite::Connection::open(&path).unwrap();
    create_schema(&db).unwrap();
    db.execute_batch("INSERT INTO projects (name) VALUES ('website')")
        .unwrap();
    migrate_connection(&mut db, &tenant_first(), &mut |_| {}).unwrap();
    let snapshot = crate::support::snapshot(&path);
    let file = || MigrateOptions {
        skip_backup: false,
        ..tenant_first()
    };

    let err = migrate_connection_with_schema(&mut db, &file(), &mut |_| {}, &mut |db| {
        db.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY); COMMIT;")
    })
    .unwrap_err();
    assert!(err.to_string().contains("not authorized"), "{err}");
    assert_eq!(crate::support::snapshot(&path), snapshot);

    let err = migrate_connection_with_schema(&mut db, &file(), &mut |_| {}, &mut |db| {
        db.execute_batch(
            "CREATE TABLE projects_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             INSERT INTO projects_new (id, name) SELECT id, name FROM projects;
             DROP TABLE entries; DROP TABLE projects;
             ALTER TABLE projects_new RENAME TO projects;",
        )
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("without the tenant column"),
        "{err}"
    );
    assert_eq!(crate::support::snapshot(&path), snapshot);

    // Nothing to migrate after the code: the backup is taken and the change verified.
    let report = migrate_connection_with_schema(&mut db, &file(), &mut |_| {}, &mut |db| {
        db.execute_batch("UPDATE projects SET name = 'site'")
    })
    .unwrap();
    let backup = report
        .backup
        .expect("a backup of the database before the code");
    let kept: String = rusqlite::Connection::open(&backup)
        .unwrap()
        .query_row("SELECT name FROM projects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "website");
    let now: String = db
        .query_row("SELECT name FROM projects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(now, "site");
}
