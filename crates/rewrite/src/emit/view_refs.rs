//! Views read by a statement: the name (and alias) becomes a placeholder for the view's
//! scoped query — `(<query>) AS alias` in a FROM, `(<query>)` after IN — which
//! `crate::views::fill` puts in place once the statement is planned.

use crate::analysis::Model;
use crate::template::{Edits, Piece, text};

pub(super) fn emit(model: &Model<'_>, edits: &mut Edits) {
    for view in &model.views {
        let close = match &view.alias {
            Some(alias) => format!(") AS {alias}"),
            None => ")".to_owned(),
        };
        let pieces = vec![text("("), Piece::View(view.view.clone()), text(close)];
        edits.replace(view.span.start, view.span.end, pieces);
    }
}
