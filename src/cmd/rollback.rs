//! `tenantry rollback`.

use tenantry::migrate::{RollbackOptions, rollback};

use super::{Status, print_json, report_error, show_progress};
use crate::cli::RollbackArgs;
use crate::{logging, progress, render};

/// Restores the backup and prints what was checked.
pub fn run(args: RollbackArgs) -> anyhow::Result<Status> {
    let log = args.db.is_file().then(|| {
        args.log
            .clone()
            .unwrap_or_else(|| logging::default_log_path(&args.db))
    });
    logging::init(log.as_deref())?;
    let options = RollbackOptions {
        backup: args.backup,
        ..RollbackOptions::default()
    };
    let mut display = progress::Display::new(!show_progress(args.json));
    let result = rollback(&args.db, &options, &mut |event| display.on(event));
    display.finish();
    match result {
        Ok(report) => {
            if args.json {
                print_json(&report)?;
            } else {
                print!("{}", render::rollback_report(&report));
            }
            Ok(Status::Ok)
        }
        Err(error) => {
            let advice = if error.is_bad_input() {
                "Nothing was changed.\n"
            } else {
                ""
            };
            Ok(report_error(&error, args.json, advice))
        }
    }
}
