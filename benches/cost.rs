//! What isolation costs, in one table: the tenant connection against plain rusqlite, in
//! every scenario of issue 13, in one run on one machine.
//!
//! Plain rusqlite always gets the settings the tenant connection turns on (the query
//! planner stability guarantee, a 512-statement cache: `support::open_plain`), so a
//! setting cannot hide the cost of isolation; what those settings give plain rusqlite
//! itself is its own line. Both sides run the point-of-sale catalogue
//! (`tenantry_fixtures::catalogue`) with the same parameters (sampled from the plain side's
//! rows), WAL, foreign keys on, every column of every row read, writes inside a
//! transaction rolled back; the two sides' results are compared before anything is timed.
//!
//! 1. **cached**: the typical fixture right after migration (one tenant holds every row),
//!    statements from the statement cache (`prepare_cached`), against the pre-migration
//!    file.
//! 2. **not cached**: the same, with `prepare` for each read and `execute` for each write,
//!    as most legacy code runs them.
//! 3. **1 of 10 tenants**: tenant `t3` among ten tenants of equal size (the `small`
//!    fixture copied ten times, tenant-first, every tenant with the same keys; see
//!    `benches/tenants.rs`), against the pre-migration `small` fixture, which holds exactly
//!    `t3`'s rows (both `ANALYZE`d). Cached.
//! 4. **throughput**: the point lookups and joins round-robin, each operation one request
//!    (take a connection from a pool of 8, set the tenant, run one statement, give it
//!    back), at 1, 8, 32 and 128 threads: the tenant connection on the ten-tenant database
//!    with the tenant changing on every request (`t0` … `t9`, parameters from `t3`'s rows,
//!    which every tenant holds). Against plain rusqlite on `t3`'s rows alone (the file of
//!    scenario 3: each request does the same work on both sides; the goal applies), and,
//!    a line that only informs, on the pre-migration typical file (about as many rows in
//!    all, so each of its requests reads ten times a tenant's rows). Median of 3 rounds,
//!    sides alternating.
//! 5. **open**: open a connection, (set the tenant,) run one point lookup, close: plain on
//!    the pre-migration typical file; the tenant connection on its migrated copy, with the
//!    schema's rewriter kept by the process (every open after the first), and — a line of
//!    its own — with a schema the process has not seen.
//! 6. **rewrite**: `Rewriter::rewrite` of the whole catalogue (parse, analyse, splice,
//!    render; nothing cached), against `sqlparser`'s parse of the same statements.
//!
//! Scenarios 1, 2 and 3 give one line per query class (one iteration runs every statement
//! of the class once). Timing: the sides alternate in rounds (31 by default), each round a
//! batch of iterations of at least 20 ms per side; the figure is the median time per
//! iteration, the ratio tenant ÷ plain. Goals (issue 13): ≤ 1.10 for every class of
//! scenarios 1–3 (aiming at 1.03), throughput at least 0.95× plain (time ratio ≤ 1.05),
//! open ≤ 1.5×, rewrite ≤ 1.5× parse.
//!
//! Run: `cargo bench --bench cost` (about five minutes on 2 cores once the fixtures exist;
//! the first run generates the typical fixture and builds the ten-tenant database, about
//! fifteen minutes more). `TENANTRY_BENCH_LAYOUT=tenant-first` migrates scenarios 1, 2 and
//! 5 tenant-first (default: the migrator's default, `column`); `TENANTRY_BENCH_ROUNDS`,
//! `TENANTRY_BENCH_OPS` (operations per throughput run, default 10,000) and
//! `TENANTRY_BENCH_THREADS` change the effort; `TENANTRY_BENCH_SCENARIOS=1,2` runs only those
//! (`settings` names the settings' line). The table goes to standard output, progress
//! to standard error.

use std::time::Instant;

use tenantry_fixtures::QueryClass;
use tenantry_migrate::Layout;
use tenantry_sqlite::pool::{Manager, Pool};

mod catalogue;
mod fixture;
mod load;
mod opening;
mod support;
mod tenancy;
mod typical;
use catalogue::{ByClass, Caching, Case, by_class, iteration_with, run_case};
use load::{PlainPool, env_or, median, thread_counts, timed_run};
use support::human;
use typical::{TENANT, open_pair};

/// Connections in each side's pool (scenario 4).
const POOL_SIZE: u32 = 8;

/// A scenario measured per query class.
struct Scenario {
    name: &'static str,
    caching: Caching,
    /// The largest ratio that meets the goal; none for a line that only informs.
    goal: Option<f64>,
}

