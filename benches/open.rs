//! What opening a tenant connection costs, against opening plain rusqlite (issue 13,
//! scenario 5): an application that opens a connection per request pays it every time.
//!
//! Each iteration opens a connection to the `typical` fixture, sets the tenant (scoped
//! sides) and runs one point lookup (`SELECT username FROM users WHERE id = ?1`), so that
//! SQLite reads its schema too, then closes it. Three sides, one run:
//!
//! - `raw`: rusqlite on the pre-migration fixture, with the settings the tenant connection
//!   turns on (QPSG, its statement-cache capacity: `support::open_plain`);
//! - `raw-migrated`: the same on the migrated copy, the statement unscoped: what SQLite
//!   itself pays for the bigger schema (the tenant indexes, the column layout's foreign-key
//!   guard triggers and scoped triggers), which it parses when a connection first uses it;
//! - `scoped`: `tenantry_sqlite::Connection::open` on a migrated copy: the process keeps
//!   the rewriter of each schema it has read (`crates/sqlite/src/scoping.rs`);
//! - `scoped-cold`: the same, with a schema the process has not seen (each iteration declares
//!   another, absent, table as having the application's own tenant column, which makes the
//!   key new): what every open cost before the rewriter was kept.
//!
//! Run: `cargo bench --bench open` (about a minute after the fixture exists; the first run
//! generates it into `target/tenantry-bench/open/`); `TENANTRY_BENCH_LAYOUT=tenant-first`
//! migrates the copy tenant-first (default: the migrator's default, `column`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use criterion::Criterion;
use tenantry_fixtures::Size;

mod fixture;
mod opening;
mod support;
use support::{bench_dir, human, median_ns};

fn main() {
    let dir = bench_dir("open");
    let plain = fixture::pristine(&dir, Size::Typical);
    let layout = fixture::layout_from_env(tenantry_migrate::Layout::default());
    let migrated = fixture::migrated_typical(&dir, &plain, layout);
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("open");
    group.bench_function("raw", |b| b.iter(|| opening::plain(&plain)));
    group.bench_function("raw-migrated", |b| b.iter(|| opening::plain(&migrated)));
    group.bench_function("scoped", |b| {
        b.iter(|| {
            opening::scoped(tenantry_sqlite::Connection::open(&migrated).expect("open scoped"));
        });
    });
    let fresh = AtomicUsize::new(0);
    group.bench_function("scoped-cold", |b| {
        b.iter(|| {
            let n = fresh.fetch_add(1, Ordering::Relaxed);
            opening::scoped(opening::cold(&migrated, n));
        });
    });
    group.finish();
    c.final_summary();

    let raw_ns = median_ns("open", "raw", since);
    println!("\nopen + one point lookup, typical fixture, layout {layout:?} (medians):");
    for side in ["raw", "raw-migrated", "scoped", "scoped-cold"] {
        let Some(ns) = median_ns("open", side, since) else {
            continue;
        };
        let ratio = raw_ns.map_or_else(String::new, |r| format!("{:.2}× raw", ns / r));
        println!("  {side:<12} {:>10}  {ratio}", human(ns));
    }
}
