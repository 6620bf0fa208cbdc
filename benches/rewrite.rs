//! What scoping SQL to a tenant costs.
//!
//! - `rewrite`: `Rewriter::rewrite` (parse, analyse, splice, render the tenant) of the
//!   point-of-sale application's typical statements (`tenantry_fixtures::catalogue`), against
//!   the schema of the migrated fixture: the whole catalogue as one iteration, and each class
//!   of statement alone.
//! - `parse`: `sqlparser`'s `Parser::parse_sql` of the same statements: what any
//!   SQL-aware interceptor pays at least. The goal is that `rewrite` adds no more than 50%
//!   to it; the ratio is printed at the end.
//! - `tenant_value`: on the migrated typical fixture, what SQLite pays for the tenant in the
//!   derived table the rewriter writes, given as a string literal or as a bound parameter,
//!   for a point lookup and a small aggregate, each prepared afresh and taken from the
//!   statement cache (`prepare_cached`). The legacy statement, unscoped, is the floor.
//!   (A third way, an application-defined `tenantry_tenant()` function, is not measured.)
//!   Note that this SQLite
//!   re-prepares a cached statement on every run when it filters on a bound parameter and
//!   sorts (GROUP BY, ORDER BY): `SQLITE_STMTSTATUS_REPREPARE` counts one per run, so for the
//!   aggregate `cached` costs more than `prepare`.
//!
//! After the criterion summary the bench prints the medians side by side with the ratio
//! rewrite ÷ parse, then a per-statement look (fastest of 300 runs) at where the rewriter's
//! own time goes.
//!
//! Run: `cargo bench --bench rewrite` (about a minute and a half). The tiny fixture is
//! generated and migrated into a temporary folder on every run; the typical one once, into
//! `target/tenantry-bench/pos-typical-migrated.db`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params_from_iter};
use tenantry_fixtures::{Query, Size};
use tenantry_rewrite::{Rewriter, Schema, TenantId};

mod fixture;
mod support;
use support::{criterion_dir, human, median_ns};

/// The tenant the migration gives every existing row.
const TENANT: &str = tenantry_migrate::DEFAULT_TENANT;

/// `sqlparser`'s parse of one statement (tokenize and parse), the baseline of the `parse`
/// group: the number of statements parsed.
fn parse_baseline() -> Option<fn(&str) -> usize> {
    Some(|sql| {
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
            .map_or(0, |statements| statements.len())
    })
}

fn bench_dir() -> PathBuf {
    support::bench_dir("")
}

/// Copies the fixture of `size` to `db` and migrates it to [`TENANT`].
fn generate_migrated(db: &Path, size: Size) {
    fixture::migrate_copy(&fixture::pristine(&bench_dir(), size), db);
}

/// The migrated fixture of `size`, made once under `target/tenantry-bench/` and reused.
fn cached_migrated(size: Size) -> PathBuf {
    let dir = bench_dir();
    let path = dir.join(format!("pos-{size}-migrated.db"));
    if !path.exists() {
        let partial = dir.join(format!("pos-{size}-migrated.db.partial"));
        generate_migrated(&partial, size);
        std::fs::rename(&partial, &path).expect("move fixture into place");
    }
    path
}

/// The schema of a database, as the tenant connection reads it.
fn schema_of(db: &Path) -> Schema {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    tenantry_sqlite::schema::load(&conn, tenantry_migrate::DEFAULT_COLUMN)
        .expect("schema of the migrated fixture")
}

/// The catalogue's statements the rewriter accepts, by set: `catalogue` (all of them) and
/// one set per class. Refused statements are listed on standard error and left out of both
/// groups, so that the two measure the same statements.
fn statement_sets(rewriter: &Rewriter, tenant: &TenantId) -> BTreeMap<&'static str, Vec<Query>> {
    let mut sets: BTreeMap<&'static str, Vec<Query>> = BTreeMap::new();
    for query in tenantry_fixtures::catalogue() {
        if let Err(error) = rewriter.rewrite(query.sql, tenant) {
            eprintln!(
                "catalogue statement {} is refused, left out: {error}",
                query.name
            );
            continue;
        }
        sets.entry("catalogue").or_default().push(*query);
        sets.entry(query.class.as_str()).or_default().push(*query);
    }
    sets
}

