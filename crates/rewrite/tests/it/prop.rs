//! Property tests: the rewriter never panics, everything it accepts parses again and prepares
//! on the multi-tenant database whenever the original prepared on the single-tenant one, it
//! keeps the statement's parameters and result columns, and it is deterministic.
//!
//! Two sources of input:
//! - arbitrary strings: any unicode, and soups of SQL-ish tokens and phrases;
//! - generated SQL: a small AST (selects with every kind of join, subqueries, CTEs, compound
//!   selects, aggregates, windows; INSERT, UPDATE, DELETE with their clauses) printed
//!   against a fixed schema, so failures shrink to a small statement.
//!
//! The generators, the printer and the oracle's databases are the test kit's
//! (`tenantry_testkit::{soup, ast, oracle}`); the properties are here.
//!
//! Case counts are small by default (the file runs in seconds in a debug build); set
//! `PROPTEST_CASES` to run more.

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use rusqlite::Connection;
use tenantry_rewrite::{Refusal, RewriteError, Rewriter, Schema, StatementKind, TenantId};
use tenantry_testkit::ast::{MULTI, SINGLE, avoid, print_statement, statement};
use tenantry_testkit::db::{RunLimits, prepare_all, run_batch};
use tenantry_testkit::oracle::build::{Migration, Rows, Setup};
use tenantry_testkit::oracle::tenancy::{Leak, Markers, Tenancy};
use tenantry_testkit::soup::arbitrary_sql;
use tenantry_testkit::sql::reparse;

/// Two tenants whose ids no generated input contains, so the tenant literal can be told
/// apart from the caller's literals.
const TENANT_A: &str = "tenant-aaa";
const TENANT_B: &str = "tenant-bbb";

/// The highest share of valid generated statements the rewriter may refuse. Measured at 0%
/// over 3 × 3,000 cases (the generator keeps `rowid` apart from `*`, which is refused by
/// design); the margin leaves room for SQLite syntax `sqlparser` does not read. The report
/// printed by `generated_sql` gives the rate and the refusals by kind.
const MAX_REFUSAL_RATE: f64 = 0.02;

/// A proptest config with `default_cases` cases unless `PROPTEST_CASES` says otherwise.
fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: None,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

