//! A statement the application holds (from `prepare`, `prepare_with_flags` or
//! `prepare_cached`) runs only while the tenant it was prepared for is the connection's.
//!
//! Its text starts with a marker naming that tenant, `/* tenantry_held A */`, and each tenant
//! literal `'A'` is written `tenantry_current('A')` ([`tenantry_rewrite::Plan::render_checked`]).
//! Two checks, against the connection's current tenant (kept in the handle's client data,
//! set at every change of tenant):
//! - SQLite's statement trace (`SQLITE_TRACE_STMT`, at the statement's first instruction)
//!   reads the marker and, for another tenant, interrupts the connection. SQLite notices the
//!   interrupt at the jump that ends the statement's set-up, before its first row is read:
//!   the statement fails ("interrupted") whatever the rows hold.
//! - `tenantry_current('A')` returns `'A'` while A is the tenant and otherwise fails the
//!   statement with [`Error::StatementOfAnotherTenant`]. It is the line that holds when the
//!   trace does not run: SQLite skips the trace when it runs a statement again after
//!   preparing it anew for a schema change, and that restart clears the interrupt (red team
//!   16). SQLite evaluates such a call once per run, but only when the run reaches it, which
//!   may be after a row matched (a lookup by another index, a full-text search).
//! - So that B cannot learn even whether a row matched, the trace also notes that a held
//!   statement of another tenant has started (`Current::foreign`, shared with the guard), and
//!   the authorizer refuses `tenantry_current` while it is noted ([`crate::guard`]). SQLite
//!   finds the schema changed at the statement's set-up, after the trace, and prepares the
//!   statement anew, asking the authorizer: that fails, before any row ("not authorized").
//!   The note lives only while that statement's step runs: the refusal clears it, and so do
//!   the trace of a held statement of the current tenant, every change of tenant, every
//!   statement the connection scopes and the end of unscoped work. Statements that are not
//!   held never call the function, so the note cannot touch them. A held statement of
//!   another tenant that SQLite prepares anew before its first instruction (an expired one)
//!   is prepared, then interrupted by the trace.
//!
//! Statements run by `execute` and `query_row`, which render for the current tenant each
//! time, keep the literal and no marker.

use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, ffi};
use tenantry_rewrite::TenantId;

use crate::error::Error;

/// The function a held statement's tenant tests call.
pub const CURRENT_FUNCTION: &str = "tenantry_current";

/// The client-data name of the current tenant.
const CURRENT: &CStr = c"tenantry_current_tenant";

/// The connection's current tenant, as the function reads it, and whether the last held
/// statement that started was another tenant's (the guard's `held_foreign`).
struct Current {
    tenant: Mutex<Option<String>>,
    foreign: Arc<AtomicBool>,
    /// A held statement started since the last change of tenant found none running: the
    /// next change must look at the connection's statements ([`held_for_others`]).
    held_ran: AtomicBool,
}

/// Registers [`CURRENT_FUNCTION`] on `conn`, with no current tenant; the trace sets `foreign`
/// when a held statement of another tenant starts and clears it when one of the current
/// tenant's does.
///
/// # Errors
/// SQLite's, when the client data or the function cannot be registered.
pub(crate) fn register(conn: &Connection, foreign: Arc<AtomicBool>) -> rusqlite::Result<()> {
    // SAFETY: the data is a `Current`, stored under a name only this module uses and read
    // back as a `Current` by `current` and `on_statement`; rusqlite frees it when the
    // handle closes, after its last statement.
    let slot = unsafe {
        conn.set_clientdata(
            CURRENT,
            Some(Current {
                tenant: Mutex::new(None),
                foreign,
                held_ran: AtomicBool::new(false),
            }),
        )?
    };
    install_trace_with(conn, slot.cast_const())?;
    let slot = Slot(slot.cast_const());
    conn.create_scalar_function(
        CURRENT_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_DIRECTONLY,
        move |ctx| {
            let prepared = ctx.get_raw(0).as_str()?;
            let now = slot.current().lock().unwrap_or_else(|p| p.into_inner());
            if now.as_deref() == Some(prepared) {
                Ok(prepared.to_owned())
            } else {
                Err(rusqlite::Error::UserFunctionError(Box::new(
                    Error::StatementOfAnotherTenant {
                        prepared: prepared.to_owned(),
                        current: now.clone(),
                    },
                )))
            }
        },
    )
}

/// Makes [`on_statement`] the handle's statement trace, with `slot` (the handle's
/// `Current`).
fn install_trace_with(conn: &Connection, slot: *const Current) -> rusqlite::Result<()> {
    // SAFETY: `conn` is open; the callback reads `slot`, which lives as long as the
    // handle, and the statement's text, which lives while the callback runs.
    let rc = unsafe {
        ffi::sqlite3_trace_v2(
            conn.handle(),
            ffi::SQLITE_TRACE_STMT,
            Some(on_statement),
            slot.cast_mut().cast::<c_void>(),
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None))
    }
}

