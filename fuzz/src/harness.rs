//! The fixed two-tenant databases (built once per process) and the property checks.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::backup::Backup;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::limits::Limit;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Batch, Connection};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use tenantry_rewrite::{Rewriter, Schema, TenantId};

/// Longer inputs are skipped (libFuzzer's `-max_len` should be at most this).
pub const MAX_INPUT: usize = 4096;

/// Rows read from one statement at most.
const MAX_ROWS: usize = 1000;

/// Progress-handler calls (each after 1,000 VM instructions) before a statement is stopped.
const MAX_PROGRESS: u32 = 2000;

/// The single-tenant (legacy) schema, before migration.
pub const LEGACY_TABLES: &str = "
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t(id), c TEXT);
CREATE TABLE n (x TEXT, y INTEGER);
CREATE TABLE w (k TEXT PRIMARY KEY, q INTEGER) WITHOUT ROWID;
CREATE TABLE g (k TEXT PRIMARY KEY, v TEXT);
CREATE VIEW vt AS SELECT t.id, t.a, u.c FROM t JOIN u ON u.t_id = t.id;
CREATE VIEW vagg AS SELECT a, count(*) AS cnt, sum(b) AS total FROM t GROUP BY a;
CREATE VIEW vg AS SELECT k, v FROM g;
CREATE VIEW vv AS SELECT vt.id, vt.c, n.x FROM vt LEFT JOIN n ON n.y = vt.id;
";

/// Triggers of the legacy schema (scoped by the rewriter, as the migrator does).
const LEGACY_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN \
     INSERT INTO n (x, y) VALUES (NEW.a, NEW.id); END",
    "CREATE TRIGGER t_upd AFTER UPDATE OF b ON t BEGIN \
     UPDATE u SET c = 'bumped' WHERE t_id = NEW.id; END",
];

/// The tables that get the tenant column; `g` stays global.
pub const TENANT_TABLES: &[&str] = &["t", "u", "n", "w"];

/// Tenant A's rows, and the global rows.
const ROWS_A: &str = "
INSERT INTO t VALUES (1, 'a1', 1, 'A'), (2, 'a2', 2, 'A'), (3, NULL, 3, 'A');
INSERT INTO u VALUES (1, 1, 'c1', 'A'), (2, 2, 'c2', 'A'), (3, NULL, NULL, 'A');
INSERT INTO n (rowid, x, y, tenant_id) VALUES (1, 'x1', 1, 'A'), (2, 'x2', 2, 'A');
INSERT INTO w VALUES ('k1', 1, 'A'), ('k2', 2, 'A');
INSERT INTO g VALUES ('k1', 'v1'), ('k2', 'v2');
";

/// Tenant B's rows: `{P}` a text marker, `{N}` a number marker (same length in both
/// databases, so the files have the same layout). One of B's `u` rows points at A's `t` 1.
const ROWS_B: &str = "
INSERT INTO t VALUES (900001, '{P}t1', {N}000111, 'B'), (900002, '{P}t2', {N}000222, 'B');
INSERT INTO u VALUES (900001, 900001, '{P}u1', 'B'), (900002, 1, '{P}u2', 'B');
INSERT INTO n (rowid, x, y, tenant_id) VALUES (900101, '{P}n1', {N}000333, 'B');
INSERT INTO w VALUES ('LEAKk1', {N}000444, 'B');
";

/// In the second database only: one more B row per table, with keys below B's others (so
/// new rowids are the same in both databases), so that a count that includes B's rows
/// differs too.
const ROWS_B_EXTRA: &str = "
INSERT INTO t VALUES (500001, 'KAELt0', 666000555, 'B');
INSERT INTO u VALUES (500001, 500001, 'KAELu0', 'B');
INSERT INTO n (rowid, x, y, tenant_id) VALUES (500101, 'KAELn0', 666000666, 'B');
INSERT INTO w VALUES ('LEAKk0', 666000777, 'B');
";

