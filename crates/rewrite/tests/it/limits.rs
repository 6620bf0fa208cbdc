//! Limits: very deep, very long and very many. Each input must come back as `Ok` or `Err`;
//! the rewriter must never panic, and must never need more than an ordinary thread's stack.
//!
//! Each input is rewritten on a thread with a 2 MiB stack (Rust's default for spawned and
//! test threads; never enlarged here), inside a child process running just that test, so a
//! stack overflow, which aborts the whole process, fails the one test with the input named
//! instead of killing the test binary.

use std::process::Command;
use std::time::Instant;

use tenantry_rewrite::{RewriteError, Rewriter, Schema, TenantId};

/// Set in the child process to the name of the test it runs.
const CHILD_ENV: &str = "TENANTRY_REWRITE_LIMITS_CHILD";

/// The stack of the thread that rewrites: the default for a spawned thread.
const STACK: usize = 2 * 1024 * 1024;

const SCHEMA: &str = "
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, tenant_id TEXT NOT NULL);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, c TEXT, tenant_id TEXT NOT NULL);
CREATE TABLE g (k TEXT PRIMARY KEY, v TEXT);
";

/// What the rewriter made of an input, in one line.
fn describe(result: &Result<tenantry_rewrite::Rewritten, RewriteError>) -> String {
    match result {
        Ok(out) => format!("Ok ({} bytes)", out.sql().len()),
        Err(e) => {
            let msg = e.to_string();
            let short: String = msg.chars().take(200).collect();
            format!("Err({}): {short}", e.kind())
        }
    }
}

/// Rewrites the SQL `make` builds on a 2 MiB thread in a child process; fails when the
/// rewriter panics or the child dies (a stack overflow aborts it).
fn check(test: &str, make: fn() -> String) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(test) {
        let sql = make();
        let len = sql.len();
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name(format!("rewrite-{test}"))
            .stack_size(STACK)
            .spawn(move || {
                let schema = Schema::from_sql(SCHEMA, "tenant_id").expect("schema");
                let rewriter = Rewriter::new(schema);
                let tenant = TenantId::new("A").expect("tenant");
                let result = rewriter.rewrite(&sql, &tenant);
                describe(&result)
            })
            .expect("spawn");
        let outcome = thread.join();
        let elapsed = started.elapsed();
        match outcome {
            Ok(described) => {
                eprintln!("LIMITS {test}: {len} bytes of SQL -> {described} in {elapsed:.2?}")
            }
            Err(_) => panic!("the rewriter panicked on the input of {test} ({len} bytes)"),
        }
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .args([
            &format!("limits::{test}"),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, test)
        .output()
        .expect("run the test binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tail = |s: &str| -> String {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    };
    if !output.status.success() {
        let overflow = stderr.contains("has overflowed its stack");
        panic!(
            "{test}: the child process {} ({})\n--- stderr (tail) ---\n{}\n--- stdout (tail) ---\n{}",
            if overflow {
                "overflowed a 2 MiB stack: STACK OVERFLOW IN THE REWRITER"
            } else {
                "failed"
            },
            output.status,
            tail(&stderr),
            tail(&stdout),
        );
    }
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("LIMITS {test}:")))
        .unwrap_or_else(|| panic!("{test}: the child did not run the input\n{stdout}\n{stderr}"));
    eprintln!("{line}");
}

/// `SELECT (((…1…))) FROM t` with 200 levels of parentheses.
#[test]
fn deep_parentheses() {
    check("deep_parentheses", || {
        format!("SELECT {}1{} FROM t", "(".repeat(200), ")".repeat(200))
    });
}

/// 200 levels of parentheses in a DELETE's WHERE (which the rewriter wraps again).
#[test]
fn deep_parentheses_in_delete_where() {
    check("deep_parentheses_in_delete_where", || {
        format!(
            "DELETE FROM t WHERE {}id = 1{}",
            "(".repeat(200),
            ")".repeat(200)
        )
    });
}

