//! The two engines a file runs on: plain SQLite (the baseline) and tenant A's connection on a
//! migrated database that also holds tenants B's and C's rows.

use std::path::PathBuf;

use rusqlite::ErrorCode;
use rusqlite::types::Value;
use tenantry_migrate::{DEFAULT_TENANT, MigrateOptions, migrate};

/// The tenant every statement and query of a file runs as: the migration's default tenant,
/// so a row that escaped its scope on another tenant's connection would land in A's rows
/// and change A's results.
pub const A: &str = DEFAULT_TENANT;
/// Runs A's writes again, as written (where a unique key refuses, shifted by
/// [`B_FALLBACK_SHIFT`]).
pub const B: &str = "store-b";
/// Runs A's writes again with every number shifted by [`C_SHIFT`].
pub const C: &str = "store-c";
/// What C adds to every numeric literal of A's writes.
pub const C_SHIFT: i64 = 1_000_000;
/// What B adds to every numeric literal of a write that a unique key refused as written.
pub const B_FALLBACK_SHIFT: i64 = 2_000_000;
/// A table created before the first migration, so that a file whose first records are
/// queries without tables still runs on a migrated database.
const SENTINEL: &str = "CREATE TABLE tenantry_corpus_sentinel(x INTEGER)";

/// Runs a record's SQL.
pub trait Engine {
    /// A statement record's SQL (all of it, as `sqlite3_exec` would).
    ///
    /// # Errors
    /// SQLite's error, or a refusal.
    fn statement(&mut self, sql: &str) -> rusqlite::Result<()>;

    /// A query record's SQL: its column count and rows.
    ///
    /// # Errors
    /// SQLite's error, or a refusal.
    fn query(&mut self, sql: &str) -> rusqlite::Result<(usize, Vec<Vec<Value>>)>;
}

fn rows_of(mut stmt: rusqlite::Statement<'_>) -> rusqlite::Result<(usize, Vec<Vec<Value>>)> {
    let columns = stmt.column_count();
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(
            (0..columns)
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<_>>()?,
        );
    }
    Ok((columns, out))
}

/// Plain SQLite, in memory: what the file expects of SQLite.
pub struct Plain(rusqlite::Connection);

impl Plain {
    /// An empty in-memory database.
    pub fn new() -> Plain {
        Plain(rusqlite::Connection::open_in_memory().expect("in-memory SQLite"))
    }
}

impl Engine for Plain {
    fn statement(&mut self, sql: &str) -> rusqlite::Result<()> {
        self.0.execute_batch(sql)
    }

    fn query(&mut self, sql: &str) -> rusqlite::Result<(usize, Vec<Vec<Value>>)> {
        rows_of(self.0.prepare(sql)?)
    }
}

/// Schema work, run administratively (never through a tenant's connection): CREATE, DROP,
/// ALTER, and the whole-database maintenance statements.
pub fn is_admin(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "CREATE" | "DROP" | "ALTER" | "REINDEX" | "ANALYZE" | "VACUUM"
    )
}

/// A write that B and C repeat after A.
fn is_write(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH"
    )
}

/// A schema change the migrator must see: a new table gets the tenant column, a new
/// trigger on a tenant table is scoped.
fn needs_migration(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    words.first().is_some_and(|w| w == "CREATE")
        && words[1..]
            .iter()
            .any(|w| w == "TABLE" || w == "TRIGGER" || w.starts_with("TABLE("))
}

