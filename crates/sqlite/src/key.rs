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
    if let Some(key) = as_stored_integer(&value) {
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

/// The integer `value` becomes in a column of INTEGER affinity, as the key column stores it
/// (its CHECK keeps integers only): an integer; a real with no fraction; text that is a
/// well-formed integer or real literal (spaces around allowed) with no fraction. `None` for
/// anything else, which the column does not store as an integer.
fn as_stored_integer(value: &Value) -> Option<i64> {
    let from_real = |f: f64| {
        // Within i64's range (2^63 itself is not), and exactly an integer.
        (f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f))
            .then_some(f as i64)
    };
    match value {
        Value::Integer(i) => Some(*i),
        Value::Real(f) => from_real(*f),
        Value::Text(text) => {
            let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
            if let Ok(i) = t.parse::<i64>() {
                return Some(i);
            }
            let literal = !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
                && t.bytes().any(|b| b.is_ascii_digit());
            literal
                .then(|| t.parse::<f64>().ok())
                .flatten()
                .and_then(from_real)
        }
        Value::Null | Value::Blob(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_the_key_column_stores_as_integers_are_reported() {
        let text = |s: &str| Value::Text(s.to_owned());
        for (value, expected) in [
            (Value::Integer(7), Some(7)),
            (Value::Real(13.0), Some(13)),
            (Value::Real(13.5), None),
            (text("77"), Some(77)),
            (text(" 78 "), Some(78)),
            (text("1e3"), Some(1000)),
            (text("12.0"), Some(12)),
            (text("12.5"), None),
            (text("0x10"), None),
            (text("inf"), None),
            (text("abc"), None),
            (Value::Null, None),
        ] {
            assert_eq!(as_stored_integer(&value), expected, "{value:?}");
        }
    }
}
