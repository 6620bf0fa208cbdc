//! `tenantry audit`.

use tenantry::audit::{audit, render, rewriter_for};

use super::{Status, print_json};
use crate::cli::AuditArgs;
use crate::logging;

/// Audits the code under `args.path` against the schema of `args.db`; exit 1 when anything
/// would be refused.
pub fn run(args: AuditArgs) -> anyhow::Result<Status> {
    logging::init(None, None)?;
    if !args.path.exists() {
        eprintln!(
            "error: {}: no such file or directory; pass a crate's directory or a .rs file",
            args.path.display()
        );
        return Ok(Status::BadInput);
    }
    let rewriter = match rewriter_for(&args.db, &args.column) {
        Ok(rewriter) => rewriter,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(Status::BadInput);
        }
    };
    let report = match audit(&args.path, &rewriter) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(Status::BadInput);
        }
    };
    if args.json {
        print_json(&report)?;
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.has_refusals() {
        Status::Failed
    } else {
        Status::Ok
    })
}
