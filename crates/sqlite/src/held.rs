//! `tenantry_current('A')`: the check by which a statement the application holds (from
//! `prepare`, `prepare_with_flags` or `prepare_cached`) runs only while its tenant is the
//! connection's.
//!
//! Such a statement is rendered with each tenant literal `'A'` written as
//! `tenantry_current('A')` ([`tenantry_rewrite::Plan::render_checked`]). The function
//! returns `'A'` while `A` is the connection's current tenant (kept in the handle's client
//! data, set at every change of tenant), and otherwise fails the statement with
//! [`Error::StatementOfAnotherTenant`]: run after `set_tenant("B")`, a statement prepared for
//! A reads and writes nothing. It is deterministic, so SQLite evaluates a call of a
//! constant once per run, before any row, and direct only (no view or trigger holds one).
//! Statements run by `execute` and `query_row`, which render for the current tenant each
//! time, keep the literal.

use std::sync::Mutex;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use tenantry_rewrite::TenantId;

use crate::error::Error;

/// The function a held statement's tenant tests call.
pub const CURRENT_FUNCTION: &str = "tenantry_current";

/// The client-data name of the current tenant.
const CURRENT: &std::ffi::CStr = c"tenantry_current_tenant";

/// The connection's current tenant, as the function reads it.
struct Current(Mutex<Option<String>>);

/// Registers [`CURRENT_FUNCTION`] on `conn`, with no current tenant.
///
/// # Errors
/// SQLite's, when the client data or the function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: the data is a `Current`, stored under a name only this module uses and read
    // back as a `Current` by `current`; rusqlite frees it when the handle closes.
    unsafe { conn.set_clientdata(CURRENT, Some(Current(Mutex::new(None))))? };
    conn.create_scalar_function(
        CURRENT_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_DIRECTONLY,
        |ctx| {
            let prepared: String = ctx.get(0)?;
            // SAFETY: the handle of the connection running this call, open while it runs;
            // the borrow ends with the call, and only the client data is read.
            let conn = unsafe { ctx.get_connection()? };
            let now = current(&conn);
            if now.as_deref() == Some(prepared.as_str()) {
                Ok(prepared)
            } else {
                Err(rusqlite::Error::UserFunctionError(Box::new(
                    Error::StatementOfAnotherTenant {
                        prepared,
                        current: now,
                    },
                )))
            }
        },
    )
}

/// Makes `tenant` the current tenant the function compares with.
pub(crate) fn set(conn: &Connection, tenant: Option<&TenantId>) {
    if let Some(slot) = slot(conn) {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = tenant.map(|t| t.as_str().to_owned());
    }
}

fn current(conn: &Connection) -> Option<String> {
    slot(conn).and_then(|slot| slot.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

fn slot(conn: &Connection) -> Option<&Current> {
    // SAFETY: data under this name is only ever set by `register`, as a `Current`.
    unsafe { conn.get_clientdata::<Current, _>(CURRENT) }
        .ok()
        .flatten()
}
