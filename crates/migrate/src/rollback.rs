//! `rollback`: puts a database back as its backup holds it, safely in WAL mode too, after
//! keeping a copy of its current state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::error::{Error, Result, Step};
use crate::options::RollbackOptions;
use crate::report::{Progress, Timer, Timing};
use crate::{backup, checks, files, inspect, preflight, record};

/// The report of [`rollback`].
#[derive(Clone, Debug, Serialize)]
pub struct RollbackReport {
    /// The database restored.
    pub database: PathBuf,
    /// The backup it was restored from.
    pub backup: PathBuf,
    /// A copy of the database as it was just before the restore (nothing is thrown away).
    pub saved_current: PathBuf,
    /// Rows per table after the restore (equal to the backup's).
    pub tables: BTreeMap<String, u64>,
    /// Time per step.
    pub timings: Vec<Timing>,
}

/// Restores the database at `path` from a backup: the one given in `options`, or the one
/// recorded by the last migration.
///
/// The backup is checked first (`quick_check`, readable tables; the recorded one also
/// against the row counts the migration recorded of it, so a copy changed since or another
/// file of its name is refused, where one named in `options` is restored as it is). The
/// recorded path is absolute (one an earlier release recorded relative is the database's
/// folder's). The database's current
/// state is saved beside it (`<db>.<time>.pre-rollback.tenantry-backup`), so rows written
/// since the migration are not lost. The restore goes through SQLite's backup API into the
/// live file, which is atomic and correct in WAL mode. Afterwards the database's schema
/// and row counts must equal the backup's.
///
/// # Errors
/// A refusal when the database or the backup is unusable, or busy beyond the wait;
/// [`Error::Sqlite`] at [`Step::Restore`] when the restore itself fails (SQLite then leaves
/// the database as it was); [`Error::BadBackup`] when the result does not match the backup.
pub fn rollback(
    path: &Path,
    options: &RollbackOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RollbackReport> {
    let mut timer = Timer::new(progress);
    timer.start(Step::Preflight);
    preflight::check_file(path)?;
    preflight::check_writable(path)?;
    let mut conn = preflight::open(path, true, options.busy_wait)?;
    let record = record::last(&conn)?;
    // The backup the last migration recorded, and the rows it holds (records of earlier
    // releases: none). A relative path (recorded by an earlier release) is the database's
    // folder's: the migration wrote it beside the database.
    let recorded = record.as_ref().and_then(|r| {
        let backup = r.backup.as_ref()?;
        let backup = match path.parent() {
            Some(dir) if backup.is_relative() => dir.join(backup),
            _ => backup.clone(),
        };
        Some((backup, &r.backup_rows))
    });
    // A backup named on purpose is restored as it is (the state before is saved first).
    let (source, expected_rows) = match (&options.backup, &recorded) {
        (Some(p), _) => (p.clone(), None),
        (None, Some((r, rows))) => (r.clone(), Some(*rows)),
        (None, None) => {
            return Err(Error::NoBackupRecorded {
                path: path.to_owned(),
            });
        }
    };
    let bad = |detail: String| Error::BadBackup {
        path: source.clone(),
        detail,
    };
    if same_file(&source, path) {
        return Err(bad(
            "it is the database itself; name the backup file the migration wrote".to_owned(),
        ));
    }
    preflight::check_file(&source).map_err(|e| bad(e.to_string()))?;
    let src = Connection::open_with_flags(
        &source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| bad(format!("cannot open it: {e}")))?;
    let complaints =
        checks::quick_check(&src).map_err(|e| bad(format!("quick_check failed: {e}")))?;
    if !complaints.is_empty() {
        return Err(bad(format!(
            "quick_check reports {}",
            complaints.join("; ")
        )));
    }
    let expected = snapshot(&src).map_err(|e| bad(format!("cannot read it: {e}")))?;
    if let Some(rows) = expected_rows.filter(|rows| !rows.is_empty())
        && let Some(detail) = differs_from_record(&expected, rows)
    {
        return Err(bad(format!(
            "it does not hold what the last migration copied ({detail}): it was changed since, \
             or is another file; to restore it anyway, name it with --backup"
        )));
    }

    timer.start(Step::Backup);
    preflight::begin_immediate(&conn, path, options.busy_wait)?;
    let saved = files::stamped_path(path, &conn, "pre-rollback.tenantry-backup")?;
    let copied = backup::create(
        path,
        &saved,
        &mut |done, total| timer.emit(Progress::Pages { done, total }),
        |_| Ok(()),
    );
    conn.execute_batch("ROLLBACK")
        .map_err(Error::sqlite(Step::Backup, None))?;
    copied?;
    tracing::info!(saved = %saved.display(), "saved the current database before restoring");

    timer.start(Step::Restore);
    restore(&src, &mut conn, path, options.busy_wait)?;
    tracing::info!(backup = %source.display(), "restored");

    timer.start(Step::Verify);
    let found = snapshot(&conn)?;
    let complaints = checks::quick_check(&conn).map_err(Error::sqlite(Step::Verify, None))?;
    if !complaints.is_empty() || found != expected {
        return Err(bad(format!(
            "after the restore the database does not match the backup ({}); the state before the restore is saved at {}",
            if complaints.is_empty() {
                "schema or row counts differ".to_owned()
            } else {
                complaints.join("; ")
            },
            saved.display()
        )));
    }
    timer.finish();
    Ok(RollbackReport {
        database: path.to_owned(),
        backup: source,
        saved_current: saved,
        tables: expected.counts,
        timings: std::mem::take(&mut timer.timings),
    })
}

/// Whether `a` and `b` name the same file (both must exist to be told apart by identity;
/// otherwise their absolute paths are compared).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    }
}

