//! `tenantry_key(x)`: the SQL function by which a scoped INSERT into a tenant-first table
//! tells the connection the key it gave its row, so `last_insert_rowid()` (rusqlite's
//! method and the SQL function) returns it as it returned the legacy table's rowid.
//!
//! SQLite does not set `last_insert_rowid()` for a WITHOUT ROWID table. The rewriter (with
//! [`tenantry_rewrite::Policy::report_keys`]) wraps each row's key in this function, which
//! sets the value on the connection that runs the statement and returns `x` unchanged.
//! SQLite saves the value when a trigger program starts and restores it when it ends, as
//! for real rowids; trigger bodies are never given the function (it is registered
//! `DIRECTONLY`, and the rewriter leaves it out of them).

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, ffi};
use tenantry_rewrite::KEY_FUNCTION;

/// Registers `tenantry_key(x)` on `conn`.
///
/// # Errors
/// SQLite's error when the function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        KEY_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY,
        report,
    )
}

/// Makes an integer `x` the connection's last inserted rowid; returns `x`.
fn report(ctx: &mut Context<'_>) -> rusqlite::Result<Value> {
    let value: Value = ctx.get(0)?;
    if let Value::Integer(key) = value {
        // SAFETY: `get_connection` borrows the handle of the connection running this call
        // (SQLite's `sqlite3_context_db_handle`), which is open for as long as the call
        // runs; the borrow does not outlive this block, and nothing else uses the handle
        // meanwhile (SQLite calls a scalar function on the thread that steps the
        // statement, which holds the connection). `sqlite3_set_last_insert_rowid` only
        // stores the integer in the connection.
        unsafe {
            let conn = ctx.get_connection()?;
            ffi::sqlite3_set_last_insert_rowid(conn.handle(), key);
        }
    }
    Ok(value)
}
