use tenantry_migrate::{Error, Fault, Layout, MigrateOptions, Step, migrate};

use crate::support::{files_containing, snapshot, tiny_fixture};

/// Every point where the migration can stop: each step's start, and the per-table steps
/// part-way and at their end (the fixture has 32 tables to scope).
const FAULTS: &[(Step, usize)] = &[
    (Step::Preflight, 0),
    (Step::Plan, 0),
    (Step::Count, 0),
    (Step::Count, 17),
    (Step::Backup, 0),
    (Step::VerifyBackup, 0),
    (Step::AddColumn, 0),
    (Step::AddColumn, 11),
    (Step::AddColumn, 32),
    (Step::CreateIndex, 0),
    (Step::CreateIndex, 20),
    (Step::CreateIndex, 32),
    (Step::Statistics, 0),
    (Step::ScopeTriggers, 0),
    (Step::Record, 0),
    (Step::Verify, 0),
    (Step::Commit, 0),
];

/// The steps of the tenant-first layout: each table rebuilt (the fixture has 32), its
/// indexes, views and triggers created again.
const TENANT_FIRST_FAULTS: &[(Step, usize)] = &[
    (Step::Backup, 0),
    (Step::Rebuild, 0),
    (Step::Rebuild, 1),
    (Step::Rebuild, 11),
    (Step::Rebuild, 32),
    (Step::CreateIndex, 0),
    (Step::CreateIndex, 20),
    (Step::CreateIndex, 32),
    (Step::Statistics, 0),
    (Step::ScopeTriggers, 0),
    (Step::Verify, 0),
    (Step::Record, 0),
    (Step::Commit, 0),
];

// The fixture is in WAL mode, where the backup is copied beside the change; in a rollback
// journal mode it is copied first. Both paths are failed at every step.

#[test]
fn a_failure_at_any_step_leaves_the_database_logically_identical() {
    fail_at_every_step(Layout::Column, FAULTS, "wal");
}

#[test]
fn a_failure_at_any_step_of_the_tenant_first_rebuild_leaves_the_database_logically_identical() {
    fail_at_every_step(Layout::TenantFirst, TENANT_FIRST_FAULTS, "wal");
}

#[test]
fn a_failure_at_any_step_in_rollback_journal_mode_leaves_the_database_logically_identical() {
    fail_at_every_step(Layout::Column, FAULTS, "delete");
    fail_at_every_step(Layout::TenantFirst, TENANT_FIRST_FAULTS, "delete");
}

fn fail_at_every_step(layout: Layout, faults: &[(Step, usize)], journal_mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pristine = tiny_fixture(dir.path(), "pristine.db");
    let mode: String = rusqlite::Connection::open(&pristine)
        .unwrap()
        .query_row(&format!("PRAGMA journal_mode = {journal_mode}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode, journal_mode);
    let expected = snapshot(&pristine);
    for (i, &(step, after)) in faults.iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        std::fs::create_dir(&case).unwrap();
        let db = case.join("pos.db");
        std::fs::copy(&pristine, &db).unwrap();
        let options = MigrateOptions {
            fault: Some(Fault { step, after }),
            layout,
            ..MigrateOptions::default()
        };
        let error = migrate(&db, &options, &mut |_| {})
            .expect_err("the injected fault must fail the migration");
        let label = format!("fault at {step} after {after}: {error}");
        assert_eq!(snapshot(&db), expected, "{label}");

        let backups = files_containing(&case, "tenantry-backup");
        match &error {
            Error::Injected { step: s } => {
                // Before the backup began: a plain failure, nothing written at all.
                assert_eq!(*s, step, "{label}");
                assert!(backups.is_empty(), "{label}");
            }
            Error::RolledBack {
                step: s,
                backup,
                source,
            } => {
                assert_eq!(*s, step, "{label}");
                assert!(matches!(**source, Error::Injected { .. }), "{label}");
                match step {
                    // A backup cut short is removed.
                    Step::Backup => assert!(backup.is_none() && backups.is_empty(), "{label}"),
                    // A finished backup is kept and named, and it equals the database.
                    _ => {
                        let backup = backup.clone().expect("backup named");
                        assert_eq!(backups, std::slice::from_ref(&backup), "{label}");
                        assert_eq!(snapshot(&backup), expected, "{label}");
                    }
                }
            }
            other => panic!("unexpected error for {label}: {other:?}"),
        }
        // A later, clean run still succeeds on the same file.
        let rerun = MigrateOptions {
            backup: Some(case.join("rerun.backup")),
            layout,
            ..MigrateOptions::default()
        };
        migrate(&db, &rerun, &mut |_| {}).unwrap_or_else(|e| panic!("{label}: re-run failed: {e}"));
    }
}

#[test]
fn a_real_failure_rolls_back_too() {
    // The backup cannot be written (its folder does not exist): a genuine I/O failure.
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before = snapshot(&db);
    let options = MigrateOptions {
        backup: Some(dir.path().join("no-such-folder").join("b.db")),
        ..MigrateOptions::default()
    };
    let error = migrate(&db, &options, &mut |_| {}).unwrap_err();
    assert!(
        matches!(&error, Error::RolledBack { step: Step::Backup, source, .. } if matches!(**source, Error::Io { .. })),
        "{error:?}"
    );
    assert!(!error.is_bad_input());
    assert_eq!(snapshot(&db), before);
}
