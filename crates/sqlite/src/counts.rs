//! `total_changes()` for the current tenant only.
//!
//! SQLite counts the rows changed on a connection since it opened, whoever changed them:
//! after a change of tenant (`set_tenant`, a pooled connection handed to another request)
//! its total would tell the new tenant how many rows the previous ones changed. The
//! connection keeps, in the handle's client data, SQLite's total at the last hand-over
//! (`hand_over.rs`, the baseline), and answers SQLite's total less the baseline: the SQL
//! function `total_changes()` (registered over SQLite's own, innocuous like it, so views
//! and triggers keep calling it) and rusqlite's method of the tenant connection alike. It
//! lives on the handle, so a pool that holds only the handle resets it too.
//!
//! (`changes()` needs no such help: the hand-over sets SQLite's own count to 0.)

use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

/// The client-data name of the baseline.
const BASELINE: &std::ffi::CStr = c"tenantry_changes_baseline";

/// SQLite's total of changed rows at the last hand-over.
struct Baseline(AtomicU64);

/// Registers `total_changes()` on `conn` over SQLite's, with the connection's total now as
/// the baseline.
///
/// # Errors
/// SQLite's, when the baseline or the function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let baseline = Baseline(AtomicU64::new(conn.total_changes()));
    // SAFETY: the data is a `Baseline`, stored under a name only this module uses and
    // read back as a `Baseline` by `baseline`; rusqlite frees it when the handle closes.
    unsafe { conn.set_clientdata(BASELINE, Some(baseline))? };
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("total_changes", 0, flags, |ctx| {
        // SAFETY: the handle of the connection running this call, open while it runs;
        // the borrow ends with the call, and only counts are read from it.
        let conn = unsafe { ctx.get_connection()? };
        Ok(i64::try_from(total_changes(&conn)).unwrap_or(i64::MAX))
    })
}

/// Starts the total again: what the next user reads is its own. Nothing happens on a
/// handle the function was not registered on.
pub(crate) fn forget(conn: &Connection) {
    if let Some(baseline) = baseline(conn) {
        baseline.0.store(conn.total_changes(), Ordering::Relaxed);
    }
}

/// Rows the current user's statements changed since the last hand-over.
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
