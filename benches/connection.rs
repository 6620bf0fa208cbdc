//! What the tenant connection costs an application, against plain rusqlite.
//!
//! The point-of-sale application's typical statements (`tenantry_fixtures::catalogue`), run
//! two ways in one run:
//!
//! - `plain`: rusqlite's `Connection` on the pre-migration `typical` fixture, each statement
//!   exactly as the legacy application sends it;
//! - `scoped`: `tenantry_sqlite::Connection` with tenant `caps-automotive` on a migrated copy
//!   of the same fixture, the same statements (rewritten and guarded by the connection).
//!
//! Both sides use `prepare_cached` (a warm statement cache, as an application has), the same
//! parameters (drawn once per statement with `tenantry_fixtures::sample_params` from the
//! pre-migration copy), WAL mode and `PRAGMA foreign_keys = ON` (so `delete_work_order`
//! cascades to its lines, as the application's schema intends), and read every column of
//! every row a query returns. Plain gets the settings the tenant connection turns on (the
//! query planner stability guarantee, a 512-statement cache: `support::open_plain`), so
//! the difference is the isolation's alone.
//!
//! Every catalogue statement is measured. Any statement the tenant connection refused would
//! be left out (printed at start-up, with the error, marked UNEXPECTED).
//!
//! Writes: one iteration of a write class is `BEGIN DEFERRED`, every statement of the
//! class, `ROLLBACK` — on both sides identically (rusqlite's `Transaction` and
//! tenantry's, which send the same two statements), so the database never drifts and the
//! sampled "fresh" values (new ids) stay fresh. The BEGIN / ROLLBACK pair is part of what is
//! measured on both sides.
//!
//! Two parts:
//!
//! 1. Per query class, criterion groups `plain/<class>` and `scoped/<class>`: one iteration
//!    runs every statement of the class once. A table of medians and the overhead
//!    (scoped ÷ plain − 1) follows criterion's output. The requirement is at most 10% per
//!    class; the goal is 3% or less.
//! 2. Throughput: a fixed mix of reads (the point lookups and joins above, round-robin) run
//!    by 1, 8, 32 and 128 threads for a fixed number of operations in all. Each operation is
//!    one request: take a connection from a pool of 8, (scoped: set the tenant,) run one
//!    statement, give the connection back. `plain` uses a small pool of rusqlite connections
//!    (a channel of connections, WAL, busy timeout 5 s, as `tenantry_sqlite::pool::Manager`
//!    opens them); `scoped` uses `tenantry_sqlite::pool::Pool` with `max_size` 8. Rounds
//!    alternate plain and scoped; the median round is reported.
//! 3. The shared plan cache under 1, 8, 32 and 128 threads, each with its own tenant
//!    connection (see `plan_cache`).
//!
//! Between the two, a quick per-statement look (median of up to 200 runs, not criterion)
//! splits the overhead: plain; the rewriter's output run by plain rusqlite on the migrated
//! copy without the tenant connection's settings (what SQLite pays for the scoped text); the
//! tenant connection (the difference is the connection's own work, and its plans without
//! bound values). Skip it with `TENANTRY_BENCH_PER_STATEMENT=0`.
//!
//! `TENANTRY_BENCH_UNCACHED=1` adds part 1 again with the statements not cached, as most
//! legacy code runs them: `prepare` for each read, `execute` for each write (groups
//! `plain-uncached/<class>` and `scoped-uncached/<class>`).
//!
//! Run: `cargo bench --bench connection` (about 14 minutes on 2 cores; the first run also
//! generates the typical fixture, once, into `target/tenantry-bench/connection/`; every run
//! migrates a fresh copy). Longer throughput runs:
//! `TENANTRY_BENCH_OPS=200000 TENANTRY_BENCH_ROUNDS=5 cargo bench --bench connection`;
//! other thread counts: `TENANTRY_BENCH_THREADS=1,2,4,8`; throughput only or not at all:
//! `TENANTRY_BENCH_THROUGHPUT=only` / `=0`, the cache part only: `=cache`
//! (`TENANTRY_BENCH_CACHE_SWITCH=0` keeps one tenant). Criterion's filter arguments apply to part 1
//! (`cargo bench --bench connection -- join`).

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tenantry_fixtures::QueryClass;
use tenantry_sqlite::pool::{Manager, Pool};