/// `SELECT (SELECT (SELECT … FROM t) FROM t) FROM t`, 200 deep.
#[test]
fn nested_scalar_subqueries() {
    check("nested_scalar_subqueries", || {
        let mut sql = "SELECT a FROM t".to_owned();
        for _ in 0..199 {
            sql = format!("SELECT ({sql}) FROM t");
        }
        sql
    });
}

/// `SELECT * FROM (SELECT * FROM (… t …))`, 200 deep.
#[test]
fn nested_derived_tables() {
    check("nested_derived_tables", || {
        let mut sql = "SELECT * FROM t".to_owned();
        for i in 0..199 {
            sql = format!("SELECT * FROM ({sql}) AS d{i}");
        }
        sql
    });
}

/// `WHERE id IN (SELECT t_id FROM u WHERE id IN (…))`, 200 deep.
#[test]
fn nested_in_subqueries() {
    check("nested_in_subqueries", || {
        let mut sql = "SELECT t_id FROM u".to_owned();
        for _ in 0..199 {
            sql = format!("SELECT t_id FROM u WHERE id IN ({sql})");
        }
        format!("SELECT a FROM t WHERE id IN ({sql})")
    });
}

/// 100 CTEs, each reading the one before.
#[test]
fn chained_ctes() {
    check("chained_ctes", || {
        let mut ctes = vec!["c0 AS (SELECT a FROM t)".to_owned()];
        for i in 1..100 {
            ctes.push(format!(
                "c{i} AS (SELECT a FROM c{} JOIN t USING (a))",
                i - 1
            ));
        }
        format!("WITH {} SELECT * FROM c99", ctes.join(", "))
    });
}

/// A WITH inside a CTE inside a WITH…, 100 deep, every level named like the table.
#[test]
fn nested_ctes() {
    check("nested_ctes", || {
        let mut sql = "SELECT a FROM t".to_owned();
        for _ in 0..100 {
            sql = format!("WITH t AS ({sql}) SELECT a FROM t");
        }
        sql
    });
}

/// `IN (1, 2, …, 50000)`.
#[test]
fn huge_in_list() {
    check("huge_in_list", || {
        let list: Vec<String> = (1..=50_000).map(|i| i.to_string()).collect();
        format!("SELECT a FROM t WHERE id IN ({})", list.join(", "))
    });
}

/// A 100 KB statement: a long select list.
#[test]
fn statement_of_100_kb() {
    check("statement_of_100_kb", || {
        let mut sql = "SELECT t.id".to_owned();
        let mut i = 0;
        while sql.len() < 100 * 1024 {
            sql.push_str(&format!(", t.a || t.b + {i} AS c{i}"));
            i += 1;
        }
        sql.push_str(" FROM t JOIN u ON u.t_id = t.id");
        sql
    });
}

/// A 100 KB string literal.
#[test]
fn string_literal_of_100_kb() {
    check("string_literal_of_100_kb", || {
        format!(
            "UPDATE t SET a = '{}' WHERE id = 1",
            "x'".repeat(50 * 1024).replace('\'', "''")
        )
    });
}

/// `a = 1 OR a = 2 OR …`, 20,000 terms.
#[test]
fn long_or_chain() {
    check("long_or_chain", || {
        let terms: Vec<String> = (0..20_000).map(|i| format!("a = {i}")).collect();
        format!("SELECT id FROM t WHERE {}", terms.join(" OR "))
    });
}

/// 20,000 OR terms in an UPDATE's WHERE, which the rewriter parenthesises.
#[test]
fn long_or_chain_in_update() {
    check("long_or_chain_in_update", || {
        let terms: Vec<String> = (0..20_000).map(|i| format!("id = {i}")).collect();
        format!("UPDATE t SET b = 0 WHERE {}", terms.join(" OR "))
    });
}