fn first_word(sql: &str) -> String {
    sql.trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Where the tenant run is: before the first migration (a plain connection for schema
/// work) or after (tenant A's connection).
enum State {
    Before(rusqlite::Connection),
    After(Box<tenantry_sqlite::Connection>),
    Moving,
}

/// When tenants B and C write, next to A.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Neighbours {
    /// After each of A's writes, B repeats it as written (shifted where a unique key
    /// refuses it) and C with every number shifted: decoys that cannot stop A's writes.
    After,
    /// Before each of A's writes, B and C each run it exactly as written, same keys: what
    /// tenants that truly share a database must be able to do. Where keys are global, A's
    /// write then meets B's row.
    SameKeysFirst,
}

/// Tenant A's connection on a file database that the migrator migrated.
///
/// Schema records run administratively: on a plain connection before the first
/// migration, through `unscoped` after it. The first other record migrates the database
/// (`tenantry_migrate::migrate`, default options); a table or trigger created after that
/// is migrated again before the next record that is not schema work. Every write A makes
/// is repeated by B and C on the same connection (`with_tenant`), their errors ignored:
/// decoys that change a count, a sum or a hash if they leak into A's results.
pub struct Tenant {
    dir: tempfile::TempDir,
    path: PathBuf,
    state: State,
    migrate_pending: bool,
    /// How many times the database was migrated.
    pub migrations: usize,
    /// How many of B's and C's repeated writes failed (constraints, mostly).
    pub decoy_errors: usize,
    /// How many of B's writes a unique key refused as written, and ran shifted.
    pub b_shifted: usize,
    /// When B and C write.
    neighbours: Neighbours,
    /// What the migration makes of A's tables.
    layout: tenantry_migrate::Layout,
    /// Which of them get the tenant index (layout `tenant-first`).
    tenant_index: tenantry_migrate::TenantIndex,
}

impl Tenant {
    /// An empty database with the sentinel table, not yet migrated; B and C write after
    /// A.
    pub fn new() -> Tenant {
        Tenant::with_neighbours(Neighbours::After)
    }

    /// An empty database with the sentinel table, not yet migrated; B and C write as
    /// `neighbours` says.
    pub fn with_neighbours(neighbours: Neighbours) -> Tenant {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("corpus.db");
        let conn = rusqlite::Connection::open(&path).expect("creating the database");
        conn.execute_batch(SENTINEL).expect("the sentinel table");
        Tenant {
            dir,
            path,
            state: State::Before(conn),
            migrate_pending: true,
            migrations: 0,
            decoy_errors: 0,
            b_shifted: 0,
            neighbours,
            layout: tenantry_migrate::Layout::default(),
            tenant_index: tenantry_migrate::TenantIndex::default(),
        }
    }

    /// The same, migrated to `layout`, with the tenant index on the tables `tenant_index`
    /// says.
    pub fn with_layout(
        mut self,
        layout: tenantry_migrate::Layout,
        tenant_index: tenantry_migrate::TenantIndex,
    ) -> Tenant {
        self.layout = layout;
        self.tenant_index = tenant_index;
        self
    }

    /// A's connection, migrating first if a record since the last migration asks for it.
    fn conn(&mut self) -> &tenantry_sqlite::Connection {
        if self.migrate_pending {
            // Close every connection, so the migrator finds the file as an application
            // that was stopped for it would leave it.
            drop(std::mem::replace(&mut self.state, State::Moving));
            self.migrations += 1;
            let options = MigrateOptions {
                backup: Some(
                    self.dir
                        .path()
                        .join(format!("backup-{}.db", self.migrations)),
                ),
                layout: self.layout,
                tenant_index: self.tenant_index,
                ..MigrateOptions::default()
            };
            if let Err(error) = migrate(&self.path, &options, &mut |_| {}) {
                panic!("tenantry_migrate::migrate failed on the corpus database: {error}");
            }
            let conn = tenantry_sqlite::Connection::open(&self.path)
                .expect("opening the migrated database");
            conn.set_tenant(A).expect("tenant A");
            self.state = State::After(Box::new(conn));
            self.migrate_pending = false;
        }
        match &self.state {
            State::After(conn) => conn,
            State::Before(_) | State::Moving => unreachable!("migrated above"),
        }
    }

    /// Runs A's write as B and as C, exactly as written, before A does.
    fn same_keys_first(&mut self, sql: &str) {
        let conn = self.conn();
        let b = conn.with_tenant(B, |c| c.execute_batch(sql));
        let c = conn.with_tenant(C, |c| c.execute_batch(sql));
        self.decoy_errors += usize::from(b.is_err()) + usize::from(c.is_err());
    }

    /// Repeats A's write as B and as C.
    fn decoys(&mut self, sql: &str) {
        let b_shifted = shift_numbers(sql, B_FALLBACK_SHIFT);
        let c_shifted = shift_numbers(sql, C_SHIFT);
        let conn = self.conn();
        let mut shifted = false;
        let b = conn
            .with_tenant(B, |c| c.execute_batch(sql))
            .or_else(|error| match error.sqlite_error_code() {
                Some(ErrorCode::ConstraintViolation) => {
                    shifted = true;
                    conn.with_tenant(B, |c| c.execute_batch(&b_shifted))
                }
                _ => Err(error),
            });
        let c = conn.with_tenant(C, |c| c.execute_batch(&c_shifted));
        self.b_shifted += usize::from(shifted);
        self.decoy_errors += usize::from(b.is_err()) + usize::from(c.is_err());
    }
}

impl Tenant {
    /// One statement: schema work administratively, anything else as A (then B and C).
    fn one_statement(&mut self, sql: &str) -> rusqlite::Result<()> {
        if is_admin(sql) {
            let result = match &self.state {
                State::Before(conn) => conn.execute_batch(sql),
                State::After(conn) => conn.unscoped(|admin| admin.execute_batch(sql)),
                State::Moving => unreachable!("never left moving"),
            };
            if result.is_ok() && needs_migration(sql) {
                self.migrate_pending = true;
            }
            return result;
        }
        let write = is_write(sql);
        if write && self.neighbours == Neighbours::SameKeysFirst {
            self.same_keys_first(sql);
        }
        self.conn().execute_batch(sql)?;
        if write && self.neighbours == Neighbours::After {
            self.decoys(sql);
        }
        Ok(())
    }
}

impl Engine for Tenant {
    /// A record with several statements runs them one by one (each routed on its own),
    /// stopping at the first error, as `sqlite3_exec` does.
    fn statement(&mut self, sql: &str) -> rusqlite::Result<()> {
        match split_statements(sql).as_slice() {
            [] | [_] => self.one_statement(sql),
            many => many.iter().try_for_each(|one| self.one_statement(one)),
        }
    }

    fn query(&mut self, sql: &str) -> rusqlite::Result<(usize, Vec<Vec<Value>>)> {
        rows_of(self.conn().prepare(sql)?)
    }
}

/// What a piece of SQL text is, as far as the corpus runner needs to know.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A string literal, a quoted name or a comment: copied as it is.
    Opaque,
    /// A keyword or a name.
    Word,
    /// A decimal number; `real` when it has a point or an exponent.
    Number { real: bool },
    /// Anything else (one character, or a hexadecimal literal or a parameter).
    Other,
}

