//! The `tenantry` command: parses arguments, runs a subcommand, maps errors to exit codes.

mod cli;
mod cmd;
mod logging;
mod progress;
mod render;

use std::process::ExitCode;

use clap::Parser;

/// Exit status: the operation failed (and was rolled back) or verification found problems.
const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or bad input; nothing was attempted.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli.command) {
        Ok(cmd::Status::Ok) => ExitCode::SUCCESS,
        Ok(cmd::Status::Failed) => ExitCode::from(EXIT_FAILED),
        Ok(cmd::Status::BadInput) => ExitCode::from(EXIT_BAD_INPUT),
        Err(error) => {
            eprintln!("error: {error:#}");
            let bad_input = error
                .downcast_ref::<tenantry::migrate::Error>()
                .is_some_and(tenantry::migrate::Error::is_bad_input);
            ExitCode::from(if bad_input {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILED
            })
        }
    }
}