/// Integers only B's rows hold.
const MARKER_INTS: &[i64] = &[
    900_001,
    900_002,
    900_101,
    500_001,
    500_101,
    777_000_111,
    777_000_222,
    777_000_333,
    777_000_444,
    666_000_111,
    666_000_222,
    666_000_333,
    666_000_444,
    666_000_555,
    666_000_666,
    666_000_777,
];

/// Substrings only B's rows (or their numbers printed as text) hold.
const MARKER_TEXT: &[&str] = &[
    "leak", "kael", "900001", "900002", "900101", "500001", "500101", "777000", "666000",
];

/// Words whose presence in raw input turns the marker check off (the input can make the
/// marker itself).
const MARKER_WORDS: &[&str] = &["leak", "kael", "900", "500", "777", "666", "char(", "x'"];

/// Words whose presence turns the two-database comparison off: results that legitimately
/// differ between runs or between the two files.
const NONDETERMINISTIC: &[&str] = &[
    "random",
    "now",
    "current_",
    "500",
    "sqlite_offset",
    "page_count",
    "freelist",
];

/// The tenant the rewrites are for.
const TENANT: &str = "A";

/// What one statement did: its columns, and its rows (as a sorted multiset) or its error.
#[derive(Debug, PartialEq)]
struct StatementRun {
    columns: Vec<String>,
    rows: Vec<String>,
    error: Option<String>,
}

/// What one SQL string did on one database.
#[derive(Debug, PartialEq)]
struct Run {
    statements: Vec<StatementRun>,
    /// The progress handler stopped a statement.
    interrupted: bool,
    /// The first value of B's rows it returned (not compared: the databases differ there).
    #[allow(dead_code)]
    leaked: Option<String>,
}

/// The rewriter and the databases.
pub struct Harness {
    rewriter: Rewriter,
    tenant: TenantId,
    /// The legacy schema, empty: to see whether the original statement prepares.
    legacy: Connection,
    /// The migrated database with A's and B's rows.
    first: Connection,
    /// The same with other values in B's rows, and one more B row per table.
    second: Connection,
    /// B's rows (and the schema) in each, before anything ran.
    first_b: String,
    second_b: String,
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's harness, building it the first time.
pub fn with<R>(f: impl FnOnce(&Harness) -> R) -> R {
    HARNESS.with(|cell| {
        let mut slot = cell.borrow_mut();
        let h = slot.get_or_insert_with(Harness::new);
        f(h)
    })
}

fn open() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)
        .expect("limit attached");
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, 100_000)
        .expect("limit length");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    conn
}

fn schema_of(conn: &Connection) -> Schema {
    let ddl: Vec<String> = conn
        .prepare(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') \
             AND sql IS NOT NULL",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("schema text");
    Schema::from_objects(&ddl, "tenant_id").expect("schema")
}

/// Builds a migrated database: legacy tables, the tenant column, rows, scoped triggers.
fn migrated(b_rows: &str) -> Connection {
    let conn = open();
    conn.execute_batch(LEGACY_TABLES).expect("legacy tables");
    for table in TENANT_TABLES {
        conn.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN tenant_id VARCHAR(255) NOT NULL DEFAULT 'A';
             CREATE INDEX idx_{table}_tenant ON {table} (tenant_id);"
        ))
        .expect("tenant column");
    }
    conn.execute_batch("PRAGMA foreign_keys = OFF").expect("fk");
    conn.execute_batch(ROWS_A).expect("A rows");
    conn.execute_batch(b_rows).expect("B rows");
    conn.execute_batch("PRAGMA foreign_keys = ON").expect("fk");
    let unscoped = Rewriter::new(schema_of(&conn));
    for trigger in LEGACY_TRIGGERS {
        let scoped = unscoped.scope_trigger(trigger).expect("scope trigger");
        conn.execute_batch(&scoped).expect("scoped trigger");
    }
    conn
}

fn b_rows(text: &str, number: &str) -> String {
    ROWS_B.replace("{P}", text).replace("{N}", number)
}

