//! Tells, before deploying, which of an application's SQL statements a tenant connection
//! scopes, which it refuses (and why), and which it cannot check because they are built
//! at run time.
//!
//! It reads the Rust files of a code base with a Rust parser (`syn`), finds the SQL handed
//! to rusqlite and sqlx ([`extract`]), and runs each known statement through the rewriter
//! with the schema of a migrated database, as a tenant connection would.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("lib.rs"),
//!     r#"fn f(c: &Connection) { c.execute("DELETE FROM notes WHERE id = ?1", [1]); c.execute_batch("VACUUM"); }"#,
//! )?;
//! let schema = tenantry_rewrite::Schema::from_sql(
//!     "CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL)",
//!     "tenant_id",
//! )?;
//! let report = tenantry_audit::audit(dir.path(), &tenantry_rewrite::Rewriter::new(schema))?;
//! assert_eq!((report.summary.scoped, report.summary.refused), (1, 1));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod extract;
mod render;

use std::path::{Path, PathBuf};

use serde::Serialize;
use tenantry_rewrite::{RewriteError, Rewriter, TenantId};

pub use render::render;

/// What a tenant connection would do with one statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Scoped to the current tenant: the tenant tables it reads or writes.
    Scoped {
        /// The tenant tables.
        tables: Vec<String>,
    },
    /// Runs as written: it touches only global tables, or none.
    Unchanged,
    /// Refused: the rewriter's reason.
    Refused {
        /// The kind (`UndeclaredTable`, `SchemaChange`, `parse`, …).
        kind: String,
        /// The message a tenant connection gives.
        reason: String,
    },
    /// Built at run time: why it cannot be checked here.
    RunTime {
        /// For example "built by format!".
        why: String,
    },
}

/// One call that hands SQL over, and its verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The file, relative to the audited root.
    pub file: PathBuf,
    /// The line of the call.
    pub line: usize,
    /// How the SQL was handed over (`execute`, `sqlx::query!`, …).
    pub form: String,
    /// The constant the SQL came from, if any.
    pub constant: Option<String>,
    /// The SQL, when known before run time.
    pub sql: Option<String>,
    /// What a tenant connection would do.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Counts per verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Calls found.
    pub statements: usize,
    /// Scoped.
    pub scoped: usize,
    /// Run as written (no tenant table).
    pub unchanged: usize,
    /// Refused.
    pub refused: usize,
    /// Built at run time, not checked.
    pub run_time: usize,
}

/// The audit of a code base.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Every call found, by file and line.
    pub findings: Vec<Finding>,
    /// Files that are not valid Rust (with the parser's message): nothing in them was
    /// checked.
    pub unreadable: Vec<(PathBuf, String)>,
    /// The counts.
    pub summary: Summary,
}

impl Report {
    /// Whether anything would be refused (or a file could not be read).
    pub fn has_refusals(&self) -> bool {
        self.summary.refused > 0 || !self.unreadable.is_empty()
    }
}

/// What can stop an audit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database's schema could not be read.
    #[error("cannot read the schema of {}: {detail}; pass a database migrated with `tenantry migrate`", path.display())]
    Schema {
        /// The database.
        path: PathBuf,
        /// The cause.
        detail: String,
    },
}

/// The rewriter a tenant connection to the database at `db` would use (tenant column
/// `column`): its schema with the application's own tenant columns, only the tables it
/// declares global used unscoped, and the connection's policy (tenant values checked when
/// the statement runs, keys reported), so the audit refuses exactly what the connection
/// refuses.
///
/// # Errors
/// [`Error::Schema`] when the file is missing, not a database, or not migrated.
pub fn rewriter_for(db: &Path, column: &str) -> Result<Rewriter, Error> {
    let bad = |detail: String| Error::Schema {
        path: db.to_owned(),
        detail,
    };
    if !db.is_file() {
        return Err(bad("no such file".to_owned()));
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(db, flags).map_err(|e| bad(e.to_string()))?;
    tenantry_sqlite::schema::rewriter(&conn, column).map_err(|e| bad(e.to_string()))
}

/// Audits every `.rs` file under `root` (or `root` itself, a file), skipping `target`
/// and hidden directories, against `rewriter`.
///
/// # Errors
/// [`Error::Io`] when a file or directory cannot be read.
pub fn audit(root: &Path, rewriter: &Rewriter) -> Result<Report, Error> {
    let mut paths = Vec::new();
    collect(root, &mut paths)?;
    paths.sort();
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let relative = path.strip_prefix(root).unwrap_or(&path).to_owned();
        match syn::parse_file(&text) {
            Ok(file) => files.push((relative, file)),
            Err(e) => unreadable.push((relative, e.to_string())),
        }
    }
    let constants = extract::constants(files.iter().map(|(_, f)| f));
    let tenant = TenantId::new("tenantry-audit").map_err(|e| Error::Schema {
        path: root.to_owned(),
        detail: e.to_string(),
    })?;
    let mut findings = Vec::new();
    for (file, syntax) in &files {
        for call in extract::calls(syntax, &constants) {
            let (sql, constant, verdict) = match call.sql {
                extract::Sql::Known { text, constant } => {
                    let verdict = verdict(rewriter, &text, &tenant);
                    (Some(text), constant, verdict)
                }
                extract::Sql::RunTime(why) => (None, None, Verdict::RunTime { why }),
            };
            findings.push(Finding {
                file: file.clone(),
                line: call.line,
                form: call.form,
                constant,
                sql,
                verdict,
            });
        }
    }
    let mut summary = Summary {
        statements: findings.len(),
        ..Summary::default()
    };
    for f in &findings {
        match f.verdict {
            Verdict::Scoped { .. } => summary.scoped += 1,
            Verdict::Unchanged => summary.unchanged += 1,
            Verdict::Refused { .. } => summary.refused += 1,
            Verdict::RunTime { .. } => summary.run_time += 1,
        }
    }
    Ok(Report {
        findings,
        unreadable,
        summary,
    })
}

/// What the rewriter makes of `sql`.
fn verdict(rewriter: &Rewriter, sql: &str, tenant: &TenantId) -> Verdict {
    match rewriter.rewrite(sql, tenant) {
        Ok(rewritten) => {
            let mut tables: Vec<String> = rewritten
                .statements()
                .iter()
                .flat_map(|s| s.tables.iter())
                .filter(|t| t.scoped)
                .map(|t| t.name.clone())
                .collect();
            tables.sort();
            tables.dedup();
            if tables.is_empty() {
                Verdict::Unchanged
            } else {
                Verdict::Scoped { tables }
            }
        }
        Err(error) => Verdict::Refused {
            kind: match &error {
                RewriteError::Refused { reason, .. } => reason.name().to_owned(),
                other => other.kind().to_owned(),
            },
            reason: error.to_string(),
        },
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_owned());
        }
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let child = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if child.is_dir() && (name == "target" || name.starts_with('.')) {
            continue;
        }
        collect(&child, out)?;
    }
    Ok(())
}
