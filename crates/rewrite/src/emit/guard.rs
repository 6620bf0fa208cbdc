//! Guarded conditions (`analysis/guard.rs`): each term of the WHERE that may raise an error
//! becomes `CASE WHEN <each table's tenant test> THEN (<term>) END`, evaluated in order, so
//! the term runs only on the tenant's rows.
//!
//! Each gets a space outside where the term touches the AND next to it (`json(x)AND y`).
//! The opening goes after the tenant test the write target or the in-place tables put before
//! the WHERE (made first, same place and rank); the closing goes inside their `)`, so it is
//! made before theirs, as an insertion that goes first.

use crate::analysis::Model;
use crate::emit::context::Emit;
use crate::sql::{quote_ident, visible_columns};
use crate::template::{Edits, Piece, text};

/// The `) END` of each guarded term: to be made before the other emitters close the WHERE.
pub(super) fn close(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let Some(guard) = model.guard.as_ref().filter(|g| !g.qualifiers.is_empty()) else {
        return;
    };
    for term in &guard.terms {
        let close = if touches(cx, Some(term.end), b")") {
            ") END "
        } else {
            ") END"
        };
        edits.insert_first(term.end, vec![text(close)]);
    }
}

/// Whether the caller's byte at `at` would touch inserted text: it is there and is neither
/// a space nor one of `apart` (punctuation that keeps words apart on that side).
fn touches(cx: &Emit<'_, '_>, at: Option<usize>, apart: &[u8]) -> bool {
    at.and_then(|at| cx.src.sql.as_bytes().get(at))
        .is_some_and(|b| !b.is_ascii_whitespace() && !apart.contains(b))
}

/// The `CASE WHEN … THEN (` of each guarded term: to be made after the tenant tests that go
/// before the WHERE.
pub(super) fn open(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let Some(guard) = model.guard.as_ref().filter(|g| !g.qualifiers.is_empty()) else {
        return;
    };
    let column = quote_ident(cx.schema.tenant_column());
    for term in &guard.terms {
        let glued = touches(cx, term.start.checked_sub(1), b"(");
        let mut pieces = vec![text(if glued { " CASE WHEN " } else { "CASE WHEN " })];
        for (k, qualifier) in guard.qualifiers.iter().enumerate() {
            if k > 0 {
                pieces.push(text(" AND "));
            }
            pieces.push(text(format!("{qualifier}.{column} = ")));
            pieces.push(Piece::Tenant);
        }
        pieces.push(text(" THEN ("));
        edits.insert(term.start, pieces);
    }
}

/// The `*` and `t.*` of a guarded SELECT, whose tables were read in place under them
/// (`analysis/in_place.rs`): each becomes the table's visible columns, qualified, which is
/// what it showed before (the same names, in the same order), without the tenant column.
/// A `*` or `t.*` of a global table stays. (The analysis checked that each names at most
/// one table read in place.) A space goes outside where the list would touch a word.
pub(super) fn spell_out_stars(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    if model.guard.is_none() || !model.spell_out_stars {
        return;
    }
    let Some(shape) = model.selects.first() else {
        return;
    };
    let mine: Vec<_> = model
        .in_place
        .iter()
        .filter(|r| r.select == 0 && r.table.module.is_none())
        .collect();
    for (qualifier, span) in &shape.stars {
        let read = match qualifier {
            None => match mine.as_slice() {
                [only] => Some(*only),
                _ => None,
            },
            Some(q) => mine.iter().find(|r| r.name == *q).copied(),
        };
        let Some(read) = read else {
            continue;
        };
        let columns: Vec<String> = visible_columns(read.table, cx.schema, cx.policy)
            .map(|c| format!("{}.{}", read.qualifier, quote_ident(&c.name)))
            .collect();
        let mut list = columns.join(", ");
        if touches(cx, span.start.checked_sub(1), b"(,") {
            list.insert(0, ' ');
        }
        if touches(cx, Some(span.end), b"),") {
            list.push(' ');
        }
        edits.replace(span.start, span.end, vec![text(list)]);
    }
}