impl Harness {
    /// Builds the databases and the rewriter.
    pub fn new() -> Harness {
        let legacy = open();
        legacy.execute_batch(LEGACY_TABLES).expect("legacy");
        for trigger in LEGACY_TRIGGERS {
            legacy.execute_batch(trigger).expect("legacy trigger");
        }
        let first = migrated(&b_rows("LEAK", "777"));
        let second = migrated(&format!("{}{ROWS_B_EXTRA}", b_rows("KAEL", "666")));
        let rewriter = Rewriter::new(schema_of(&first));
        let first_b = snapshot(&first).expect("snapshot");
        let second_b = snapshot(&second).expect("snapshot");
        Harness {
            rewriter,
            tenant: TenantId::new(TENANT).expect("tenant"),
            legacy,
            first,
            second,
            first_b,
            second_b,
        }
    }

    /// The rewriter the harness checks.
    pub fn rewriter(&self) -> &Rewriter {
        &self.rewriter
    }

    /// Checks every property on `sql`; panics on a failure.
    pub fn check(&self, sql: &str, generated: bool) {
        let out = self.rewriter.rewrite(sql, &self.tenant);
        let again = self
            .rewriter
            .plan(sql)
            .and_then(|plan| plan.render(&self.tenant));
        assert_eq!(
            out, again,
            "rewrite() and plan().render() differ for {sql:?}"
        );
        let Ok(out) = out else { return };
        let out = out.sql();
        if let Err(e) = reparse(out) {
            panic!(
                "the rewrite does not parse again ({e})\n  original: {sql:?}\n  rewrite:  {out:?}"
            );
        }
        if let Ok(original) = prepare_all(&self.legacy, sql) {
            match prepare_all(&self.first, out) {
                Ok(rewritten) => assert!(
                    original == rewritten,
                    "result columns or parameters changed\n  original: {sql:?}\n  rewrite:  \
                     {out:?}\n  {original:?}\n  {rewritten:?}"
                ),
                Err(e) => panic!(
                    "the original prepares on the legacy schema but the rewrite does not on \
                     the migrated one ({e})\n  original: {sql:?}\n  rewrite:  {out:?}"
                ),
            }
        }
        let lower = sql.to_ascii_lowercase();
        let markers = generated || !MARKER_WORDS.iter().any(|w| lower.contains(w));
        let first = self.run(&self.first, &self.first_b, sql, out, markers);
        let second = self.run(&self.second, &self.second_b, sql, out, markers);
        let comparable = !first.interrupted
            && !second.interrupted
            && (generated || !NONDETERMINISTIC.iter().any(|w| lower.contains(w)));
        if comparable {
            assert_eq!(
                first, second,
                "TENANT LEAK: the rewrite's result depends on tenant B's rows\n  original: \
                 {sql:?}\n  rewrite:  {out:?}"
            );
        }
    }

