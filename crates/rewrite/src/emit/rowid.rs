//! Rowid reads the analysis could tie to one tenant table's INTEGER PRIMARY KEY become
//! reads of that column (the same value, and the same result-column name), qualified when
//! the read was not, so no other item's column or result alias can take the name.

use crate::analysis::{Model, RowidRead};
use crate::sql::quote_ident;
use crate::template::{Edits, text};

pub(super) fn emit(model: &Model<'_>, edits: &mut Edits) {
    for read in &model.rowid_reads {
        let RowidRead::Replace {
            span,
            key,
            qualifier,
        } = read
        else {
            continue;
        };
        let column = match qualifier {
            Some(q) => format!("{}.{}", quote_ident(q), quote_ident(key)),
            None => quote_ident(key),
        };
        edits.replace(span.start, span.end, vec![text(column)]);
    }
}
