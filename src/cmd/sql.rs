//! `tenantry sql`: runs SQL as one tenant through the scoping connection, statement by
//! statement, and prints each one's rows, changes or error.
//!
//! Every statement goes through `tenantry_sqlite::Connection`, so it is rewritten for the
//! tenant (or refused) and guarded by the authorizer, exactly as the application's would.
//! The database must exist and be migrated: it is opened without SQLite's create flag.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use rusqlite::OpenFlags;
use rusqlite::types::ValueRef;
use serde::Serialize;
use tenantry::sqlite::{Connection, Error as ScopeError};

use super::Status;
use crate::cli::SqlArgs;
use crate::logging;

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the database, scopes it to the tenant and runs each statement of the input.
pub fn run(args: SqlArgs) -> anyhow::Result<Status> {
    logging::init(None, None)?;
    let sql = match super::input::read_sql(args.sql.as_deref()) {
        Ok(sql) => sql,
        Err(message) => return bad_input(&message),
    };
    let conn = match open(&args.db) {
        Ok(conn) => conn,
        Err(message) => return bad_input(&message),
    };
    // The id was checked when the arguments were parsed; it is not checked again.
    conn.set_tenant(args.tenant)?;
    let statements = match tenantry::rewrite::split_statements(&sql) {
        Ok(statements) => statements,
        Err(error) => {
            // Nothing can be run when the text cannot even be tokenized: one failure for
            // the whole input.
            let mut out = Output::new(args.json);
            out.failure(&sql, error.kind(), &error.to_string())?;
            return Ok(Status::Failed);
        }
    };
    let statements: Vec<&str> = statements.into_iter().filter(|s| !s.is_empty()).collect();
    if statements.is_empty() {
        return bad_input(
            "no SQL statement to run: pass one as the last argument, or on standard input",
        );
    }

    let mut out = Output::new(args.json);
    let mut failed = false;
    for statement in statements {
        match run_statement(&conn, statement) {
            Ok(result) => out.success(statement, &result)?,
            Err((kind, message)) => {
                failed = true;
                out.failure(statement, kind, &message)?;
                if !args.keep_going {
                    break;
                }
            }
        }
    }
    Ok(if failed { Status::Failed } else { Status::Ok })
}

/// The scoping connection to an existing, migrated database, or a message that says what
/// to do.
fn open(db: &Path) -> Result<Connection, String> {
    // SQLite would create a missing file (and then say only that it is not migrated).
    if !db.is_file() {
        let what = if db.exists() {
            "it is not a file"
        } else {
            "no such file"
        };
        return Err(format!(
            "cannot open the database {}: {what}; pass the application's SQLite database, \
             migrated with `tenantry migrate` (tenantry sql never creates one)",
            db.display()
        ));
    }
    let cannot = |error: &rusqlite::Error| {
        format!(
            "cannot open the database {}: {}",
            db.display(),
            describe(error)
        )
    };
    let inner = rusqlite::Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| cannot(&e))?;
    inner.busy_timeout(BUSY_TIMEOUT).map_err(|e| cannot(&e))?;
    Connection::wrap(inner).map_err(|e| cannot(&e))
}

/// One value of a result row.
enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    fn of(value: ValueRef<'_>) -> Value {
        match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    /// The value in JSON: integers, reals, text and NULL as themselves, a blob as
    /// `{"blob_hex": ...}`, an infinite real (JSON has none) as `{"real": "inf"}`.
    fn json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Integer(i) => serde_json::Value::from(*i),
            Value::Real(f) => match serde_json::Number::from_f64(*f) {
                Some(number) => serde_json::Value::Number(number),
                None => serde_json::json!({ "real": format!("{f}") }),
            },
            Value::Text(t) => serde_json::Value::String(t.clone()),
            Value::Blob(b) => serde_json::json!({ "blob_hex": hex(b) }),
        }
    }

    /// The value in the plain table: NULL as NULL, a blob as SQLite's literal X'..', text
    /// with control characters escaped so that a row stays on one line.
    fn plain(&self) -> String {
        match self {
            Value::Null => "NULL".to_owned(),
            Value::Integer(i) => i.to_string(),
            Value::Real(f) => format!("{f:?}"),
            Value::Text(t) => one_line(t),
            Value::Blob(b) => format!("X'{}'", hex(b).to_uppercase()),
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Value::Integer(_) | Value::Real(_))
    }
}

/// `text` with control characters escaped (`\n`, `\u{7}`), so that it stays on one line.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What one statement returned.
struct Success {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    changes: u64,
}

