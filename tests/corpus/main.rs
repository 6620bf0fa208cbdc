//! SQLite's sqllogictest corpus, run as tenant A among three tenants (issue 5, part 2).
//!
//! Every `.test` file under the corpus folder runs twice: on plain SQLite in memory (the
//! baseline: which records SQLite itself passes), then on a database migrated by
//! `tenantry_migrate::migrate` through tenant A's `tenantry_sqlite::Connection`, with
//! tenants B and C repeating each of A's writes (B as written, C with every number shifted)
//! so that a leak changes a count, a sum or a hash. Schema records (CREATE, DROP, …) run
//! administratively; a table or trigger created after the first migration is migrated
//! before the next record. Results are compared by the format's rules (`slt.rs`).
//!
//! The test fails when a record plain SQLite passes gives tenant A a wrong result or an
//! error that is not a refusal (unless `known-failures.txt` lists it), when a listed record
//! passes now, and when a refusal of a kind not in [`JUSTIFIED`] appears. Refusals of the
//! justified kinds are counted and reported, not failed.
//!
//! Not part of `cargo test --workspace` (`test = false`: a fresh machine has no corpus);
//! `.ci/run` runs it as `cargo test --workspace --test corpus -- --nocapture`.
//!
//! - `TENANTRY_CORPUS_DIR`: the corpus folder (default `../shared/corpus/sqllogictest`
//!   beside the workspace). A missing or empty folder fails the test.
//! - `TENANTRY_CORPUS_SAMPLE=N`: run one query record in N (default 1: all of them).
//! - `TENANTRY_CORPUS_FILES=a,b`: only the files whose path contains one of these.
//! - `TENANTRY_CORPUS_NEIGHBOURS=same-keys-first`: B and C run each of A's writes exactly
//!   as written before A does, same keys, instead of after it. While keys are global (the
//!   schema `tenantry migrate` makes today) A's writes then meet B's rows, so this mode
//!   reports the pass rate and does not fail.
//! - `TENANTRY_CORPUS_LAYOUT=tenant-first`: migrate with `--layout tenant-first` (keys per
//!   tenant) instead of the default `column`; reports the pass rate and does not fail.
//! - `TENANTRY_CORPUS_TENANT_INDEX=where-needed`: with it, `--tenant-index where-needed`
//!   (no tenant index where the primary key leads with the tenant column) instead of
//!   `every`.

mod engine;
mod run;
mod slt;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use run::FileReport;

/// Refusal kinds that may stop a record plain SQLite passes, each with why that is right.
/// Any other kind fails the test.
const JUSTIFIED: &[(&str, &str)] = &[(
    "Replace",
    "REPLACE / INSERT OR REPLACE into a tenant table deletes whichever row holds the same \
     unique key, which may be another tenant's; the rewriter asks for INSERT ... ON \
     CONFLICT DO UPDATE, which it limits to the tenant's rows",
)];

/// Records plain SQLite passes that tenant A does not, each with a reason: `path:line reason`.
const KNOWN_FAILURES: &str = include_str!("known-failures.txt");

fn corpus_dir() -> PathBuf {
    match std::env::var_os("TENANTRY_CORPUS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sqllogictest"),
    }
}

fn test_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            test_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "test") {
            out.push(path);
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{name}={v:?}: expected a positive whole number"))
    })
}

/// Runs one file on both engines and compares them.
fn run_file(
    path: &Path,
    sample: usize,
    neighbours: engine::Neighbours,
    layout: tenantry_migrate::Layout,
    tenant_index: tenantry_migrate::TenantIndex,
) -> FileReport {
    let started = Instant::now();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records = slt::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let plain = run::run(&records, &mut engine::Plain::new(), sample);
    let mut tenant_engine =
        engine::Tenant::with_neighbours(neighbours).with_layout(layout, tenant_index);
    let tenant = run::run(&records, &mut tenant_engine, sample);
    let mut report = run::compare(&plain, &tenant);
    report.migrations = tenant_engine.migrations;
    report.decoy_errors = tenant_engine.decoy_errors;
    report.b_shifted = tenant_engine.b_shifted;
    report.seconds = started.elapsed().as_secs_f64();
    report
}

