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
//! `TENANTRY_BENCH_COMMITTED=N` times the catalogue's INSERTs as a live tenant makes
//! them instead: each committed on its own, with parameters sampled again before each
//! (so a unique key is always fresh), `N` per side in each of 5 rounds, the sides in
//! turn (see `committed`). `TENANTRY_BENCH_SYNCHRONOUS=off|normal|full` sets
//! `PRAGMA synchronous` on both sides (default: SQLite's, `full`), to take the disk's
//! sync out of a committed insert. `TENANTRY_BENCH_KEYS=random` gives each fresh text key
//! (the catalogue's `bench-N`) a random UUID instead, as the application's own ids are:
//! rows then go anywhere in the tenant's range rather than after its last one.
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
    if let Ok(mode) = std::env::var("TENANTRY_BENCH_SYNCHRONOUS") {
        assert!(
            ["off", "normal", "full"].contains(&mode.as_str()),
            "TENANTRY_BENCH_SYNCHRONOUS=off|normal|full"
        );
        conn.execute_batch(&format!("PRAGMA synchronous = {mode}"))
            .expect("synchronous");
    }
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
/// sides before anything is measured, with parameters sampled again through the side's
/// connection before each (so a row that takes a unique key gets the next fresh one), so
/// the measured tenant's pages have the room a live database's have: a `VACUUM`ed page is
/// full, and a clustered table's insert inside the tree splits it on every rolled-back
/// iteration (the worst case, measured without this). The INSERTs' parameters are then
/// sampled again, so their keys are fresh on both sides (the same on both: each side's
/// tenant holds the same rows).
fn settle(sides: [&tenantry_sqlite::Connection; 2], cases: &mut [Case], runs: usize) {
    let inserts = |c: &&mut Case| c.query.class == QueryClass::Insert;
    for conn in sides {
        for case in cases.iter_mut().filter(inserts) {
            for _ in 0..runs {
                let params = scoped_sample(conn, case.query);
                conn.execute(case.query.sql, rusqlite::params_from_iter(params.iter()))
                    .expect("a settling insert");
            }
        }
    }
    for case in cases.iter_mut().filter(inserts) {
        let [own, shared] = sides.map(|conn| scoped_sample(conn, case.query));
        assert_eq!(
            own, shared,
            "{}: both sides sample the same",
            case.query.name
        );
        case.params = own;
    }
}

/// `TENANTRY_BENCH_PER_STATEMENT=1`: each statement alone, both sides alternately, the
/// median of 31 rounds of as many runs as fit in 20 ms (which statements make a class's
/// cost), then each class as the sum of its statements' medians: what one run of the
/// class costs, steadier than criterion's class groups on a shared machine.
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
    let mut classes: Vec<(tenantry_fixtures::QueryClass, f64, f64)> = Vec::new();
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
        match classes.iter_mut().find(|(c, ..)| *c == case.query.class) {
            Some((_, own, shared)) => {
                *own += a;
                *shared += b;
            }
            None => classes.push((case.query.class, a, b)),
        }
    }
    eprintln!(
        "\n{:<32} {:>12} {:>12} {:>9}",
        "class (sum of medians)", "own µs", "shared µs", "cost"
    );
    for (class, a, b) in classes {
        eprintln!(
            "{:<32} {a:>12.1} {b:>12.1} {:>+8.1}%",
            class.as_str(),
            100.0 * (b / a - 1.0)
        );
    }
    eprintln!(
        "(writes rolled back: every run of an INSERT splits the same packed page again; \
         TENANTRY_BENCH_COMMITTED=N times inserts as a live tenant makes them)"
    );
}

/// Parameters for `query` sampled through the measured tenant's connection: the sampling
/// statement sees only that tenant's rows on either side, so a fresh key (one more than
/// the tenant's row count) is fresh on both.
fn scoped_sample(
    conn: &tenantry_sqlite::Connection,
    query: &tenantry_fixtures::Query,
) -> Vec<rusqlite::types::Value> {
    let Some(sql) = query.sample_params else {
        return Vec::new();
    };
    let mut stmt = conn.prepare(sql).expect("prepare the sampling statement");
    tenantry_fixtures::sample_row(&mut stmt).expect("sample parameters")
}

