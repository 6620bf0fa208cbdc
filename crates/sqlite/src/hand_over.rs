//! What a handle forgets between two users (tenants on one connection, requests on a
//! pooled handle): the key inserted last and the rows changed. The next user reads
//! `last_insert_rowid()` 0, `changes()` 0 and `total_changes()` from 0, as on a handle
//! opened for it.
//!
//! - `last_insert_rowid()`: set to 0 (`sqlite3_set_last_insert_rowid`).
//! - `changes()`: SQLite has no call that sets it, and reports it in many places (the
//!   function, `sqlite3_changes()` behind rusqlite's `execute` of any statement and sqlx's
//!   `rows_affected()` of one that is not read-only, the value a trigger program restores
//!   when it ends). So a DELETE of no row sets it to 0: `DELETE FROM temp._tenantry_changes
//!   WHERE 0`, on a table of the handle's own temporary schema, created with the handle
//!   before the guard is installed (the guard denies creating one, and allows this DELETE:
//!   the table is no tenant's). Only when the count is not 0 already.
//! - `total_changes()`: the count since the hand-over (`counts.rs`).
//!
//! Also a SQL function, [`HAND_OVER_FUNCTION`]`()`, for a pool that hands a handle to a
//! statement without holding the handle itself: the function returns 0 and forgets as it
//! runs, so a statement of no row run first (`SELECT 0 WHERE tenantry_hand_over() <> 0`)
//! does it. Its DELETE runs inside that statement, as SQLite allows a function to run
//! statements on its own connection.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

/// The SQL function that makes the handle running it forget its previous user; returns 0.
pub const HAND_OVER_FUNCTION: &str = "tenantry_hand_over";

/// Creates the table of the handle's temporary schema whose DELETE of no row sets
/// `changes()` to 0.
const CREATE: &str = "CREATE TEMP TABLE IF NOT EXISTS \"_tenantry_changes\" (x)";

/// The DELETE of no row that sets `changes()` to 0 (on the table [`CREATE`] makes).
const RESET: &str = "DELETE FROM temp.\"_tenantry_changes\" WHERE 0";

/// Creates the table of [`RESET`] on `conn`; before the guard is installed.
///
/// `PRAGMA query_only`, which an application may set in its connect options (a reporting
/// pool), refuses writes to the temporary schema too: it is turned off for this one CREATE
/// and on again, whether the CREATE succeeded or not.
///
/// # Errors
/// SQLite's, when the table cannot be created or `query_only` not restored.
pub(crate) fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    let refused = match conn.execute_batch(CREATE) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let query_only: bool = conn.query_row("PRAGMA query_only", [], |r| r.get(0))?;
    if !query_only {
        return Err(refused);
    }
    conn.execute_batch("PRAGMA query_only = OFF")?;
    let created = conn.execute_batch(CREATE);
    conn.execute_batch("PRAGMA query_only = ON")?;
    created
}

/// Makes `conn`'s handle forget its previous user.
///
/// # Errors
/// SQLite's, when the DELETE that sets `changes()` to 0 fails (`PRAGMA query_only` on, the
/// table gone); the key and the total are forgotten anyway.
pub(crate) fn hand_over(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: `conn` is an open handle; the call only sets its last-insert value.
    unsafe { rusqlite::ffi::sqlite3_set_last_insert_rowid(conn.handle(), 0) };
    crate::counts::forget(conn);
    if conn.changes() != 0 {
        conn.execute(RESET, [])?;
    }
    Ok(())
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
            hand_over(&conn)?;
            Ok(0)
        },
    )
}
