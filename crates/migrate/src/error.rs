//! The migrator's one error type, and the step names errors carry.

use std::path::PathBuf;

use serde::Serialize;

/// The steps of a migration, in order. Errors, timings and progress events name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Checking the file, opening it and taking the write lock.
    Preflight,
    /// The application's own schema code ([`crate::migrate_with_schema`]), inside the
    /// migration's transaction.
    Schema,
    /// Reading the schema and deciding what to change.
    Plan,
    /// Counting the rows of every table.
    Count,
    /// `PRAGMA quick_check` and `PRAGMA foreign_key_check` on the file (a dry run; a
    /// migration checks its backup instead, at [`Step::VerifyBackup`]).
    Check,
    /// Copying the database with SQLite's online backup.
    Backup,
    /// Checking the copy, beside the change: integrity (`quick_check`, which is the
    /// file's: the copy is the file page for page) and row counts.
    VerifyBackup,
    /// `ALTER TABLE … ADD COLUMN` on every table that lacks the tenant column.
    AddColumn,
    /// Rebuilding every tenant table tenant-first: new table, rows copied and compared,
    /// old table dropped (layout `tenant-first`).
    Rebuild,
    /// `CREATE INDEX` on the tenant column of every scoped table.
    CreateIndex,
    /// Planner statistics for the new indexes (`sqlite_stat1`).
    Statistics,
    /// Replacing triggers on tenant tables with their scoped form.
    ScopeTriggers,
    /// Recording the migration in `_tenantry_migrations`.
    Record,
    /// Checking the result inside the transaction, before `COMMIT`.
    Verify,
    /// `COMMIT`.
    Commit,
    /// Restoring a database from its backup (`tenantry rollback`).
    Restore,
    /// Declaring tables global, or reading the declarations (`tenantry global`).
    Declare,
}