    /// Runs `out` on a fresh copy of `template`; checks B's rows and returned values.
    fn run(
        &self,
        template: &Connection,
        b_before: &str,
        sql: &str,
        out: &str,
        markers: bool,
    ) -> Run {
        let mut conn = open();
        Backup::new(template, &mut conn)
            .and_then(|b| b.step(-1))
            .expect("copy the database");
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        conn.progress_handler(
            1000,
            Some(move || counter.fetch_add(1, Ordering::Relaxed) >= MAX_PROGRESS),
        )
        .expect("progress handler");
        let run = execute(&conn, out);
        conn.progress_handler(0, None::<fn() -> bool>)
            .expect("progress handler");
        let mut run = run;
        run.interrupted = calls.load(Ordering::Relaxed) >= MAX_PROGRESS;
        if markers && let Some(value) = &run.leaked {
            panic!(
                "TENANT LEAK: the rewrite returned a value of tenant B's rows: {value}\n  \
                 original: {sql:?}\n  rewrite:  {out:?}"
            );
        }
        let after = snapshot(&conn).unwrap_or_else(|e| {
            panic!("B's rows cannot be read after the rewrite ({e})\n  original: {sql:?}\n  rewrite:  {out:?}")
        });
        if after != b_before {
            panic!(
                "TENANT LEAK: the rewrite changed tenant B's rows or the schema\n  original: \
                 {sql:?}\n  rewrite:  {out:?}\n  before: {b_before}\n  after:  {after}"
            );
        }
        run
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Runs every statement of `sql`, stopping at the first error.
fn execute(conn: &Connection, sql: &str) -> Run {
    let mut statements = Vec::new();
    let mut leaked = None;
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
                Ok(Some(row)) => {
                    if rows.len() < MAX_ROWS {
                        let values: Vec<Value> = (0..n)
                            .map(|i| row.get::<_, Value>(i).unwrap_or(Value::Null))
                            .map(without_pointer)
                            .collect();
                        if leaked.is_none()
                            && let Some(v) = values.iter().find(|v| is_marker(ValueRef::from(*v)))
                        {
                            leaked = Some(format!("{v:?}"));
                        }
                        rows.push(format!("{values:?}"));
                    } else {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        rows.sort();
        let failed = error.is_some();
        statements.push(StatementRun {
            columns,
            rows,
            error,
        });
        if failed {
            break;
        }
    }
    Run {
        statements,
        interrupted: false,
        leaked,
    }
}

/// EXPLAIN shows a virtual table as `vtab:<address>`, which differs from one connection to
/// the next: the address goes.
fn without_pointer(v: Value) -> Value {
    match v {
        Value::Text(t) if t.starts_with("vtab:") => Value::Text("vtab:".to_owned()),
        v => v,
    }
}

/// Whether a value is one of B's.
pub fn is_marker(v: ValueRef<'_>) -> bool {
    match v {
        ValueRef::Integer(i) => MARKER_INTS.contains(&i),
        ValueRef::Real(r) => MARKER_INTS.iter().any(|&i| i as f64 == r),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let lower = String::from_utf8_lossy(t).to_ascii_lowercase();
            MARKER_TEXT.iter().any(|m| lower.contains(m))
        }
        ValueRef::Null => false,
    }
}

/// Every row whose tenant is not A, every column and rowid, and the schema, as text.
fn snapshot(conn: &Connection) -> Result<String, rusqlite::Error> {
    let mut out = String::new();
    let queries = [
        "SELECT rowid, * FROM t WHERE tenant_id IS NOT 'A' ORDER BY rowid",
        "SELECT rowid, * FROM u WHERE tenant_id IS NOT 'A' ORDER BY rowid",
        "SELECT rowid, * FROM n WHERE tenant_id IS NOT 'A' ORDER BY rowid",
        "SELECT * FROM w WHERE tenant_id IS NOT 'A' ORDER BY k",
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
        "SELECT type, name, tbl_name, sql FROM sqlite_temp_master ORDER BY type, name",
    ];
    for q in queries {
        let mut stmt = conn.prepare(q)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let values: Vec<Value> = (0..n)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<_, _>>()?;
            out.push_str(&format!("{values:?}\n"));
        }
        out.push_str("--\n");
    }
    Ok(out)
}

/// What one statement looks like to SQLite once prepared.
#[derive(Debug, PartialEq)]
struct Prepared {
    parameters: Vec<Option<String>>,
    columns: Vec<String>,
}

fn prepare_all(conn: &Connection, sql: &str) -> Result<Vec<Prepared>, rusqlite::Error> {
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

/// Parses each statement of `sql` with `sqlparser` again, except PRAGMAs (the rewriter
/// checks those by their tokens, and `sqlparser` does not read every form SQLite accepts).
pub fn reparse(sql: &str) -> Result<(), String> {
    let tokens = Tokenizer::new(&SQLiteDialect {}, sql)
        .tokenize()
        .map_err(|e| e.to_string())?;
    let mut segments = vec![Vec::new()];
    let mut depth = 0i64;
    for token in tokens {
        match token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::SemiColon if depth == 0 => {
                segments.push(Vec::new());
                continue;
            }
            _ => {}
        }
        segments.last_mut().expect("a segment").push(token);
    }
    for segment in segments {
        match segment.iter().find(|t| !matches!(t, Token::Whitespace(_))) {
            None => continue,
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("PRAGMA") =>
            {
                continue;
            }
            Some(_) => {}
        }
        Parser::new(&SQLiteDialect {})
            .with_tokens(segment)
            .parse_statements()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
