//! Schema prefixes: `main.t.col` loses its `main.` where `t` is now a derived table named
//! `t`; in a view's query, an unqualified global table gains `main.`, so the CTEs of the
//! statement the query is placed in cannot capture its name.

use crate::analysis::Model;
use crate::template::{Edits, text};

pub(super) fn emit(model: &Model<'_>, edits: &mut Edits) {
    for prefix in &model.schema_prefixes {
        edits.replace(prefix.start, prefix.end, Vec::new());
    }
    for &at in &model.main_prefixes {
        edits.insert(at, vec![text("main.")]);
    }
}
