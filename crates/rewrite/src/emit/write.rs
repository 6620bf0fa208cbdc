//! The write target of an INSERT, UPDATE or DELETE, scoped in place where the analysis
//! found its clauses:
//!
//! - UPDATE, DELETE and an upsert's `DO UPDATE`: `WHERE +t."tenant_id" = 'A' AND
//!   (original condition)`, or a new WHERE. The tenant test comes first: SQLite evaluates
//!   an AND left to right, so the caller's condition (which may raise an error) never runs
//!   on another tenant's row and cannot reveal anything about it.
//! - INSERT: the tenant column in the column list (the schema gives the list when the
//!   statement has none) and the tenant in every row: each VALUES row, the SELECT's last
//!   column, or a wrapping `SELECT *, 'A' FROM (...) WHERE 1` (`WHERE 1` keeps SQLite from
//!   reading a following ON CONFLICT as a join constraint); DEFAULT VALUES becomes a
//!   one-column VALUES.
//! - RETURNING `*` lists the legacy columns, so it does not reveal the tenant column.

use crate::analysis::{Filter, FilterPlace, InsertClauses, InsertSource, Write, WriteClauses};
use crate::emit::context::Emit;
use crate::schema::Table;
use crate::sql::{column_list, quote_ident};
use crate::template::{Edits, Piece, text};

pub(super) fn emit(write: &Write<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    match &write.clauses {
        WriteClauses::Filter(filter) => emit_filter(filter, write.table, cx, edits),
        WriteClauses::Insert(insert) => emit_insert(insert, write.table, cx, edits),
    }
    for star in &write.returning_stars {
        let columns = column_list(write.table, cx.schema, cx.policy);
        edits.replace(star.start, star.end, vec![text(columns)]);
    }
}

/// `+qualifier."tenant_id" = <tenant>` where the analysis placed it.
fn emit_filter(filter: &Filter, table: &Table, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let column = format!(
        "{}.{}",
        filter.qualifier,
        quote_ident(cx.schema.tenant_column())
    );
    let test = text(cx.tenant_test(&column, table));
    match filter.place {
        FilterPlace::Before { start, end } => {
            edits.insert(start, vec![test, Piece::Tenant, text(" AND (")]);
            edits.insert(end, vec![text(")")]);
        }
        FilterPlace::After { at } => {
            edits.insert(at, vec![text(" WHERE "), test, Piece::Tenant]);
        }
    }
}

fn emit_insert(insert: &InsertClauses, table: &Table, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let tenant_column = quote_ident(cx.schema.tenant_column());
    if let Some(at) = insert.column {
        edits.insert(at, vec![text(format!(", {tenant_column}"))]);
    }
    if let Some(at) = insert.column_list {
        let list: Vec<String> = table
            .columns
            .iter()
            .filter(|c| !c.generated && !c.name.eq_ignore_ascii_case(cx.schema.tenant_column()))
            .map(|c| quote_ident(&c.name))
            .chain(std::iter::once(tenant_column.clone()))
            .collect();
        edits.insert(at, vec![text(format!(" ({})", list.join(", ")))]);
    }
    match &insert.source {
        InsertSource::DefaultValues { span } => edits.replace(
            span.start,
            span.end,
            vec![
                text(format!("({tenant_column}) VALUES (")),
                Piece::Tenant,
                text(")"),
            ],
        ),
        InsertSource::Explicit => {}
        InsertSource::Values { closes } => {
            for &at in closes {
                edits.insert(at, vec![text(", "), Piece::Tenant]);
            }
        }
        InsertSource::SelectList { at, before_window } => {
            let mut pieces = vec![text(", "), Piece::Tenant];
            if *before_window {
                pieces.push(text(format!(" AS {tenant_column}")));
            }
            edits.insert(*at, pieces);
        }
        InsertSource::Wrapped { start, end } => {
            edits.insert(
                *start,
                vec![text("SELECT *, "), Piece::Tenant, text(" FROM (")],
            );
            edits.insert(*end, vec![text(") WHERE 1")]);
        }
    }
    if let Some(upsert) = &insert.upsert {
        emit_filter(upsert, table, cx, edits);
    }
}
