//! The tenant-sliced oracle (issue 5, part 1), with proptest.
//!
//! Each case generates a small schema (2 to 5 tables, foreign keys between some, some
//! tables global), rows for three tenants, and statements from a grammar of what the
//! rewriter supports. Two databases are built:
//! - `single`: the legacy schema, A's rows only, plain rusqlite: what the application saw
//!   before the migration;
//! - `multi`: the same rows for A, B and C (B's and C's with other ids and other values),
//!   migrated by `tenantry migrate`, read and written through A's tenant connection.
//!
//! For every statement: the outcome through A's connection equals the outcome of the
//! original on `single` (rows as a multiset, or in order where the statement orders on every
//! column; changes; RETURNING rows; whether it failed), A's rows afterwards equal `single`'s
//! rows afterwards, the global tables stay equal, and B's and C's rows are byte for byte what
//! they were. A refusal is allowed, and counted; its rate must stay low. Each statement runs
//! in a transaction rolled back on both sides, so the next one starts from the same rows.
//!
//! The generator (`tenantry_testkit::world`) and the oracle (`tenantry_testkit::oracle`,
//! its scoped side a tenant connection) are the test kit's; the migration and the property
//! are here.
//!
//! Case counts fit CI by default; `PROPTEST_CASES` raises them, `TENANTRY_PROPTEST_SEED`
//! changes the seed. Failures shrink, and are kept in `tests/it/proptest-regressions/`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use tenantry_migrate::{Layout, MigrateOptions, migrate};
use tenantry_sqlite::Connection;
use tenantry_testkit::db::query;
use tenantry_testkit::oracle::build::Setup;
use tenantry_testkit::oracle::tenancy::Tenancy;
use tenantry_testkit::oracle::{Oracle, Scoped, comparable};
use tenantry_testkit::world::{A, Stmt, World, statement, world};

/// Share of generated statements the tenant connection may refuse.
const MAX_REFUSAL_RATE: f64 = 0.05;

struct Dbs {
    _dir: tempfile::TempDir,
    single: rusqlite::Connection,
    /// A's tenant connection to the multi-tenant database.
    a: Connection,
    tenancy: Tenancy,
}

/// `single` with A's rows; `multi` with A's rows, migrated by the migrator to `layout`,
/// then B's and C's rows: on the tenant-first layout with exactly A's keys.
fn build(w: &World, layout: Layout) -> Dbs {
    let dir = tempfile::tempdir().expect("temp dir");
    let single_path = dir.path().join("single.db");
    let multi_path = dir.path().join("multi.db");
    let ddl = w.ddl();
    let setup = Setup {
        legacy: &ddl,
        triggers: &[],
    };
    let a_rows = w.inserts(2, None);
    let open = |path| rusqlite::Connection::open(path).expect("open");
    let single = setup.legacy(open(&single_path), &[&a_rows]);
    drop(setup.legacy(open(&multi_path), &[&a_rows]));
    let options = MigrateOptions {
        exclude: w
            .tables
            .iter()
            .filter(|t| t.global)
            .map(|t| t.name.clone())
            .collect(),
        backup: Some(dir.path().join("multi.backup")),
        layout,
        ..MigrateOptions::default()
    };
    let keys_of = |tenant| match layout {
        Layout::TenantFirst => 2,
        Layout::Column => tenant,
    };
    migrate(&multi_path, &options, &mut |_| {}).expect("migrate");
    let raw = open(&multi_path);
    raw.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; {}{}",
        w.inserts_with_keys(0, Some("tenant_id"), keys_of(0)),
        w.inserts_with_keys(1, Some("tenant_id"), keys_of(1))
    ))
    .expect("B's and C's rows");
    let tenancy = Tenancy::read(&single, &raw, A);
    let a = Connection::open(&multi_path).expect("tenant connection");
    a.set_tenant(A).expect("tenant A");
    a.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    Dbs {
        _dir: dir,
        single,
        a,
        tenancy,
    }
}

thread_local! {
    static COUNTS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// Statements whose outcome differs as the tenant-first layout says it may.
    static KNOWN: Cell<u64> = const { Cell::new(0) };
    /// Refusals by kind (the `Refusal` variant, or the error's when it is not a refusal).
    static REFUSALS: RefCell<BTreeMap<String, u64>> = const { RefCell::new(BTreeMap::new()) };
}

fn note_refusal(error: &tenantry_rewrite::RewriteError) {
    let kind = error
        .refusal()
        .map_or(error.kind(), |refusal| refusal.name());
    REFUSALS.with(|r| *r.borrow_mut().entry(kind.to_owned()).or_default() += 1);
}