/// Splits `sql` into tokens (kind and byte range), enough to find numbers and semicolons
/// outside strings, quoted names and comments.
fn tokens(sql: &str) -> Vec<(Token, std::ops::Range<usize>)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    while i < b.len() {
        let start = i;
        let c = b[i];
        let token = match c {
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                while i < b.len() {
                    if b[i] == close {
                        // A doubled quote is one quote inside the literal.
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                Token::Opaque
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                Token::Opaque
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                Token::Opaque
            }
            b'?' | b':' | b'@' | b'$' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                Token::Other
            }
            b'0' if matches!(b.get(i + 1), Some(b'x' | b'X')) => {
                i += 2;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    i += 1;
                }
                Token::Other
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                Token::Word
            }
            _ if c.is_ascii_digit()
                || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let mut real = false;
                i = digits(i);
                if b.get(i) == Some(&b'.') {
                    real = true;
                    i = digits(i + 1);
                }
                if matches!(b.get(i), Some(b'e' | b'E')) {
                    let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
                    if b.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
                        real = true;
                        i = digits(i + 1 + sign);
                    }
                }
                Token::Number { real }
            }
            _ => {
                // Bytes from 0x80 up are part of words, so this is one ASCII character.
                i += 1;
                Token::Other
            }
        };
        out.push((token, start..i));
    }
    out
}