const CACHED: Scenario = Scenario {
    name: "1. cached",
    caching: Caching::Cached,
    goal: Some(1.10),
};
const NOT_CACHED: Scenario = Scenario {
    name: "2. not cached",
    caching: Caching::Uncached,
    goal: Some(1.10),
};
const AMONG_TEN: Scenario = Scenario {
    name: "3. 1 of 10 tenants",
    caching: Caching::Cached,
    goal: Some(1.10),
};
/// What QPSG and the larger statement cache give plain rusqlite (no tenant involved):
/// plain with rusqlite's defaults against plain with the tenant connection's settings.
const SETTINGS: Scenario = Scenario {
    name: "settings: defaults ÷ tuned",
    caching: Caching::Cached,
    goal: None,
};

/// One line of the table.
struct Line {
    scenario: String,
    what: String,
    plain_ns: f64,
    tenant_ns: f64,
    /// The largest ratio tenant ÷ plain that meets the goal; none for a line that only
    /// informs.
    goal: Option<f64>,
}

/// Whether the scenario named `name` (its leading number, or `settings`) is to run:
/// `TENANTRY_BENCH_SCENARIOS`, or every one.
fn wanted(name: &str) -> bool {
    let Ok(list) = std::env::var("TENANTRY_BENCH_SCENARIOS") else {
        return true;
    };
    let key = name.split(['.', ':']).next().unwrap_or(name);
    list.split(',').any(|s| s.trim() == key)
}

/// Times `plain` and `tenant` alternately: `rounds` rounds, each a batch of as many runs
/// as fill about 20 ms (at least one) on each side, the side that goes first alternating.
/// Returns the median time per run of each, in nanoseconds.
fn compare(rounds: usize, mut plain: impl FnMut(), mut tenant: impl FnMut()) -> (f64, f64) {
    for _ in 0..3 {
        plain();
        tenant();
    }
    let started = Instant::now();
    plain();
    let one = started.elapsed().as_secs_f64();
    let batch = ((0.02 / one.max(1e-9)) as usize).clamp(1, 100_000);
    let time = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        for _ in 0..batch {
            f();
        }
        started.elapsed().as_nanos() as f64 / batch as f64
    };
    let (mut p, mut t) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            p.push(time(&mut plain));
            t.push(time(&mut tenant));
        } else {
            t.push(time(&mut tenant));
            p.push(time(&mut plain));
        }
    }
    (median(&mut p), median(&mut t))
}

