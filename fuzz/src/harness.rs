//! The fuzz target's configuration of the test kit's oracle: the grammar's legacy schema
//! (`tenantry_testkit::grammar`) migrated twice, with tenant B's rows different in each,
//! and the property checks.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::Connection;
use rusqlite::backup::Backup;
use rusqlite::limits::Limit;
use tenantry_rewrite::{Rewriter, TenantId};
use tenantry_testkit::db::{RunLimits, prepare_all, run_batch, schema_of, sort_rows};
use tenantry_testkit::grammar::{LEGACY_TABLES, LEGACY_TRIGGERS, TENANT_TABLES};
use tenantry_testkit::oracle::build::{Migration, Rows, Setup};
use tenantry_testkit::oracle::tenancy::{Leak, Markers, Tenancy};
use tenantry_testkit::sql::reparse;

/// Longer inputs are skipped (libFuzzer's `-max_len` should be at most this).
pub const MAX_INPUT: usize = 4096;

/// Rows read from one statement at most; a statement that fails stops the batch.
const LIMITS: RunLimits = RunLimits {
    max_rows: 1000,
    stop_at_error: true,
};

/// Progress-handler calls (each after 1,000 VM instructions) before a statement is stopped.
const MAX_PROGRESS: u32 = 2000;

/// The legacy schema.
const SETUP: Setup<'static> = Setup {
    legacy: LEGACY_TABLES,
    triggers: LEGACY_TRIGGERS,
};

/// Its migration with the column layout.
const MIGRATION: Migration<'static> = Migration::AddColumn {
    tables: TENANT_TABLES,
    default: TENANT,
};

/// Whether `TENANTRY_FUZZ_LAYOUT=tenant-first` asks for the tenant-first layout (keys per
/// tenant, tables rebuilt) instead of the column layout.
fn tenant_first() -> bool {
    match std::env::var("TENANTRY_FUZZ_LAYOUT").as_deref() {
        Err(_) | Ok("column") => false,
        Ok("tenant-first") => true,
        Ok(other) => panic!("TENANTRY_FUZZ_LAYOUT={other:?}: expected `column` or `tenant-first`"),
    }
}

/// The legacy schema as `tenantry migrate --layout tenant-first` leaves it (tables rebuilt,
/// indexes tenant-first, views), read back as one batch of SQL. The triggers are left out:
/// the test kit creates them after the rows, scoped for this schema as the migrator does
/// (the grammar's triggers need none of the triggers the rebuild adds).
fn tenant_first_ddl() -> String {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("legacy.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(LEGACY_TABLES).expect("legacy schema");
    for trigger in LEGACY_TRIGGERS {
        conn.execute_batch(trigger).expect("legacy trigger");
    }
    let global: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
        .expect("tables");
    drop(conn);
    let options = tenantry_migrate::MigrateOptions {
        default_tenant: TENANT.to_owned(),
        layout: tenantry_migrate::Layout::TenantFirst,
        exclude: global
            .into_iter()
            .filter(|t| !TENANT_TABLES.contains(&t.as_str()))
            .collect(),
        backup: Some(dir.path().join("legacy.backup")),
        ..tenantry_migrate::MigrateOptions::default()
    };
    tenantry_migrate::migrate(&path, &options, &mut |_| {}).expect("tenant-first migration");
    let conn = Connection::open(&path).expect("open migrated");
    let objects: Vec<String> = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND type <> 'trigger' \
             AND name <> '_tenantry_migrations' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY rowid",
        )
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
        .expect("migrated schema");
    objects.join(";\n") + ";"
}

/// Tenant A's rows, and the global rows. Columns are named: the column layout declares the
/// tenant column last, the tenant-first layout first.
const ROWS_A: &str = "
INSERT INTO t (id, a, b, tenant_id) VALUES (1, 'a1', 1, 'A'), (2, 'a2', 2, 'A'), (3, NULL, 3, 'A');
INSERT INTO u (id, t_id, c, tenant_id) VALUES (1, 1, 'c1', 'A'), (2, 2, 'c2', 'A'), (3, NULL, NULL, 'A');
INSERT INTO n (rowid, x, y, tenant_id) VALUES (1, 'x1', 1, 'A'), (2, 'x2', 2, 'A');
INSERT INTO w (k, q, tenant_id) VALUES ('k1', 1, 'A'), ('k2', 2, 'A');
INSERT INTO g VALUES ('k1', 'v1'), ('k2', 'v2');
";

