//! A statement the application holds (from `prepare`, `prepare_with_flags` or
//! `prepare_cached`) runs only while the tenant it was prepared for is the connection's.
//!
//! Its text starts with a marker naming that tenant, `/* tenantry_held A */`. SQLite's
//! statement trace (`SQLITE_TRACE_STMT`, at the statement's first instruction, every run)
//! reads the marker and, when the connection's current tenant (kept in the handle's client
//! data, set at every change of tenant) is another, interrupts the connection. SQLite acts
//! on the interrupt at the jump that ends the statement's set-up, before the first row is
//! read, so the statement fails ("interrupted") whatever the rows hold. (A statement with no
//! set-up reads no table.) A check inside the statement's text would not do: SQLite
//! evaluates a constant call only when the run reaches it, after a row matched under a
//! lookup by another index or a full-text search, so it would tell another tenant whether
//! a row matched (red team 16); and it cost 3–7% on cached point lookups.
//!
//! Statements run by `execute` and `query_row`, which render for the current tenant each
//! time, have no marker.

use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
use std::sync::Mutex;

use rusqlite::{Connection, ffi};
use tenantry_rewrite::TenantId;

/// The client-data name of the current tenant.
const CURRENT: &CStr = c"tenantry_current_tenant";

/// The connection's current tenant, as the trace reads it.
struct Current(Mutex<Option<String>>);

/// Installs the statement trace on `conn`, with no current tenant.
///
/// # Errors
/// SQLite's, when the client data or the function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: the data is a `Current`, stored under a name only this module uses and read
    // back as a `Current` by `slot` and `on_statement`; rusqlite frees it when the handle
    // closes, after its last statement.
    let slot = unsafe { conn.set_clientdata(CURRENT, Some(Current(Mutex::new(None))))? };
    // SAFETY: `conn` is open; the callback reads `slot`, which lives as long as the
    // handle, and the statement's text, which lives while the callback runs.
    let rc = unsafe {
        ffi::sqlite3_trace_v2(
            conn.handle(),
            ffi::SQLITE_TRACE_STMT,
            Some(on_statement),
            slot.cast::<c_void>(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None));
    }
    Ok(())
}

/// The start of a held statement's text, naming its tenant.
const MARKER: &str = "/* tenantry_held ";

/// `sql` (a statement's text for `tenant`) marked as held for `tenant`.
pub(crate) fn marked(tenant: &TenantId, sql: &str) -> String {
    format!("{MARKER}{} */ {sql}", tenant.as_str())
}

/// The tenant a statement's text is marked for, if it is marked.
fn marked_for(text: &[u8]) -> Option<&[u8]> {
    let rest = text.strip_prefix(MARKER.as_bytes())?;
    let end = rest.iter().position(|&b| b == b' ')?;
    Some(&rest[..end])
}

/// SQLite's statement trace: interrupts a held statement that starts while its tenant is
/// not the connection's.
unsafe extern "C" fn on_statement(
    event: c_uint,
    ctx: *mut c_void,
    statement: *mut c_void,
    text: *mut c_void,
) -> c_int {
    if event != ffi::SQLITE_TRACE_STMT || ctx.is_null() || statement.is_null() || text.is_null() {
        return 0;
    }
    let text = text.cast::<c_char>();
    // Most statements are not held: look at the marker's bytes only (stopping at the NUL
    // that ends a shorter text) before reading the whole text.
    let marker = MARKER.as_bytes();
    for (i, &expected) in marker.iter().enumerate() {
        // SAFETY: SQLite passes the statement's text, NUL-terminated and alive during the
        // call; no byte past a NUL is read, since a NUL never equals a marker byte.
        if unsafe { *text.add(i) } as u8 != expected {
            return 0;
        }
    }
    // SAFETY: as above.
    let text = unsafe { CStr::from_ptr(text) }.to_bytes();
    let Some(prepared) = marked_for(text) else {
        return 0;
    };
    // SAFETY: `ctx` is the handle's `Current` (see `register`), alive while it is open.
    let current = unsafe { &*ctx.cast::<Current>() };
    let same = current
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_deref()
        .is_some_and(|now| now.as_bytes() == prepared);
    if !same {
        tracing::warn!(
            prepared = %String::from_utf8_lossy(prepared),
            "a statement prepared for another tenant was run and is interrupted: prepare it \
             again after changing the tenant"
        );
        // SAFETY: the statement is running on its connection, which is open.
        unsafe { ffi::sqlite3_interrupt(ffi::sqlite3_db_handle(statement.cast())) };
    }
    0
}

/// Makes `tenant` the current tenant the trace compares with.
pub(crate) fn set(conn: &Connection, tenant: Option<&TenantId>) {
    if let Some(slot) = slot(conn) {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = tenant.map(|t| t.as_str().to_owned());
    }
}

fn slot(conn: &Connection) -> Option<&Current> {
    // SAFETY: data under this name is only ever set by `register`, as a `Current`.
    unsafe { conn.get_clientdata::<Current, _>(CURRENT) }
        .ok()
        .flatten()
}