/// A random UUID-shaped text (xorshift; the same sequence every run).
fn uuid(state: &mut u64) -> String {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// `TENANTRY_BENCH_COMMITTED=N`: the catalogue's INSERTs as a live tenant makes them:
/// each one committed on its own (autocommit), `runs` in a row per side, the two sides in
/// turn for 5 rounds, on copies of the databases. Parameters are sampled again through the
/// side's own connection before each insert (outside the timing): a statement whose
/// row takes a unique key gets the next fresh key each time, so the tree takes the rows
/// one after another, splitting pages as it must, instead of splitting the same page on
/// every rolled-back iteration. Reports the median and the mean per insert (the mean
/// includes the page splits).
fn committed(
    own: &tenantry_sqlite::Connection,
    shared: &tenantry_sqlite::Connection,
    cases: &[Case],
    runs: usize,
) {
    let random_keys = match std::env::var("TENANTRY_BENCH_KEYS").as_deref() {
        Ok("random") => true,
        Ok("sequential") | Err(_) => false,
        Ok(other) => panic!("TENANTRY_BENCH_KEYS=random|sequential, not {other}"),
    };
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut time = |conn: &tenantry_sqlite::Connection, case: &Case, out: &mut Vec<f64>| {
        for _ in 0..runs {
            let mut params = scoped_sample(conn, case.query);
            if random_keys {
                for value in &mut params {
                    if matches!(value, rusqlite::types::Value::Text(t) if t.starts_with("bench-")) {
                        *value = rusqlite::types::Value::Text(uuid(&mut seed));
                    }
                }
            }
            let mut stmt = conn.cached(case.query.sql).expect("prepare_cached");
            let started = Instant::now();
            stmt.execute(rusqlite::params_from_iter(params.iter()))
                .expect("a committed insert");
            out.push(started.elapsed().as_secs_f64() * 1e6);
        }
    };
    let summary = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v[v.len() / 2], mean)
    };
    eprintln!(
        "committed inserts, {runs} × 5 per side; {MEASURED} alone vs among {TENANTS} tenants; µs per insert"
    );
    eprintln!(
        "{:<32} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8}",
        "statement", "own med", "shared med", "cost", "own mean", "shared mean", "cost"
    );
    let (mut own_all, mut shared_all) = (Vec::new(), Vec::new());
    for case in cases.iter().filter(|c| c.query.class == QueryClass::Insert) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            time(own, case, &mut a);
            time(shared, case, &mut b);
        }
        own_all.extend_from_slice(&a);
        shared_all.extend_from_slice(&b);
        let ((am, aa), (bm, ba)) = (summary(a), summary(b));
        eprintln!(
            "{:<32} {am:>10.1} {bm:>10.1} {:>+7.1}% {aa:>10.1} {ba:>10.1} {:>+7.1}%",
            case.query.name,
            100.0 * (bm / am - 1.0),
            100.0 * (ba / aa - 1.0)
        );
    }
    let ((am, aa), (bm, ba)) = (summary(own_all), summary(shared_all));
    eprintln!(
        "{:<32} {am:>10.1} {bm:>10.1} {:>+7.1}% {aa:>10.1} {ba:>10.1} {:>+7.1}%",
        "all inserts",
        100.0 * (bm / am - 1.0),
        100.0 * (ba / aa - 1.0)
    );
}

fn main() {
    let started = SystemTime::now();
    let layout = fixture::layout_from_env(Layout::TenantFirst);
    let mut dbs = databases(layout);
    let settle_runs = std::env::var("TENANTRY_BENCH_SETTLE").ok().map(|runs| {
        runs.parse::<usize>()
            .expect("TENANTRY_BENCH_SETTLE=N: a number of runs")
    });
    let committed_runs = std::env::var("TENANTRY_BENCH_COMMITTED").ok().map(|runs| {
        runs.parse::<usize>()
            .expect("TENANTRY_BENCH_COMMITTED=N: a number of inserts")
    });
    // Committed writes: on copies, so the built databases stay as they are.
    let _copies = settle_runs.or(committed_runs).map(|_| {
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
    let mut cases = cases(&dbs.own, &mut own, &mut shared);
    if let Some(runs) = settle_runs {
        settle([&own, &shared], &mut cases, runs);
    }
    if let Some(runs) = committed_runs {
        committed(&own, &shared, &cases, runs);
        return;
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