/// Installs the statement trace again (work on the raw connection may have replaced it:
/// SQLite keeps one per handle). Nothing on a handle [`register`] did not set up.
///
/// # Errors
/// SQLite's.
pub(crate) fn install_trace(conn: &Connection) -> rusqlite::Result<()> {
    match slot(conn) {
        Some(current) => install_trace_with(conn, current),
        None => Ok(()),
    }
}

/// The handle's `Current`, as the function reads it without looking the client data up
/// (it runs at every run of a held statement).
struct Slot(*const Current);

// SAFETY: the pointee is a `Current` (a `Mutex`, safe to share between threads), freed only
// when the handle closes; the function that holds the pointer runs only while the handle is
// open, on the thread stepping a statement of it.
unsafe impl Send for Slot {}

impl Slot {
    /// The tenant the function compares with.
    fn current(&self) -> &Mutex<Option<String>> {
        // SAFETY: see the `Send` impl: the `Current` outlives every call of the function.
        unsafe { &(*self.0).tenant }
    }
}

/// The start of a held statement's text, naming its tenant.
const MARKER: &str = "/* tenantry_held ";

/// What SQLite's trace puts before the text of a statement started while another runs.
const NESTED: &str = "-- ";

/// `sql` (a held statement's checked text) marked as prepared for `tenant`.
pub(crate) fn marked(tenant: &TenantId, sql: &str) -> String {
    format!("{MARKER}{} */ {sql}", tenant.as_str())
}

/// The tenant a statement's text is marked for, if it is marked.
fn marked_for(text: &[u8]) -> Option<&[u8]> {
    let rest = text.strip_prefix(MARKER.as_bytes())?;
    let end = rest.iter().position(|&b| b == b' ')?;
    Some(&rest[..end])
}

/// The tenant the NUL-terminated `text` is marked for, if it is marked (after a leading
/// `-- ` too when `nested`). Most statements are not held: only the marker's bytes are
/// read before the whole text.
///
/// # Safety
/// `text` points to a NUL-terminated string that lives for `'a`.
unsafe fn marked_at<'a>(text: *const c_char, nested: bool) -> Option<&'a [u8]> {
    // SAFETY: no byte past the NUL is read, since a NUL never equals a byte looked for.
    let starts_with = |from: usize, bytes: &[u8]| {
        bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| unsafe { *text.add(from + i) } as u8 == b)
    };
    let from = if nested && starts_with(0, NESTED.as_bytes()) {
        NESTED.len()
    } else {
        0
    };
    if !starts_with(from, MARKER.as_bytes()) {
        return None;
    }
    // SAFETY: the caller's; `from` is within the text, whose first `from` bytes are not NUL.
    marked_for(unsafe { CStr::from_ptr(text.add(from)) }.to_bytes())
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
    // SAFETY: `ctx` is the handle's `Current` (see `register`), alive while it is open.
    let current = unsafe { &*ctx.cast::<Current>() };
    // SAFETY: SQLite passes the statement's text, NUL-terminated and alive during the call.
    // A statement started while another runs (stepped from inside an SQL function, say) is
    // traced as `-- ` and its text (red team 19: its marker was missed, and the held
    // statement ran unchecked).
    let Some(prepared) = (unsafe { marked_at(text.cast::<c_char>(), true) }) else {
        return 0;
    };
    current.held_ran.store(true, Ordering::Release);
    let same = current
        .tenant
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_deref()
        .is_some_and(|now| now.as_bytes() == prepared);
    // Read by the guard if SQLite now prepares this statement anew (see the module's doc).
    current.foreign.store(!same, Ordering::Release);
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

/// Makes `tenant` the current tenant the function compares with, and clears the note of a
/// held statement of another tenant: a statement of the new tenant that SQLite must prepare
/// anew before its first instruction (one whose earlier run found the schema changed) then
/// is not refused; one of another tenant is interrupted by the trace instead.
pub(crate) fn set(conn: &Connection, tenant: Option<&TenantId>) {
    if let Some(slot) = slot(conn) {
        slot.foreign.store(false, Ordering::Release);
        *slot.tenant.lock().unwrap_or_else(|p| p.into_inner()) =
            tenant.map(|t| t.as_str().to_owned());
    }
}

fn slot(conn: &Connection) -> Option<&Current> {
    // SAFETY: data under this name is only ever set by `register`, as a `Current`.
    unsafe { conn.get_clientdata::<Current, _>(CURRENT) }
        .ok()
        .flatten()
}

/// A held statement of a connection: its handle, the tenant it was prepared for, and
/// whether it is running (stepped, not finished or reset).
struct Held {
    stmt: *mut ffi::sqlite3_stmt,
    prepared: String,
    running: bool,
}