/// Runs `s` on both sides in transactions rolled back, and checks the oracle's properties.
fn check(dbs: &Dbs, s: &Stmt, layout: Layout) -> Result<(), TestCaseError> {
    dbs.single.execute_batch("BEGIN").expect("begin single");
    dbs.a.execute_batch("BEGIN").expect("begin multi");
    let oracle = Oracle {
        single: &dbs.single,
        scoped: Scoped::Connection(&dbs.a),
        tenancy: &dbs.tenancy,
    };
    let v = oracle.run(&s.sql, &[]);
    dbs.single
        .execute_batch("ROLLBACK")
        .expect("rollback single");
    dbs.a.execute_batch("ROLLBACK").expect("rollback multi");
    let scoped = match &v.got {
        Err(error) => {
            note_refusal(error);
            None
        }
        // A failure on both sides is the same outcome, whatever the message.
        Ok(run) => Some(comparable(&run.outcome, s.ordered).ok()),
    };
    COUNTS.with(|c| {
        let (n, refused) = c.get();
        c.set((n + 1, refused + u64::from(scoped.is_none())));
    });
    prop_assert_eq!(
        &v.others_before,
        &v.others_after,
        "B or C changed: {}",
        s.sql
    );
    let Some(scoped) = scoped else {
        return Ok(());
    };
    if s.foreign_key {
        return Ok(());
    }
    // The tenant-first layout's known difference (ARCHITECTURE.md): a rowid table's
    // `id INT PRIMARY KEY` took NULL (SQLite's quirk); clustered by tenant, it does not.
    let null_key = matches!(&v.got, Ok(run) if matches!(&run.outcome,
        Err(message) if message.contains("NOT NULL constraint failed") && message.ends_with(".id")));
    if layout == Layout::TenantFirst && null_key && v.expected.is_ok() {
        KNOWN.with(|k| k.set(k.get() + 1));
        return Ok(());
    }
    let legacy = comparable(&v.expected, s.ordered).ok();
    prop_assert_eq!(&scoped, &legacy, "outcome differs: {}", s.sql);
    prop_assert_eq!(
        &v.scoped_after,
        &v.single_after,
        "A's rows differ after: {}",
        s.sql
    );
    Ok(())
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(64);
    let seed = std::env::var("TENANTRY_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(20_261_128);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/it/proptest-regressions/oracle.txt",
        ))),
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// The property, with the share of refused statements reported and bounded.
#[test]
fn a_tenants_statements_match_its_single_tenant_database_and_touch_no_one_else() {
    property(Layout::Column);
}

/// The same on the tenant-first layout, where B and C hold exactly A's keys.
#[test]
fn on_the_tenant_first_layout_too_where_the_neighbours_hold_the_same_keys() {
    property(Layout::TenantFirst);
}

fn property(layout: Layout) {
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let result = runner.run(&(world(), vec(vec(any::<u8>(), 12), 12)), |(w, picks)| {
        let dbs = build(&w, layout);
        for p in &picks {
            check(&dbs, &statement(&w, p), layout)?;
        }
        Ok(())
    });
    let (n, refused) = COUNTS.with(Cell::get);
    let kinds = REFUSALS.with(|r| {
        r.borrow()
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let known = KNOWN.with(Cell::get);
    eprintln!(
        "oracle ({layout:?}): {n} statements, {refused} refused ({:.2}%): {kinds}; known \
         differences (a NULL key a clustered table refuses): {known}",
        100.0 * refused as f64 / n.max(1) as f64
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(n > 0);
    assert!(
        (refused as f64) <= MAX_REFUSAL_RATE * n as f64,
        "{refused} of {n} statements refused"
    );
}

/// The oracle can fail: the same statements run on the multi-tenant database without a
/// tenant connection give other outcomes (B's and C's rows are there to be seen).
#[test]
fn the_oracle_sees_other_tenants_when_nothing_is_scoped() {
    let mut runner = proptest::test_runner::TestRunner::new(Config {
        failure_persistence: None,
        cases: 4,
        ..config()
    });
    let differs = Cell::new(0);
    let total = Cell::new(0);
    runner
        .run(&world(), |w| {
            let dbs = build(&w, Layout::Column);
            let sql = format!("SELECT * FROM {} ORDER BY id", w.tables[0].name);
            let single = query(&dbs.single, &sql, &[]).ok();
            let unscoped = dbs.a.unscoped(|c| query(c, &sql, &[]).ok());
            let scoped = Scoped::Connection(&dbs.a)
                .run(&sql, &[])
                .ok()
                .and_then(|run| run.outcome.ok());
            prop_assert_eq!(&scoped, &single);
            total.set(total.get() + 1);
            differs.set(differs.get() + usize::from(unscoped != single));
            Ok(())
        })
        .expect("scoped reads equal the single-tenant database");
    assert!(total.get() > 0);
    assert_eq!(
        differs.get(),
        total.get(),
        "unscoped reads showed only A's rows"
    );
}
