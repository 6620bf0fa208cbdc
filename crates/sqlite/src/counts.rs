//! `changes()` and `total_changes()` for the current tenant only.
//!
//! SQLite counts the rows changed on a connection whoever changed them: after a change of
//! tenant (`set_tenant`, a pooled connection handed to another request), its counts would
//! tell the new tenant how many rows the previous one changed. The connection keeps, in
//! the handle's client data, SQLite's total when the tenant was set (the baseline), and
//! answers for the tenant as a connection opened for it would:
//! - `total_changes()`: SQLite's total less the baseline;
//! - `changes()`: 0 while the total has not moved since the baseline (no statement of
//!   this tenant changed a row; one that changed none sets SQLite's count to 0 anyway),
//!   else SQLite's count, which is then the tenant's last statement's.
//!
//! Both the SQL functions (registered over SQLite's own, innocuous like them, so views and
//! triggers keep calling them) and rusqlite's methods of the tenant connection read the
//! same. They live on the handle, so a pool that holds only the handle resets them too.

use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

/// The client-data name of the baseline.
const BASELINE: &std::ffi::CStr = c"tenantry_changes_baseline";

/// SQLite's total of changed rows when the current tenant was set.
struct Baseline(AtomicU64);

/// Registers `changes()` and `total_changes()` on `conn` over SQLite's, with the
/// connection's total now as the baseline.
///
/// # Errors
/// SQLite's, when the baseline or a function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: the data is a `Baseline`, stored under a name only this module uses and
    // read back as a `Baseline` by `baseline`; rusqlite frees it when the handle closes.
    unsafe {
        conn.set_clientdata(
            BASELINE,
            Some(Baseline(AtomicU64::new(conn.total_changes()))),
        )?
    };
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("changes", 0, flags, |ctx| {
        // SAFETY: the handle of the connection running this call, open while it runs;
        // the borrow ends with the call, and only counts are read from it.
        let conn = unsafe { ctx.get_connection()? };
        Ok(as_sql(changes(&conn)))
    })?;
    conn.create_scalar_function("total_changes", 0, flags, |ctx| {
        // SAFETY: as for `changes` above.
        let conn = unsafe { ctx.get_connection()? };
        Ok(as_sql(total_changes(&conn)))
    })
}

/// Starts the counts again: what the tenant set next reads is its own. Nothing happens on
/// a handle the functions were not registered on.
pub(crate) fn forget(conn: &Connection) {
    if let Some(baseline) = baseline(conn) {
        baseline.0.store(conn.total_changes(), Ordering::Relaxed);
    }
}

/// Rows the current tenant's last statement changed (0 before it changed any).
pub(crate) fn changes(conn: &Connection) -> u64 {
    match baseline(conn) {
        Some(b) if b.0.load(Ordering::Relaxed) == conn.total_changes() => 0,
        Some(_) | None => conn.changes(),
    }
}

/// Rows the current tenant's statements changed since it was set.
pub(crate) fn total_changes(conn: &Connection) -> u64 {
    let from = baseline(conn).map_or(0, |b| b.0.load(Ordering::Relaxed));
    conn.total_changes().saturating_sub(from)
}

fn baseline(conn: &Connection) -> Option<&Baseline> {
    // SAFETY: data under this name is only ever set by `register`, as a `Baseline`.
    unsafe { conn.get_clientdata::<Baseline, _>(BASELINE) }
        .ok()
        .flatten()
}

/// SQLite's integer for a count (a count never reaches 2^63).
fn as_sql(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
