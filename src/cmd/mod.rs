//! One module per subcommand; each turns validated arguments into a library call and its
//! output, and returns how the process should exit.

mod audit;
mod demo;
mod fixture;
mod global;
mod input;
mod migrate;
mod rewrite;
mod rollback;
mod showcase;
mod sql;
mod verify;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tenantry::migrate::Progress;

use crate::cli::Command;
use crate::{logging, progress};

/// How a command ended, when it ended without an error of its own.
pub enum Status {
    /// Success: exit 0.
    Ok,
    /// The operation failed or found problems: exit 1.
    Failed,
    /// Bad usage or input: exit 2.
    BadInput,
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<Status> {
    match command {
        Command::Migrate(args) => migrate::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Fixture(args) => fixture::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Rewrite(args) => rewrite::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Global(args) => global::run(args),
        Command::Audit(args) => audit::run(args),
    }
}

/// Whether to draw progress: only for people, on a terminal, when no JSON is wanted.
fn show_progress(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

/// Runs `operation` (a migration or a rollback) with its progress drawn on standard error
/// when [`show_progress`] says so, and returns what it returned.
fn with_progress<T>(json: bool, operation: impl FnOnce(&mut dyn FnMut(Progress<'_>)) -> T) -> T {
    let mut display = progress::Display::new(!show_progress(json));
    let result = operation(&mut |event| display.on(event));
    display.finish();
    result
}

/// The log file of a command that changes a database.
struct LogFile {
    path: PathBuf,
    /// This run created it (it did not exist before).
    created: bool,
}

impl LogFile {
    /// The log to name after `error`: none for a refusal that changed nothing, whose log
    /// this run created (removed: a refused command leaves no file behind; its reason is
    /// on standard error). A refusal found once the work had begun (corruption the copy's
    /// check found, an unusable backup) keeps its log, as does a log that existed before.
    fn after<'a>(log: Option<&'a LogFile>, error: &tenantry::migrate::Error) -> Option<&'a Path> {
        use tenantry::migrate::Error;
        let log = log?;
        let late = matches!(error, Error::Corrupt { .. } | Error::BadBackup { .. });
        if log.created && error.is_bad_input() && !late {
            if let Err(e) = std::fs::remove_file(&log.path) {
                tracing::warn!(log = %log.path.display(), error = %e, "cannot remove the log of a refused command");
                return Some(&log.path);
            }
            return None;
        }
        Some(&log.path)
    }
}

/// Starts logging for a command that changes `db`: with `enabled`, also to a log file,
/// `log` or else `<db>.tenantry.log` beside it. Returns the log file, if any.
fn init_logging(db: &Path, log: Option<&Path>, enabled: bool) -> anyhow::Result<Option<LogFile>> {
    let file =
        enabled.then(|| log.map_or_else(|| logging::default_log_path(db), Path::to_path_buf));
    let created = logging::init(file.as_deref(), Some(db))?;
    Ok(file.map(|path| LogFile { path, created }))
}

/// Prints a report on standard output: as JSON with `json`, else as `render` writes it
/// for a person.
fn print_report<T: serde::Serialize>(
    report: &T,
    json: bool,
    render: fn(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        print_json(report)
    } else {
        print!("{}", render(report));
        Ok(())
    }
}

/// Prints a library error for a person on standard error and, with `json`, as one JSON
/// object on standard output; returns the exit status it maps to.
fn report_error(error: &tenantry::migrate::Error, json: bool, advice: &str) -> Status {
    eprintln!("error: {error}");
    if !advice.is_empty() {
        eprint!("{advice}");
    }
    if json {
        let (step, backup) = match error {
            tenantry::migrate::Error::RolledBack { step, backup, .. } => {
                (Some(step.name()), backup.as_ref())
            }
            _ => (None, None),
        };
        let value = serde_json::json!({
            "ok": false,
            "error": {
                "message": error.to_string(),
                "bad_input": error.is_bad_input(),
                "rolled_back_at": step,
                "backup": backup,
            }
        });
        println!("{value}");
    }
    if error.is_bad_input() {
        Status::BadInput
    } else {
        Status::Failed
    }
}

/// Prints `value` as pretty JSON on standard output.
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
