//! Golden file: `tests/golden/rewrites.sql` holds representative statements and, under each,
//! the SQL the rewriter produces for tenant `A` (or its refusal). The test re-derives every
//! output and compares the whole file, so a change in the rewriter shows as a readable diff.
//! After reviewing a deliberate change, regenerate with
//! `TENANTRY_BLESS=1 cargo test -p tenantry-rewrite --test it golden`.
//!
//! Each output is also run on the three-tenant database of `support`, so a golden file can
//! never hold SQL that SQLite rejects.

use std::path::PathBuf;

use crate::support::World;

const INPUT_MARK: &str = "-- sql:";
const OUTPUT_MARK: &str = "-- rewritten:";
const REFUSED_MARK: &str = "-- refused:";
const HEADER_START: &str = "-- Golden rewrites";

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rewrites.sql")
}

/// The cases: (title comment lines, input SQL).
fn parse(text: &str) -> Vec<(Vec<String>, String)> {
    let mut cases = Vec::new();
    let mut titles: Vec<String> = Vec::new();
    let mut input: Option<Vec<String>> = None;
    let mut in_output = false;
    // The header (up to the first blank line) is rewritten by `render`.
    let body = match text.split_once("\n\n") {
        Some((head, rest)) if head.starts_with(HEADER_START) => rest,
        _ => text,
    };
    for line in body.lines() {
        if line.starts_with(INPUT_MARK) {
            input = Some(Vec::new());
            in_output = false;
        } else if line.starts_with(OUTPUT_MARK) || line.starts_with(REFUSED_MARK) {
            if let Some(sql) = input.take() {
                cases.push((std::mem::take(&mut titles), sql.join("\n")));
            }
            in_output = true;
        } else if let Some(sql) = input.as_mut() {
            sql.push(line.to_owned());
        } else if line.starts_with("-- ") && !in_output {
            titles.push(line.to_owned());
        } else if line.trim().is_empty() {
            in_output = false;
        }
    }
    if let Some(sql) = input {
        cases.push((titles, sql.join("\n")));
    }
    cases
}

fn render(w: &World, cases: &[(Vec<String>, String)]) -> String {
    let mut out = String::from(
        "-- Golden rewrites for tenant 'A' over the schema of tests/it/support.rs.\n\
         -- Regenerate after a reviewed change: TENANTRY_BLESS=1 cargo test -p tenantry-rewrite --test it golden\n\n",
    );
    for (titles, sql) in cases {
        for t in titles {
            out.push_str(t);
            out.push('\n');
        }
        out.push_str(INPUT_MARK);
        out.push('\n');
        out.push_str(sql);
        out.push('\n');
        match w.rewrite(sql) {
            Ok(rewritten) => {
                out.push_str(OUTPUT_MARK);
                out.push('\n');
                out.push_str(&rewritten);
                out.push('\n');
            }
            Err(e) => {
                out.push_str(REFUSED_MARK);
                out.push(' ');
                out.push_str(&e.to_string());
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn golden_rewrites() {
    let w = World::new();
    let text = std::fs::read_to_string(path()).expect("read tests/golden/rewrites.sql");
    let cases = parse(&text);
    assert!(cases.len() >= 30, "only {} cases parsed", cases.len());
    let rendered = render(&w, &cases);
    // Every accepted single-statement output prepares on the migrated database.
    for (_, sql) in &cases {
        let single_statement = w.plan(sql).is_ok_and(|p| p.statements().len() == 1);
        if let (true, Ok(rewritten)) = (single_statement, w.rewrite(sql)) {
            w.multi
                .prepare(&rewritten)
                .unwrap_or_else(|e| panic!("golden output does not prepare: {rewritten}: {e}"));
        }
    }
    if std::env::var_os("TENANTRY_BLESS").is_some() {
        std::fs::write(path(), &rendered).expect("write golden file");
        return;
    }
    assert!(
        text == rendered,
        "tests/golden/rewrites.sql is out of date; review the difference, then regenerate with \
         TENANTRY_BLESS=1 cargo test -p tenantry-rewrite --test it golden\n\n{}",
        first_difference(&text, &rendered)
    );
}

fn first_difference(a: &str, b: &str) -> String {
    for (n, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  file: {x}\n  now:  {y}", n + 1);
        }
    }
    format!(
        "lengths differ: file {} lines, now {} lines",
        a.lines().count(),
        b.lines().count()
    )
}