mod catalogue;
mod fixture;
mod load;
mod support;
mod typical;
use catalogue::{Case, Side, by_class, class_summary, per_class, run_case};
use load::{PlainPool, env_or, median, thread_counts, timed_run};
use support::{human, open_plain};
use typical::{Pair, TENANT};

/// Connections in each side's pool (the throughput part).
const POOL_SIZE: u32 = 8;

fn plain_op(pool: &PlainPool, case: &Case) {
    pool.with(|conn| {
        let mut stmt = conn.prepare_cached(case.query.sql).expect("prepare_cached");
        std::hint::black_box(run_case(&mut stmt, case).expect("run"));
    });
}

fn scoped_op(pool: &Pool, case: &Case) {
    let conn = pool.get().expect("pooled connection");
    conn.set_tenant(TENANT).expect("set tenant");
    let mut stmt = conn.prepare_cached(case.query.sql).expect("prepare_cached");
    std::hint::black_box(run_case(&mut stmt, case).expect("run"));
}

fn throughput(fx: &Pair, mix: &[&Case]) {
    let ops: usize = env_or("TENANTRY_BENCH_OPS", 10_000);
    let rounds: usize = env_or::<usize>("TENANTRY_BENCH_ROUNDS", 3).max(1);
    let thread_counts = thread_counts();

    let plain_pool = PlainPool::new(&fx.plain, POOL_SIZE);
    let scoped_pool = Pool::new(Manager::new(&fx.migrated), POOL_SIZE).expect("tenant pool");
    let plain = |i: usize| plain_op(&plain_pool, mix[i % mix.len()]);
    let scoped = |i: usize| scoped_op(&scoped_pool, mix[i % mix.len()]);

    // Warm-up: every connection of both pools opened, its statement cache filled.
    let warm = mix.len() * POOL_SIZE as usize * 20;
    timed_run(POOL_SIZE as usize * 2, warm, &plain);
    timed_run(POOL_SIZE as usize * 2, warm, &scoped);
    let state = scoped_pool.r2d2().state();
    eprintln!(
        "\nthroughput: {} statements in the mix, {ops} operations per run, {rounds} rounds \
         (median shown), pools of {POOL_SIZE}; tenant pool holds {} connections after warm-up",
        mix.len(),
        state.connections
    );
    eprintln!(
        "{:>8} {:>14} {:>14} {:>10}",
        "threads", "plain ops/s", "scoped ops/s", "overhead"
    );
    for &threads in &thread_counts {
        let mut p = Vec::new();
        let mut s = Vec::new();
        for _ in 0..rounds {
            p.push(timed_run(threads, ops, &plain));
            s.push(timed_run(threads, ops, &scoped));
        }
        let (p, s) = (median(&mut p), median(&mut s));
        eprintln!(
            "{threads:>8} {p:>14.0} {s:>14.0} {:>+9.1}%",
            // Time per operation, scoped ÷ plain − 1: comparable with the class overheads.
            (p / s - 1.0) * 100.0
        );
    }
    eprintln!("overhead = time per operation, scoped vs plain (plain ops/s ÷ scoped ops/s − 1)");
}

