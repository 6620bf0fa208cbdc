//! What a handle forgets between two users (tenants on one connection, requests on a
//! pooled handle): the key inserted last and the rows changed. The next user reads
//! `last_insert_rowid()` 0, and `changes()` and `total_changes()` count from 0
//! (`counts.rs`), as on a handle opened for it.
//!
//! Also a SQL function, [`HAND_OVER_FUNCTION`]`()`, for a pool that hands a handle to a
//! statement without holding the handle itself: the function returns 0 and forgets as it
//! runs, so a statement of no row run first (`SELECT 0 WHERE tenantry_hand_over() <> 0`)
//! does it.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

/// The SQL function that makes the handle running it forget its previous user; returns 0.
pub const HAND_OVER_FUNCTION: &str = "tenantry_hand_over";

/// Makes `conn`'s handle forget its previous user.
pub(crate) fn hand_over(conn: &Connection) {
    // SAFETY: `conn` is an open handle; the call only sets its last-insert value.
    unsafe { rusqlite::ffi::sqlite3_set_last_insert_rowid(conn.handle(), 0) };
    crate::counts::forget(conn);
}

/// Registers [`HAND_OVER_FUNCTION`] on `conn`: direct only, so a view or a trigger cannot
/// run it.
///
/// # Errors
/// SQLite's error when the function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        HAND_OVER_FUNCTION,
        0,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY,
        |ctx| {
            // SAFETY: the handle of the connection running this call, open while it runs
            // and used by nothing else meanwhile (SQLite calls a scalar function on the
            // thread that steps the statement); the borrow ends with the call.
            let conn = unsafe { ctx.get_connection()? };
            hand_over(&conn);
            Ok(0)
        },
    )
}
