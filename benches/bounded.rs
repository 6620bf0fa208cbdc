//! What a condition that may raise an error costs a lookup (README "The rewriter": errors
//! are not a side channel): guarded where the statement's shape allows, else read through
//! the tenant index (`INDEXED BY`), which gives up the application's own index.
//!
//! Three statements on the `typical` fixture's `customers` (indexed by `phone`):
//! - `plain`: `SELECT id FROM customers WHERE phone = ?1` — scoped as before, the phone
//!   index finds the row;
//! - `guarded`: the same with `AND email || '' <> '?'` — `||` may fail (a result too big);
//!   the table is read in place, so that term is guarded by a CASE on the tenant and the
//!   phone index still finds the row;
//! - `bounded`: the same through a subquery in FROM — the condition runs on the
//!   subquery's table, whose tenant column a guard cannot reach, so that table is read
//!   through its tenant index.
//!
//! Each against `raw`: rusqlite on the pre-migration fixture with the tenant connection's
//! settings (`support::open_plain`), in the same run. Run: `cargo bench --bench bounded`
//! (the first run generates the fixture into `target/tenantry-bench/bounded/`);
//! `TENANTRY_BENCH_LAYOUT=tenant-first` migrates tenant-first, where `customers` has
//! per-tenant keys and neither statement is bounded.

use std::time::SystemTime;

use criterion::Criterion;
use tenantry_fixtures::{DEFAULT_TENANT, Size};

mod fixture;
mod support;
use support::{bench_dir, human, machine, median_ns, open_plain};

const STATEMENTS: [(&str, &str); 3] = [
    ("plain", "SELECT id FROM customers WHERE phone = ?1"),
    (
        "guarded",
        "SELECT id FROM customers WHERE phone = ?1 AND email || '' <> '?'",
    ),
    (
        "bounded",
        "SELECT id FROM (SELECT id, phone, email FROM customers) \
         WHERE phone = ?1 AND email || '' <> '?'",
    ),
];

/// The first column of every row `statement` returns for `phone`.
fn found(mut statement: rusqlite::CachedStatement<'_>, phone: &str) -> Vec<String> {
    statement
        .query_map([phone], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn main() {
    let dir = bench_dir("bounded");
    let plain = fixture::pristine(&dir, Size::Typical);
    let layout = fixture::layout_from_env(tenantry_migrate::Layout::default());
    let migrated = fixture::migrated_typical(&dir, &plain, layout);
    let raw = open_plain(&plain);
    let scoped = tenantry_sqlite::Connection::open(&migrated).expect("open scoped");
    scoped.set_tenant(DEFAULT_TENANT).expect("tenant");
    let phone: String = raw
        .query_row(
            "SELECT phone FROM customers WHERE phone IS NOT NULL ORDER BY id LIMIT 1 OFFSET 100",
            [],
            |r| r.get(0),
        )
        .expect("a customer's phone");
    let customers: i64 = raw
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count customers");

    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("bounded");
    for (name, sql) in STATEMENTS {
        // Both sides must find the same rows, or the comparison means nothing.
        let raw_rows = || found(raw.prepare_cached(sql).expect("prepare"), &phone);
        let scoped_rows = || found(scoped.prepare_cached(sql).expect("prepare scoped"), &phone);
        assert_eq!(raw_rows(), scoped_rows(), "{name}: raw and scoped differ");
        group.bench_function(format!("{name}/raw"), |b| b.iter(raw_rows));
        group.bench_function(format!("{name}/scoped"), |b| b.iter(scoped_rows));
    }
    group.finish();
    c.final_summary();

    println!(
        "\nlookup by phone among {customers} customers, typical fixture, layout {layout:?}, {} \
         (medians):",
        machine()
    );
    for (name, _) in STATEMENTS {
        let raw_ns = median_ns("bounded", &format!("{name}_raw"), since);
        let scoped_ns = median_ns("bounded", &format!("{name}_scoped"), since);
        if let (Some(r), Some(s)) = (raw_ns, scoped_ns) {
            println!(
                "  {name:<8} raw {:>10}  scoped {:>10}  {:.2}× raw",
                human(r),
                human(s),
                s / r
            );
        }
    }
}
