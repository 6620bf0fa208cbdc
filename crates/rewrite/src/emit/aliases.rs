//! Result-column names: SQLite names an unaliased result column by its text, so a column
//! whose text now holds an edit (a derived table in a subquery, say, or a tenant test
//! inserted in its WHERE), or that reads a rowid through a derived table, gets
//! `AS "<the name SQLite gave it before>"`.

use crate::analysis::Model;
use crate::source::Source;
use crate::sql::quote_ident;
use crate::template::{Edits, text};

/// Runs after every other emitter: whether a column changed depends on their edits.
pub(super) fn emit(model: &Model<'_>, src: &Source<'_>, edits: &mut Edits) {
    let edited: Vec<(usize, usize)> = edits.list.iter().map(|e| (e.start, e.end)).collect();
    for c in &model.columns {
        // A replacement within the column's text, or an insertion strictly inside it (one
        // at either end is outside: text before or after the column).
        let changed = edited.iter().any(|&(s, e)| {
            if s < e {
                c.start <= s && e <= c.end
            } else {
                c.start < s && s < c.end
            }
        });
        if c.always || changed {
            // SQLite names a column by its text up to the next token, trailing whitespace
            // trimmed (comments kept).
            let spelled = src.sql[c.start..c.name_end.max(c.end)]
                .trim_end_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
            let name = c.name.as_deref().unwrap_or(spelled);
            edits.insert_first(c.end, vec![text(format!(" AS {}", quote_ident(name)))]);
        }
    }
}
