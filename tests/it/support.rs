//! Helpers shared by the end-to-end tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// Generates the tiny POS fixture at `dir/name`.
pub fn tiny_fixture(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let options = tenantry_fixtures::Options {
        size: tenantry_fixtures::Size::Tiny,
        seed: tenantry_fixtures::DEFAULT_SEED,
        overwrite: false,
    };
    tenantry_fixtures::generate(&path, &options, &mut |_| {}).expect("generate tiny fixture");
    path
}

/// Creates a database at `dir/name` from SQL.
pub fn db_from_sql(dir: &Path, name: &str, sql: &str) -> PathBuf {
    let path = dir.join(name);
    let conn = Connection::open(&path).expect("create db");
    conn.execute_batch(sql).expect("run setup SQL");
    path
}

/// Everything a user could observe in a database, as text: the schema (every object's
/// SQL), `user_version`, and every row of every table (SQLite's own included, such as
/// `sqlite_sequence` and `sqlite_stat1`), rows sorted so that the page layout does not
/// matter. Two databases with equal snapshots are logically identical.
pub fn snapshot(path: &Path) -> String {
    let conn = Connection::open(path).expect("open for snapshot");
    let mut out = String::new();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    out.push_str(&format!("user_version {version}\n"));
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    let objects: Vec<(String, String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (kind, name, table, sql) in &objects {
        out.push_str(&format!(
            "{kind} {name} on {table}: {}\n",
            sql.as_deref().unwrap_or("-")
        ));
    }
    for (kind, name, _, sql) in &objects {
        let is_virtual = sql
            .as_deref()
            .is_some_and(|s| s.to_ascii_uppercase().contains("VIRTUAL TABLE"));
        if kind != "table" || is_virtual {
            continue;
        }
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let mut stmt = conn.prepare(&format!("SELECT * FROM {quoted}")).unwrap();
        let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut line = String::new();
                for i in 0..columns.len() {
                    line.push_str(&render(r.get_ref(i)?));
                    line.push('|');
                }
                Ok(line)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.push_str(&format!(
            "rows of {name} ({}): {}\n",
            columns.join(","),
            rows.len()
        ));
        for row in rows {
            out.push_str(&row);
            out.push('\n');
        }
    }
    out
}

fn render(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("i{i}"),
        ValueRef::Real(f) => format!("r{f:?}"),
        ValueRef::Text(t) => format!("t{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("b{b:02x?}"),
    }
}

/// Runs the `tenantry` binary with `args`.
pub fn tenantry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run tenantry")
}

/// The exit code, standard output and standard error of a run, as text.
pub fn outcome(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Files in `dir` whose names contain `part`.
pub fn files_containing(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    found.sort();
    found
}

/// The tables of a database that have a column named `column`.
pub fn tables_with_column(path: &Path, column: &str) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.name FROM sqlite_schema m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = ?1 ORDER BY m.name",
        )
        .unwrap();
    stmt.query_map([column], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Runs the binary with `input` on standard input.
pub fn tenantry_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tenantry");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for tenantry")
}

/// A value rendered with its type, as in [`snapshot`]: `NULL`, `i1`, `r2.5`, `t"x"`, `b[..]`.
pub fn render_value(v: ValueRef<'_>) -> String {
    render(v)
}

/// How a scoped failure is compared with the legacy one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// By message.
    Alike,
    /// Both failed: tenant-first constraint errors name the tenant column, and SQLite may
    /// report another key first.
    BothFail,
}

/// Runs `sql` on the tenant oracle (`single`, the legacy database; `scoped`, a tenant
/// connection to the migrated one) inside a transaction rolled back on both sides, and
/// checks it: the other tenants' rows did not change; unless refused (returned), it had the
/// legacy outcome (see [`Errors`]) and left the tenant's rows as the legacy database's.
pub fn on_the_oracle(
    single: &Connection,
    scoped: &tenantry_sqlite::Connection,
    tenancy: &tenantry_testkit::oracle::tenancy::Tenancy,
    sql: &str,
    errors: Errors,
) -> Result<(), tenantry_rewrite::RewriteError> {
    use tenantry_testkit::oracle::{Oracle, Scoped, comparable};

    single.execute_batch("BEGIN").unwrap();
    scoped.execute_batch("BEGIN").unwrap();
    let v = Oracle {
        single,
        scoped: Scoped::Connection(scoped),
        tenancy,
    }
    .run(sql, &[]);
    single.execute_batch("ROLLBACK").unwrap();
    scoped.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        v.others_before, v.others_after,
        "another tenant's rows changed: {sql}"
    );
    let run = v.got?;
    let outcome = |o: &Result<_, String>| {
        comparable(o, false).map_err(|e| {
            if errors == Errors::Alike {
                e
            } else {
                String::new()
            }
        })
    };
    assert_eq!(
        outcome(&run.outcome),
        outcome(&v.expected),
        "outcome differs: {sql}"
    );
    for ((table, got), (_, want)) in v.scoped_after.iter().zip(&v.single_after) {
        assert_eq!(
            got, want,
            "table {table}: the tenant's rows differ after: {sql}"
        );
    }
    Ok(())
}
