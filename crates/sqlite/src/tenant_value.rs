//! `tenantry_tenant(value, tenant, table, column)`: the SQL function by which a scoped
//! statement checks, when it runs, a value it gives the tenant column itself (a bound
//! parameter in an INSERT, `excluded.tenant_id`, the operand of `tenant_id = ?` in an
//! UPDATE's WHERE).
//!
//! The rewriter (with [`tenantry_rewrite::Policy::check_tenant_values`]) wraps each such
//! value, the tenant as the same literal as everywhere else in the statement. The function
//! returns `value` when it is the text `tenant`, byte for byte, and otherwise fails the
//! statement with [`Error::TenantMismatch`] (a NULL, an integer or a blob included): SQLite
//! then undoes every row the statement wrote, and a function error, unlike a constraint
//! failure, is not swallowed by `INSERT OR IGNORE` or `ON CONFLICT DO NOTHING`. It is
//! registered `DIRECTONLY`: a trigger or a view cannot call it, and the rewriter never puts
//! it in a trigger body.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use tenantry_rewrite::TENANT_FUNCTION;

use crate::error::Error;

/// The last mismatch the function raised on a connection: SQLite passes a function's
/// error on as text, so the connection reads the typed error back from here
/// ([`Mismatches::typed`]).
#[derive(Default)]
pub(crate) struct Mismatches(Mutex<Option<Error>>);

impl Mismatches {
    /// `result`, with SQLite's error for the last mismatch turned back into
    /// [`Error::TenantMismatch`].
    pub(crate) fn typed<T>(&self, result: rusqlite::Result<T>) -> rusqlite::Result<T> {
        let Err(rusqlite::Error::SqliteFailure(_, Some(message))) = &result else {
            return result;
        };
        let last = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match last {
            Some(error) if error.to_string() == *message => Err(error.into()),
            Some(_) | None => result,
        }
    }
}

/// Registers `tenantry_tenant(value, tenant, table, column)` on `conn`, recording each
/// mismatch in `mismatches`.
///
/// # Errors
/// SQLite's error when the function cannot be registered.
pub(crate) fn register(conn: &Connection, mismatches: Arc<Mismatches>) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        TENANT_FUNCTION,
        4,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_DIRECTONLY,
        move |ctx| {
            check(ctx).map_err(|error| {
                let text = error.to_string();
                let mut last = mismatches
                    .0
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                *last = Some(error);
                rusqlite::Error::UserFunctionError(text.into())
            })
        },
    )
}

/// `value` when it is the text `tenant`; [`Error::TenantMismatch`] otherwise.
fn check(ctx: &Context<'_>) -> Result<Value, Error> {
    if let (ValueRef::Text(given), ValueRef::Text(tenant)) = (ctx.get_raw(0), ctx.get_raw(1))
        && given == tenant
    {
        return Ok(Value::Text(String::from_utf8_lossy(given).into_owned()));
    }
    let text = |i: usize| match ctx.get_raw(i) {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        other => sql_text(other),
    };
    Err(Error::TenantMismatch {
        table: text(2),
        column: text(3),
        given: sql_text(ctx.get_raw(0)),
        tenant: text(1),
    })
}

/// A value as SQL would write it.
fn sql_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => {
            let hex: String = b.iter().map(|byte| format!("{byte:02X}")).collect();
            format!("X'{hex}'")
        }
    }
}