/// The generator's seed: fixed, so a CI run checks the same cases every time and a failure
/// reproduces; `TENANTRY_PROPTEST_SEED=<number>` explores other cases (say, with
/// `PROPTEST_CASES=100000`).
fn rng() -> TestRng {
    let seed: u64 = std::env::var("TENANTRY_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0x7e4a_4e77);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs `test` over `strategy`; on failure, panics with the reason and the minimal input as
/// `show` prints it.
fn run<S: Strategy>(
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new_with_rng(config(cases), rng());
    match runner.run(&strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!(
                "property failed: {reason}\nminimal input:\n{}",
                show(&value)
            )
        }
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
}

// ---------------------------------------------------------------------------------------
// The checks every input goes through.
// ---------------------------------------------------------------------------------------

/// What happened to one input.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Rewritten; `valid` says whether the original prepared on the single-tenant database.
    Accepted { valid: bool },
    /// Refused (or unparseable); `valid` as above.
    Refused { valid: bool, kind: String },
}

struct Harness {
    rewriter: Rewriter,
    single: Connection,
    multi: Connection,
    /// The multi-tenant schema with rows of both tenants, to run rewrites on.
    data: Connection,
    tenancy: Tenancy,
    /// Tenant B's rows in `data`.
    data_before: String,
    a: TenantId,
    b: TenantId,
}

impl Harness {
    fn new() -> Self {
        let setup = Setup {
            legacy: SINGLE,
            triggers: &[],
        };
        let migration = Migration::Declared(MULTI);
        let open = || Connection::open_in_memory().expect("open");
        let single = setup.legacy(open(), &[]);
        let multi = setup.migrated(open(), migration, &[]);
        let data = setup.migrated(open(), migration, &[Rows::Migrated(DATA)]);
        let tenancy = Tenancy::read(&single, &data, TENANT_A);
        let data_before = tenancy.others(&data, false).expect("snapshot");
        Harness {
            rewriter: Rewriter::new(Schema::from_sql(MULTI, "tenant_id").expect("schema")),
            single,
            multi,
            data,
            tenancy,
            data_before,
            a: TenantId::new(TENANT_A).expect("tenant"),
            b: TenantId::new(TENANT_B).expect("tenant"),
        }
    }

    /// Checks every property on `sql`.
    fn check(&self, sql: &str, generated: bool) -> Result<Outcome, TestCaseError> {
        let first = self.rewriter.rewrite(sql, &self.a);
        let again = self.rewriter.rewrite(sql, &self.a);
        prop_assert_eq!(&first, &again, "rewriting twice differs for {:?}", sql);
        let plan = self.rewriter.plan(sql);
        let plan_again = self.rewriter.plan(sql);
        prop_assert_eq!(
            plan.as_ref().err(),
            plan_again.as_ref().err(),
            "planning twice differs for {:?}",
            sql
        );
        let original = prepare_all(&self.single, sql);
        let valid = original.is_ok();
        let out = match (&first, &plan) {
            (Ok(out), Ok(plan)) => {
                let rendered = plan.render(&self.a);
                prop_assert_eq!(
                    rendered.as_ref(),
                    Ok(out),
                    "plan().render() differs from rewrite() for {:?}",
                    sql
                );
                self.check_tenants(sql, plan, out.sql())?;
                out
            }
            (Err(e), Ok(plan)) => {
                // Only the explicit-tenant check of render may refuse after planning.
                prop_assert!(
                    matches!(e.refusal(), Some(Refusal::ForeignTenant { .. })),
                    "plan() accepted {:?} but rewrite() said {}",
                    sql,
                    e
                );
                let again = plan.render(&self.a).err();
                prop_assert_eq!(again.as_ref(), Some(e));
                return Ok(Outcome::Refused {
                    valid,
                    kind: error_kind(e),
                });
            }
            (Ok(_), Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "rewrite() accepted {sql:?} but plan() said {e}"
                )));
            }
            (Err(e), Err(p)) => {
                prop_assert_eq!(e, p, "rewrite() and plan() disagree on {:?}", sql);
                return Ok(Outcome::Refused {
                    valid,
                    kind: error_kind(e),
                });
            }
        };
        let kinds_ok = out
            .statements()
            .iter()
            .all(|s| !matches!(s.kind, StatementKind::Transaction | StatementKind::Pragma));
        let out = out.sql();
        // Recursive CTEs in arbitrary strings might never end: run only what has no WITH.
        if kinds_ok && (generated || !out.to_ascii_lowercase().contains("with")) {
            self.check_no_leak(sql, out)?;
        }
        if let Err(e) = reparse(out) {
            return Err(TestCaseError::fail(format!(
                "the rewrite does not parse again ({e})\n  original: {sql}\n  rewrite:  {out}"
            )));
        }
        if let Ok(original) = original {
            match prepare_all(&self.multi, out) {
                Ok(rewritten) => prop_assert_eq!(
                    &original,
                    &rewritten,
                    "parameters or result columns changed\n  original: {}\n  rewrite:  {}",
                    sql,
                    out
                ),
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "the original prepares on the single-tenant database but the rewrite \
                         does not on the multi-tenant one ({e})\n  original: {sql}\n  \
                         rewrite:  {out}"
                    )));
                }
            }
        }
        Ok(Outcome::Accepted { valid })
    }

    /// Runs the rewrite for tenant A on a database holding both tenants' rows: no value of
    /// tenant B's rows may come out, and tenant B's rows must be unchanged.
    fn check_no_leak(&self, sql: &str, out: &str) -> Result<(), TestCaseError> {
        self.data
            .execute_batch("SAVEPOINT leak")
            .expect("savepoint");
        let run = run_batch(&self.data, out, LIMITS);
        let isolated =
            self.tenancy
                .isolated(&self.data, &self.data_before, false, Some(&MARKERS), &run);
        self.data
            .execute_batch("ROLLBACK TO leak; RELEASE leak")
            .expect("rollback");
        match isolated {
            Ok(()) => Ok(()),
            Err(Leak::Returned(value)) => Err(TestCaseError::fail(format!(
                "TENANT LEAK: the rewrite returned {value} from tenant B's rows\n  original: \
                 {sql}\n  rewrite:  {out}"
            ))),
            Err(leak) => Err(TestCaseError::fail(format!(
                "TENANT LEAK: the rewrite changed tenant B's rows\n  original: {sql}\n  \
                 rewrite:  {out}\n  {leak:?}"
            ))),
        }
    }

    /// One plan rendered for two tenants differs only in the tenant literal.
    fn check_tenants(
        &self,
        sql: &str,
        plan: &tenantry_rewrite::Plan,
        out_a: &str,
    ) -> Result<(), TestCaseError> {
        let out_b = match plan.render(&self.b) {
            Ok(out) => out.into_sql(),
            Err(e) => {
                prop_assert!(
                    matches!(e.refusal(), Some(Refusal::ForeignTenant { .. })),
                    "render for a second tenant failed with {} for {:?}",
                    e,
                    sql
                );
                return Ok(());
            }
        };
        let lit_a = format!("'{TENANT_A}'");
        let lit_b = format!("'{TENANT_B}'");
        prop_assert!(
            !out_a.contains(TENANT_B) && !out_b.contains(TENANT_A),
            "one tenant's id in the other's SQL for {:?}",
            sql
        );
        prop_assert_eq!(
            out_a.matches(&lit_a).count(),
            out_b.matches(&lit_b).count(),
            "tenant literal counts differ for {:?}",
            sql
        );
        prop_assert_eq!(
            out_a.replace(&lit_a, "'@'"),
            out_b.replace(&lit_b, "'@'"),
            "renders for two tenants differ beyond the tenant literal for {:?}",
            sql
        );
        Ok(())
    }
}

