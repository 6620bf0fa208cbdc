//! What one tenant pays for its neighbours' rows.
//!
//! Ten tenants of equal size share one database: the `small` point-of-sale fixture (a
//! tenth of `typical`), migrated, then copied as tenants `t0` … `t9` with interleaved keys
//! (`tenantry_fixtures::Interleave`), so the database holds about as many rows as the
//! typical fixture and the tenants' rows lie in turn, as tenants writing at the same time
//! leave them. (One block per tenant would hide what scattered rows cost.) The
//! comparison: the same database with every tenant but `t3` deleted and `VACUUM`ed, so it
//! holds exactly `t3`'s rows, compactly.
//!
//! Both sides run `t3`'s statements through the tenant connection with the same settings
//! (`prepare_cached`, WAL, foreign keys on; `ANALYZE` run on both files), the
//! point-of-sale catalogue by query class (writes rolled back), with parameters sampled
//! from `t3`'s rows. Criterion groups `own/<class>` and `shared/<class>`; the table after
//! them gives the cost of sharing per class (`shared ÷ own − 1`). The goal: every class
//! within 10%. Both sides' results are compared before timing (a difference is printed).
//!
//! `TENANTRY_BENCH_LAYOUT=column|tenant-first` (default `tenant-first`) picks the
//! migration's layout. On `tenant-first` every tenant holds the same keys as the others
//! (keys are per tenant; the copies are not renumbered), and its rows are stored together
//! wherever its tables have a primary key. On `column` keys are global, so the copies'
//! keys are interleaved (see above), and the backup singleton (`backup_settings`,
//! `CHECK (id = 1)`) cannot be copied: only the migrated store's row exists, and it is
//! deleted with that store.
//!
//! `TENANTRY_BENCH_SETTLE=N` first commits every INSERT of the catalogue `N` times on both
//! sides, on copies of the databases (see `settle`).
//! `TENANTRY_BENCH_PER_STATEMENT=1` times each statement alone instead (both sides in
//! turn, median of 31 rounds): which statements make a class's cost.
//!
//! Run: `cargo bench --bench tenants` (the databases are built once, into
//! `target/tenantry-bench/tenants/`, in about ten minutes on 2 cores: each copy checks
//! every foreign key of the database; later runs take about three minutes). Criterion's
//! filter arguments apply (`cargo bench --bench tenants -- join`).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use tenantry_fixtures::QueryClass;
use tenantry_migrate::Layout;

mod catalogue;
mod fixture;
mod support;
mod tenancy;
use catalogue::{Case, Side, by_class, class_summary, outcome, per_class};
use support::bench_dir;
use tenancy::{MEASURED, TENANTS, databases, layout_name};

/// A tenant connection for the measured tenant.
fn open(path: &Path) -> tenantry_sqlite::Connection {
    let conn = tenantry_sqlite::Connection::open(path).expect("open");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    conn.set_tenant(MEASURED).expect("set tenant");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    conn
}

/// The catalogue's statements with parameters from the measured tenant's rows; each run
/// once on both sides (writes rolled back) and the results compared.
fn cases(
    own_path: &Path,
    own: &mut tenantry_sqlite::Connection,
    shared: &mut tenantry_sqlite::Connection,
) -> Vec<Case> {
    let sample = rusqlite::Connection::open(own_path).expect("open own for sampling");
    let mut out = Vec::new();
    for query in tenantry_fixtures::catalogue() {
        let params = tenantry_fixtures::sample_params(&sample, query).expect("sample parameters");
        let case = Case { query, params };
        let expected = own.rolled_back(|c| outcome(c, &case));
        let got = shared.rolled_back(|c| outcome(c, &case));
        match (expected, got) {
            (Ok(e), Ok(g)) if e == g => {}
            (Ok(e), Ok(g)) => eprintln!(
                "warning: {} returns different results ({} vs {} values)",
                query.name,
                e.len(),
                g.len()
            ),
            (e, g) => {
                eprintln!(
                    "left out: {} (own: {:?}; shared: {:?})",
                    query.name,
                    e.err(),
                    g.err()
                );
                continue;
            }
        }
        out.push(case);
    }
    out
}