/// `sql` with `shift` added to every numeric literal outside strings, quoted names and
/// comments (an integer stays an integer; hexadecimal literals and parameters stay as
/// they are). A comparison with a shifted literal still selects the shifted rows.
pub fn shift_numbers(sql: &str, shift: i64) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    for (token, range) in tokens(sql) {
        let literal = &sql[range];
        let shifted = match token {
            Token::Number { real: true } => literal
                .parse::<f64>()
                .ok()
                .map(|r| format!("{:?}", r + shift as f64)),
            Token::Number { real: false } => literal
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_add(shift))
                .map(|n| n.to_string()),
            Token::Opaque | Token::Word | Token::Other => None,
        };
        out.push_str(shifted.as_deref().unwrap_or(literal));
    }
    out
}

/// The statements of `sql`, split at semicolons outside strings, comments and the
/// `BEGIN … END` body of a trigger; empty ones dropped.
fn split_statements(sql: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut words: Vec<String> = Vec::new();
    for (token, range) in tokens(sql) {
        match token {
            Token::Word => words.push(sql[range].to_ascii_uppercase()),
            Token::Other if &sql[range.clone()] == ";" => {
                let trigger = words.first().is_some_and(|w| w == "CREATE")
                    && words.iter().take(4).any(|w| w == "TRIGGER");
                if !trigger || words.last().is_some_and(|w| w == "END") {
                    out.push(&sql[start..range.end]);
                    start = range.end;
                    words.clear();
                }
            }
            _ => {}
        }
    }
    out.push(&sql[start..]);
    out.retain(|s| !s.trim().is_empty() && s.trim() != ";");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_numbers_leaves_strings_names_and_comments() {
        assert_eq!(
            shift_numbers("INSERT INTO t1 VALUES(1,'a1 2',2.5,-3, 1e2, 0x10)", 1000),
            "INSERT INTO t1 VALUES(1001,'a1 2',1002.5,-1003, 1100.0, 0x10)"
        );
        assert_eq!(
            shift_numbers(
                "UPDATE \"t 1\" SET c2=c2+1 WHERE x>5 -- 7\n/* 8 */AND [y 9]='it''s 9'",
                10
            ),
            "UPDATE \"t 1\" SET c2=c2+11 WHERE x>15 -- 7\n/* 8 */AND [y 9]='it''s 9'"
        );
    }

    #[test]
    fn statements_split_outside_strings_and_trigger_bodies() {
        assert_eq!(
            split_statements("INSERT INTO t VALUES(';');\nDROP INDEX i;"),
            ["INSERT INTO t VALUES(';');", "\nDROP INDEX i;"]
        );
        assert_eq!(
            split_statements("CREATE TRIGGER r DELETE ON t BEGIN SELECT 1; END; SELECT 2"),
            [
                "CREATE TRIGGER r DELETE ON t BEGIN SELECT 1; END;",
                " SELECT 2"
            ]
        );
        assert_eq!(split_statements("SELECT 1"), ["SELECT 1"]);
    }

    /// B holds A's rows as written (or shifted where a unique key refuses), C holds them
    /// shifted; none of them reaches A's results.
    #[test]
    fn b_and_c_repeat_a_s_writes() {
        let mut tenant = Tenant::new();
        for sql in [
            "CREATE TABLE t1(a INTEGER, b TEXT)",
            "CREATE TABLE t2(pk INTEGER PRIMARY KEY, c REAL)",
            "INSERT INTO t1 VALUES(1,'x'),(2,'y')",
            "INSERT INTO t2 VALUES(1,0.5)",
            "UPDATE t1 SET a=a+10 WHERE a=2",
        ] {
            tenant.statement(sql).unwrap();
        }
        let (_, rows) = tenant.query("SELECT sum(a), count(*) FROM t1").unwrap();
        assert_eq!(rows, [[Value::Integer(13), Value::Integer(2)]]);
        let mut per_tenant = |sql: &str| -> Vec<Vec<Value>> {
            tenant
                .conn()
                .unscoped(|c| rows_of(c.prepare(sql)?))
                .unwrap()
                .1
        };
        let t1 = per_tenant("SELECT tenant_id, sum(a) FROM t1 GROUP BY 1 ORDER BY 1");
        let text = |s: &str| Value::Text(s.into());
        assert_eq!(
            t1,
            [
                vec![text(A), Value::Integer(13)],
                vec![text(B), Value::Integer(13)],
                // 1_000_001 + (1_000_002 + 1_000_010): the UPDATE's numbers are shifted too.
                vec![text(C), Value::Integer(3_000_013)],
            ]
        );
        let t2 = per_tenant("SELECT tenant_id, pk, c FROM t2 ORDER BY 1");
        assert_eq!(
            t2,
            [
                vec![text(A), Value::Integer(1), Value::Real(0.5)],
                vec![text(B), Value::Integer(2_000_001), Value::Real(2_000_000.5)],
                vec![text(C), Value::Integer(1_000_001), Value::Real(1_000_000.5)],
            ]
        );
        assert_eq!(
            (tenant.b_shifted, tenant.decoy_errors, tenant.migrations),
            (1, 0, 1)
        );
    }

    /// With same keys first, B and C write A's rows as written before A: a table without
    /// keys holds three equal copies; a global key (today's schema) lets B's row in and
    /// refuses A's and C's.
    #[test]
    fn same_keys_first_writes_b_and_c_before_a() {
        let mut tenant = Tenant::with_neighbours(Neighbours::SameKeysFirst);
        for sql in [
            "CREATE TABLE t1(a INTEGER, b TEXT)",
            "CREATE TABLE t2(pk INTEGER PRIMARY KEY, c REAL)",
            "INSERT INTO t1 VALUES(1,'x'),(2,'y')",
        ] {
            tenant.statement(sql).unwrap();
        }
        let err = tenant
            .statement("INSERT INTO t2 VALUES(1,0.5)")
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(ErrorCode::ConstraintViolation),
            "{err}"
        );
        let rows = |tenant: &mut Tenant, sql: &str| -> Vec<Vec<Value>> {
            tenant
                .conn()
                .unscoped(|c| rows_of(c.prepare(sql)?))
                .unwrap()
                .1
        };
        let text = |s: &str| Value::Text(s.into());
        assert_eq!(
            rows(
                &mut tenant,
                "SELECT tenant_id, sum(a) FROM t1 GROUP BY 1 ORDER BY 1"
            ),
            [
                vec![text(A), Value::Integer(3)],
                vec![text(B), Value::Integer(3)],
                vec![text(C), Value::Integer(3)],
            ]
        );
        assert_eq!(
            rows(&mut tenant, "SELECT tenant_id, pk FROM t2"),
            [vec![text(B), Value::Integer(1)]]
        );
        // C's copy of the t2 row failed; B's and C's t1 rows went in.
        assert_eq!((tenant.b_shifted, tenant.decoy_errors), (0, 1));
    }

    #[test]
    fn schema_records_are_admin() {
        assert!(is_admin("  create index i on t(x)"));
        assert!(is_admin("DROP TABLE t1"));
        assert!(!is_admin("INSERT INTO t VALUES(1)"));
        assert!(needs_migration("CREATE TABLE t(x)"));
        assert!(needs_migration(
            "CREATE TEMP TRIGGER r AFTER INSERT ON t BEGIN SELECT 1; END"
        ));
        assert!(!needs_migration("CREATE UNIQUE INDEX i ON t(x)"));
        assert!(!needs_migration("CREATE VIEW v AS SELECT 1"));
    }
}
