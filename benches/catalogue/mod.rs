//! Running the point-of-sale application's catalogue of statements (by query class) on
//! two connections, the way the benchmarks that compare them share: a statement with its
//! parameters ([`Case`]), what both kinds of connection offer ([`Side`]), one iteration of
//! a class, criterion groups per class, and the summary table.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use rusqlite::types::Value;
use rusqlite::{CachedStatement, params_from_iter};
use tenantry_fixtures::{Query, QueryClass};

use crate::support::{criterion_dir, human, median_ns};

/// The cases by class (`QueryClass::as_str`): whether the class writes, and its cases.
pub type ByClass<'c> = BTreeMap<&'static str, (bool, Vec<&'c Case>)>;

/// One catalogue statement with its parameters.
pub struct Case {
    /// The statement.
    pub query: &'static Query,
    /// Its parameters.
    pub params: Vec<Value>,
}

/// What both connections offer the bench: a cached statement, and a transaction rolled back.
pub trait Side {
    fn cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>>;
    /// `prepare`: a statement prepared for this call only.
    fn fresh(&self, sql: &str) -> rusqlite::Result<rusqlite::Statement<'_>>;
    /// `execute`, as legacy code calls it.
    fn execute_now(&self, sql: &str, params: &[Value]) -> rusqlite::Result<usize>;
    /// `BEGIN DEFERRED`, `f`, `ROLLBACK`.
    fn rolled_back<T>(&mut self, f: impl FnOnce(&Self) -> T) -> T;
}

impl Side for rusqlite::Connection {
    fn cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        self.prepare_cached(sql)
    }

    fn fresh(&self, sql: &str) -> rusqlite::Result<rusqlite::Statement<'_>> {
        self.prepare(sql)
    }

    fn execute_now(&self, sql: &str, params: &[Value]) -> rusqlite::Result<usize> {
        self.execute(sql, params_from_iter(params.iter()))
    }

    fn rolled_back<T>(&mut self, f: impl FnOnce(&Self) -> T) -> T {
        let tx = self.transaction().expect("BEGIN");
        let out = f(&tx);
        tx.rollback().expect("ROLLBACK");
        out
    }
}

impl Side for tenantry_sqlite::Connection {
    fn cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        self.prepare_cached(sql)
    }

    fn fresh(&self, sql: &str) -> rusqlite::Result<rusqlite::Statement<'_>> {
        self.prepare(sql)
    }

    fn execute_now(&self, sql: &str, params: &[Value]) -> rusqlite::Result<usize> {
        self.execute(sql, params_from_iter(params.iter()))
    }

    fn rolled_back<T>(&mut self, f: impl FnOnce(&Self) -> T) -> T {
        let tx = self.transaction().expect("BEGIN");
        let out = f(&tx);
        tx.rollback().expect("ROLLBACK");
        out
    }
}

/// Runs one statement: a read reads every column of every row (the number of rows is
/// returned), a write returns the rows changed.
pub fn run_case(stmt: &mut rusqlite::Statement<'_>, case: &Case) -> rusqlite::Result<usize> {
    let params = params_from_iter(case.params.iter());
    if case.query.class.is_read_only() {
        let columns = stmt.column_count();
        let mut rows = stmt.query(params)?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            for i in 0..columns {
                std::hint::black_box(row.get_ref(i)?);
            }
            n += 1;
        }
        Ok(n)
    } else {
        stmt.execute(params)
    }
}

/// How the statements of an iteration are prepared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// `prepare_cached` (a warm statement cache, as an application that caches has).
    Cached,
    /// As most legacy code does: `prepare` for each read, `execute` for each write.
    #[allow(
        dead_code,
        reason = "the tenants bench measures cached statements only"
    )]
    Uncached,
}

/// One iteration of a class: every statement once, prepared as `caching` says (writes
/// inside a transaction rolled back).
pub fn iteration_with<S: Side>(
    conn: &mut S,
    cases: &[&Case],
    writes: bool,
    caching: Caching,
) -> usize {
    let body = |conn: &S| {
        let mut total = 0;
        for case in cases {
            total += match caching {
                Caching::Cached => {
                    let mut stmt = conn.cached(case.query.sql).expect("prepare_cached");
                    run_case(&mut stmt, case).expect("run")
                }
                Caching::Uncached if case.query.class.is_read_only() => {
                    let mut stmt = conn.fresh(case.query.sql).expect("prepare");
                    run_case(&mut stmt, case).expect("run")
                }
                Caching::Uncached => conn
                    .execute_now(case.query.sql, &case.params)
                    .expect("execute"),
            };
        }
        total
    };
    if writes {
        conn.rolled_back(body)
    } else {
        body(conn)
    }
}

