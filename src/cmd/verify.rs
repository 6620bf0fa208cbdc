//! `tenantry verify`.

use tenantry::migrate::{VerifyOptions, verify};

use super::{Status, print_report, report_error};
use crate::cli::VerifyArgs;
use crate::{logging, render};

/// Verifies and prints the findings; exit 1 when any check fails.
pub fn run(args: VerifyArgs) -> anyhow::Result<Status> {
    logging::init(None, None)?;
    let options = VerifyOptions {
        column: args.column,
        ..VerifyOptions::default()
    };
    match verify(&args.db, &options) {
        Ok(report) => {
            print_report(&report, args.json, render::verify_report)?;
            Ok(if report.verification.passed() {
                Status::Ok
            } else {
                Status::Failed
            })
        }
        Err(error) => Ok(report_error(&error, args.json, "")),
    }
}