/// `b = 1 AND b = 2 AND …`, 20,000 terms.
#[test]
fn long_and_chain() {
    check("long_and_chain", || {
        let terms: Vec<String> = (0..20_000).map(|i| format!("b <> {i}")).collect();
        format!("DELETE FROM t WHERE {}", terms.join(" AND "))
    });
}

/// `1 + 1 + …`, 20,000 terms.
#[test]
fn long_arithmetic_chain() {
    check("long_arithmetic_chain", || {
        format!("SELECT {} FROM t", vec!["b"; 20_000].join(" + "))
    });
}

/// A UNION ALL of 5,000 selects.
#[test]
fn long_compound_select() {
    check("long_compound_select", || {
        vec!["SELECT a FROM t"; 5_000].join(" UNION ALL ")
    });
}

/// 10,000 statements in one string.
#[test]
fn ten_thousand_statements() {
    check("ten_thousand_statements", || {
        (0..10_000)
            .map(|i| format!("SELECT a FROM t WHERE id = {i};"))
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// A multi-row INSERT of 10,000 rows.
#[test]
fn insert_of_ten_thousand_rows() {
    check("insert_of_ten_thousand_rows", || {
        let rows: Vec<String> = (0..10_000).map(|i| format!("('x', {i})")).collect();
        format!("INSERT INTO t (a, b) VALUES {}", rows.join(", "))
    });
}

/// A 100,000-character identifier, as an alias and as an unknown table.
#[test]
fn very_long_identifier() {
    check("very_long_identifier", || {
        let name = "n".repeat(100_000);
        format!("SELECT a AS \"{name}\" FROM t AS {name}; SELECT * FROM {name}")
    });
}

/// A 100,000-character alias of a tenant table (copied into the derived table).
#[test]
fn very_long_alias() {
    check("very_long_alias", || {
        let name = "n".repeat(100_000);
        format!("SELECT {name}.a FROM t AS {name}")
    });
}

/// `CASE WHEN … THEN CASE WHEN … END END`, 200 deep.
#[test]
fn deep_case() {
    check("deep_case", || {
        let mut e = "a".to_owned();
        for i in 0..200 {
            e = format!("CASE WHEN b = {i} THEN {e} ELSE 'x' END");
        }
        format!("SELECT {e} FROM t")
    });
}

/// `abs(abs(…(b)…))`, 200 deep.
#[test]
fn deep_function_calls() {
    check("deep_function_calls", || {
        format!("SELECT {}b{} FROM t", "abs(".repeat(200), ")".repeat(200))
    });
}

/// `NOT NOT … NOT a`, 5,000 deep, and `- - … - b`.
#[test]
fn long_unary_chains() {
    check("long_unary_chains", || {
        format!(
            "SELECT {}a, {}b FROM t",
            "NOT ".repeat(5_000),
            "- ".repeat(5_000)
        )
    });
}

/// `((((t JOIN u ON …) JOIN …)))`, 200 deep.
#[test]
fn deep_nested_joins() {
    check("deep_nested_joins", || {
        let mut from = "t AS x0".to_owned();
        for i in 1..200 {
            from = format!("({from} JOIN u AS x{i} ON x{i}.t_id = x0.id)");
        }
        format!("SELECT x0.a FROM {from}")
    });
}

/// 1,000 joins in one FROM.
#[test]
fn thousand_joins() {
    check("thousand_joins", || {
        let joins: String = (1..1_000)
            .map(|i| format!(" LEFT JOIN u AS x{i} ON x{i}.t_id = x0.id"))
            .collect();
        format!("SELECT x0.a FROM t AS x0{joins}")
    });
}

/// 200 opening parentheses and nothing else: unbalanced input.
#[test]
fn unbalanced_parentheses() {
    check("unbalanced_parentheses", || {
        format!("SELECT a FROM t WHERE {}", "(".repeat(100_000))
    });
}
