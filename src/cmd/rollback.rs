//! `tenantry rollback`.

use tenantry::migrate::{RollbackOptions, rollback};

use super::{LogFile, Status, init_logging, print_report, report_error, with_progress};
use crate::cli::RollbackArgs;
use crate::render;

/// Restores the backup and prints what was checked.
pub fn run(args: RollbackArgs) -> anyhow::Result<Status> {
    let log = init_logging(&args.db, args.log.as_deref(), args.db.is_file())?;
    let options = RollbackOptions {
        backup: args.backup,
        ..RollbackOptions::default()
    };
    match with_progress(args.json, |progress| rollback(&args.db, &options, progress)) {
        Ok(report) => {
            print_report(&report, args.json, render::rollback_report)?;
            Ok(Status::Ok)
        }
        Err(error) => {
            LogFile::after(log.as_ref(), &error);
            let advice = if error.is_bad_input() {
                "Nothing was changed.\n"
            } else {
                ""
            };
            Ok(report_error(&error, args.json, advice))
        }
    }
}
