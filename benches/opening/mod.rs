//! Opening a connection per request: open, (set the tenant,) one point lookup, close. What
//! `benches/open.rs` and scenario 5 of `benches/cost.rs` time.

use std::path::Path;

use crate::support::open_plain;

/// The point lookup run after each open: SQLite reads the schema on a connection's first
/// statement, so the open is paid in full.
const LOOKUP: &str = "SELECT username FROM users WHERE id = ?1";

/// Plain rusqlite with the tenant connection's settings (`support::open_plain`).
pub fn plain(path: &Path) {
    let conn = open_plain(path);
    let name: String = conn.query_row(LOOKUP, [1], |r| r.get(0)).expect("lookup");
    std::hint::black_box(name);
}

/// The tenant connection `conn`, for the migration's tenant.
pub fn scoped(conn: tenantry_sqlite::Connection) {
    conn.set_tenant(tenantry_migrate::DEFAULT_TENANT)
        .expect("tenant");
    let name: String = conn.query_row(LOOKUP, [1], |r| r.get(0)).expect("lookup");
    std::hint::black_box(name);
}

/// A tenant connection to `path` whose schema the process has not read: the `n`th
/// distinct absent table declared as having its own tenant column makes the plan cache's
/// key new (what every open cost before the rewriter was kept per process).
pub fn cold(path: &Path, n: usize) -> tenantry_sqlite::Connection {
    let plans =
        tenantry_sqlite::SharedPlans::default().with_own_tenant_columns([format!("absent_{n}")]);
    let conn = rusqlite::Connection::open(path).expect("open");
    tenantry_sqlite::Connection::wrap_shared(conn, tenantry_sqlite::DEFAULT_TENANT_COLUMN, plans)
        .expect("wrap")
}