/// Tenant B's rows: `{P}` a text marker, `{N}` a number marker (same length in both
/// databases, so the files have the same layout). One of B's `u` rows points at A's `t` 1.
const ROWS_B: &str = "
INSERT INTO t (id, a, b, tenant_id) VALUES (900001, '{P}t1', {N}000111, 'B'), (900002, '{P}t2', {N}000222, 'B');
INSERT INTO u (id, t_id, c, tenant_id) VALUES (900001, 900001, '{P}u1', 'B'), (900002, 1, '{P}u2', 'B');
INSERT INTO n (rowid, x, y, tenant_id) VALUES (900101, '{P}n1', {N}000333, 'B');
INSERT INTO w (k, q, tenant_id) VALUES ('LEAKk1', {N}000444, 'B');
";

/// In the second database only: one more B row per table, with keys below B's others (so
/// new rowids are the same in both databases), so that a count that includes B's rows
/// differs too.
const ROWS_B_EXTRA: &str = "
INSERT INTO t (id, a, b, tenant_id) VALUES (500001, 'KAELt0', 666000555, 'B');
INSERT INTO u (id, t_id, c, tenant_id) VALUES (500001, 500001, 'KAELu0', 'B');
INSERT INTO n (rowid, x, y, tenant_id) VALUES (500101, 'KAELn0', 666000666, 'B');
INSERT INTO w (k, q, tenant_id) VALUES ('LEAKk0', 666000777, 'B');
";

/// Values only B's rows hold: integers, and substrings of text (or of B's numbers printed
/// as text).
const MARKERS: Markers<'static> = Markers {
    ints: &[
        900_001,
        900_002,
        900_101,
        500_001,
        500_101,
        777_000_111,
        777_000_222,
        777_000_333,
        777_000_444,
        666_000_111,
        666_000_222,
        666_000_333,
        666_000_444,
        666_000_555,
        666_000_666,
        666_000_777,
    ],
    texts: &[
        "leak", "kael", "900001", "900002", "900101", "500001", "500101", "777000", "666000",
    ],
    blobs: true,
};

/// Words whose presence in raw input turns the marker check off (the input can make the
/// marker itself).
const MARKER_WORDS: &[&str] = &["leak", "kael", "900", "500", "777", "666", "char(", "x'"];

/// Words whose presence turns the two-database comparison off: results that legitimately
/// differ between runs or between the two files.
const NONDETERMINISTIC: &[&str] = &[
    "random",
    "now",
    "current_",
    "500",
    "sqlite_offset",
    "page_count",
    "freelist",
];

/// The tenant the rewrites are for.
const TENANT: &str = "A";

/// What one SQL string did on one database, comparable between the two: per statement its
/// columns, its rows (as a sorted multiset of their text) and its error; whether the
/// progress handler stopped a statement; the first value of B's rows it returned.
#[derive(Debug, PartialEq)]
struct Run {
    statements: Vec<(Vec<String>, Vec<String>, Option<String>)>,
    interrupted: bool,
    leaked: Option<String>,
}

/// The rewriter and the databases.
pub struct Harness {
    rewriter: Rewriter,
    tenant: TenantId,
    /// The legacy schema, empty: to see whether the original statement prepares.
    legacy: Connection,
    /// The migrated database with A's and B's rows.
    first: Connection,
    /// The same with other values in B's rows, and one more B row per table.
    second: Connection,
    tenancy: Tenancy,
    /// B's rows (and the schema) in each, before anything ran.
    first_b: String,
    second_b: String,
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's harness, building it the first time.
pub fn with<R>(f: impl FnOnce(&Harness) -> R) -> R {
    HARNESS.with(|cell| {
        let mut slot = cell.borrow_mut();
        let h = slot.get_or_insert_with(Harness::new);
        f(h)
    })
}

fn open() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)
        .expect("limit attached");
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, 100_000)
        .expect("limit length");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    conn
}

fn b_rows(text: &str, number: &str) -> String {
    ROWS_B.replace("{P}", text).replace("{N}", number)
}

impl Harness {
    /// Builds the databases and the rewriter.
    pub fn new() -> Harness {
        let legacy = SETUP.legacy(open(), &[]);
        let ddl;
        let migration = if tenant_first() {
            ddl = tenant_first_ddl();
            Migration::Declared(&ddl)
        } else {
            MIGRATION
        };
        let first = SETUP.migrated(
            open(),
            migration,
            &[
                Rows::Migrated(ROWS_A),
                Rows::Migrated(&b_rows("LEAK", "777")),
            ],
        );
        let second = SETUP.migrated(
            open(),
            migration,
            &[
                Rows::Migrated(ROWS_A),
                Rows::Migrated(&format!("{}{ROWS_B_EXTRA}", b_rows("KAEL", "666"))),
            ],
        );
        let tenancy = Tenancy::read(&legacy, &first, TENANT);
        let snapshot = |conn| tenancy.others(conn, true).expect("snapshot");
        Harness {
            rewriter: Rewriter::new(schema_of(&first)),
            tenant: TenantId::new(TENANT).expect("tenant"),
            first_b: snapshot(&first),
            second_b: snapshot(&second),
            legacy,
            first,
            second,
            tenancy,
        }
    }

