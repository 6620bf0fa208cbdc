//! Logging: warnings on standard error, and for commands that change a database a
//! detailed log file (every step, table and SQLite error code).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// The default log file of a database: `<db>.tenantry.log` beside it.
pub fn default_log_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".tenantry.log");
    PathBuf::from(s)
}

/// Sends what `RUST_LOG` asks for to standard error (nothing by default: the commands
/// report for themselves); with `file`, also `debug` and above from tenantry's crates to
/// that file, appended. A log file this creates gets the permissions of `like` (the
/// database it is about, when it exists): the log names its tables and backups. Returns
/// whether it created `file` (it did not exist, not even as a symbolic link).
pub fn init(file: Option<&Path>, like: Option<&Path>) -> anyhow::Result<bool> {
    let mut created = false;
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off")));
    let file_layer = match file {
        Some(path) => {
            let handle;
            (handle, created) = open_log(path, like)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            Some(
                fmt::layer()
                    .with_writer(std::sync::Mutex::new(handle))
                    .with_ansi(false)
                    .with_filter(EnvFilter::new(
                        "tenantry=debug,tenantry_migrate=debug,tenantry_fixtures=info",
                    )),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init()
        .context("cannot start logging")?;
    Ok(created)
}

/// Opens the log file for appending; whether this call created it. A new one is created
/// readable by its owner only (exclusively: a file or link that appears meanwhile is
/// opened, not taken for this run's), then given the permissions of `like` when that file
/// exists.
fn open_log(path: &Path, like: Option<&Path>) -> std::io::Result<(std::fs::File, bool)> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(handle) => {
            if let Some(like) = like.filter(|l| l.exists()) {
                tenantry::migrate::copy_permissions(like, path)?;
            }
            Ok((handle, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let handle = options.create_new(false).create(true).open(path)?;
            Ok((handle, false))
        }
        Err(e) => Err(e),
    }
}
