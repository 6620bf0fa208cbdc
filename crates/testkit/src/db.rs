//! Running SQL on SQLite and collecting what it did: a database's schema as the rewriter
//! reads it, one statement's columns and rows ([`query`]), every statement of a batch
//! ([`run_batch`]), and what each statement of a batch looks like once prepared
//! ([`prepare_all`]).

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::Value;
use rusqlite::{Batch, Connection, Statement, params_from_iter};
use tenantry_rewrite::Schema;

/// The schema of a database, read the way `tenantry rewrite --db` reads it, with the tenant
/// column `tenant_id`.
pub fn schema_of(conn: &Connection) -> Schema {
    let ddl: Vec<String> = conn
        .prepare(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'view', 'trigger', 'index') \
             AND sql IS NOT NULL",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("schema text");
    Schema::from_objects(&ddl, "tenant_id").expect("schema")
}

/// What one statement returned: its column names and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The result columns' names.
    pub columns: Vec<String>,
    /// The rows, in the order SQLite returned them (see [`Outcome::sorted`]).
    pub rows: Vec<Vec<Value>>,
}

impl Outcome {
    /// The same rows in a fixed order, for comparing results as multisets.
    pub fn sorted(mut self) -> Outcome {
        sort_rows(&mut self.rows);
        self
    }
}

/// Sorts rows by their text, a total order in which only equal rows tie.
pub fn sort_rows(rows: &mut [Vec<Value>]) {
    rows.sort_by_cached_key(|row| format!("{row:?}"));
}

/// Runs one statement with `params` and collects its columns and rows.
///
/// # Errors
/// SQLite's message when the statement does not prepare or fails while running.
pub fn query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Outcome, String> {
    let stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    collect(stmt, params)
}

/// Runs a prepared statement with `params` and collects its columns and rows.
///
/// # Errors
/// SQLite's message when the statement fails while running.
pub fn collect(mut stmt: Statement<'_>, params: &[Value]) -> Result<Outcome, String> {
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let n = columns.len();
    let mut rows = stmt
        .query(params_from_iter(params.iter()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let values = (0..n)
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        out.push(values);
    }
    Ok(Outcome { columns, rows: out })
}

/// What one statement looks like to SQLite once prepared.
#[derive(Debug, PartialEq, Eq)]
pub struct Prepared {
    /// Each parameter's name (`None` for `?`).
    pub parameters: Vec<Option<String>>,
    /// The result columns' names.
    pub columns: Vec<String>,
}

/// Prepares every statement of `sql` (without running any) and returns what each has.
///
/// # Errors
/// The first statement that does not prepare.
pub fn prepare_all(conn: &Connection, sql: &str) -> Result<Vec<Prepared>, rusqlite::Error> {
    let mut batch = Batch::new(conn, sql);
    let mut out = Vec::new();
    while let Some(stmt) = batch.next()? {
        out.push(Prepared {
            parameters: (1..=stmt.parameter_count())
                .map(|i| stmt.parameter_name(i).map(str::to_owned))
                .collect(),
            columns: stmt.column_names().map(str::to_owned).collect(),
        });
    }
    Ok(out)
}

/// What one statement of a batch did: its columns, the rows read, or its error.
#[derive(Debug, PartialEq)]
pub struct StatementRun {
    /// The result columns' names.
    pub columns: Vec<String>,
    /// The rows read, at most [`RunLimits::max_rows`], in SQLite's order.
    pub rows: Vec<Vec<Value>>,
    /// The error that stopped it (preparing or running).
    pub error: Option<String>,
}

/// How much of a batch [`run_batch`] runs.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Rows kept per statement; reading stops at the one after.
    pub max_rows: usize,
    /// Stop the batch at a statement that fails while running (one that does not prepare
    /// always stops it).
    pub stop_at_error: bool,
}

/// Runs every statement of `sql`, parameters unbound (so NULL), and collects what each
/// did.
pub fn run_batch(conn: &Connection, sql: &str, limits: RunLimits) -> Vec<StatementRun> {
    let mut statements = Vec::new();
    let mut batch = Batch::new(conn, sql);
    loop {
        let mut stmt = match batch.next() {
            Ok(Some(stmt)) => stmt,
            Ok(None) => break,
            Err(e) => {
                statements.push(StatementRun {
                    columns: Vec::new(),
                    rows: Vec::new(),
                    error: Some(e.to_string()),
                });
                break;
            }
        };
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let n = columns.len();
        let mut rows = Vec::new();
        let mut error = None;
        let mut raw = stmt.raw_query();
        loop {
            match raw.next() {
                Ok(Some(_)) if rows.len() >= limits.max_rows => break,
                Ok(Some(row)) => rows.push(
                    (0..n)
                        .map(|i| row.get::<_, Value>(i).unwrap_or(Value::Null))
                        .map(without_pointer)
                        .collect(),
                ),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        let stop = error.is_some() && limits.stop_at_error;
        statements.push(StatementRun {
            columns,
            rows,
            error,
        });
        if stop {
            break;
        }
    }
    statements
}

/// EXPLAIN shows a virtual table as `vtab:<address>`, which differs from one connection to
/// the next: the address goes.
fn without_pointer(v: Value) -> Value {
    match v {
        Value::Text(t) if t.starts_with("vtab:") => Value::Text("vtab:".to_owned()),
        v => v,
    }
}