    /// The rewriter the harness checks.
    pub fn rewriter(&self) -> &Rewriter {
        &self.rewriter
    }

    /// Checks every property on `sql`; panics on a failure.
    pub fn check(&self, sql: &str, generated: bool) {
        let out = self.rewriter.rewrite(sql, &self.tenant);
        let again = self
            .rewriter
            .plan(sql)
            .and_then(|plan| plan.render(&self.tenant));
        assert_eq!(
            out, again,
            "rewrite() and plan().render() differ for {sql:?}"
        );
        let Ok(out) = out else { return };
        let out = out.sql();
        if let Err(e) = reparse(out) {
            panic!(
                "the rewrite does not parse again ({e})\n  original: {sql:?}\n  rewrite:  {out:?}"
            );
        }
        if let Ok(original) = prepare_all(&self.legacy, sql) {
            match prepare_all(&self.first, out) {
                Ok(rewritten) => assert!(
                    original == rewritten,
                    "result columns or parameters changed\n  original: {sql:?}\n  rewrite:  \
                     {out:?}\n  {original:?}\n  {rewritten:?}"
                ),
                Err(e) => panic!(
                    "the original prepares on the legacy schema but the rewrite does not on \
                     the migrated one ({e})\n  original: {sql:?}\n  rewrite:  {out:?}"
                ),
            }
        }
        let lower = sql.to_ascii_lowercase();
        let markers = generated || !MARKER_WORDS.iter().any(|w| lower.contains(w));
        let first = self.run(&self.first, &self.first_b, sql, out, markers);
        let second = self.run(&self.second, &self.second_b, sql, out, markers);
        let comparable = !first.interrupted
            && !second.interrupted
            && (generated || !NONDETERMINISTIC.iter().any(|w| lower.contains(w)));
        if comparable {
            assert_eq!(
                first, second,
                "TENANT LEAK: the rewrite's result depends on tenant B's rows\n  original: \
                 {sql:?}\n  rewrite:  {out:?}"
            );
        }
    }

    /// Runs `out` on a fresh copy of `template`; checks B's rows and returned values.
    fn run(
        &self,
        template: &Connection,
        b_before: &str,
        sql: &str,
        out: &str,
        markers: bool,
    ) -> Run {
        let mut conn = open();
        Backup::new(template, &mut conn)
            .and_then(|b| b.step(-1))
            .expect("copy the database");
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        conn.progress_handler(
            1000,
            Some(move || counter.fetch_add(1, Ordering::Relaxed) >= MAX_PROGRESS),
        )
        .expect("progress handler");
        let statements = run_batch(&conn, out, LIMITS);
        conn.progress_handler(0, None::<fn() -> bool>)
            .expect("progress handler");
        let markers = markers.then_some(&MARKERS);
        match self
            .tenancy
            .isolated(&conn, b_before, true, markers, &statements)
        {
            Ok(()) => {}
            Err(Leak::Returned(value)) => panic!(
                "TENANT LEAK: the rewrite returned a value of tenant B's rows: {value}\n  \
                 original: {sql:?}\n  rewrite:  {out:?}"
            ),
            Err(Leak::Unreadable(e)) => panic!(
                "B's rows cannot be read after the rewrite ({e})\n  original: {sql:?}\n  rewrite:  {out:?}"
            ),
            Err(Leak::Changed { before, after }) => panic!(
                "TENANT LEAK: the rewrite changed tenant B's rows or the schema\n  original: \
                 {sql:?}\n  rewrite:  {out:?}\n  before: {before}\n  after:  {after}"
            ),
        }
        Run {
            leaked: MARKERS.first(&statements),
            interrupted: calls.load(Ordering::Relaxed) >= MAX_PROGRESS,
            statements: statements
                .into_iter()
                .map(|mut s| {
                    sort_rows(&mut s.rows);
                    let rows = s.rows.iter().map(|r| format!("{r:?}")).collect();
                    (s.columns, rows, s.error)
                })
                .collect(),
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}