/// `TENANTRY_BENCH_SETTLE=N`: each INSERT of the catalogue committed `N` times on both
/// sides before anything is measured (a run that breaks a unique key fails on both sides
/// and changes nothing), so the measured tenant's pages have the room a live database's
/// have: a `VACUUM`ed page is full, and a clustered table's insert inside the tree splits
/// it on every rolled-back iteration (the worst case, measured without this).
fn settle(sides: &[&tenantry_sqlite::Connection], cases: &[Case], runs: usize) {
    for conn in sides {
        for case in cases.iter().filter(|c| c.query.class == QueryClass::Insert) {
            let run = || {
                conn.execute(
                    case.query.sql,
                    rusqlite::params_from_iter(case.params.iter()),
                )
            };
            // Only an INSERT that can run twice: one whose row takes a unique key would
            // fail every measured run after being committed once.
            conn.execute_batch("BEGIN").expect("BEGIN");
            let twice = run().is_ok() && run().is_ok();
            conn.execute_batch("ROLLBACK").expect("ROLLBACK");
            if !twice {
                eprintln!(
                    "settle: {} left out (a second run breaks a key)",
                    case.query.name
                );
                continue;
            }
            for _ in 0..runs {
                run().expect("a settling insert");
            }
        }
    }
}

/// `TENANTRY_BENCH_PER_STATEMENT=1`: each statement alone, both sides alternately, the
/// median of 31 rounds of as many runs as fit in 20 ms (a diagnostic beside criterion's
/// classes: which statements make a class's cost).
fn per_statement(
    own: &mut tenantry_sqlite::Connection,
    shared: &mut tenantry_sqlite::Connection,
    cases: &[Case],
) {
    use catalogue::{Caching, iteration_with};
    let time = |conn: &mut tenantry_sqlite::Connection, case: &Case| {
        let writes = !case.query.class.is_read_only();
        let mut runs = 0u32;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(20) {
            iteration_with(conn, &[case], writes, Caching::Cached);
            runs += 1;
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
    };
    eprintln!(
        "{:<32} {:>12} {:>12} {:>9}",
        "statement", "own µs", "shared µs", "cost"
    );
    for case in cases {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..31 {
            a.push(time(own, case));
            b.push(time(shared, case));
        }
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (a, b) = (a[15], b[15]);
        eprintln!(
            "{:<32} {a:>12.1} {b:>12.1} {:>+8.1}%",
            case.query.name,
            100.0 * (b / a - 1.0)
        );
    }
}

fn main() {
    let started = SystemTime::now();
    let layout = fixture::layout_from_env(Layout::TenantFirst);
    let mut dbs = databases(layout);
    let settle_runs = std::env::var("TENANTRY_BENCH_SETTLE").ok().map(|runs| {
        runs.parse::<usize>()
            .expect("TENANTRY_BENCH_SETTLE=N: a number of runs")
    });
    // Settling writes: on copies, so the built databases stay as they are.
    let _copies = settle_runs.map(|_| {
        let dir = tempfile::tempdir_in(bench_dir("tenants")).expect("temporary directory");
        for path in [&mut dbs.own, &mut dbs.shared] {
            let copy = dir.path().join(path.file_name().expect("a file name"));
            std::fs::copy(&*path, &copy).expect("copy the database");
            *path = copy;
        }
        dir
    });
    let mut own = open(&dbs.own);
    let mut shared = open(&dbs.shared);
    let cases = cases(&dbs.own, &mut own, &mut shared);
    if let Some(runs) = settle_runs {
        settle(&[&own, &shared], &cases, runs);
    }
    if std::env::var("TENANTRY_BENCH_PER_STATEMENT").as_deref() == Ok("1") {
        per_statement(&mut own, &mut shared, &cases);
        return;
    }
    let by_class = by_class(&cases);
    per_class(("own", &mut own), ("shared", &mut shared), &by_class);
    class_summary(
        &by_class,
        started,
        ("own", "shared"),
        &format!(
            "per query class, layout {}: {MEASURED} alone vs {MEASURED} among {TENANTS} tenants \
             (column: keys interleaved; tenant-first: the same keys), both through the tenant \
             connection",
            layout_name(layout)
        ),
    );
}
