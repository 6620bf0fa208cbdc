//! Tenant tables read in a FROM or JOIN become derived tables holding only the tenant's
//! rows and the table's pre-migration columns:
//!
//! `customers c` → `(SELECT "id", "name" FROM main."customers" WHERE +"tenant_id" = 'A') AS c`
//!
//! Each lists only the columns of its table whose names the statement spells somewhere (a
//! column never spelled cannot be referenced), unless a `*`, `t.*` or NATURAL join over it
//! needs them all; plus the rowid under the names the statement reads it by, where the
//! analysis says it must be exposed. `x IN t` on a tenant table becomes the same subquery.
//! `main.` inside means a CTE named like the table cannot capture it. In a statement whose
//! conditions may raise an error (`Model::bounded`), a table without per-tenant keys is read
//! through its tenant index: `FROM main."customers" INDEXED BY "idx_customers_tenant_id"
//! WHERE "tenant_id" = 'A'`, so SQLite visits only the tenant's entries.

use crate::analysis::{Model, TenantRead};
use crate::emit::context::Emit;
use crate::schema::Table;
use crate::sql::{column_list, quote_ident, visible_columns};
use crate::template::{Edits, Piece, text};

pub(super) fn emit(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    for read in &model.in_tables {
        let through_index = model.through_tenant_index(read.table);
        let pieces = vec![
            text(format!(
                "(SELECT {} FROM main.{}{} WHERE {}",
                every_column(read.table, cx),
                quote_ident(&read.table.name),
                cx.index_clause(model, read.table, ""),
                cx.tenant_test(
                    &quote_ident(cx.schema.tenant_column()),
                    read.table,
                    through_index
                ),
            )),
            Piece::Tenant,
            text(")"),
        ];
        edits.replace(read.span.start, read.span.end, pieces);
    }
    for read in &model.reads {
        let mut columns: Vec<String> = if needs_every_column(model, read) {
            vec![every_column(read.table, cx)]
        } else {
            named_columns(model, read.table, cx)
        };
        if let Some(rowid) = &read.rowid {
            for name in &rowid.names {
                columns.push(format!("{} AS {}", rowid.source, quote_ident(name)));
            }
        }
        let through_index = model.through_tenant_index(read.table);
        let pieces = vec![
            text(format!(
                "(SELECT {} FROM main.{}{} WHERE {}",
                columns.join(", "),
                quote_ident(&read.table.name),
                cx.index_clause(model, read.table, &read.index_clause),
                cx.tenant_test(
                    &quote_ident(cx.schema.tenant_column()),
                    read.table,
                    through_index
                ),
            )),
            Piece::Tenant,
            text(format!(") AS {}", read.alias_text)),
        ];
        edits.replace(read.span.start, read.span.end, pieces);
    }
}

/// Every visible column of `table`, quoted and joined.
fn every_column(table: &Table, cx: &Emit<'_, '_>) -> String {
    match cx.derived.get(&table.name.to_ascii_lowercase()) {
        Some(list) => list.clone(),
        None => column_list(table, cx.schema, cx.policy),
    }
}

/// Whether a derived table must list every column of its table: a `*` or `t.*` over it, or
/// a NATURAL join in its SELECT, reads columns the text does not name.
fn needs_every_column(model: &Model<'_>, read: &TenantRead<'_>) -> bool {
    match read.select.and_then(|i| model.selects.get(i)) {
        Some(shape) => {
            shape.wildcard || shape.natural || shape.qualified_wildcards.contains(&read.qualifier)
        }
        None => false,
    }
}

/// The columns of `table` a statement can reach: those whose name it spells somewhere (as
/// any word, quoted or not, whatever it qualifies), and the INTEGER PRIMARY KEY when a
/// rowid read may become a read of it. A column whose name the text never spells cannot be
/// referenced, so leaving it out changes nothing but the length of the text SQLite parses,
/// and names resolve exactly as over the whole table. Never empty: a statement that names
/// no column (`count(*)`) gets the first one.
fn named_columns(model: &Model<'_>, table: &Table, cx: &Emit<'_, '_>) -> Vec<String> {
    let words = &model.words;
    let ipk = table.rowid_column().filter(|_| words.reads_rowid());
    let mut columns: Vec<String> = visible_columns(table, cx.schema, cx.policy)
        .filter(|c| words.spells(&c.name) || ipk.is_some_and(|k| k.eq_ignore_ascii_case(&c.name)))
        .map(|c| quote_ident(&c.name))
        .collect();
    if columns.is_empty()
        && let Some(first) = visible_columns(table, cx.schema, cx.policy).next()
    {
        columns.push(quote_ident(&first.name));
    }
    columns
}
