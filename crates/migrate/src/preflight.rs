//! Refuses unusable input before anything is touched: missing, non-SQLite, corrupt,
//! read-only or busy databases.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Error, Result, Step};

/// The 16 bytes every SQLite 3 database file starts with.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Checks that `path` is an existing regular file that starts like a SQLite database.
pub(crate) fn check_file(path: &Path) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotFound {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(Error::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    if !meta.is_file() {
        return Err(Error::NotADatabase {
            path: path.to_owned(),
            detail: "it is not a regular file".into(),
        });
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let read = read_up_to(&mut file, &mut header).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if read == 0 {
        return Err(Error::NotADatabase {
            path: path.to_owned(),
            detail: "the file is empty".into(),
        });
    }
    if read < header.len() || &header != SQLITE_HEADER {
        return Err(Error::NotADatabase {
            path: path.to_owned(),
            detail: "it does not start with the SQLite 3 file header".into(),
        });
    }
    Ok(())
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read(&mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// Refuses a file or folder without write permission. SQLite would let a superuser
/// write anyway; a read-only mark is the owner's intent, and the migrator respects it.
pub(crate) fn check_writable(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.permissions().readonly() {
        return Err(Error::ReadOnly {
            path: path.to_owned(),
            reason: "the file is read-only; make it writable (for example chmod u+w) and run again"
                .into(),
        });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir_meta = std::fs::metadata(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    if dir_meta.permissions().readonly() {
        return Err(Error::ReadOnly {
            path: path.to_owned(),
            reason: format!(
                "its folder {} is read-only, and SQLite must write a journal beside the database; make the folder writable",
                dir.display()
            ),
        });
    }
    Ok(())
}

/// Opens the existing database at `path` as the migrator does, refusing what it refuses
/// before touching anything: a missing, empty, non-SQLite or corrupt file and, with
/// `write`, a read-only one or one another process holds past `busy_wait`. For the
/// commands that change tenantry's own tables (`tenantry global`).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let empty = dir.path().join("empty.db");
/// std::fs::write(&empty, b"")?;
/// let refused = tenantry_migrate::open_existing(&empty, true, std::time::Duration::ZERO);
/// assert!(refused.is_err_and(|e| e.is_bad_input()));
/// # Ok(()) }
/// ```
///
/// # Errors
/// The refusal ([`Error::is_bad_input`]).
pub fn open_existing(path: &Path, write: bool, busy_wait: Duration) -> Result<Connection> {
    check_file(path)?;
    if write {
        check_writable(path)?;
    }
    open(path, write, busy_wait)
}

/// Opens an existing database without creating it, and reads its schema once so that a
/// file that only looks like SQLite is refused here.
pub(crate) fn open(path: &Path, write: bool, busy_wait: Duration) -> Result<Connection> {
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| classify(path, e, busy_wait))?;
    conn.busy_timeout(busy_wait)
        .map_err(Error::sqlite(Step::Preflight, None))?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| classify(path, e, busy_wait))?;
    if write
        && conn
            .is_readonly("main")
            .map_err(Error::sqlite(Step::Preflight, None))?
    {
        return Err(Error::ReadOnly {
            path: path.to_owned(),
            reason: "SQLite opened it read-only; check the file's permissions and that its medium is writable".into(),
        });
    }
    Ok(conn)
}

/// Takes the write lock (`BEGIN IMMEDIATE`), waiting at most the connection's busy timeout.
/// Other readers may go on; no other writer can start until the transaction ends.
pub(crate) fn begin_immediate(conn: &Connection, path: &Path, busy_wait: Duration) -> Result<()> {
    let started = Instant::now();
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| match classify(path, e, busy_wait) {
            Error::Busy { path, .. } => Error::Busy {
                path,
                waited_ms: started.elapsed().as_millis() as u64,
            },
            other => other,
        })
}

/// Maps SQLite's open and read errors onto the refusals a user can act on.
pub(crate) fn classify(path: &Path, error: rusqlite::Error, busy_wait: Duration) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Error::NotADatabase {
            path: path.to_owned(),
            detail: error.to_string(),
        },
        Some(ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path: path.to_owned(),
            detail: vec![error.to_string()],
        },
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::Busy {
            path: path.to_owned(),
            waited_ms: busy_wait.as_millis() as u64,
        },
        Some(ErrorCode::ReadOnly)
        | Some(ErrorCode::CannotOpen)
        | Some(ErrorCode::PermissionDenied) => Error::ReadOnly {
            path: path.to_owned(),
            reason: format!("SQLite cannot open it for writing ({error})"),
        },
        _ => Error::Sqlite {
            step: Step::Preflight,
            table: None,
            source: error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_missing_empty_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.db");
        assert!(matches!(check_file(&missing), Err(Error::NotFound { .. })));
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        assert!(
            matches!(check_file(&empty), Err(Error::NotADatabase { detail, .. }) if detail.contains("empty"))
        );
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, b"hello, this is not a database at all").unwrap();
        assert!(
            matches!(check_file(&text), Err(Error::NotADatabase { detail, .. }) if detail.contains("header"))
        );
        assert!(matches!(
            check_file(dir.path()),
            Err(Error::NotADatabase { .. })
        ));
    }
}
