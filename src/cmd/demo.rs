//! `tenantry demo`: the main job on an embedded default. Builds the point-of-sale fixture,
//! migrates it with a progress display, verifies it and prints the report; then shows the
//! product (`showcase.rs`): two stores side by side, a refusal, the cost.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tenantry::fixtures::{self, Options};
use tenantry::migrate::{MigrateOptions, VerifyOptions, migrate, verify};

use super::{Status, fixture, print_report, report_error, show_progress, with_progress};
use crate::cli::DemoArgs;
use crate::{logging, render};

/// Runs the demo in its own folder, replacing the files of an earlier demo there.
pub fn run(args: DemoArgs) -> anyhow::Result<Status> {
    let dir = args.dir.clone().unwrap_or_else(default_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let db = dir.join(format!("pos-{}.db", args.size));
    clean(&dir, &db)?;
    logging::init(Some(&logging::default_log_path(&db)), Some(&db))?;

    eprintln!(
        "Generating the {} point-of-sale fixture (32 tables of an auto-parts store)…",
        args.size
    );
    let options = Options {
        size: args.size,
        seed: fixtures::DEFAULT_SEED,
        overwrite: true,
    };
    let generated = fixture::generate(&db, &options, show_progress(args.json))
        .context("generating the fixture")?;
    eprintln!("{}", fixture::summary(&generated));

    let expected = dir.join("expected-tables.txt");
    let mut list =
        String::from("# The 32 tables of the point-of-sale application, from the requirements.\n");
    for t in fixtures::expected_tables() {
        list.push_str(t);
        list.push('\n');
    }
    std::fs::write(&expected, list)
        .with_context(|| format!("cannot write {}", expected.display()))?;

    eprintln!(
        "Migrating {} to tenant {:?}…",
        db.display(),
        tenantry::migrate::DEFAULT_TENANT
    );
    let migrate_options = MigrateOptions {
        expect_tables: Some(expected),
        ..MigrateOptions::default()
    };
    let result = with_progress(args.json, |progress| {
        migrate(&db, &migrate_options, progress)
    });
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            return Ok(report_error(
                &error,
                args.json,
                &render::migrate_failure(&db, &error, None),
            ));
        }
    };
    print_report(&report, args.json, render::migrate_report)?;

    let check = match verify(&db, &VerifyOptions::default()) {
        Ok(check) => check,
        Err(error) => return Ok(report_error(&error, args.json, "")),
    };
    if !args.json {
        println!();
        print!("{}", render::verify_report(&check));
        if check.verification.passed() {
            super::showcase::run(&db)?;
        }
        println!();
        println!("Try it yourself:");
        println!("  cargo run --release -- verify {}", db.display());
        println!("  cargo run --release -- rollback {}", db.display());
    }
    Ok(if check.verification.passed() {
        Status::Ok
    } else {
        Status::Failed
    })
}

/// `target/tenantry-demo` when run from a cargo checkout, else the system temp folder.
fn default_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    if target.is_dir() {
        target.join("tenantry-demo")
    } else {
        std::env::temp_dir().join("tenantry-demo")
    }
}

/// Removes the files an earlier demo left for `db`: the database, its journal files,
/// its backups and its log. Nothing else in the folder is touched.
fn clean(dir: &Path, db: &Path) -> anyhow::Result<()> {
    let Some(name) = db.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        let ours = file == name
            || [&"-wal", &"-shm", &"-journal", &".tenantry.log"]
                .iter()
                .any(|s| file == format!("{name}{s}"))
            || (file.starts_with(&format!("{name}.")) && file.ends_with(".tenantry-backup"));
        if ours {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}