/// The held statements of a connection prepared for another tenant than the one it is
/// changing to, that are running or have run since their counters were last cleared
/// ([`Others::scrub`]); read by [`others`] for one change of tenant, on the same handle, in
/// the same call.
pub(crate) struct Others(Vec<Held>);

/// The held statements of `conn` prepared for another tenant than `tenant` that are running
/// or have run since they were last scrubbed. Only those are read, so the walk stays cheap
/// on a connection whose statement cache holds hundreds of statements; none is read when
/// no held statement started since the last scrub found none running
/// (`Current::held_ran`).
pub(crate) fn others(conn: &Connection, tenant: Option<&TenantId>) -> Others {
    let mut found = Vec::new();
    if !slot(conn).is_some_and(|c| c.held_ran.load(Ordering::Acquire)) {
        return Others(found);
    }
    // SAFETY: the handle is open while `conn` is borrowed, and this thread is the only one
    // using it (`Connection` is not `Sync`); `sqlite3_next_stmt` walks its statements, each
    // alive until the application finalizes it, which it cannot do during this call.
    let mut stmt = unsafe { ffi::sqlite3_next_stmt(conn.handle(), std::ptr::null_mut()) };
    while !stmt.is_null() {
        // SAFETY: `stmt` is a statement of the handle (above); reading its state and a
        // counter takes no lock, and its text lives as long as it.
        let (running, ran) = unsafe {
            (
                ffi::sqlite3_stmt_busy(stmt) != 0,
                ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_RUN, 0) > 0,
            )
        };
        let text = if running || ran {
            // SAFETY: as above.
            unsafe { ffi::sqlite3_sql(stmt) }
        } else {
            std::ptr::null()
        };
        if !text.is_null() {
            // SAFETY: SQLite's copy of the statement's text, NUL-terminated, alive as long
            // as the statement.
            if let Some(prepared) = unsafe { marked_at(text, false) }
                && tenant.is_none_or(|t| t.as_str().as_bytes() != prepared)
            {
                found.push(Held {
                    stmt,
                    prepared: String::from_utf8_lossy(prepared).into_owned(),
                    running,
                });
            }
        }
        // SAFETY: as above.
        stmt = unsafe { ffi::sqlite3_next_stmt(conn.handle(), stmt) };
    }
    Others(found)
}

impl Others {
    /// The tenant of the first of them that is running.
    pub(crate) fn running(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.running)
            .map(|h| h.prepared.as_str())
    }

    /// Resets those running: read on, each starts again and fails as a held statement of
    /// another tenant does.
    pub(crate) fn reset_running(&mut self) {
        for held in self.0.iter_mut().filter(|h| h.running) {
            tracing::warn!(
                prepared = %held.prepared,
                "a statement prepared for another tenant was still being read when the tenant \
                 changed: it is reset, and fails if read on"
            );
            // SAFETY: a live statement of the handle `others` walked (same call); resetting
            // it only ends its run (rusqlite steps it again, or resets it again when done).
            unsafe { ffi::sqlite3_reset(held.stmt) };
            held.running = false;
        }
    }

    /// Clears what they keep of their last run, which code running as the new tenant could
    /// otherwise read without running them (red team 20): their bound values
    /// (`expanded_sql` showed the previous tenant's search terms and inserted values) and
    /// their counters (`get_status`: full-scan steps and VM steps grew with the previous
    /// tenant's row count). A statement bound again for each run (rusqlite's `query`,
    /// `execute`) is not affected; values bound to a statement that has not run since the
    /// last change stay (the code that bound them sees them).
    pub(crate) fn scrub(&self, conn: &Connection) {
        const COUNTERS: [c_int; 8] = [
            ffi::SQLITE_STMTSTATUS_FULLSCAN_STEP,
            ffi::SQLITE_STMTSTATUS_SORT,
            ffi::SQLITE_STMTSTATUS_AUTOINDEX,
            ffi::SQLITE_STMTSTATUS_VM_STEP,
            ffi::SQLITE_STMTSTATUS_REPREPARE,
            ffi::SQLITE_STMTSTATUS_RUN,
            ffi::SQLITE_STMTSTATUS_FILTER_MISS,
            ffi::SQLITE_STMTSTATUS_FILTER_HIT,
        ];
        for held in &self.0 {
            // SAFETY: a live statement of `conn`'s handle (see `others`); clearing its
            // bindings and counters is allowed whether or not it runs.
            unsafe {
                ffi::sqlite3_clear_bindings(held.stmt);
                for counter in COUNTERS {
                    ffi::sqlite3_stmt_status(held.stmt, counter, 1);
                }
            }
        }
        if self.running().is_none()
            && let Some(current) = slot(conn)
        {
            current.held_ran.store(false, Ordering::Release);
        }
    }
}
