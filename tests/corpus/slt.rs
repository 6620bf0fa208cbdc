//! The sqllogictest format: records read from a `.test` file, values rendered and results
//! compared as SQLite's own runner (`sqllogictest.c`, `slt_sqlite.c`) does.

use std::collections::HashMap;

use md5::{Digest, Md5};
use rusqlite::types::Value;

/// The engine name `skipif` / `onlyif` are matched against (without regard to case).
const ENGINE: &str = "sqlite";

/// The hash threshold before a file sets one (the reference runner's default).
pub const DEFAULT_HASH_THRESHOLD: usize = 8;

/// One record of a test file, already filtered by `skipif` / `onlyif`.
#[derive(Debug)]
pub struct Record {
    /// Line of the record's first line (its conditions included), from 1.
    pub line: usize,
    /// What the record asks for.
    pub kind: Kind,
}

/// The kinds of record.
#[derive(Debug)]
pub enum Kind {
    /// `statement ok` / `statement error`.
    Statement {
        /// `statement ok`.
        expect_ok: bool,
        /// The SQL, lines joined by `\n`.
        sql: String,
    },
    /// `query <types> [sort] [label]`, its SQL, and the lines after `----`.
    Query {
        /// One of `T`, `I`, `R` per result column.
        types: String,
        /// How the results are ordered before they are compared.
        sort: Sort,
        /// Queries with the same label must give the same results.
        label: Option<String>,
        /// The SQL, lines joined by `\n`.
        sql: String,
        /// The expected values, one per line, or one `N values hashing to H` line.
        expected: Vec<String>,
    },
    /// `hash-threshold N`.
    HashThreshold(usize),
    /// `halt`: stop reading the file.
    Halt,
}

/// A query's sort mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// As the engine returned them.
    None,
    /// Rows sorted, comparing the rendered values column by column (`strcmp`).
    Rows,
    /// Every value sorted on its own.
    Values,
}

/// Reads a test file into the records that apply to SQLite (records skipped by
/// `skipif sqlite` or `onlyif <other>` are dropped).
///
/// # Errors
/// A record the format does not define, with its line.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    // Comment lines are removed (they do not separate records); lines of spaces are blank.
    let lines: Vec<(usize, &str)> = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .map(|(n, l)| (n, if l.trim().is_empty() { "" } else { l }))
        .filter(|(_, l)| !l.starts_with('#'))
        .collect();
    let mut records = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].1.is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && !lines[i].1.is_empty() {
            i += 1;
        }
        if let Some(record) = parse_record(&lines[start..i])? {
            records.push(record);
        }
    }
    Ok(records)
}

/// One record (its lines, none blank), or `None` when it does not apply to SQLite.
fn parse_record(lines: &[(usize, &str)]) -> Result<Option<Record>, String> {
    let line = lines[0].0;
    let mut applies = true;
    let mut at = 0;
    let head = loop {
        let Some(&(n, text)) = lines.get(at) else {
            return Err(format!("line {line}: a condition with no record after it"));
        };
        let tokens: Vec<&str> = text.split_whitespace().collect();
        match tokens[0] {
            "skipif" | "onlyif" => {
                let matches = tokens
                    .get(1)
                    .is_some_and(|e| e.eq_ignore_ascii_case(ENGINE));
                if (tokens[0] == "skipif") == matches {
                    applies = false;
                }
                at += 1;
            }
            _ => break (n, tokens),
        }
    };
    let body: Vec<&str> = lines[at + 1..].iter().map(|&(_, l)| l).collect();
    let (n, tokens) = head;
    let kind = match tokens[0] {
        "statement" => {
            let expect_ok = match tokens.get(1).copied() {
                Some("ok") => true,
                Some("error") => false,
                other => return Err(format!("line {n}: statement {other:?}")),
            };
            Kind::Statement {
                expect_ok,
                sql: body.join("\n"),
            }
        }
        "query" => {
            let types = tokens.get(1).copied().unwrap_or_default();
            if types.is_empty() || !types.chars().all(|c| matches!(c, 'T' | 'I' | 'R')) {
                return Err(format!("line {n}: type string {types:?}"));
            }
            let sort = match tokens.get(2).copied() {
                None | Some("nosort") => Sort::None,
                Some("rowsort") => Sort::Rows,
                Some("valuesort") => Sort::Values,
                Some(other) => return Err(format!("line {n}: sort mode {other:?}")),
            };
            // The reference runner keeps the first 20 characters of a label.
            let label = tokens.get(3).map(|l| l.chars().take(20).collect());
            let split = body.iter().position(|l| *l == "----");
            let (sql, expected) = match split {
                Some(s) => (&body[..s], &body[s + 1..]),
                None => (&body[..], &[][..]),
            };
            Kind::Query {
                types: types.to_owned(),
                sort,
                label,
                sql: sql.join("\n"),
                expected: expected.iter().map(|l| (*l).to_owned()).collect(),
            }
        }
        "hash-threshold" => Kind::HashThreshold(
            tokens
                .get(1)
                .and_then(|t| t.parse().ok())
                .ok_or(format!("line {n}: hash-threshold without a number"))?,
        ),
        "halt" => Kind::Halt,
        other => return Err(format!("line {n}: unknown record type {other:?}")),
    };
    Ok(applies.then_some(Record { line, kind }))
}

