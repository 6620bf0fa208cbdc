//! Files the migrator creates beside a database (backups, the copy kept before a
//! rollback): a name no file takes yet, created new (never overwriting), and the database's
//! own permissions, so a copy of a private database is never readable by others.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::{Error, Result, Step};

/// How many names [`stamped_path`] tries after the first, before giving up.
const MAX_TRIES: u32 = 1000;

/// `<db>.<UTC time to the millisecond>Z.<suffix>` beside the database (the time read from
/// SQLite), e.g. `pos.db.20261206T061320.123Z.tenantry-backup`; when a file already takes
/// that name, the first of `…Z-2.<suffix>`, `…Z-3.<suffix>`, … that none takes.
pub(crate) fn stamped_path(db: &Path, conn: &Connection, suffix: &str) -> Result<PathBuf> {
    let stamp: String = conn
        .query_row("SELECT strftime('%Y%m%dT%H%M%fZ', 'now')", [], |r| r.get(0))
        .map_err(Error::sqlite(Step::Backup, None))?;
    Ok(free_name(db, &stamp, suffix))
}

/// The first of `<db>.<stamp>.<suffix>`, `<db>.<stamp>-2.<suffix>`, … that no file takes
/// (or the last tried: creating it then fails without overwriting anything).
fn free_name(db: &Path, stamp: &str, suffix: &str) -> PathBuf {
    let name = db
        .file_name()
        .map_or_else(|| "database".into(), |n| n.to_string_lossy().into_owned());
    let candidate = |n: u32| match n {
        1 => db.with_file_name(format!("{name}.{stamp}.{suffix}")),
        n => db.with_file_name(format!("{name}.{stamp}-{n}.{suffix}")),
    };
    (1..=MAX_TRIES)
        .map(candidate)
        .find(|path| !path.exists())
        .unwrap_or_else(|| candidate(MAX_TRIES))
}

/// Creates `path` as a new, empty file readable and writable by its owner only (an
/// existing file is an error, never overwritten). Once its content is written, give it the
/// database's permissions with [`copy_permissions`]: it is never more open than that.
///
/// # Errors
/// [`io::ErrorKind::AlreadyExists`] when `path` exists; any error creating the file.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Gives `path` (a file this program just created beside a database) the permissions of
/// `like` (the database): readable by whoever may read the database, and by no one else.
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// std::fs::write("app.db.notes", b"...")?;
/// tenantry_migrate::copy_permissions("app.db".as_ref(), "app.db.notes".as_ref())?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// Any error reading `like`'s permissions or setting `path`'s.
pub fn copy_permissions(like: &Path, path: &Path) -> io::Result<()> {
    let permissions = std::fs::metadata(like)?.permissions();
    std::fs::set_permissions(path, permissions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_the_next_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("pos.db");
        let stamp = "20261206T061320.123Z";
        let first = free_name(&db, stamp, "tenantry-backup");
        assert_eq!(
            first.file_name().and_then(|n| n.to_str()),
            Some("pos.db.20261206T061320.123Z.tenantry-backup")
        );
        std::fs::write(&first, b"taken").expect("write");
        let second = free_name(&db, stamp, "tenantry-backup");
        assert_eq!(
            second.file_name().and_then(|n| n.to_str()),
            Some("pos.db.20261206T061320.123Z-2.tenantry-backup")
        );
        std::fs::write(&second, b"taken").expect("write");
        let third = free_name(&db, stamp, "tenantry-backup");
        assert_eq!(
            third.file_name().and_then(|n| n.to_str()),
            Some("pos.db.20261206T061320.123Z-3.tenantry-backup")
        );
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("copy");
        std::fs::write(&path, b"keep me").expect("write");
        let err = create_private(&path).expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"keep me");
    }

    #[cfg(unix)]
    #[test]
    fn a_created_file_is_private_then_gets_the_permissions_of_the_database() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        for mode in [0o600, 0o640, 0o644, 0o660] {
            let like = dir.path().join(format!("db-{mode:o}"));
            std::fs::write(&like, b"db").expect("write");
            std::fs::set_permissions(&like, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let path = dir.path().join(format!("copy-{mode:o}"));
            drop(create_private(&path).expect("create"));
            let mode_of =
                |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode_of(&path), 0o600, "{mode:o}");
            copy_permissions(&like, &path).expect("copy permissions");
            assert_eq!(mode_of(&path), mode, "{mode:o}");
        }
    }
}
