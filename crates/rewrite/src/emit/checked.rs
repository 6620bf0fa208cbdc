//! Tenant values a statement gives itself that are checked when it runs
//! ([`crate::Policy::check_tenant_values`]): each is wrapped as
//! `tenantry_tenant(<value>, 'A', '<table>', '<column>')`, the tenant literal in the same
//! holes as everywhere. The connection that registers the function makes it return the
//! value when it is the tenant's id (text, equal byte for byte) and fail the statement
//! otherwise, naming the table, the column, the value and the tenant. A function error,
//! unlike a constraint, is not swallowed by `INSERT OR IGNORE`, and SQLite undoes every row
//! the statement wrote.

use crate::analysis::Model;
use crate::emit::context::Emit;
use crate::sql::quote_literal;
use crate::template::{Edits, Piece, text};

/// The SQL function a tenant connection registers to check, when a statement runs, a value
/// it gives the tenant column: `tenantry_tenant(value, tenant, table, column)` returns
/// `value` when it is the text `tenant`, and fails otherwise.
pub const TENANT_FUNCTION: &str = "tenantry_tenant";

pub(super) fn emit(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let column = quote_literal(cx.schema.tenant_column());
    for value in &model.checked {
        edits.insert(value.span.start, vec![text(format!("{TENANT_FUNCTION}("))]);
        // Right after the value, before anything else inserted there (a closing `)` of the
        // tenant test, the key of a VALUES row).
        edits.insert_first(
            value.span.end,
            vec![
                text(", "),
                Piece::Tenant,
                text(format!(", {}, {column})", quote_literal(&value.table))),
            ],
        );
    }
}
