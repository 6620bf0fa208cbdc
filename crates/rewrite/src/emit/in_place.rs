//! Tenant tables read in place (see `analysis/in_place.rs`): the tenant test of each goes
//! into the WHERE of the SELECT whose FROM holds it, before the SELECT's own condition
//! (which gets parentheses), or in a new WHERE after its FROM clause:
//!
//! `FROM psi WHERE psi MATCH ?` → `FROM psi WHERE +psi."tenant_id" = 'A' AND (psi MATCH ?)`
//!
//! The tenant test comes first, as on a write target. Several tables of one FROM share the
//! insertion.

use crate::analysis::{FilterPlace, InPlaceRead, Model};
use crate::emit::context::Emit;
use crate::sql::quote_ident;
use crate::template::{Edits, Piece, text};

pub(super) fn emit(model: &Model<'_>, cx: &Emit<'_, '_>, edits: &mut Edits) {
    let mut done: Vec<usize> = Vec::new();
    for read in &model.in_place {
        if done.contains(&read.select) {
            continue;
        }
        done.push(read.select);
        let group: Vec<&InPlaceRead<'_>> = model
            .in_place
            .iter()
            .filter(|r| r.select == read.select)
            .collect();
        let mut tests = Vec::new();
        for (k, r) in group.iter().enumerate() {
            if k > 0 {
                tests.push(text(" AND "));
            }
            let column = format!("{}.{}", r.qualifier, quote_ident(cx.schema.tenant_column()));
            tests.push(text(cx.tenant_test(&column, r.table, false)));
            tests.push(Piece::Tenant);
        }
        match read.place {
            FilterPlace::Before { start, end } => {
                tests.push(text(" AND ("));
                edits.insert(start, tests);
                // Inside whatever else ends there (an INSERT's wrapped source, say).
                edits.insert_first(end, vec![text(")")]);
            }
            FilterPlace::After { at } => {
                let mut pieces = vec![text(" WHERE ")];
                pieces.extend(tests);
                edits.insert_first(at, pieces);
            }
        }
    }
}
