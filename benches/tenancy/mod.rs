//! Ten tenants of equal size in one database, and the measured tenant alone: built once
//! into `target/tenantry-bench/tenants/` (about ten minutes on 2 cores: each copy checks
//! every foreign key of the database), shared by the benches that measure what a tenant
//! pays for its neighbours (see `benches/tenants.rs` for the design).

use std::path::{Path, PathBuf};
use std::time::Instant;

use tenantry_fixtures::{Interleave, Size, TenantCopy, copy_tenant, expected_tables};
use tenantry_migrate::Layout;

use crate::fixture;
use crate::support::bench_dir;

/// How many tenants share the database.
pub const TENANTS: i64 = 10;

/// The tenant whose statements are measured.
pub const MEASURED: &str = "t3";

/// Added to every copied key: above every key of the migrated store, so no copy collides
/// with it before it is deleted.
const KEY_BASE: i64 = 10_000_000;

/// The shared database and the measured tenant's own, built once.
pub struct Databases {
    pub shared: PathBuf,
    #[allow(
        dead_code,
        reason = "the cost bench compares with plain rusqlite instead"
    )]
    pub own: PathBuf,
}

/// The layout's name in file names and the summary.
pub fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::TenantFirst => "tenant-first",
        Layout::Column => "column",
    }
}

/// The shared database and the measured tenant's own, for `layout`, built on first use.
pub fn databases(layout: Layout) -> Databases {
    let dir = bench_dir("tenants");
    let name = layout_name(layout);
    let shared = dir.join(format!("pos-{TENANTS}-tenants-{name}.db"));
    let own = dir.join(format!("pos-{MEASURED}-alone-{name}.db"));
    if !shared.exists() || !own.exists() || !fixture::migrated_by_this_build(&dir, &shared, layout)
    {
        // Built by another build's migrator: both are built again.
        let _ = std::fs::remove_file(&shared);
        let _ = std::fs::remove_file(&own);
        let started = Instant::now();
        let pristine = fixture::pristine(&dir, Size::Small);
        build_shared(&pristine, &shared, layout);
        build_own(&shared, &own);
        eprintln!(
            "built the {TENANTS}-tenant database and {MEASURED}'s own in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Databases { shared, own }
}

/// Migrates a copy of `pristine`, copies its store as `t0` … `t9` with interleaved keys,
/// deletes the original store, and writes the result to `dest` (atomically: an
/// interrupted build leaves nothing).
fn build_shared(pristine: &Path, dest: &Path, layout: Layout) {
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    fixture::migrate_copy_as(pristine, &partial, layout);
    let conn = rusqlite::Connection::open(&partial).expect("open");
    let store = tenantry_migrate::DEFAULT_TENANT;
    for slot in 0..TENANTS {
        let mut copy = TenantCopy::pos(store, format!("t{slot}"));
        // The same rows for every tenant: no amount changed.
        copy.adjustments.clear();
        copy.interleave = Some(match layout {
            // Keys per tenant: every tenant holds the same keys (v * 1 + 0 + 0 = v).
            Layout::TenantFirst => Interleave {
                stride: 1,
                slot: 0,
                base: 0,
            },
            Layout::Column => Interleave {
                stride: TENANTS,
                slot,
                base: KEY_BASE,
            },
        });
        copy_tenant(&conn, &copy).expect("copy the store as a tenant");
    }
    delete_tenants(&conn, &|tenant| tenant == store);
    conn.execute_batch("VACUUM; ANALYZE; PRAGMA journal_mode = WAL;")
        .expect("vacuum and analyze");
    drop(conn);
    std::fs::rename(&partial, dest).expect("move into place");
}

/// A copy of `shared` holding only the measured tenant's rows.
fn build_own(shared: &Path, dest: &Path) {
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let conn = rusqlite::Connection::open(shared).expect("open shared");
    conn.execute("VACUUM INTO ?1", [partial.to_string_lossy()])
        .expect("copy shared");
    drop(conn);
    let conn = rusqlite::Connection::open(&partial).expect("open own");
    delete_tenants(&conn, &|tenant| tenant != MEASURED);
    conn.execute_batch("VACUUM; ANALYZE; PRAGMA journal_mode = WAL;")
        .expect("vacuum and analyze");
    drop(conn);
    std::fs::rename(&partial, dest).expect("move into place");
}

/// Deletes the rows of the tenants `doomed` picks from every tenant table (foreign keys
/// off, so no action fires; the POS schema has no DELETE trigger).
fn delete_tenants(conn: &rusqlite::Connection, doomed: &dyn Fn(&str) -> bool) {
    conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN")
        .expect("begin");
    let mut stmt = conn
        .prepare("SELECT DISTINCT tenant_id FROM customers")
        .expect("tenants");
    let tenants: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .expect("tenants");
    drop(stmt);
    for tenant in tenants.iter().filter(|t| doomed(t)) {
        for table in expected_tables() {
            conn.execute(
                &format!("DELETE FROM \"{table}\" WHERE tenant_id = ?1"),
                [tenant],
            )
            .expect("delete a tenant's rows");
        }
    }
    conn.execute_batch("COMMIT; PRAGMA foreign_keys = ON")
        .expect("commit");
}

/// The `small` fixture as it was before the migration — exactly the rows each tenant of
/// the shared tenant-first database holds, under the same keys — with `ANALYZE` run on it
/// as on the shared database, in WAL mode: the plain-rusqlite side of "one tenant among
/// ten" (built once).
#[allow(dead_code, reason = "only the cost bench compares with plain rusqlite")]
pub fn plain_alone() -> PathBuf {
    let dir = bench_dir("tenants");
    let path = dir.join("pos-small-analyzed.db");
    if !path.exists() {
        let pristine = fixture::pristine(&dir, Size::Small);
        let partial = path.with_extension("partial");
        let _ = std::fs::remove_file(&partial);
        std::fs::copy(&pristine, &partial).expect("copy the small fixture");
        let conn = rusqlite::Connection::open(&partial).expect("open");
        conn.execute_batch("ANALYZE; PRAGMA journal_mode = WAL;")
            .expect("analyze");
        drop(conn);
        std::fs::rename(&partial, &path).expect("move into place");
    }
    path
}
