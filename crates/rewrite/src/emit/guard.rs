//! Guarded conditions (`analysis/guard.rs`): each term of the WHERE that may raise an error
//! becomes `CASE WHEN <each table's tenant test> THEN (<term>) END`, evaluated in order, so
//! the term runs only on the tenant's rows.
//!
//! The opening goes after the tenant test the write target or the in-place tables put before
//! the WHERE (made first, same place and rank); the closing goes inside their `)`, so it is
//! made before theirs, as an insertion that goes first.

use crate::analysis::Model;
use crate::emit::context::Emit;
use crate::sql::quote_ident;
use crate::template::{Edits, Piece, text};

/// The `) END` of each guarded term: to be made before the other emitters close the WHERE.
pub(super) fn close(model: &Model<'_>, edits: &mut Edits) {
    let Some(guard) = model.guard.as_ref().filter(|g| !g.qualifiers.is_empty()) else {
        return;
    };
    for term in &guard.terms {
        edits.insert_first(term.end, vec![text(") END")]);
    }
}

/// The `CASE WHEN … THEN (` of each guarded term: to be made after the tenant tests that go
/// before the WHERE.
pub(super) fn open(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let Some(guard) = model.guard.as_ref().filter(|g| !g.qualifiers.is_empty()) else {
        return;
    };
    let column = quote_ident(cx.schema.tenant_column());
    for term in &guard.terms {
        let mut pieces = vec![text("CASE WHEN ")];
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