#[test]
fn corpus_as_one_tenant_among_three() {
    let started = Instant::now();
    let dir = corpus_dir();
    assert!(
        dir.is_dir(),
        "the sqllogictest corpus folder {} does not exist: set TENANTRY_CORPUS_DIR to the \
         folder that holds the .test files (see README.md)",
        dir.display()
    );
    let mut files = Vec::new();
    test_files(&dir, &mut files);
    if let Ok(only) = std::env::var("TENANTRY_CORPUS_FILES") {
        let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
        files.retain(|f| only.iter().any(|o| f.to_string_lossy().contains(o)));
    }
    assert!(!files.is_empty(), "no .test files under {}", dir.display());
    files.sort();
    let sample = env_number("TENANTRY_CORPUS_SAMPLE", 1);
    let neighbours = match std::env::var("TENANTRY_CORPUS_NEIGHBOURS").as_deref() {
        Err(_) | Ok("after") => engine::Neighbours::After,
        Ok("same-keys-first") => engine::Neighbours::SameKeysFirst,
        Ok(other) => panic!(
            "TENANTRY_CORPUS_NEIGHBOURS={other:?}: expected `after` (the default) or \
             `same-keys-first`"
        ),
    };

    let tenant_index = match std::env::var("TENANTRY_CORPUS_TENANT_INDEX").as_deref() {
        Err(_) | Ok("every") => tenantry_migrate::TenantIndex::Every,
        Ok("where-needed") => tenantry_migrate::TenantIndex::WhereNeeded,
        Ok(other) => panic!(
            "TENANTRY_CORPUS_TENANT_INDEX={other:?}: expected `every` (the default) or \
             `where-needed`"
        ),
    };
    let layout = match std::env::var("TENANTRY_CORPUS_LAYOUT").as_deref() {
        Err(_) | Ok("column") => tenantry_migrate::Layout::Column,
        Ok("tenant-first") => tenantry_migrate::Layout::TenantFirst,
        Ok(other) => panic!(
            "TENANTRY_CORPUS_LAYOUT={other:?}: expected `column` (the default) or `tenant-first`"
        ),
    };

    // Largest files first, so the last to finish is a short one.
    let mut order: Vec<&PathBuf> = files.iter().collect();
    order.sort_by_key(|f| std::cmp::Reverse(f.metadata().map_or(0, |m| m.len())));
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(BTreeMap::new());
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|s| {
        for _ in 0..threads.min(order.len()) {
            s.spawn(|| {
                while let Some(path) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let report = run_file(path, sample, neighbours, layout, tenant_index);
                    let name = path
                        .strip_prefix(&dir)
                        .unwrap_or(path)
                        .display()
                        .to_string();
                    reports.lock().unwrap().insert(name, report);
                }
            });
        }
    });
    let reports = reports.into_inner().unwrap();

    let known = known_failures();
    let justified: BTreeSet<&str> = JUSTIFIED.iter().map(|(k, _)| *k).collect();
    let mut problems = String::new();
    let mut table = String::new();
    let mut totals = FileReport::default();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    let mut refused_expected: BTreeMap<String, usize> = BTreeMap::new();
    let mut known_seen = 0;
    writeln!(
        table,
        "\n| file | records | passed | failed | refused | skipped | admin | migrations | s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for (name, r) in &reports {
        writeln!(
            table,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            r.records,
            r.passed,
            r.failed.len(),
            r.refused_count(),
            r.skipped,
            r.admin,
            r.migrations,
            r.seconds
        )
        .unwrap();
        totals.records += r.records;
        totals.passed += r.passed;
        totals.skipped += r.skipped;
        totals.admin += r.admin;
        totals.migrations += r.migrations;
        for (kind, (n, (line, sql, message))) in &r.refused {
            *refusals.entry(kind.clone()).or_default() += n;
            if !justified.contains(kind.as_str()) {
                writeln!(
                    problems,
                    "{name}:{line}: refusal of an unexpected kind {kind} ({n} records), e.g.\n  \
                     SQL: {sql}\n  {message}"
                )
                .unwrap();
            }
        }
        for (kind, n) in &r.refused_as_expected {
            *refused_expected.entry(kind.clone()).or_default() += n;
        }
        for f in &r.failed {
            let key = format!("{name}:{}", f.line);
            if known.contains_key(&key) {
                known_seen += 1;
                continue;
            }
            writeln!(
                problems,
                "{key}: WRONG as tenant A (plain SQLite passes it)\n  SQL: {}\n  expected: {}\n  got: {}",
                f.sql,
                f.expected.replace('\n', " "),
                f.got
            )
            .unwrap();
        }
        let failed: BTreeSet<usize> = r.failed.iter().map(|f| f.line).collect();
        for key in known.keys() {
            if let Some(line) = key.strip_prefix(&format!("{name}:"))
                && let Ok(line) = line.parse::<usize>()
                && !failed.contains(&line)
                && sample == 1
            {
                writeln!(
                    problems,
                    "{key}: listed in known-failures.txt but does not fail any more; remove the line"
                )
                .unwrap();
            }
        }
    }
    let failed_total: usize = reports.values().map(|r| r.failed.len()).sum();
    let refused_total: usize = refusals.values().sum();
    writeln!(
        table,
        "| **all** | {} | {} | {failed_total} | {refused_total} | {} | {} | {} | {:.1} |",
        totals.records,
        totals.passed,
        totals.skipped,
        totals.admin,
        totals.migrations,
        started.elapsed().as_secs_f64()
    )
    .unwrap();
    writeln!(table, "\nrefused (records plain SQLite passes), by kind:").unwrap();
    for (kind, n) in &refusals {
        let why = JUSTIFIED
            .iter()
            .find(|(k, _)| k == kind)
            .map_or("NOT JUSTIFIED", |(_, why)| why);
        writeln!(table, "  {kind}: {n} — {why}").unwrap();
    }
    writeln!(
        table,
        "refused where the record expects an error (counted as passed), by kind:"
    )
    .unwrap();
    for (kind, n) in &refused_expected {
        writeln!(table, "  {kind}: {n}").unwrap();
    }
    writeln!(
        table,
        "known failures (known-failures.txt) seen: {known_seen}; query sample: 1 in {sample}; \
         B's writes shifted for a unique key: {}; decoy writes that failed: {}",
        reports.values().map(|r| r.b_shifted).sum::<usize>(),
        reports.values().map(|r| r.decoy_errors).sum::<usize>()
    )
    .unwrap();
    eprintln!("{table}");
    if neighbours == engine::Neighbours::SameKeysFirst
        || layout == tenantry_migrate::Layout::TenantFirst
    {
        eprintln!(
            "layout {layout:?}, tenant index {tenant_index:?}, neighbours {neighbours:?}: {} of {} records passed ({:.1}%); \
             a report, not a test",
            totals.passed,
            totals.records,
            100.0 * totals.passed as f64 / totals.records.max(1) as f64
        );
        return;
    }
    assert!(problems.is_empty(), "corpus problems:\n{problems}");
}

/// `known-failures.txt`: `path:line reason`, `#` comments.
fn known_failures() -> BTreeMap<String, String> {
    KNOWN_FAILURES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((key, reason)) if !reason.trim().is_empty() => {
                (key.to_owned(), reason.trim().to_owned())
            }
            _ => panic!("known-failures.txt: {l:?} has no reason"),
        })
        .collect()
}