/// One line per query class: an iteration of the class on each connection, prepared as
/// the scenario says.
fn per_class<A: catalogue::Side, B: catalogue::Side>(
    scenario: &Scenario,
    (plain, tenant): (&mut A, &mut B),
    by_class: &ByClass<'_>,
    rounds: usize,
) -> Vec<Line> {
    let caching = scenario.caching;
    if !wanted(scenario.name) {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for class in QueryClass::ALL.map(QueryClass::as_str) {
        let Some((writes, cases)) = by_class.get(class) else {
            continue;
        };
        let (p, t) = compare(
            rounds,
            || {
                std::hint::black_box(iteration_with(plain, cases, *writes, caching));
            },
            || {
                std::hint::black_box(iteration_with(tenant, cases, *writes, caching));
            },
        );
        eprintln!(
            "{:<28} {class:<13} {:>11} {:>11}",
            scenario.name,
            human(p),
            human(t)
        );
        lines.push(Line {
            scenario: scenario.name.to_owned(),
            what: format!("{class} ({})", cases.len()),
            plain_ns: p,
            tenant_ns: t,
            goal: scenario.goal,
        });
    }
    lines
}

/// Scenarios 1, 2, 5 and 6, and the settings' line: the typical fixture right after
/// migration. Also returns the fixture pair and the cases sampled from it.
fn single_tenant(layout: Layout, rounds: usize) -> (Vec<Line>, typical::Pair, Vec<Case>) {
    let pair = typical::pair("cost", layout);
    let (mut plain, mut tenant) = open_pair(&pair.plain, &pair.migrated, TENANT);
    let cases = typical::cases(&mut plain, &mut tenant);
    let by_class = by_class(&cases);
    let mut lines = per_class(&CACHED, (&mut plain, &mut tenant), &by_class, rounds);
    lines.extend(per_class(
        &NOT_CACHED,
        (&mut plain, &mut tenant),
        &by_class,
        rounds,
    ));
    let mut defaults = rusqlite::Connection::open(&pair.plain).expect("open plain");
    defaults
        .execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    lines.extend(per_class(
        &SETTINGS,
        (&mut plain, &mut defaults),
        &by_class,
        rounds,
    ));
    drop((plain, tenant, defaults));
    lines.extend(open(&pair, rounds));
    lines.extend(rewrite(&pair, &cases, rounds));
    (lines, pair, cases)
}

/// The statements of the throughput mix: point lookups and joins.
fn mix(cases: &[Case]) -> Vec<&Case> {
    cases
        .iter()
        .filter(|c| matches!(c.query.class, QueryClass::PointLookup | QueryClass::Join))
        .collect()
}

/// Scenario 3, the ten-tenant database against the one-tenant file, and 4, against the
/// typical file (`plain`, with `plain_cases` sampled from it).
fn ten_tenants(rounds: usize, plain_db: &std::path::Path, plain_cases: &[Case]) -> Vec<Line> {
    if !wanted("3") && !wanted("4") {
        return Vec::new();
    }
    let dbs = tenancy::databases(Layout::TenantFirst);
    let alone = tenancy::plain_alone();
    let (mut plain, mut tenant) = open_pair(&alone, &dbs.shared, tenancy::MEASURED);
    let cases = typical::cases(&mut plain, &mut tenant);
    let by_class = by_class(&cases);
    let mut lines = per_class(&AMONG_TEN, (&mut plain, &mut tenant), &by_class, rounds);
    drop((plain, tenant));
    let tenant_side = (dbs.shared.as_path(), mix(&cases));
    lines.extend(throughput(
        ("4. throughput, plain on t3 alone", Some(1.0 / 0.95)),
        (&alone, &mix(&cases)),
        (tenant_side.0, &tenant_side.1),
    ));
    lines.extend(throughput(
        ("4. throughput, plain on typical", None),
        (plain_db, &mix(plain_cases)),
        (tenant_side.0, &tenant_side.1),
    ));
    lines
}

/// Scenario 4: operations per second at each thread count, as time per operation.
fn throughput(
    (label, goal): (&str, Option<f64>),
    (plain_db, plain_mix): (&std::path::Path, &[&Case]),
    (shared, tenant_mix): (&std::path::Path, &[&Case]),
) -> Vec<Line> {
    if !wanted("4") {
        return Vec::new();
    }
    let ops: usize = env_or("TENANTRY_BENCH_OPS", 10_000);
    let tenants: Vec<String> = (0..tenancy::TENANTS).map(|t| format!("t{t}")).collect();
    let plain_pool = PlainPool::new(plain_db, POOL_SIZE);
    let tenant_pool = Pool::new(Manager::new(shared), POOL_SIZE).expect("tenant pool");
    let plain = |i: usize| {
        let case = plain_mix[i % plain_mix.len()];
        plain_pool.with(|conn| {
            let mut stmt = conn.prepare_cached(case.query.sql).expect("prepare_cached");
            std::hint::black_box(run_case(&mut stmt, case).expect("run"));
        });
    };
    let tenant = |i: usize| {
        let case = tenant_mix[i % tenant_mix.len()];
        let conn = tenant_pool.get().expect("pooled connection");
        conn.set_tenant(&tenants[(i / tenant_mix.len()) % tenants.len()])
            .expect("set tenant");
        let mut stmt = conn.prepare_cached(case.query.sql).expect("prepare_cached");
        std::hint::black_box(run_case(&mut stmt, case).expect("run"));
    };
    // Warm-up: every connection of both pools opened, its statement cache filled for
    // every tenant.
    let warm = tenant_mix.len() * tenants.len() * POOL_SIZE as usize * 4;
    timed_run(POOL_SIZE as usize * 2, warm, &plain);
    timed_run(POOL_SIZE as usize * 2, warm, &tenant);
    let mut lines = Vec::new();
    for threads in thread_counts() {
        let (mut p, mut t) = (Vec::new(), Vec::new());
        for round in 0..3 {
            if round % 2 == 0 {
                p.push(timed_run(threads, ops, &plain));
                t.push(timed_run(threads, ops, &tenant));
            } else {
                t.push(timed_run(threads, ops, &tenant));
                p.push(timed_run(threads, ops, &plain));
            }
        }
        let (p, t) = (median(&mut p), median(&mut t));
        eprintln!("{label} {threads:>4} threads {p:>10.0} {t:>10.0} ops/s");
        lines.push(Line {
            scenario: format!("{label} (time/op)"),
            what: format!("{threads} threads ({p:.0} vs {t:.0} ops/s)"),
            plain_ns: 1e9 / p,
            tenant_ns: 1e9 / t,
            goal,
        });
    }
    lines
}

/// Scenario 5: open, one point lookup, close.
fn open(pair: &typical::Pair, rounds: usize) -> Vec<Line> {
    if !wanted("5") {
        return Vec::new();
    }
    let plain = || opening::plain(&pair.plain);
    let warm = || opening::scoped(tenantry_sqlite::Connection::open(&pair.migrated).expect("open"));
    let (p, t) = compare(rounds, plain, warm);
    eprintln!(
        "5. open                       {:>11} {:>11}",
        human(p),
        human(t)
    );
    let mut fresh = 0usize;
    let cold = || {
        fresh += 1;
        opening::scoped(opening::cold(&pair.migrated, fresh));
    };
    let (pc, c) = compare(rounds, plain, cold);
    eprintln!(
        "5. open, schema not seen      {:>11} {:>11}",
        human(pc),
        human(c)
    );
    vec![
        Line {
            scenario: "5. open + lookup".to_owned(),
            what: "schema seen before".to_owned(),
            plain_ns: p,
            tenant_ns: t,
            goal: Some(1.5),
        },
        Line {
            scenario: "5. open + lookup".to_owned(),
            what: "first open of a schema".to_owned(),
            plain_ns: pc,
            tenant_ns: c,
            goal: None,
        },
    ]
}

/// Scenario 6: the whole catalogue rewritten, against parsed.
fn rewrite(pair: &typical::Pair, cases: &[Case], rounds: usize) -> Vec<Line> {
    if !wanted("6") {
        return Vec::new();
    }
    let conn = rusqlite::Connection::open(&pair.migrated).expect("open migrated");
    let schema = tenantry_sqlite::schema::load(&conn, tenantry_migrate::DEFAULT_COLUMN)
        .expect("schema of the migrated fixture");
    let rewriter = tenantry_rewrite::Rewriter::new(schema);
    let tenant = tenantry_sqlite::TenantId::new(TENANT).expect("tenant id");
    let dialect = sqlparser::dialect::SQLiteDialect {};
    let parse = || {
        for case in cases {
            let parsed = sqlparser::parser::Parser::parse_sql(&dialect, case.query.sql);
            std::hint::black_box(parsed.expect("parse"));
        }
    };
    let scope = || {
        for case in cases {
            let out = rewriter.rewrite(case.query.sql, &tenant);
            std::hint::black_box(out.expect("rewrite"));
        }
    };
    let (p, r) = compare(rounds, parse, scope);
    eprintln!(
        "6. rewrite vs parse           {:>11} {:>11}",
        human(p),
        human(r)
    );
    vec![Line {
        scenario: "6. rewrite ÷ parse".to_owned(),
        what: format!("catalogue ({} statements)", cases.len()),
        plain_ns: p,
        tenant_ns: r,
        goal: Some(1.5),
    }]
}

fn print(lines: &[Line], layout: Layout) {
    println!(
        "\nIsolation cost, tenant connection ÷ plain rusqlite (same settings), medians, {}; \
         scenarios 1, 2, 5, 6 on the typical fixture ({layout:?}); 3 and 4: the tenant \
         connection on ten tenants (tenant-first), plain on t3's rows alone (3, 4) and on \
         the typical fixture (4, informs)",
        support::machine()
    );
    println!(
        "| scenario | class / case | plain | tenant | ratio | goal |\n|---|---|---:|---:|---:|---|"
    );
    for line in lines {
        let ratio = line.tenant_ns / line.plain_ns;
        let verdict = match line.goal {
            None => "(informs)".to_owned(),
            Some(goal) if ratio <= goal => format!("met (≤ {goal:.2})"),
            Some(goal) => format!("NOT MET (> {goal:.2})"),
        };
        println!(
            "| {} | {} | {} | {} | {ratio:.2} | {verdict} |",
            line.scenario,
            line.what,
            human(line.plain_ns),
            human(line.tenant_ns),
        );
    }
}

fn main() {
    let rounds: usize = env_or::<usize>("TENANTRY_BENCH_ROUNDS", 31).max(1);
    let layout = fixture::layout_from_env(Layout::default());
    eprintln!(
        "{:<28} {:<13} {:>11} {:>11}",
        "scenario", "class", "plain", "tenant"
    );
    let (mut lines, pair, cases) = single_tenant(layout, rounds);
    lines.extend(ten_tenants(rounds, &pair.plain, &cases));
    // Scenarios in order, then the lines that only inform (stable: classes keep theirs).
    lines.sort_by_key(|l| {
        l.scenario
            .chars()
            .next()
            .filter(char::is_ascii_digit)
            .unwrap_or('~')
    });
    print(&lines, layout);
}