/// The shared plan cache under threads: each thread holds its own tenant connection, all
/// sharing one [`SharedPlans`] (as a pool's do), and each operation switches tenant (one of
/// four) and asks for a cached statement. A tenant switch misses the connection's render
/// memo, so every operation looks the plan up in the shared cache and renders it; the
/// statement itself comes from rusqlite's cache (nothing is prepared or run). With lock
/// contention, operations per second would fall as threads are added; on 2 cores, the
/// most they can do is rise towards twice the one-thread figure.
fn plan_cache(fx: &Pair, mix: &[&Case]) {
    const TENANTS: [&str; 4] = ["caps-automotive", "store-2", "store-3", "store-4"];
    let ops: usize = env_or("TENANTRY_BENCH_OPS", 10_000) * 10;
    let rounds: usize = env_or::<usize>("TENANTRY_BENCH_ROUNDS", 3).max(1);
    let thread_counts = thread_counts();
    let plans = tenantry_sqlite::SharedPlans::default();
    // `TENANTRY_BENCH_CACHE_SWITCH=0` keeps one tenant: the render memo answers and the
    // shared cache is not consulted, which separates the cache from everything else.
    let switch: usize = env_or("TENANTRY_BENCH_CACHE_SWITCH", 1).min(1);
    eprintln!(
        "\nshared plan cache: {} statements x {} tenants, {ops} operations per run, {rounds} \
         rounds (median shown); one connection per thread",
        mix.len(),
        TENANTS.len()
    );
    eprintln!("{:>8} {:>14} {:>14}", "threads", "ops/s", "ns/op");
    for &threads in &thread_counts {
        let mut results = Vec::new();
        for _ in 0..rounds {
            let next = AtomicUsize::new(0);
            let barrier = Barrier::new(threads + 1);
            let started = std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        let raw = rusqlite::Connection::open(&fx.migrated).expect("open");
                        let conn = tenantry_sqlite::Connection::wrap_shared(
                            raw,
                            tenantry_sqlite::DEFAULT_TENANT_COLUMN,
                            plans.clone(),
                        )
                        .expect("tenant connection");
                        // Warm: every statement prepared for every tenant.
                        for tenant in TENANTS {
                            conn.set_tenant(tenant).expect("tenant");
                            for case in mix {
                                drop(conn.prepare_cached(case.query.sql).expect("prepare"));
                            }
                        }
                        barrier.wait();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= ops {
                                break;
                            }
                            conn.set_tenant(TENANTS[(i % TENANTS.len()) * switch])
                                .expect("tenant");
                            let sql = mix[(i / TENANTS.len()) % mix.len()].query.sql;
                            std::hint::black_box(conn.prepare_cached(sql).expect("prepare"));
                        }
                    });
                }
                barrier.wait();
                Instant::now()
            });
            results.push(ops as f64 / started.elapsed().as_secs_f64());
        }
        let per_second = median(&mut results);
        eprintln!(
            "{threads:>8} {per_second:>14.0} {:>14.0}",
            1e9 / per_second * threads.min(2) as f64
        );
    }
    eprintln!("ns/op: time per operation on one core (2 cores shared by the threads)");
}

/// Runs `sql` once with `case`'s parameters (a write inside a transaction rolled back).
fn once<S: Side>(conn: &mut S, sql: &str, case: &Case) {
    let body = |c: &S| {
        let mut stmt = c.cached(sql).expect("prepare_cached");
        std::hint::black_box(run_case(&mut stmt, case).expect("run"));
    };
    if case.query.class.is_read_only() {
        body(conn);
    } else {
        conn.rolled_back(body);
    }
}

/// How often SQLite re-prepared the cached statement for `sql` since the last call
/// (`sqlite3_stmt_status(SQLITE_STMTSTATUS_REPREPARE)`, reset on reading).
fn reprepares<S: Side>(conn: &S, sql: &str) -> i32 {
    let stmt = conn.cached(sql).expect("prepare_cached");
    stmt.reset_status(rusqlite::StatementStatus::RePrepare)
}

/// One statement's quick look: the median of up to 200 runs (at most about 0.3 s of
/// them) after 3 unmeasured ones, and how many of the measured runs SQLite re-prepared the
/// statement in.
struct Quick {
    median_ns: f64,
    reprepared: f64,
}

fn quick_median_ns<S: Side>(conn: &mut S, sql: &str, case: &Case) -> Quick {
    for _ in 0..3 {
        once(conn, sql, case);
    }
    reprepares(conn, sql);
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < 200 && (times.len() < 5 || started.elapsed() < Duration::from_millis(300)) {
        let t = Instant::now();
        once(conn, sql, case);
        times.push(t.elapsed().as_nanos() as f64);
    }
    let runs = times.len() as f64;
    Quick {
        median_ns: median(&mut times),
        reprepared: f64::from(reprepares(conn, sql)) / runs,
    }
}

