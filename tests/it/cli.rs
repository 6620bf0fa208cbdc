use rusqlite::Connection;
use std::process::Command;

use crate::support::{files_containing, outcome, tables_with_column, tenantry, tiny_fixture};

#[test]
fn migrate_json_report_then_verify_then_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let path = db.to_str().unwrap();

    let (code, out, err) = outcome(&tenantry(&["migrate", path, "--json"]));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["outcome"], "migrated");
    assert_eq!(report["plan"]["scoped"].as_array().unwrap().len(), 32);
    assert_eq!(report["plan"]["default_tenant"], "caps-automotive");
    let steps: Vec<&str> = report["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "preflight",
            "plan",
            "count",
            "add_column",
            "create_index",
            "statistics",
            "scope_triggers",
            "verify",
            "record",
            "backup",
            "verify_backup",
            "commit"
        ]
    );
    assert!(
        report["verification"]["problems"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let backup = report["backup"].as_str().unwrap();
    assert!(std::path::Path::new(backup).is_file());
    let log = std::fs::read_to_string(format!("{path}.tenantry.log")).unwrap();
    assert!(log.contains("backup written"), "{log}");

    let (code, out, err) = outcome(&tenantry(&["verify", path]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Verified"), "{out}");

    let (code, out, err) = outcome(&tenantry(&["rollback", path]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(backup), "{out}");
    assert!(tables_with_column(&db, "tenant_id").is_empty());

    // Verifying a database that is not migrated fails and says what to do.
    let (code, out, _) = outcome(&tenantry(&["verify", path]));
    assert_eq!(code, 1);
    assert!(out.contains("run `tenantry migrate`"), "{out}");
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let bytes = std::fs::read(&db).unwrap();
    let (code, out, err) = outcome(&tenantry(&["migrate", db.to_str().unwrap(), "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Dry run: nothing was changed"), "{out}");
    assert!(out.contains("work_orders"), "{out}");
    assert!(out.contains("_migrations"), "{out}");
    assert!(out.contains("risks"), "{out}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    assert!(files_containing(dir.path(), "tenantry-backup").is_empty());
    assert!(files_containing(dir.path(), ".log").is_empty());
}

#[test]
fn a_failed_migration_says_it_was_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let bad = dir.path().join("missing-folder").join("b.db");
    let (code, out, err) = outcome(&tenantry(&[
        "migrate",
        db.to_str().unwrap(),
        "--backup",
        bad.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert!(err.contains("exactly as it was before"), "{err}");
    assert!(err.contains("tenantry.log"), "{err}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["rolled_back_at"], "backup");
    assert!(tables_with_column(&db, "tenant_id").is_empty());
}

#[test]
fn rollback_without_a_recorded_backup_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let (code, _, err) = outcome(&tenantry(&["rollback", db.to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--backup"), "{err}");
    // A refusal leaves no file behind, a log included.
    assert!(files_containing(dir.path(), ".log").is_empty());
}

/// A refused migration (nothing changed) leaves no log beside the database: its reason is
/// on standard error. (It left `<db>.tenantry.log`.) A log that existed already is kept.
#[test]
fn a_refused_migration_leaves_no_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let path = db.to_str().unwrap();
    let not_a_db = dir.path().join("notes.txt");
    std::fs::write(
        &not_a_db,
        "not a database, but long enough to be read as one ...",
    )
    .unwrap();
    let refused: [&[&str]; 3] = [
        &["migrate", path, "--default-tenant", "bad tenant!"],
        &["migrate", path, "--exclude", "no_such_table"],
        &["migrate", not_a_db.to_str().unwrap()],
    ];
    for args in refused {
        let (code, _, err) = outcome(&tenantry(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("tenantry.log"), "{args:?}: {err}");
        assert!(files_containing(dir.path(), ".log").is_empty(), "{args:?}");
    }
    let log = dir.path().join("pos.db.tenantry.log");
    std::fs::write(&log, "earlier\n").unwrap();
    let (code, _, err) = outcome(&tenantry(refused[0]));
    assert_eq!(code, 2, "{err}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .starts_with("earlier\n")
    );
}

/// A log path that exists as a symbolic link, even one to no file yet, is the user's: a
/// refusal keeps it. (The link was removed: it was taken for a log the run created.)
#[cfg(unix)]
#[test]
fn a_refused_migration_keeps_a_log_link_of_the_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let link = dir.path().join("pos.db.tenantry.log");
    let target = dir.path().join("logs-app.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, _, err) = outcome(&tenantry(&[
        "migrate",
        db.to_str().unwrap(),
        "--default-tenant",
        "bad tenant!",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// A migration run from the database's folder with relative names records its backup
/// absolute: a rollback run from another folder, holding a file of the same name, restores
/// the right one.
#[test]
fn rollback_from_another_folder_restores_the_recorded_backup() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for (folder, sql) in [
        (
            &a,
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'a');",
        ),
        (
            &b,
            "CREATE TABLE other (x TEXT); INSERT INTO other VALUES ('b');",
        ),
    ] {
        std::fs::create_dir(folder).unwrap();
        crate::support::db_from_sql(folder, "app.db", sql);
        let out = Command::new(env!("CARGO_BIN_EXE_tenantry"))
            .args(["migrate", "--backup", "backup.db", "app.db"])
            .current_dir(folder)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(["rollback", a.join("app.db").to_str().unwrap()])
        .current_dir(&b)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let tables: Vec<String> = Connection::open(a.join("app.db"))
        .unwrap()
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["notes"]);
}

/// `tenantry global add` refuses what `migrate` refuses, before writing anything.
#[test]
fn global_add_refuses_an_empty_or_read_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let (code, _, err) = outcome(&tenantry(&["global", "add", empty.to_str().unwrap(), "x"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a SQLite database"), "{err}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    let db = tiny_fixture(dir.path(), "pos.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&db).unwrap();
    let (code, _, err) = outcome(&tenantry(&["global", "add", db.to_str().unwrap(), "x"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn fixture_command_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    for p in [&a, &b] {
        let (code, out, err) = outcome(&tenantry(&[
            "fixture",
            "--size",
            "tiny",
            "--out",
            p.to_str().unwrap(),
            "--seed",
            "7",
        ]));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("tiny"), "{out}");
    }
    let digest = |p: &std::path::Path| -> String {
        let conn = Connection::open(p).unwrap();
        conn.query_row("SELECT group_concat(id || first_name || last_name, ',') FROM (SELECT * FROM customers ORDER BY id)", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(digest(&a), digest(&b));
    // An existing file is not replaced without --force.
    let (code, _, err) = outcome(&tenantry(&[
        "fixture",
        "--size",
        "tiny",
        "--out",
        a.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
}

#[test]
fn help_teaches_each_command() {
    for (command, needle) in [
        ("migrate", "--default-tenant"),
        ("verify", "--column"),
        ("rollback", "--backup"),
        ("fixture", "--size"),
        ("demo", "--size"),
        ("global", "GLOB"),
        ("audit", "--db"),
    ] {
        let (code, out, err) = outcome(&tenantry(&[command, "--help"]));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(needle), "{command}: {out}");
    }
    let (_, out, _) = outcome(&tenantry(&["--help"]));
    assert!(out.contains("Exit status"), "{out}");
}

/// The files a migration and a rollback create beside a private database (the backups, the
/// copy kept before the restore, the log) are as private as the database: mode 0600 for a
/// 0600 database, 0640 for a 0640 one. (They were 0644 whatever the database's mode.)
#[cfg(unix)]
#[test]
fn files_created_beside_a_database_get_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for db_mode in [0o600, 0o640] {
        let dir = tempfile::tempdir().unwrap();
        let db = tiny_fixture(dir.path(), "pos.db");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(db_mode)).unwrap();
        let path = db.to_str().unwrap();
        let (code, _, err) = outcome(&tenantry(&["migrate", path]));
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = outcome(&tenantry(&["rollback", path]));
        assert_eq!(code, 0, "{err}");
        let mut created = files_containing(dir.path(), "tenantry-backup");
        created.extend(files_containing(dir.path(), "tenantry.log"));
        // The migration's backup, the copy kept before the rollback, and the log.
        assert_eq!(created.len(), 3, "{created:?}");
        for file in &created {
            assert_eq!(mode(file), db_mode, "{}", file.display());
        }
    }
}

/// Two migrations of the same database within one second (migrate, roll back, migrate
/// again) each get their own backup: the default name has millisecond resolution and is
/// numbered when taken. (The second used to fail: "the backup file already exists".)
#[test]
fn migrations_in_quick_succession_each_get_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let path = db.to_str().unwrap();
    for step in ["migrate", "rollback", "migrate", "rollback", "migrate"] {
        let (code, _, err) = outcome(&tenantry(&[step, path]));
        assert_eq!(code, 0, "{step}: {err}");
    }
    // Three migration backups and two copies kept before the rollbacks, all different.
    let backups = files_containing(dir.path(), "tenantry-backup");
    assert_eq!(backups.len(), 5, "{backups:?}");
}

/// The demo shows the product: two stores side by side with the same statements, a
/// refusal with its reason, and a measured cost.
#[test]
fn the_demo_shows_two_stores_side_by_side_a_refusal_and_the_cost() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = outcome(&tenantry(&[
        "demo",
        "--size",
        "tiny",
        "--dir",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let showcase = out
        .split_once("Two stores in one database")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no side-by-side part in {out}"));
    let line = |label: &str| -> Vec<String> {
        showcase
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} line in {out}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // The tiny fixture has 20 customers; the second store wrote 2 of its own.
    assert_eq!(line("customers")[1..], ["20", "2"]);
    assert_eq!(line("products")[1..], ["30", "0"]);
    let phone = line("customer with the first phone number");
    assert_eq!(phone[phone.len() - 2..], ["Grace", "Hopper"]);
    assert!(out.contains("refused: setting the tenant column"), "{out}");
    assert!(
        out.contains("tenant connection") && out.contains("x); both with"),
        "{out}"
    );
}

#[test]
fn tenant_index_where_needed_without_the_tenant_first_layout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let bytes = std::fs::read(&db).unwrap();
    let (code, _, err) = outcome(&tenantry(&[
        "migrate",
        db.to_str().unwrap(),
        "--tenant-index",
        "where-needed",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("add --layout tenant-first"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    assert!(files_containing(dir.path(), "tenantry-backup").is_empty());
    assert!(files_containing(dir.path(), ".log").is_empty());
}