impl Step {
    /// The step's name as printed in messages and reports.
    pub fn name(self) -> &'static str {
        match self {
            Step::Preflight => "preflight",
            Step::Schema => "schema",
            Step::Plan => "plan",
            Step::Count => "count",
            Step::Check => "check",
            Step::Backup => "backup",
            Step::VerifyBackup => "verify-backup",
            Step::AddColumn => "add-column",
            Step::Rebuild => "rebuild",
            Step::CreateIndex => "create-index",
            Step::Statistics => "statistics",
            Step::ScopeTriggers => "scope-triggers",
            Step::Record => "record",
            Step::Verify => "verify",
            Step::Commit => "commit",
            Step::Restore => "restore",
            Step::Declare => "declare-global",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can stop a migration, a verification or a rollback.
///
/// Variants up to [`Error::RolledBack`] are refusals: the input was unusable and nothing
/// was changed ([`Error::is_bad_input`] is true). The rest report an operation that
/// started and failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database file does not exist.
    #[error("{}: no such file", path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file exists but is not a SQLite database.
    #[error("{}: not a SQLite database ({detail})", path.display())]
    NotADatabase {
        /// The path given.
        path: PathBuf,
        /// What was found instead.
        detail: String,
    },
    /// SQLite reports the database as corrupt (`quick_check` or reading the schema failed).
    #[error("{}: the database is corrupt; nothing was changed. Repair it (for example with the sqlite3 shell's .recover) or restore it from a backup, then run again. SQLite said: {}", path.display(), detail.join("; "))]
    Corrupt {
        /// The path given.
        path: PathBuf,
        /// The first lines SQLite reported.
        detail: Vec<String>,
    },
    /// The file or its folder cannot be written.
    #[error("{}: {reason}; nothing was changed", path.display())]
    ReadOnly {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be written, and what to do.
        reason: String,
    },
    /// Another connection holds a lock on the database beyond the bounded wait.
    #[error("{}: the database is in use by another process (still locked after {waited_ms} ms); stop the application first, then run again. Nothing was changed", path.display())]
    Busy {
        /// The path given.
        path: PathBuf,
        /// How long the migrator waited for the lock.
        waited_ms: u64,
    },
    /// A tenant id that breaks the rules of [`crate::TenantId`].
    #[error("invalid tenant id {id:?}: {reason}")]
    InvalidTenantId {
        /// The id given.
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A tenant column name that is not a plain identifier.
    #[error(
        "invalid column name {name:?}: use letters, digits and '_', starting with a letter or '_', at most 64 characters"
    )]
    InvalidColumnName {
        /// The name given.
        name: String,
    },
    /// A table named on the command line does not exist.
    #[error("table {table:?} named by {option} does not exist in the database")]
    UnknownTable {
        /// The table named.
        table: String,
        /// The option that named it.
        option: &'static str,
    },
    /// A view that names its columns over `SELECT *` would stop working once its tables
    /// have the tenant column.
    #[error(
        "view {view:?} would stop working after the migration: with the tenant column its SELECT gives one column more than it names ({detail}). Name the columns it selects (CREATE VIEW … AS SELECT a, b FROM …) and run the migration again. Nothing was changed"
    )]
    ViewWouldBreak {
        /// The view.
        view: String,
        /// SQLite's error reading it with the column added.
        detail: String,
    },
    /// The database cannot be migrated as it is; the message says what to do.
    #[error("cannot migrate table {table:?}: {reason}. Nothing was changed")]
    Unsupported {
        /// The table.
        table: String,
        /// Why, and what to do.
        reason: String,
    },
    /// An in-memory database given to [`crate::migrate_connection`] with neither a backup
    /// path nor `skip_backup`.
    #[error(
        "an in-memory database has no file beside which to keep a backup; set \
         MigrateOptions::backup to a path for one, or MigrateOptions::skip_backup when the \
         database can be built again (a test database). Nothing was changed"
    )]
    NoBackupPlace,
    /// [`crate::migrate_connection`] on a connection inside a transaction.
    #[error(
        "the connection is inside a transaction; commit or roll it back before migrating. \
         Nothing was changed"
    )]
    InTransaction,
    /// A declaration of global tables that is empty or names a tenant table.
    #[error("cannot declare {pattern:?} global: {reason}. Nothing was changed")]
    NotGlobal {
        /// The name or pattern.
        pattern: String,
        /// Why, and what to do.
        reason: String,
    },
    /// `--expect-tables` did not match the tables found.
    #[error("the tables to scope do not match {}: {}. Nothing was changed", file.display(), mismatch_text(missing, extra))]
    ExpectedTablesMismatch {
        /// The file of expected names.
        file: PathBuf,
        /// Expected but not found among the tables to scope (with the reason).
        missing: Vec<String>,
        /// Found among the tables to scope but not expected.
        extra: Vec<String>,
    },
    /// A file the migrator had to read or write could not be.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The backup target already exists; the migrator never overwrites a file.
    #[error("{}: the backup file already exists; choose another path with --backup, or move it away. Nothing was changed", path.display())]
    BackupExists {
        /// The backup path.
        path: PathBuf,
    },
    /// `rollback` found no backup to restore.
    #[error("{}: no backup is recorded in _tenantry_migrations; pass the backup file with --backup PATH", path.display())]
    NoBackupRecorded {
        /// The database path.
        path: PathBuf,
    },
    /// The backup file is missing, not a database, corrupt or not the expected copy.
    #[error("backup {}: {detail}", path.display())]
    BadBackup {
        /// The backup path.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A SQLite call failed during a step.
    #[error("step {step}{}: {source}{}", table.as_ref().map(|t| format!(", table {t:?}")).unwrap_or_default(), sqlite_code(source))]
    Sqlite {
        /// The step that failed.
        step: Step,
        /// The table being worked on, if any.
        table: Option<String>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Verification found problems (see the list).
    #[error("verification failed: {}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Verification {
        /// What is wrong.
        problems: Vec<crate::Problem>,
    },
    /// A rebuilt table's rows differ from the old table's: a bug in tenantry or SQLite,
    /// never a property of the data. The transaction is rolled back.
    #[error(
        "table {table:?} was rebuilt with rows that differ from the old table's: {before:?} rows before, {copied} copied, {matched} identical to an old row"
    )]
    RowsDiffer {
        /// The table.
        table: String,
        /// Its rows counted before the change.
        before: Option<u64>,
        /// Rows in the new table.
        copied: u64,
        /// Old rows with an identical new row.
        matched: u64,
    },
    /// A worker thread of the migrator panicked: a bug in tenantry. The transaction is
    /// rolled back like any other failure.
    #[error("internal error: the worker thread of step {step} panicked; please report it")]
    Panicked {
        /// The step the thread was running.
        step: Step,
    },
    /// A failure injected by a test (feature `fault-injection` only).
    #[error("injected failure at step {step}")]
    Injected {
        /// The step where it was injected.
        step: Step,
    },
    /// The migration failed after it began changing the database and was rolled back:
    /// the database is as it was before. `source` says what failed.
    #[error(
        "migration failed at step {step} and was rolled back; the database is unchanged. Cause: {source}"
    )]
    RolledBack {
        /// The step that failed.
        step: Step,
        /// The backup taken before the change, if the failure came after it.
        backup: Option<PathBuf>,
        /// What failed.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// True when the input was unusable (missing file, not a database, bad option, busy):
    /// nothing was attempted. The command line maps this to exit status 2, the rest to 1.
    pub fn is_bad_input(&self) -> bool {
        // Every variant is named, so that a new one must be put on one side.
        match self {
            // The database file is missing, unusable or locked.
            Error::NotFound { .. }
            | Error::NotADatabase { .. }
            | Error::Corrupt { .. }
            | Error::ReadOnly { .. }
            | Error::Busy { .. } => true,
            // An option is unusable, or the database cannot be migrated as it is.
            Error::InvalidTenantId { .. }
            | Error::InvalidColumnName { .. }
            | Error::UnknownTable { .. }
            | Error::ExpectedTablesMismatch { .. }
            | Error::Unsupported { .. }
            | Error::ViewWouldBreak { .. }
            | Error::NotGlobal { .. }
            | Error::NoBackupPlace
            | Error::InTransaction => true,
            // The backup to write exists already, or the one to restore is unusable.
            Error::BackupExists { .. }
            | Error::NoBackupRecorded { .. }
            | Error::BadBackup { .. } => true,
            // Something failed once the work had begun.
            Error::RolledBack { .. }
            | Error::Io { .. }
            | Error::Sqlite { .. }
            | Error::Verification { .. }
            | Error::RowsDiffer { .. }
            | Error::Panicked { .. }
            | Error::Injected { .. } => false,
        }
    }

    pub(crate) fn sqlite(
        step: Step,
        table: Option<&str>,
    ) -> impl FnOnce(rusqlite::Error) -> Error + use<> {
        let table = table.map(str::to_owned);
        move |source| Error::Sqlite {
            step,
            table,
            source,
        }
    }
}