/// Per statement (a quick look, not criterion): plain; the rewriter's output run by plain
/// rusqlite on the migrated copy (what SQLite itself pays for the scoping); the tenant
/// connection. `sqlite` = rewritten − plain, `connection` = scoped − rewritten (the
/// connection's own work: plan cache, rendering, schema-version check, span, guard).
fn per_statement(
    fx: &Pair,
    cases: &[Case],
    plain: &mut rusqlite::Connection,
    scoped: &mut tenantry_sqlite::Connection,
) {
    let mut migrated = open_plain(&fx.migrated);
    migrated
        .execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    let schema = tenantry_sqlite::schema::load(&migrated, tenantry_migrate::DEFAULT_COLUMN)
        .expect("schema of the migrated fixture");
    let rewriter = tenantry_rewrite::Rewriter::new(schema);
    let tenant = tenantry_sqlite::TenantId::new(TENANT).expect("tenant id");
    eprintln!("\nper statement, median of up to 200 runs (writes include BEGIN/ROLLBACK)");
    eprintln!(
        "{:<30} {:<13} {:>11} {:>11} {:>11} {:>9} {:>11} {:>14}",
        "statement",
        "class",
        "plain",
        "rewritten",
        "scoped",
        "sqlite",
        "connection",
        "reprepares p/r/s"
    );
    for class in QueryClass::ALL {
        for case in cases.iter().filter(|c| c.query.class == class) {
            let sql = case.query.sql;
            let rewritten = rewriter
                .rewrite(sql, &tenant)
                .expect("accepted by the connection")
                .into_sql();
            let p = quick_median_ns(plain, sql, case);
            let r = quick_median_ns(&mut migrated, &rewritten, case);
            let s = quick_median_ns(scoped, sql, case);
            eprintln!(
                "{:<30} {:<13} {:>11} {:>11} {:>11} {:>+8.1}% {:>11} {:>4.1}/{:.1}/{:.1}",
                case.query.name,
                class.as_str(),
                human(p.median_ns),
                human(r.median_ns),
                human(s.median_ns),
                (r.median_ns / p.median_ns - 1.0) * 100.0,
                human(s.median_ns - r.median_ns),
                p.reprepared,
                r.reprepared,
                s.reprepared,
            );
        }
    }
    eprintln!(
        "reprepares p/r/s: how many times per run SQLite re-prepared the statement \
         (SQLITE_STMTSTATUS_REPREPARE) on the plain, rewritten and scoped sides"
    );
}

fn main() {
    let started = SystemTime::now();
    let mode = std::env::var("TENANTRY_BENCH_THROUGHPUT").unwrap_or_default();
    let fx = typical::pair("connection", tenantry_migrate::Layout::default());
    let (mut plain, mut scoped) = typical::open_pair(&fx.plain, &fx.migrated, TENANT);
    let cases = typical::cases(&mut plain, &mut scoped);

    let by_class = by_class(&cases);

    if mode != "only" && mode != "cache" {
        per_class(("plain", &mut plain), ("scoped", &mut scoped), &by_class);
        class_summary(
            &by_class,
            started,
            ("plain", "scoped"),
            "per query class: plain rusqlite (pre-migration) vs tenant connection (migrated)",
        );
        if std::env::var("TENANTRY_BENCH_UNCACHED").as_deref() == Ok("1") {
            catalogue::per_class_with(
                ("plain-uncached", &mut plain),
                ("scoped-uncached", &mut scoped),
                &by_class,
                catalogue::Caching::Uncached,
            );
            class_summary(
                &by_class,
                started,
                ("plain-uncached", "scoped-uncached"),
                "per query class, statements not cached (prepare for each read, execute for each write)",
            );
        }
        if std::env::var("TENANTRY_BENCH_PER_STATEMENT").as_deref() != Ok("0") {
            per_statement(&fx, &cases, &mut plain, &mut scoped);
        }
    }
    drop((plain, scoped));
    if mode != "0" {
        let mix: Vec<&Case> = cases
            .iter()
            .filter(|c| matches!(c.query.class, QueryClass::PointLookup | QueryClass::Join))
            .collect();
        if mode != "cache" {
            throughput(&fx, &mix);
        }
        plan_cache(&fx, &mix);
    }
}