/// The result of a statement, for comparing the two sides: every value of every row of a
/// read, the rows changed by a write.
pub fn outcome<S: Side>(conn: &S, case: &Case) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.cached(case.query.sql)?;
    let params = params_from_iter(case.params.iter());
    if case.query.class.is_read_only() {
        let columns = stmt.column_count();
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            for i in 0..columns {
                out.push(row.get::<_, Value>(i)?);
            }
        }
        Ok(out)
    } else {
        Ok(vec![Value::Integer(stmt.execute(params)? as i64)])
    }
}

/// The cases grouped by class, each class's statement names printed.
pub fn by_class(cases: &[Case]) -> ByClass<'_> {
    let mut by_class: ByClass<'_> = BTreeMap::new();
    for case in cases {
        let entry = by_class
            .entry(case.query.class.as_str())
            .or_insert_with(|| (!case.query.class.is_read_only(), Vec::new()));
        entry.1.push(case);
    }
    for (class, (_, cases)) in &by_class {
        let names: Vec<&str> = cases.iter().map(|c| c.query.name).collect();
        eprintln!("{class}: {}", names.join(", "));
    }
    by_class
}

#[allow(dead_code, reason = "the cost bench times without criterion")]
fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2));
}

/// Criterion groups `<a's label>/<class>` and `<b's label>/<class>` (criterion's filter
/// arguments apply): one iteration runs every statement of the class once, on each side in
/// turn.
#[allow(dead_code, reason = "the cost bench times without criterion")]
pub fn per_class<A: Side, B: Side>(
    (label_a, a): (&str, &mut A),
    (label_b, b): (&str, &mut B),
    by_class: &ByClass<'_>,
) {
    per_class_with((label_a, a), (label_b, b), by_class, Caching::Cached);
}

/// [`per_class`], the statements prepared as `caching` says.
#[allow(dead_code, reason = "the cost bench times without criterion")]
pub fn per_class_with<A: Side, B: Side>(
    (label_a, a): (&str, &mut A),
    (label_b, b): (&str, &mut B),
    by_class: &ByClass<'_>,
    caching: Caching,
) {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    for (class, (writes, cases)) in by_class {
        let mut group = c.benchmark_group(label_a);
        configure(&mut group);
        group.bench_function(*class, |bench| {
            bench.iter(|| iteration_with(a, cases, *writes, caching));
        });
        group.finish();
        let mut group = c.benchmark_group(label_b);
        configure(&mut group);
        group.bench_function(*class, |bench| {
            bench.iter(|| iteration_with(b, cases, *writes, caching));
        });
        group.finish();
    }
    c.final_summary();
}

/// Prints the medians of [`per_class`]'s groups side by side, with b's overhead over a
/// and the verdict against the requirement (10%) and the goal (3%).
#[allow(dead_code, reason = "the cost bench times without criterion")]
pub fn class_summary(
    by_class: &ByClass<'_>,
    since: SystemTime,
    (label_a, label_b): (&str, &str),
    title: &str,
) {
    eprintln!("\n{title}");
    eprintln!("criterion medians per iteration (every statement of the class once)");
    eprintln!(
        "{:<14} {:>10} {:>12} {:>12} {:>10}  verdict",
        "class", "statements", label_a, label_b, "overhead"
    );
    for class in QueryClass::ALL.map(QueryClass::as_str) {
        let Some((_, cases)) = by_class.get(class) else {
            continue;
        };
        let plain = median_ns(label_a, class, since);
        let scoped = median_ns(label_b, class, since);
        let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), human);
        let (overhead, verdict) = match (plain, scoped) {
            (Some(p), Some(s)) if p > 0.0 => {
                let pct = (s / p - 1.0) * 100.0;
                let verdict = if pct <= 3.0 {
                    "goal met (<= 3%)"
                } else if pct <= 10.0 {
                    "within requirement (<= 10%), above goal"
                } else {
                    "ABOVE REQUIREMENT (> 10%)"
                };
                (format!("{pct:+.1}%"), verdict)
            }
            _ => ("-".to_owned(), "not measured in this run"),
        };
        eprintln!(
            "{class:<14} {:>10} {:>12} {:>12} {overhead:>10}  {verdict}",
            cases.len(),
            show(plain),
            show(scoped)
        );
    }
}
