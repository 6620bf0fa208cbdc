//! The write target of an INSERT, UPDATE or DELETE, scoped in place where the analysis
//! found its clauses:
//!
//! - UPDATE, DELETE and an upsert's `DO UPDATE`: `WHERE +t."tenant_id" = 'A' AND
//!   (original condition)`, or a new WHERE. The tenant test comes first, but SQLite may
//!   still check the caller's condition on an index entry before it reads the row's
//!   tenant; where that condition may raise an error (`Model::bounded`), a target without
//!   per-tenant keys gets `INDEXED BY` its tenant index after its name, and the test
//!   without `+`, so SQLite visits only the tenant's rows.
//! - INSERT: the tenant column in the column list (the schema gives the list when the
//!   statement has none) and the tenant in every row: each VALUES row, the SELECT's last
//!   column, or a wrapping `SELECT *, 'A' FROM (...) WHERE 1` (`WHERE 1` keeps SQLite from
//!   reading a following ON CONFLICT as a join constraint); DEFAULT VALUES becomes a
//!   one-column VALUES.
//! - RETURNING `*` lists the legacy columns, so it does not reveal the tenant column.

use crate::analysis::{
    Filter, FilterPlace, InsertClauses, InsertSource, KeyAlloc, KeyPlace, Model, Write,
    WriteClauses,
};
use crate::emit::context::Emit;
use crate::emit::keys;
use crate::schema::Table;
use crate::sql::{column_list, quote_ident};
use crate::template::{Edits, Piece, text};

pub(super) fn emit(write: &Write<'_>, model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    match &write.clauses {
        WriteClauses::Filter(filter) => {
            let through_index = model.through_tenant_index(write.table);
            if through_index && let Some(at) = filter.index_at {
                edits.insert(at, vec![text(cx.index_clause(model, write.table, ""))]);
            }
            emit_filter(filter, write.table, through_index, cx, edits);
        }
        WriteClauses::Insert(insert) => emit_insert(insert, write.table, cx, edits),
    }
    for star in &write.returning_stars {
        let columns = column_list(write.table, cx.schema, cx.policy);
        edits.replace(star.start, star.end, vec![text(columns)]);
    }
}

/// `+qualifier."tenant_id" = <tenant>` where the analysis placed it.
fn emit_filter(
    filter: &Filter,
    table: &Table,
    through_index: bool,
    cx: &Emit<'_, '_>,
    edits: &mut Edits,
) {
    let column = format!(
        "{}.{}",
        filter.qualifier,
        quote_ident(cx.schema.tenant_column())
    );
    let test = text(cx.tenant_test(&column, table, through_index));
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
    let tenant_name = cx.schema.tenant_column();
    let tenant_column = quote_ident(tenant_name);
    let key = insert.key.as_ref();
    if let Some(at) = insert.column {
        edits.insert(at, vec![text(format!(", {tenant_column}"))]);
    }
    if let Some(at) = insert.column_list {
        let list: Vec<String> = table
            .columns
            .iter()
            .filter(|c| !c.generated && !c.name.eq_ignore_ascii_case(tenant_name))
            .map(|c| quote_ident(&c.name))
            .chain(std::iter::once(tenant_column.clone()))
            .collect();
        edits.insert(at, vec![text(format!(" ({})", list.join(", ")))]);
    }
    // The key of every row of a source that omits it, after the tenant column.
    let omitted = key.filter(|k| matches!(k.place, KeyPlace::Omitted { .. }));
    match &insert.source {
        InsertSource::DefaultValues { span } => {
            let mut pieces = vec![text(format!("({tenant_column}"))];
            if let Some(key) = omitted {
                pieces.push(text(format!(", {}", quote_ident(&key.column))));
            }
            pieces.extend([text(") VALUES ("), Piece::Tenant]);
            if let Some(key) = omitted {
                pieces.push(text(", "));
                pieces.extend(keys::nth(key, tenant_name, 1));
            }
            pieces.push(text(")"));
            edits.replace(span.start, span.end, pieces);
        }
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
        InsertSource::Wrapped {
            start,
            end,
            add_tenant,
        } => {
            let mut pieces = vec![text("SELECT *")];
            if *add_tenant {
                pieces.extend([text(", "), Piece::Tenant]);
            }
            if let Some(key) = omitted {
                pieces.push(text(", "));
                pieces.extend(keys::numbered(key, tenant_name));
            }
            pieces.push(text(" FROM ("));
            edits.insert(*start, pieces);
            edits.insert(*end, vec![text(") WHERE 1")]);
        }
        InsertSource::Windowed {
            start,
            end,
            add_tenant,
        } => {
            if let Some(key) = key
                && let KeyPlace::Windowed { index, count } = key.place
            {
                let (before, after) = keys::windowed(key, tenant_name, index, count, *add_tenant);
                edits.insert(*start, before);
                edits.insert(*end, after);
            }
        }
    }
    if let Some(key) = key {
        emit_key(key, tenant_name, edits);
        for read in &key.returned {
            edits.replace(read.start, read.end, vec![text(quote_ident(&key.column))]);
        }
    }
    if let Some(at) = insert.conflict_target {
        edits.insert(at, vec![text(format!(", {tenant_column}"))]);
    }
    if let Some(upsert) = &insert.upsert {
        emit_filter(upsert, table, false, cx, edits);
    }
}

/// The key column and the keys of the rows that omit it (after the tenant column and
/// value, where those go at the same place), or `coalesce` around a given key.
fn emit_key(key: &KeyAlloc, tenant_column: &str, edits: &mut Edits) {
    match &key.place {
        KeyPlace::Omitted { column_at, rows } => {
            if let Some(at) = column_at {
                edits.insert(*at, vec![text(format!(", {}", quote_ident(&key.column)))]);
            }
            for (k, &at) in rows.iter().flatten().enumerate() {
                let mut pieces = vec![text(", ")];
                pieces.extend(keys::nth(key, tenant_column, k + 1));
                edits.insert(at, pieces);
            }
        }
        KeyPlace::Item { start, end } => {
            let (before, after) = keys::around_given(key, tenant_column);
            edits.insert_first(*start, before);
            // Right after the given key, before the tenant value when the key is the row's
            // last item (both go at its end).
            edits.insert_first(*end, after);
        }
        KeyPlace::Windowed { .. } => {}
    }
}