/// How a backup's row counts differ from those the migration recorded of it, if they do.
fn differs_from_record(backup: &Snapshot, recorded: &BTreeMap<String, u64>) -> Option<String> {
    let has = |name: &str| {
        backup
            .schema
            .iter()
            .any(|(kind, n, _)| kind == "table" && n == name)
    };
    for (table, rows) in recorded {
        match backup.counts.get(table) {
            Some(found) if found != rows => {
                return Some(format!(
                    "table {table:?} has {found} rows, the migration copied {rows}"
                ));
            }
            None if !has(table) => return Some(format!("table {table:?} is missing")),
            _ => {}
        }
    }
    backup
        .counts
        .keys()
        .find(|t| !recorded.contains_key(*t))
        .map(|t| format!("table {t:?} was not in the database the migration copied"))
}

/// Copies every page of `src` into `dst` in one step: one write transaction on `dst`,
/// so readers see the old database or the restored one, never a mix.
fn restore(src: &Connection, dst: &mut Connection, path: &Path, busy_wait: Duration) -> Result<()> {
    let started = Instant::now();
    let backup = Backup::new(src, dst).map_err(Error::sqlite(Step::Restore, None))?;
    loop {
        match backup
            .step(-1)
            .map_err(Error::sqlite(Step::Restore, None))?
        {
            StepResult::Done => return Ok(()),
            StepResult::Busy | StepResult::Locked if started.elapsed() < busy_wait => {
                std::thread::sleep(Duration::from_millis(50));
            }
            StepResult::Busy | StepResult::Locked => {
                return Err(Error::Busy {
                    path: path.to_owned(),
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
            _ => {}
        }
    }
}

/// Schema text and row counts: what must match between the backup and the restored file.
#[derive(PartialEq, Eq)]
struct Snapshot {
    schema: Vec<(String, String, Option<String>)>,
    counts: BTreeMap<String, u64>,
}

fn snapshot(conn: &Connection) -> Result<Snapshot> {
    let err = Error::sqlite(Step::Verify, None);
    let schema = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(err)?;
    let catalog = inspect::read_catalog(conn)?;
    let mut counts = BTreeMap::new();
    for t in catalog
        .tables
        .iter()
        .filter(|t| t.kind != inspect::TableKind::Virtual)
    {
        let rows = checks::count_rows(conn, &t.name)
            .map_err(Error::sqlite(Step::Verify, Some(&t.name)))?;
        counts.insert(t.name.clone(), rows);
    }
    Ok(Snapshot { schema, counts })
}
