//! The key an INSERT allocates for a row of a tenant-first table whose legacy rowid is a
//! key column: one more than the largest key the tenant holds (AUTOINCREMENT: than its
//! high-water mark in `_tenantry_sequence`, if larger), as SQLite allocated a rowid:
//!
//! `(SELECT coalesce(max("id"), 0) FROM main."vehicles" WHERE "tenant_id" = 'A') + 1`
//!
//! SQLite reads the whole source before it writes when the source reads the target, so
//! every row sees the same largest key; the k-th row adds k. A given key stays, and a NULL
//! one is allocated: `coalesce(<given>, <allocation>)`; in a source of several rows, with
//! SQLite's running maximum (a row after a larger given key continues from it). With
//! [`crate::Policy::report_keys`] each key is wrapped in `tenantry_key(...)`.

use crate::analysis::KeyAlloc;
use crate::sql::{quote_ident, quote_literal};
use crate::template::{Piece, text};

/// The SQL function a tenant connection registers: it makes its argument the connection's
/// `last_insert_rowid()` and returns it.
pub const KEY_FUNCTION: &str = "tenantry_key";

/// The table that keeps each tenant's AUTOINCREMENT high-water mark per table.
pub const SEQUENCE_TABLE: &str = "_tenantry_sequence";

/// The largest key the tenant holds (or has held, for AUTOINCREMENT), 0 when none.
pub(super) fn largest(key: &KeyAlloc, tenant_column: &str) -> Vec<Piece> {
    let tenant = quote_ident(tenant_column);
    let held = vec![
        text(format!(
            "(SELECT coalesce(max({}), 0) FROM main.{} WHERE {tenant} = ",
            quote_ident(&key.column),
            quote_ident(&key.table)
        )),
        Piece::Tenant,
        text(")"),
    ];
    if !key.autoincrement {
        return held;
    }
    let mut pieces = vec![text("max(")];
    pieces.extend(held);
    pieces.extend([
        text(format!(
            ", coalesce((SELECT seq FROM main.{} WHERE {tenant} = ",
            quote_ident(SEQUENCE_TABLE)
        )),
        Piece::Tenant,
        text(format!(" AND name = {}), 0))", quote_literal(&key.table))),
    ]);
    pieces
}

/// `expr`, wrapped in `tenantry_key(...)` when the key is reported.
pub(super) fn reported(key: &KeyAlloc, expr: Vec<Piece>) -> Vec<Piece> {
    if !key.report {
        return expr;
    }
    let mut pieces = vec![text(format!("{KEY_FUNCTION}("))];
    pieces.extend(expr);
    pieces.push(text(")"));
    pieces
}

/// The key of the k-th row (from 1) of a source whose rows all allocate.
pub(super) fn nth(key: &KeyAlloc, tenant_column: &str, k: usize) -> Vec<Piece> {
    let mut expr = largest(key, tenant_column);
    expr.push(text(format!(" + {k}")));
    reported(key, expr)
}

/// The key of each row of a wrapped source whose rows all allocate.
pub(super) fn numbered(key: &KeyAlloc, tenant_column: &str) -> Vec<Piece> {
    let mut expr = largest(key, tenant_column);
    expr.push(text(" + row_number() OVER ()"));
    reported(key, expr)
}

/// What goes before and after a single row's given key: `coalesce(<given>, <allocation>)`.
pub(super) fn around_given(key: &KeyAlloc, tenant_column: &str) -> (Vec<Piece>, Vec<Piece>) {
    let call = if key.report {
        format!("{KEY_FUNCTION}(")
    } else {
        String::new()
    };
    let mut after = vec![text(", ")];
    after.extend(largest(key, tenant_column));
    after.push(text(if key.report { " + 1))" } else { " + 1)" }));
    (vec![text(format!("{call}coalesce("))], after)
}

/// The SELECTs that wrap a source of `count` columns whose column `index` is the given
/// key: before and after the source. They name its columns, number its rows, count the
/// NULL keys so far, and give a NULL key one more than SQLite's running maximum: the
/// largest of the tenant's largest key plus the NULLs so far and each earlier given key
/// plus the NULLs since. With `add_tenant`, the tenant is the last column.
pub(super) fn windowed(
    key: &KeyAlloc,
    tenant_column: &str,
    index: usize,
    count: usize,
    add_tenant: bool,
) -> (Vec<Piece>, Vec<Piece>) {
    const ROW: &str = "\"tenantry_n\"";
    const NULLS: &str = "\"tenantry_a\"";
    let name = |i: usize| format!("\"tenantry_c{i}\"");
    let given = name(index + 1);
    let mut before = vec![text("SELECT ")];
    for i in 1..=count {
        if i > 1 {
            before.push(text(", "));
        }
        if i != index + 1 {
            before.push(text(name(i)));
            continue;
        }
        let mut expr = vec![text(format!("coalesce({given}, {NULLS} + max("))];
        expr.extend(largest(key, tenant_column));
        expr.push(text(format!(
            ", coalesce(max({given} - {NULLS}) OVER (ORDER BY {ROW} ROWS BETWEEN UNBOUNDED \
             PRECEDING AND 1 PRECEDING), "
        )));
        expr.extend(largest(key, tenant_column));
        expr.push(text(")))"));
        before.extend(reported(key, expr));
    }
    if add_tenant {
        before.extend([text(", "), Piece::Tenant]);
    }
    let nulls = (1..=count)
        .map(|i| format!("NULL AS {}", name(i)))
        .collect::<Vec<_>>()
        .join(", ");
    before.push(text(format!(
        " FROM (SELECT *, sum({given} IS NULL) OVER (ORDER BY {ROW} ROWS UNBOUNDED PRECEDING) \
         AS {NULLS} FROM (SELECT *, row_number() OVER () AS {ROW} FROM (SELECT {nulls} WHERE 0 \
         UNION ALL SELECT * FROM ("
    )));
    (before, vec![text(")))) WHERE 1")])
}
