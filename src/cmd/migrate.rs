//! `tenantry migrate`.

use tenantry::migrate::{MigrateOptions, Outcome, migrate};

use super::{LogFile, Status, init_logging, print_report, report_error, with_progress};
use crate::cli::{LayoutArg, MigrateArgs, TenantIndexArg};
use crate::render;

/// Runs the migration and prints its report, or what failed and how to get back.
pub fn run(args: MigrateArgs) -> anyhow::Result<Status> {
    if args.tenant_index == TenantIndexArg::WhereNeeded && args.layout == LayoutArg::Column {
        eprintln!(
            "error: --tenant-index where-needed applies to --layout tenant-first (the column \
             layout always creates the tenant index where no index leads with the column); \
             add --layout tenant-first, or drop --tenant-index"
        );
        return Ok(Status::BadInput);
    }
    // A log beside a file that does not exist would only add confusion to the refusal.
    let log = init_logging(
        &args.db,
        args.log.as_deref(),
        !args.dry_run && args.db.is_file(),
    )?;
    let options = MigrateOptions {
        default_tenant: args.default_tenant,
        column: args.column,
        exclude: args.exclude,
        layout: args.layout.into(),
        tenant_index: args.tenant_index.into(),
        tenants_table: args.tenants_table,
        expect_tables: args.expect_tables,
        backup: args.backup,
        dry_run: args.dry_run,
        busy_wait: std::time::Duration::from_millis(args.busy_timeout),
        ..MigrateOptions::default()
    };
    match with_progress(args.json, |progress| migrate(&args.db, &options, progress)) {
        Ok(report) => {
            print_report(&report, args.json, render::migrate_report)?;
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
            &render::migrate_failure(&args.db, &error, LogFile::after(log.as_ref(), &error)),
        )),
    }
}