/// Renders result values as `slt_sqlite.c` does, through SQLite where SQLite's own
/// conversion decides (`%.3f` is SQLite's printf; a real read as text is SQLite's text).
pub struct Renderer {
    conn: rusqlite::Connection,
}

impl Renderer {
    /// A renderer with its own in-memory connection.
    pub fn new() -> Renderer {
        Renderer {
            conn: rusqlite::Connection::open_in_memory().expect("in-memory SQLite"),
        }
    }

    /// One value of a column whose type character is `ty`.
    ///
    /// NULL is `NULL`. `I`: `sqlite3_column_int` (a 32-bit int) printed with `%d`. `R`:
    /// `sqlite3_column_double` printed with `%.3f`. `T`: `sqlite3_column_text`, `(empty)`
    /// when empty, every byte below `' '` or above `'~'` printed as `@`.
    pub fn render(&self, ty: char, value: &Value) -> String {
        if *value == Value::Null {
            return "NULL".into();
        }
        match ty {
            'I' => {
                let wide = match value {
                    Value::Integer(i) => *i,
                    // SQLite's real-to-integer conversion saturates; `as` does the same.
                    Value::Real(r) => *r as i64,
                    Value::Text(t) => leading_integer(t.as_bytes()),
                    Value::Blob(b) => leading_integer(b),
                    Value::Null => unreachable!(),
                };
                // sqlite3_column_int keeps the low 32 bits.
                (wide as i32).to_string()
            }
            'R' => self.sql_text("SELECT printf('%.3f', ?1)", value),
            _ => {
                let text = match value {
                    Value::Text(t) => t.clone(),
                    Value::Integer(i) => i.to_string(),
                    _ => self.sql_text("SELECT CAST(?1 AS TEXT)", value),
                };
                if text.is_empty() {
                    "(empty)".into()
                } else {
                    text.bytes()
                        .map(|b| {
                            if (b' '..=b'~').contains(&b) {
                                b as char
                            } else {
                                '@'
                            }
                        })
                        .collect()
                }
            }
        }
    }

    fn sql_text(&self, sql: &str, value: &Value) -> String {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row([value], |r| r.get::<_, String>(0)))
            .expect("rendering a value through SQLite")
    }
}

/// SQLite's integer value of text: leading spaces, a sign, then digits up to the first
/// other character (saturating), 0 when there are none.
fn leading_integer(bytes: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for d in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(d - b'0');
        value = value
            .saturating_mul(10)
            .saturating_add(if negative { -d } else { d });
    }
    value
}

/// What a run remembers between queries: the hash threshold and the labels' hashes.
pub struct Checker {
    threshold: usize,
    labels: HashMap<String, String>,
}

impl Checker {
    /// A checker at the start of a file.
    pub fn new() -> Checker {
        Checker {
            threshold: DEFAULT_HASH_THRESHOLD,
            labels: HashMap::new(),
        }
    }

    /// `hash-threshold N`.
    pub fn set_threshold(&mut self, threshold: usize) {
        self.threshold = threshold;
    }