/// The migrator's error inside a `rusqlite::Error`, for code whose functions return
/// `rusqlite::Result` (an application's start-up or test helper); read it back with
/// [`Error::of`].
///
/// ```
/// fn start_up(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
///     conn.execute_batch("CREATE TABLE notes (body TEXT)")?;
///     tenantry_migrate::migrate_connection(conn, &Default::default(), &mut |_| {})?;
///     Ok(())
/// }
/// let mut conn = rusqlite::Connection::open_in_memory().unwrap();
/// let err = start_up(&mut conn).unwrap_err();
/// assert!(matches!(tenantry_migrate::Error::of(&err), Some(tenantry_migrate::Error::NoBackupPlace)));
/// ```
impl From<Error> for rusqlite::Error {
    fn from(error: Error) -> Self {
        rusqlite::Error::UserFunctionError(Box::new(error))
    }
}

impl Error {
    /// The migrator's error inside a `rusqlite::Error` (see the `From` conversion), if that
    /// is what it is.
    pub fn of(error: &rusqlite::Error) -> Option<&Error> {
        match error {
            rusqlite::Error::UserFunctionError(inner) => inner.downcast_ref::<Error>(),
            _ => None,
        }
    }
}

fn mismatch_text(missing: &[String], extra: &[String]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        parts.push(format!("not expected {}", extra.join(", ")));
    }
    parts.join("; ")
}

fn sqlite_code(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(e, _) => format!(
            " (SQLite code {:?}, extended code {})",
            e.code, e.extended_code
        ),
        _ => String::new(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
