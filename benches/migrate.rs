//! How long `migrate` takes against the bare floor, per fixture size.
//!
//! The floor is what any migration must at least do, with nothing of tenantry's: SQLite's
//! own backup of the file, the bare `ALTER TABLE … ADD COLUMN` / `CREATE INDEX` script in
//! one transaction, then `PRAGMA quick_check` and `PRAGMA foreign_key_check`. It is run two
//! ways: with the `sqlite3` shell (when installed; the machine's SQLite version) and through
//! rusqlite (the same bundled SQLite 3.54 that tenantry uses).
//!
//! Run: `cargo bench --bench migrate` (sizes tiny and typical), or
//! `TENANTRY_BENCH_SIZES=tiny,typical,large cargo bench --bench migrate`.
//! Fixtures are generated once into `target/tenantry-bench/` and copied afresh before
//! every measured run (the copy is not measured).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tenantry_fixtures::Size;
use tenantry_migrate::{MigrateOptions, migrate};

mod fixture;

fn sizes() -> Vec<Size> {
    std::env::var("TENANTRY_BENCH_SIZES")
        .unwrap_or_else(|_| "tiny,typical".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn bench_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("tenantry-bench")
}

/// A fresh copy of the pristine database to migrate, with no backup beside it.
fn fresh_copy(pristine: &Path, work: &Path) -> PathBuf {
    let db = work.join("work.db");
    for f in std::fs::read_dir(work).expect("read work dir") {
        let _ = std::fs::remove_file(f.expect("dir entry").path());
    }
    std::fs::copy(pristine, &db).expect("copy fixture");
    db
}

/// The bare script: every tenant table gets the column and an index, in one transaction.
fn bare_script() -> String {
    let mut script = String::from("BEGIN;\n");
    for t in tenantry_fixtures::expected_tables() {
        script.push_str(&format!(
            "ALTER TABLE \"{t}\" ADD COLUMN tenant_id VARCHAR(255) NOT NULL DEFAULT 'caps-automotive';\n\
             CREATE INDEX \"idx_{t}_tenant_id\" ON \"{t}\"(tenant_id);\n"
        ));
    }
    script.push_str("COMMIT;\n");
    script
}

fn floor_with_shell(db: &Path, backup: &Path) {
    let script = format!(
        ".bail on\n.backup '{}'\n{}PRAGMA quick_check;\nPRAGMA foreign_key_check;\n",
        backup.display(),
        bare_script()
    );
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run sqlite3");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    assert!(child.wait().expect("wait for sqlite3").success());
}

fn floor_with_rusqlite(db: &Path, backup: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.backup(
        rusqlite::MAIN_DB,
        backup,
        None::<fn(rusqlite::backup::Progress)>,
    )
    .expect("backup");
    conn.execute_batch(&bare_script()).expect("script");
    let ok: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .expect("quick_check");
    assert_eq!(ok, "ok");
    let mut fk = conn.prepare("PRAGMA foreign_key_check").expect("fk");
    let violations = fk.query_map([], |_| Ok(())).expect("fk rows").count();
    assert_eq!(violations, 0);
}

fn has_shell() -> bool {
    Command::new("sqlite3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn migrate_vs_floor(c: &mut Criterion) {
    let work = bench_dir().join("work");
    std::fs::create_dir_all(&work).expect("create work dir");
    for size in sizes() {
        let source = fixture::pristine(&bench_dir(), size);
        let mut group = c.benchmark_group(format!("migrate/{size}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(10));
        group.bench_function("tenantry_migrate", |b| {
            b.iter_batched(
                || fresh_copy(&source, &work),
                |db| {
                    let options = MigrateOptions {
                        backup: Some(work.join("backup.db")),
                        ..MigrateOptions::default()
                    };
                    migrate(&db, &options, &mut |_| {}).expect("migrate");
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("floor_rusqlite", |b| {
            b.iter_batched(
                || fresh_copy(&source, &work),
                |db| floor_with_rusqlite(&db, &work.join("backup.db")),
                BatchSize::PerIteration,
            )
        });
        if has_shell() {
            group.bench_function("floor_sqlite3_shell", |b| {
                b.iter_batched(
                    || fresh_copy(&source, &work),
                    |db| floor_with_shell(&db, &work.join("backup.db")),
                    BatchSize::PerIteration,
                )
            });
        } else {
            eprintln!(
                "sqlite3 shell not installed: floor_sqlite3_shell skipped (apt-get install sqlite3)"
            );
        }
        group.finish();
    }
}

criterion_group!(benches, migrate_vs_floor);
criterion_main!(benches);