/// Rows of both tenants; tenant B's hold markers no generated expression makes.
const DATA: &str = "
INSERT INTO t VALUES (1, 'a1', 1, 'tenant-aaa'), (2, 'a2', 2, 'tenant-aaa'),
    (900001, 'LEAK', 987654321, 'tenant-bbb'), (900002, 'LEAK', 987654321, 'tenant-bbb');
INSERT INTO u VALUES (1, 1, 'c1', 'tenant-aaa'), (2, 2, 'c2', 'tenant-aaa'),
    (900001, 900001, 'LEAK', 'tenant-bbb'), (900002, 1, 'LEAK', 'tenant-bbb');
INSERT INTO g VALUES ('k1', 'v1'), ('k2', 'v2');
INSERT INTO n VALUES ('x1', 1, 'tenant-aaa'), ('LEAK', 987654321, 'tenant-bbb');
";

/// Values only tenant B's rows hold.
const MARKERS: Markers<'static> = Markers {
    ints: &[900_001, 900_002, 987_654_321],
    texts: &["leak"],
    blobs: false,
};

/// Rows read per statement of a leak run.
const LIMITS: RunLimits = RunLimits {
    max_rows: 10_001,
    stop_at_error: false,
};

/// A short name for an error, to count refusals by kind.
fn error_kind(e: &RewriteError) -> String {
    match e.refusal() {
        Some(r) => format!("refused:{}", r.name()),
        None => e.kind().to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Arbitrary strings.
// ---------------------------------------------------------------------------------------

#[test]
fn arbitrary_strings() {
    let h = Harness::new();
    let stats = RefCell::new(Stats::default());
    run(
        1000,
        arbitrary_sql(),
        |s| format!("{s:?}"),
        |sql| {
            if avoid("end-keyword") && sql.to_ascii_uppercase().contains("END") {
                return Ok(());
            }
            let outcome = h.check(&sql, false)?;
            stats.borrow_mut().add(&outcome);
            Ok(())
        },
    );
    eprintln!("arbitrary strings: {}", stats.borrow().report());
}

// ---------------------------------------------------------------------------------------
// 2. Generated SQL.
// ---------------------------------------------------------------------------------------

/// Refusals of valid statements that are the rewriter's documented choice, left out of the
/// refusal rate (and reported).
const BY_DESIGN: &[&str] = &["refused:RowidWithWildcard", "refused:RowidAmbiguous"];

/// Counts outcomes.
#[derive(Default)]
struct Stats {
    total: usize,
    valid: usize,
    accepted_valid: usize,
    accepted_invalid: usize,
    refused_valid: BTreeMap<String, usize>,
    refused_invalid: BTreeMap<String, usize>,
}

impl Stats {
    fn add(&mut self, outcome: &Outcome) {
        self.total += 1;
        match outcome {
            Outcome::Accepted { valid: true } => {
                self.valid += 1;
                self.accepted_valid += 1;
            }
            Outcome::Accepted { valid: false } => self.accepted_invalid += 1,
            Outcome::Refused { valid: true, kind } => {
                self.valid += 1;
                *self.refused_valid.entry(kind.clone()).or_default() += 1;
            }
            Outcome::Refused { valid: false, kind } => {
                *self.refused_invalid.entry(kind.clone()).or_default() += 1;
            }
        }
    }

    /// Valid statements refused for a reason other than one the rewriter documents as
    /// refused by design (`rowid` through a tenant scope where it would be ambiguous).
    fn refused_valid(&self) -> usize {
        self.refused_valid
            .iter()
            .filter(|(kind, _)| !BY_DESIGN.contains(&kind.as_str()))
            .map(|(_, n)| n)
            .sum()
    }

    fn refusal_rate(&self) -> f64 {
        if self.valid == 0 {
            0.0
        } else {
            self.refused_valid() as f64 / self.valid as f64
        }
    }

    fn report(&self) -> String {
        format!(
            "{} cases; {} prepare on the single-tenant schema: {} rewritten, {} refused not by \
             design ({:.2}%), refused by kind {:?}; of the {} that do not prepare: {} rewritten, \
             refused {:?}",
            self.total,
            self.valid,
            self.accepted_valid,
            self.refused_valid(),
            100.0 * self.refusal_rate(),
            self.refused_valid,
            self.total - self.valid,
            self.accepted_invalid,
            self.refused_invalid,
        )
    }
}

#[test]
fn generated_sql() {
    let h = Harness::new();
    let stats = RefCell::new(Stats::default());
    // A valid statement refused for a reason that is not a limitation of the rewriter is a
    // bug; so is any valid statement the rewriter fails its own consistency check on.
    run(1000, statement(), print_statement, |stmt| {
        let sql = print_statement(&stmt);
        let outcome = h.check(&sql, true)?;
        if let Outcome::Refused { valid: true, kind } = &outcome {
            prop_assert!(
                kind != "refused:Internal",
                "internal error on a valid statement: {}",
                sql
            );
        }
        stats.borrow_mut().add(&outcome);
        Ok(())
    });
    let stats = stats.into_inner();
    eprintln!("generated SQL: {}", stats.report());
    assert!(
        stats.valid * 2 >= stats.total,
        "the generator makes too few valid statements: {}",
        stats.report()
    );
    assert!(
        stats.refusal_rate() <= MAX_REFUSAL_RATE,
        "the rewriter refused {:.2}% of valid generated statements (at most {:.0}% allowed): {}",
        100.0 * stats.refusal_rate(),
        100.0 * MAX_REFUSAL_RATE,
        stats.report()
    );
}

/// Minimal inputs of failures the properties found, checked on every run.
const REGRESSIONS: &[&str] = &[
    // Three-part column names through a derived table.
    "SELECT main.t.a FROM t",
    "SELECT 1 GROUP BY (1 IN (SELECT count(NOT ((SELECT t.\"id\" AS o0 FROM t WHERE (main.t.id = t.id)))) AS o0))",
    // A FROM-less INSERT source followed by clauses with commas: refused as Internal.
    "INSERT INTO t SELECT 1, 2, 3 RETURNING id, a",
    "INSERT INTO t SELECT 1 AS x, 2 AS y, 3 AS z ON CONFLICT (id) DO UPDATE SET a = 1, b = 2",
    // rowid exposed by derived tables meets NATURAL / USING.
    "SELECT n.rowid FROM n, t NATURAL FULL JOIN t",
    "SELECT t.rowid FROM u RIGHT JOIN t USING (id) NATURAL JOIN t AS x",
    "SELECT n.x FROM n NATURAL JOIN n AS m WHERE n.rowid > 0",
    // PRAGMA passes through; sqlparser does not read it.
    "PRAGMA foreign_keys = ON -- c\n ",
];

#[test]
fn regressions() {
    let h = Harness::new();
    let failures: Vec<String> = REGRESSIONS
        .iter()
        .filter_map(|sql| h.check(sql, true).err().map(|e| format!("{sql}\n  {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A tenant leak the properties found: `sqlparser` stops at the keyword END without an
/// error, so the rewriter scoped only the part before it and copied the rest, which SQLite
/// reads with END as an alias, so `t` was read unscoped (every tenant's rows).
#[test]
fn end_keyword_does_not_hide_the_rest_of_the_statement() {
    let h = Harness::new();
    for sql in [
        "SELECT k FROM g END UNION SELECT a FROM t",
        "SELECT k FROM g END WHERE k IN (SELECT a FROM t)",
    ] {
        if let Err(e) = h.check(sql, true) {
            panic!("{e}");
        }
    }
}