fn parse_and_rewrite(
    c: &mut Criterion,
    rewriter: &Rewriter,
    tenant: &TenantId,
    sets: &BTreeMap<&'static str, Vec<Query>>,
) {
    if let Some(parse) = parse_baseline() {
        let mut group = c.benchmark_group("parse");
        configure(&mut group);
        for (set, queries) in sets {
            group.throughput(Throughput::Elements(queries.len() as u64));
            group.bench_function(*set, |b| {
                b.iter(|| {
                    let mut statements = 0;
                    for q in queries {
                        statements += parse(std::hint::black_box(q.sql));
                    }
                    assert_eq!(statements, queries.len());
                })
            });
        }
        group.finish();
    } else {
        eprintln!(
            "parse group skipped: sqlparser is not a dev-dependency of this package (see \
             parse_baseline in benches/rewrite.rs)"
        );
    }

    let mut group = c.benchmark_group("rewrite");
    configure(&mut group);
    for (set, queries) in sets {
        group.throughput(Throughput::Elements(queries.len() as u64));
        group.bench_function(*set, |b| {
            b.iter(|| {
                let mut bytes = 0;
                for q in queries {
                    let out = rewriter
                        .rewrite(std::hint::black_box(q.sql), tenant)
                        .expect("accepted before");
                    bytes += out.sql().len();
                }
                bytes
            })
        });
    }
    group.finish();
}

/// A statement of the `tenant_value` group in its four forms.
struct Forms {
    name: &'static str,
    /// The legacy statement, with its own parameters `?1`...
    unscoped: String,
    /// The rewriter's output: the tenant as a string literal.
    literal: String,
    /// The same with the tenant as parameter `?N` (N = legacy parameters + 1).
    parameter: String,
    params: Vec<Value>,
}

impl Forms {
    fn new(rewriter: &Rewriter, tenant: &TenantId, name: &'static str, sql: &str) -> Self {
        let literal = rewriter.rewrite(sql, tenant).expect("rewrite").into_sql();
        let quoted = tenant.sql_literal();
        assert!(literal.contains(&quoted), "{literal}");
        let parameter = literal.replace(&quoted, "?2");
        Forms {
            name,
            unscoped: sql.to_owned(),
            literal,
            parameter,
            params: Vec::new(),
        }
    }

    /// `(form, SQL, parameters)` for each form.
    fn each(&self, tenant: &TenantId) -> [(&'static str, &str, Vec<Value>); 3] {
        let mut with_tenant = self.params.clone();
        with_tenant.push(Value::Text(tenant.as_str().to_owned()));
        [
            ("unscoped", &self.unscoped, self.params.clone()),
            ("literal", &self.literal, self.params.clone()),
            ("parameter", &self.parameter, with_tenant),
        ]
    }
}

/// Runs a statement and reads every value of every row.
fn run(stmt: &mut rusqlite::Statement<'_>, params: &[Value]) -> Vec<Value> {
    let columns = stmt.column_count();
    let mut rows = stmt.query(params_from_iter(params)).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        for i in 0..columns {
            out.push(row.get::<_, Value>(i).expect("value"));
        }
    }
    out
}

fn tenant_value(c: &mut Criterion) {
    let db = cached_migrated(Size::Typical);
    let rewriter = rewriter_for(&db);
    let tenant = TenantId::new(TENANT).expect("tenant id");
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    conn.set_prepared_statement_cache_capacity(64);

    let customer: Value = conn
        .query_row(
            "SELECT id FROM customers ORDER BY rowid LIMIT 1 OFFSET (SELECT count(*) / 2 FROM customers)",
            [],
            |row| row.get(0),
        )
        .expect("a customer");
    let busy_customer: Value = conn
        .query_row(
            "SELECT customer_id FROM work_orders WHERE customer_id IS NOT NULL \
             GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .expect("a customer with work orders");

    let mut lookup = Forms::new(
        &rewriter,
        &tenant,
        "point_lookup",
        "SELECT first_name, last_name, email FROM customers WHERE id = ?1",
    );
    lookup.params = vec![customer];
    let mut aggregate = Forms::new(
        &rewriter,
        &tenant,
        "small_aggregate",
        "SELECT status, count(*), sum(total_cents) FROM work_orders WHERE customer_id = ?1 \
         GROUP BY status ORDER BY status",
    );
    aggregate.params = vec![busy_customer];

    let mut group = c.benchmark_group("tenant_value");
    configure(&mut group);
    for forms in [&lookup, &aggregate] {
        eprintln!(
            "tenant_value/{}:\n  literal:   {}\n  parameter: {}",
            forms.name, forms.literal, forms.parameter
        );
        // Every form returns the same rows: the database holds one tenant.
        let expected = {
            let mut stmt = conn.prepare(&forms.unscoped).expect("prepare");
            run(&mut stmt, &forms.params)
        };
        assert!(!expected.is_empty(), "{} finds nothing", forms.name);
        for (form, sql, params) in forms.each(&tenant) {
            let mut stmt = conn.prepare(sql).expect("prepare");
            assert_eq!(run(&mut stmt, &params), expected, "{form}");
        }

        for (form, sql, params) in forms.each(&tenant) {
            group.bench_function(format!("{}/prepare/{form}", forms.name), |b| {
                b.iter(|| {
                    let mut stmt = conn.prepare(sql).expect("prepare");
                    run(&mut stmt, &params)
                })
            });
            // Only this statement in the cache: statements cached earlier would hold on to
            // the connection's lookaside memory.
            conn.flush_prepared_statement_cache();
            group.bench_function(format!("{}/cached/{form}", forms.name), |b| {
                b.iter(|| {
                    let mut stmt = conn.prepare_cached(sql).expect("prepare_cached");
                    run(&mut stmt, &params)
                })
            });
        }
    }
    group.finish();
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2));
}

