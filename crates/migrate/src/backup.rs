//! The copy taken before any change: SQLite's online backup into a new file, then checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::checks;
use crate::error::{Error, Result, Step};
use crate::files;

/// Pages copied per backup step (between progress reports).
const PAGES_PER_STEP: i32 = 4096;

/// The default backup path: beside the database, named after it and the current UTC time
/// to the millisecond, e.g. `pos.db.20261206T061320.123Z.tenantry-backup` (numbered when a
/// file already takes the name).
pub(crate) fn default_path(db: &Path, conn: &Connection) -> Result<PathBuf> {
    files::stamped_path(db, conn, "tenantry-backup")
}

/// Copies the database at `source` into a new file at `dest`, which must not exist.
///
/// The caller holds the write lock (`BEGIN IMMEDIATE`) on another connection and has not
/// written yet: SQLite's backup refuses a source connection that is inside a write
/// transaction, so the copy is read through a second, read-only connection, and the lock
/// guarantees that nobody changes the database between the caller's checks and the copy.
/// `progress` gets (pages done, pages in all). A partial copy is removed on failure.
pub(crate) fn create(
    source: &Path,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64),
    mut fault: impl FnMut(usize) -> Result<()>,
) -> Result<u64> {
    // Create the file ourselves, new and private, so an existing file is never overwritten
    // and the copy is never readable by more people than the database.
    match files::create_private(dest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::BackupExists {
                path: dest.to_owned(),
            });
        }
        Err(source) => {
            return Err(Error::Io {
                path: dest.to_owned(),
                source,
            });
        }
    }
    let result = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(Error::sqlite(Step::Backup, None))
    .and_then(|conn| copy_into(&conn, dest, progress, &mut fault))
    .and_then(|pages| {
        files::copy_permissions(source, dest).map_err(|source| Error::Io {
            path: dest.to_owned(),
            source,
        })?;
        Ok(pages)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
        let _ = std::fs::remove_file(journal_of(dest));
    }
    result
}

fn copy_into(
    conn: &Connection,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64),
    fault: &mut dyn FnMut(usize) -> Result<()>,
) -> Result<u64> {
    let err = Error::sqlite(Step::Backup, None);
    let mut target = Connection::open_with_flags(
        dest,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    let backup = Backup::new(conn, &mut target).map_err(Error::sqlite(Step::Backup, None))?;
    let mut steps = 0;
    loop {
        fault(steps)?;
        let step = backup
            .step(PAGES_PER_STEP)
            .map_err(Error::sqlite(Step::Backup, None))?;
        steps += 1;
        let p = backup.progress();
        let total = p.pagecount.max(0) as u64;
        progress(total - (p.remaining.max(0) as u64).min(total), total);
        match step {
            StepResult::Done => break,
            StepResult::More => {}
            // The source is ours and locked; the target is a file we just created. Neither
            // can be busy unless something else opened the new file: give up rather than spin.
            StepResult::Busy | StepResult::Locked => {
                return Err(Error::BadBackup {
                    path: dest.to_owned(),
                    detail: "another process opened the backup file while it was being written"
                        .into(),
                });
            }
            _ => {}
        }
    }
    let pages = backup.progress().pagecount.max(0) as u64;
    drop(backup);
    // A copy of a WAL database is marked WAL too; make it one self-contained file.
    target
        .pragma_update(None, "journal_mode", "DELETE")
        .map_err(Error::sqlite(Step::Backup, None))?;
    target
        .close()
        .map_err(|(_, e)| Error::sqlite(Step::Backup, None)(e))?;
    Ok(pages)
}

fn journal_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-journal");
    PathBuf::from(s)
}

/// Checks a backup: it opens, and each table has the expected number of rows. Returns
/// what `quick_check` reports about it (nothing when it is clean; the rows are counted
/// only then): the copy is the database page for page, so a complaint is the database's,
/// unless the copy was damaged in writing, which the caller tells apart.
pub(crate) fn verify(path: &Path, expected: &BTreeMap<String, u64>) -> Result<Vec<String>> {
    let bad = |detail: String| Error::BadBackup {
        path: path.to_owned(),
        detail,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| bad(format!("cannot open it: {e}")))?;
    let problems = match checks::quick_check(&conn) {
        Ok(problems) => problems,
        // SQLite gives up on some corruption with an error rather than a report.
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            vec![e.to_string()]
        }
        Err(e) => return Err(bad(format!("quick_check failed: {e}"))),
    };
    if !problems.is_empty() {
        return Ok(problems);
    }
    for (table, rows) in expected {
        let found = checks::count_rows(&conn, table)
            .map_err(|e| bad(format!("cannot count table {table:?}: {e}")))?;
        if found != *rows {
            return Err(bad(format!(
                "table {table:?} has {found} rows, the database had {rows}"
            )));
        }
    }
    Ok(Vec::new())
}
