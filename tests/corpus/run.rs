//! One file's records run on an engine, and the two runs (plain, tenant A) compared record
//! by record.

use std::collections::BTreeMap;

use tenantry_rewrite::Refusal;

use crate::engine::{self, Engine};
use crate::slt::{Checker, Kind, Record, Renderer};

/// What one record gave on one engine.
pub enum Verdict {
    /// As the record expects.
    Pass,
    /// A `statement error` record that failed, as expected: with the error.
    ExpectedError(rusqlite::Error),
    /// A result other than the record's.
    Wrong(String),
    /// An error where the record expects success.
    Error(rusqlite::Error),
}

/// A statement or query record that ran.
pub struct Ran {
    /// The record's first line.
    pub line: usize,
    /// Its SQL.
    pub sql: String,
    /// What it expects: `ok`, `error`, or the expected lines.
    pub expected: String,
    /// Schema work (run administratively in the tenant run).
    pub admin: bool,
    /// What happened.
    pub verdict: Verdict,
}

/// Runs `records` on `engine`, in order, as the reference runner does; every `sample`th
/// query record runs (1: all), statements always run.
pub fn run(records: &[Record], engine: &mut dyn Engine, sample: usize) -> Vec<Ran> {
    let renderer = Renderer::new();
    let mut checker = Checker::new();
    let mut out = Vec::new();
    let mut queries = 0usize;
    for record in records {
        match &record.kind {
            Kind::HashThreshold(n) => checker.set_threshold(*n),
            Kind::Halt => break,
            Kind::Statement { expect_ok, sql } => {
                let verdict = match (engine.statement(sql), expect_ok) {
                    (Ok(()), true) => Verdict::Pass,
                    (Ok(()), false) => Verdict::Wrong("the statement succeeded".into()),
                    (Err(e), false) => Verdict::ExpectedError(e),
                    (Err(e), true) => Verdict::Error(e),
                };
                out.push(Ran {
                    line: record.line,
                    sql: sql.clone(),
                    expected: if *expect_ok { "ok" } else { "error" }.into(),
                    admin: engine::is_admin(sql),
                    verdict,
                });
            }
            Kind::Query {
                types,
                sort,
                label,
                sql,
                expected,
            } => {
                queries += 1;
                if !(queries - 1).is_multiple_of(sample) {
                    continue;
                }
                let verdict = match engine.query(sql) {
                    Err(e) => Verdict::Error(e),
                    Ok((columns, _)) if columns != types.len() => Verdict::Wrong(format!(
                        "{columns} columns where the type string {types} has {}",
                        types.len()
                    )),
                    Ok((_, rows)) => {
                        let values = rows
                            .iter()
                            .flat_map(|row| {
                                types.chars().zip(row).map(|(t, v)| renderer.render(t, v))
                            })
                            .collect();
                        match checker.check(types, *sort, label.as_deref(), values, expected) {
                            Ok(()) => Verdict::Pass,
                            Err(got) => Verdict::Wrong(got),
                        }
                    }
                };
                out.push(Ran {
                    line: record.line,
                    sql: sql.clone(),
                    expected: expected.join("\n"),
                    admin: false,
                    verdict,
                });
            }
        }
    }
    out
}

/// The kind of refusal in an error from tenant A's connection, if it is one: the
/// rewriter's `Refusal` variant (a view's inner one as `InView/<kind>`), `Parse` when the
/// rewriter's parser could not read the statement, `Guard` when the authorizer denied it,
/// `Connection/<kind>` for the connection's own errors.
pub fn refusal_kind(error: &rusqlite::Error) -> Option<String> {
    if let Some(error) = tenantry_sqlite::Error::of(error) {
        return Some(match error {
            tenantry_sqlite::Error::Rewrite(rewrite) => match rewrite.refusal() {
                Some(Refusal::InView { reason, .. }) => format!("InView/{}", reason.name()),
                Some(reason) => reason.name().to_owned(),
                None => variant(rewrite),
            },
            other => format!("Connection/{}", variant(other)),
        });
    }
    (error.sqlite_error_code() == Some(rusqlite::ErrorCode::AuthorizationForStatementDenied))
        .then(|| "Guard".to_owned())
}

fn variant(value: &impl std::fmt::Debug) -> String {
    let debug = format!("{value:?}");
    debug
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A record plain SQLite passes and tenant A does not (a wrong result or an error that is
/// not a refusal).
pub struct Failure {
    /// The record's first line.
    pub line: usize,
    /// Its SQL.
    pub sql: String,
    /// What the file expects.
    pub expected: String,
    /// What tenant A got.
    pub got: String,
}

/// One file's counts.
#[derive(Default)]
pub struct FileReport {
    /// Statement and query records that ran (after `skipif` / `onlyif`, up to `halt`).
    pub records: usize,
    /// Records plain SQLite passes that tenant A passes too.
    pub passed: usize,
    /// Records plain SQLite passes that tenant A fails.
    pub failed: Vec<Failure>,
    /// Records plain SQLite passes that tenant A's connection refused, by refusal kind,
    /// with one example (line, SQL, message) per kind.
    pub refused: BTreeMap<String, (usize, (usize, String, String))>,
    /// `statement error` records that the connection refused: they pass (the statement
    /// did not run, and the application gets an error as before); by refusal kind.
    pub refused_as_expected: BTreeMap<String, usize>,
    /// Records plain SQLite fails: not part of the goal.
    pub skipped: usize,
    /// Records run administratively (schema work), counted in passed / failed too.
    pub admin: usize,
    /// Migrations of the tenant database.
    pub migrations: usize,
    /// B's and C's repeated writes that failed.
    pub decoy_errors: usize,
    /// B's writes a unique key refused as written, run shifted.
    pub b_shifted: usize,
    /// Seconds for both runs.
    pub seconds: f64,
}

impl FileReport {
    /// Records that were refused, all kinds.
    pub fn refused_count(&self) -> usize {
        self.refused.values().map(|(n, _)| n).sum()
    }
}

/// Compares the baseline (plain SQLite) with tenant A's run, record by record.
pub fn compare(plain: &[Ran], tenant: &[Ran]) -> FileReport {
    assert_eq!(
        plain.len(),
        tenant.len(),
        "both runs must reach the same records"
    );
    let mut report = FileReport {
        records: plain.len(),
        ..FileReport::default()
    };
    for (p, t) in plain.iter().zip(tenant) {
        debug_assert_eq!(p.line, t.line);
        if !matches!(p.verdict, Verdict::Pass | Verdict::ExpectedError(_)) {
            report.skipped += 1;
            continue;
        }
        report.admin += usize::from(t.admin);
        match &t.verdict {
            Verdict::Pass => report.passed += 1,
            Verdict::ExpectedError(e) => {
                report.passed += 1;
                if let Some(kind) = refusal_kind(e) {
                    *report.refused_as_expected.entry(kind).or_default() += 1;
                }
            }
            Verdict::Error(e) => match refusal_kind(e) {
                Some(kind) => {
                    let entry = report
                        .refused
                        .entry(kind)
                        .or_insert_with(|| (0, (t.line, t.sql.clone(), e.to_string())));
                    entry.0 += 1;
                }
                None => report.failed.push(Failure {
                    line: t.line,
                    sql: t.sql.clone(),
                    expected: t.expected.clone(),
                    got: format!("error: {e}"),
                }),
            },
            Verdict::Wrong(got) => report.failed.push(Failure {
                line: t.line,
                sql: t.sql.clone(),
                expected: t.expected.clone(),
                got: got.clone(),
            }),
        }
    }
    report
}