/// The medians of this run side by side, and the ratio rewrite ÷ parse.
fn summary(sets: &BTreeMap<&'static str, Vec<Query>>, since: SystemTime) {
    eprintln!("\nrewrite vs parse (criterion medians per iteration of the set)");
    eprintln!(
        "{:<14} {:>10} {:>12} {:>12} {:>14}",
        "set", "statements", "parse", "rewrite", "rewrite/parse"
    );
    for (set, queries) in sets {
        let parse = median_ns("parse", set, since);
        let rewrite = median_ns("rewrite", set, since);
        let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), human);
        let ratio = match (parse, rewrite) {
            (Some(p), Some(r)) if p > 0.0 => format!("{:.2}", r / p),
            _ => "-".to_owned(),
        };
        eprintln!(
            "{set:<14} {:>10} {:>12} {:>12} {ratio:>14}",
            queries.len(),
            show(parse),
            show(rewrite)
        );
    }
    eprintln!("goal: rewrite/parse <= 1.50\n");

    eprintln!("tenant value (criterion medians per execution)");
    eprintln!(
        "{:<24} {:>12} {:>12} {:>12}",
        "statement", "unscoped", "literal", "parameter"
    );
    for name in ["point_lookup", "small_aggregate"] {
        for mode in ["prepare", "cached"] {
            let cell = |form: &str| {
                median_ns("tenant_value", &format!("{name}/{mode}/{form}"), since)
                    .map_or_else(|| "-".to_owned(), human)
            };
            eprintln!(
                "{:<24} {:>12} {:>12} {:>12}",
                format!("{name}/{mode}"),
                cell("unscoped"),
                cell("literal"),
                cell("parameter")
            );
        }
    }
}

/// A rewriter for the schema of a migrated database.
fn rewriter_for(db: &Path) -> Rewriter {
    Rewriter::new(schema_of(db))
}

/// The fastest of `runs` timings of `f`, in nanoseconds.
fn fastest_ns(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Per statement, the fastest of many runs of parse and rewrite (a quick look, not criterion):
/// where the rewriter's own work goes.
fn per_statement(
    rewriter: &Rewriter,
    tenant: &TenantId,
    sets: &BTreeMap<&'static str, Vec<Query>>,
) {
    let Some(parse) = parse_baseline() else {
        return;
    };
    let mut rows: Vec<(f64, f64, &str)> = sets
        .get("catalogue")
        .map(|queries| {
            queries
                .iter()
                .map(|q| {
                    let p = fastest_ns(300, || {
                        std::hint::black_box(parse(std::hint::black_box(q.sql)));
                    });
                    let r = fastest_ns(300, || {
                        let _ = std::hint::black_box(rewriter.rewrite(q.sql, tenant));
                    });
                    (p, r, q.name)
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
    eprintln!("\nper statement, fastest of 300 runs (largest added cost first)");
    eprintln!(
        "{:<32} {:>12} {:>12} {:>12} {:>8}",
        "statement", "parse", "rewrite", "added", "ratio"
    );
    for (p, r, name) in rows {
        eprintln!(
            "{name:<32} {:>12} {:>12} {:>12} {:>8.2}",
            human(p),
            human(r),
            human(r - p),
            r / p
        );
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    let tiny = tempfile::tempdir().expect("temp dir");
    let db = tiny.path().join("pos-tiny.db");
    generate_migrated(&db, Size::Tiny);
    let rewriter = rewriter_for(&db);
    let tenant = TenantId::new(TENANT).expect("tenant id");
    let sets = statement_sets(&rewriter, &tenant);
    parse_and_rewrite(&mut c, &rewriter, &tenant, &sets);
    tenant_value(&mut c);
    c.final_summary();
    summary(&sets, started);
    per_statement(&rewriter, &tenant, &sets);
}
