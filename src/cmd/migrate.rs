//! `tenantry migrate`.

use tenantry::migrate::{MigrateOptions, Outcome, migrate};

use super::{Status, print_json, report_error, show_progress};
use crate::cli::MigrateArgs;
use crate::{logging, progress, render};

/// Runs the migration and prints its report, or what failed and how to get back.
pub fn run(args: MigrateArgs) -> anyhow::Result<Status> {
    // A log beside a file that does not exist would only add confusion to the refusal.
    let log = (!args.dry_run && args.db.is_file()).then(|| {
        args.log
            .clone()
            .unwrap_or_else(|| logging::default_log_path(&args.db))
    });
    logging::init(log.as_deref())?;
    let options = MigrateOptions {
        default_tenant: args.default_tenant,
        column: args.column,
        exclude: args.exclude,
        tenants_table: args.tenants_table,
        expect_tables: args.expect_tables,
        backup: args.backup,
        dry_run: args.dry_run,
        busy_wait: std::time::Duration::from_millis(args.busy_timeout),
        ..MigrateOptions::default()
    };
    let mut display = progress::Display::new(!show_progress(args.json));
    let result = migrate(&args.db, &options, &mut |event| display.on(event));
    display.finish();
    match result {
        Ok(report) => {
            if args.json {
                print_json(&report)?;
            } else {
                print!("{}", render::migrate_report(&report));
            }
            let mismatch = report
                .plan
                .expectation
                .as_ref()
                .is_some_and(|e| !e.missing.is_empty() || !e.extra.is_empty());
            if report.outcome == Outcome::DryRun && mismatch {
                eprintln!("error: the tables to scope differ from the expected list (see above)");
                return Ok(Status::BadInput);
            }
            Ok(Status::Ok)
        }
        Err(error) => Ok(report_error(
            &error,
            args.json,
            &render::migrate_failure(&args.db, &error, log.as_deref()),
        )),
    }
}