    /// Compares a query's rendered values (row after row) with the expected lines, as the
    /// reference runner does: sorted by the sort mode; hashed (MD5 of each value followed
    /// by `\n`) when there is a label or more values than the threshold; compared value by
    /// value when there are no more values than the threshold (or it is 0), else as the
    /// line `N values hashing to H`. A label's hash must equal the first one seen.
    ///
    /// One rule is stricter than the reference runner, which stops comparing at the end
    /// of the shorter list: the number of values must match too.
    ///
    /// # Errors
    /// What differed, as text (the values got, or their hash).
    pub fn check(
        &mut self,
        types: &str,
        sort: Sort,
        label: Option<&str>,
        mut values: Vec<String>,
        expected: &[String],
    ) -> Result<(), String> {
        let columns = types.len();
        match sort {
            Sort::None => {}
            Sort::Rows => {
                let mut rows: Vec<&[String]> = values.chunks(columns).collect();
                rows.sort();
                values = rows.concat();
            }
            Sort::Values => values.sort(),
        }
        let n = values.len();
        let hashed = (label.is_some() || (self.threshold > 0 && n > self.threshold)).then(|| {
            let mut md5 = Md5::new();
            for v in &values {
                md5.update(v.as_bytes());
                md5.update(b"\n");
            }
            md5.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        if let (Some(label), Some(hash)) = (label, &hashed) {
            let first = self
                .labels
                .entry(label.to_owned())
                .or_insert_with(|| hash.clone());
            if first != hash {
                return Err(format!(
                    "labeled result {label} differs from the earlier query with that label \
                     ({n} values hashing to {hash})"
                ));
            }
        }
        if self.threshold == 0 || n <= self.threshold {
            if values != expected {
                return Err(format!("got {values:?}"));
            }
        } else {
            let line = format!(
                "{n} values hashing to {}",
                hashed.expect("hashed above the threshold")
            );
            if expected.len() != 1 || expected[0] != line {
                return Err(format!("got {line:?}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    /// The hash is the MD5 of every value followed by `\n` (`printf '1\n…9\n' | md5sum`).
    #[test]
    fn above_the_threshold_results_are_hashed() {
        let mut checker = Checker::new();
        let values = strings(&["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        let line = strings(&["9 values hashing to 22e400a2ddbb013acf2a5852d6ab69fc"]);
        assert_eq!(
            checker.check("I", Sort::None, None, values.clone(), &line),
            Ok(())
        );
        assert!(
            checker
                .check("I", Sort::None, None, values[..8].to_vec(), &line)
                .is_err()
        );
        checker.set_threshold(0);
        assert!(
            checker
                .check("I", Sort::None, None, values.clone(), &line)
                .is_err()
        );
        assert_eq!(
            checker.check("I", Sort::None, None, values.clone(), &values),
            Ok(())
        );
    }

    /// Rows sort by `strcmp` of their rendered values; a label's hash is of the sorted values.
    #[test]
    fn sort_modes_and_labels() {
        let mut checker = Checker::new();
        let got = strings(&["9", "b", "10", "a"]);
        let rows = strings(&["10", "a", "9", "b"]);
        assert_eq!(
            checker.check("IT", Sort::Rows, Some("l"), got.clone(), &rows),
            Ok(())
        );
        let values = strings(&["10", "9", "a", "b"]);
        assert_eq!(
            checker.check("IT", Sort::Values, None, got.clone(), &values),
            Ok(())
        );
        assert!(
            checker
                .check("IT", Sort::None, None, got.clone(), &rows)
                .is_err()
        );
        // The same label with other results fails even when the values match.
        let other = strings(&["1", "a"]);
        assert!(
            checker
                .check("IT", Sort::None, Some("l"), other.clone(), &other)
                .is_err()
        );
    }

    #[test]
    fn values_render_as_the_reference_runner_does() {
        let r = Renderer::new();
        assert_eq!(r.render('I', &Value::Null), "NULL");
        assert_eq!(r.render('T', &Value::Text(String::new())), "(empty)");
        assert_eq!(r.render('T', &Value::Text("a\tb\u{e9}".into())), "a@b@@");
        assert_eq!(r.render('T', &Value::Real(1.5)), "1.5");
        assert_eq!(r.render('T', &Value::Real(100.0)), "100.0");
        assert_eq!(r.render('R', &Value::Integer(3)), "3.000");
        assert_eq!(r.render('R', &Value::Real(2.0 / 3.0)), "0.667");
        assert_eq!(r.render('I', &Value::Real(-3.9)), "-3");
        assert_eq!(r.render('I', &Value::Integer(1 << 32 | 7)), "7");
        assert_eq!(r.render('I', &Value::Text(" 12ab".into())), "12");
    }

    #[test]
    fn records_conditions_and_comments() {
        let text = "hash-threshold 4\n\n# c\nskipif sqlite\nstatement ok\nDROP TABLE x\n\n\
                    onlyif sqlite # why\nstatement error\nSELECT\n# inside\n1\n\n\
                    query IT rowsort label-1\nSELECT 1, 'a'\n----\n1\na\n\nonlyif mysql\nhalt\n";
        let records = parse(text).unwrap();
        assert_eq!(records.len(), 3);
        assert!(matches!(records[0].kind, Kind::HashThreshold(4)));
        match &records[1].kind {
            Kind::Statement { expect_ok, sql } => {
                assert!(!expect_ok);
                assert_eq!(sql, "SELECT\n1");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(records[1].line, 8);
        match &records[2].kind {
            Kind::Query {
                types,
                sort,
                label,
                sql,
                expected,
            } => {
                assert_eq!((types.as_str(), *sort), ("IT", Sort::Rows));
                assert_eq!(label.as_deref(), Some("label-1"));
                assert_eq!(sql, "SELECT 1, 'a'");
                assert_eq!(expected, &strings(&["1", "a"]));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("frobnicate\n").is_err());
    }
}