/// Runs one statement through the scoping connection: its columns and rows, and the rows
/// it changed; or the error's kind and message.
fn run_statement(conn: &Connection, sql: &str) -> Result<Success, (&'static str, String)> {
    let fail = |error: rusqlite::Error| (kind(&error), describe(&error));
    let mut statement = conn.prepare(sql).map_err(fail)?;
    let parameters = statement.parameter_count();
    if parameters > 0 {
        return Err((
            "parameters",
            format!(
                "the statement has {parameters} parameter(s) and tenantry sql binds none; \
                 write the values as literals"
            ),
        ));
    }
    let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
    let width = columns.len();
    // SQLite's own verdict: a statement that cannot change the database (a SELECT, BEGIN,
    // COMMIT) changed nothing, whatever `changes()` still says about an earlier write.
    let read_only = statement.readonly();
    let mut rows = Vec::new();
    {
        let mut cursor = statement.query([]).map_err(fail)?;
        while let Some(row) = cursor.next().map_err(fail)? {
            let values = (0..width)
                .map(|i| row.get_ref(i).map(Value::of))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(fail)?;
            rows.push(values);
        }
    }
    // A statement with result columns is a read (for INSERT ... RETURNING its rows are
    // what it returned); otherwise the rows it inserted, updated or deleted.
    let changes = if width > 0 || read_only {
        0
    } else {
        conn.changes()
    };
    Ok(Success {
        columns,
        rows,
        changes,
    })
}

/// The short kind of an error: the rewriter's (`refused`, `parse`), `tenant`, or
/// `sqlite` for SQLite's own errors (the guard's "not authorized" among them).
fn kind(error: &rusqlite::Error) -> &'static str {
    match ScopeError::of(error) {
        Some(ScopeError::Rewrite(e)) => e.kind(),
        Some(ScopeError::NoTenant | ScopeError::InvalidTenantId(_)) => "tenant",
        Some(ScopeError::NotMigrated { .. }) => "not_migrated",
        Some(ScopeError::Schema(_)) => "schema",
        Some(_) => "tenantry",
        None => "sqlite",
    }
}

/// An error's message: the tenant connection's own, or SQLite's.
fn describe(error: &rusqlite::Error) -> String {
    match ScopeError::of(error) {
        Some(inner) => inner.to_string(),
        None => error.to_string(),
    }
}

/// Reports bad input (exit 2) on standard error; nothing was run.
fn bad_input(message: &str) -> anyhow::Result<Status> {
    eprintln!("error: {message}");
    Ok(Status::BadInput)
}

/// A statement's result in JSON.
#[derive(Serialize)]
struct JsonSuccess<'a> {
    sql: &'a str,
    columns: &'a [String],
    rows: Vec<Vec<serde_json::Value>>,
    changes: u64,
}

/// A statement's error in JSON.
#[derive(Serialize)]
struct JsonFailure<'a> {
    sql: &'a str,
    error: JsonError<'a>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    kind: &'a str,
    message: &'a str,
}

/// Where results go: plain tables or JSON lines on standard output, errors on standard
/// error.
struct Output {
    json: bool,
    /// Whether a plain table has been printed (the next one is preceded by a blank line).
    printed: bool,
}

impl Output {
    fn new(json: bool) -> Output {
        Output {
            json,
            printed: false,
        }
    }

    fn success(&mut self, sql: &str, result: &Success) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            let line = JsonSuccess {
                sql,
                columns: &result.columns,
                rows: result
                    .rows
                    .iter()
                    .map(|row| row.iter().map(Value::json).collect())
                    .collect(),
                changes: result.changes,
            };
            serde_json::to_writer(&mut stdout, &line)?;
            writeln!(stdout)?;
        } else {
            if self.printed {
                writeln!(stdout)?;
            }
            stdout.write_all(table(result).as_bytes())?;
            self.printed = true;
        }
        stdout.flush()?;
        Ok(())
    }

    fn failure(&mut self, sql: &str, kind: &str, message: &str) -> anyhow::Result<()> {
        if self.json {
            let mut stdout = std::io::stdout().lock();
            let line = JsonFailure {
                sql,
                error: JsonError { kind, message },
            };
            serde_json::to_writer(&mut stdout, &line)?;
            writeln!(stdout)?;
            stdout.flush()?;
        }
        eprintln!("error ({kind}) in statement: {sql}\n  {message}");
        Ok(())
    }
}

/// The plain rendering of a result: headers and rows aligned (numbers to the right), then
/// the row count; or, for a statement without result columns, the rows it changed.
fn table(result: &Success) -> String {
    if result.columns.is_empty() {
        return format!("({})\n", count(result.changes, "changed"));
    }
    let cells: Vec<Vec<(String, bool)>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| (v.plain(), v.is_number())).collect())
        .collect();
    let headers: Vec<String> = result.columns.iter().map(|c| one_line(c)).collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells
                .iter()
                .filter_map(|row| row.get(i))
                .map(|(text, _)| text.chars().count())
                .chain(std::iter::once(name.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |fields: Vec<(String, bool)>| {
        let mut text = String::new();
        for (i, (field, right)) in fields.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = " ".repeat(width.saturating_sub(field.chars().count()));
            if i > 0 {
                text.push_str("  ");
            }
            if *right {
                text.push_str(&pad);
                text.push_str(field);
            } else {
                text.push_str(field);
                text.push_str(&pad);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers.into_iter().map(|c| (c, false)).collect());
    line(widths.iter().map(|w| ("-".repeat(*w), false)).collect());
    for row in cells {
        line(row);
    }
    out.push_str(&format!(
        "({})\n",
        count(u64::try_from(result.rows.len()).unwrap_or(u64::MAX), "")
    ));
    out
}

/// "1 row", "2 rows", "0 rows changed".
fn count(n: u64, suffix: &str) -> String {
    let noun = if n == 1 { "row" } else { "rows" };
    if suffix.is_empty() {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun} {suffix}")
    }
}
