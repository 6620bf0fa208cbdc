//! The emitters: each turns one concern of a statement's resolution model
//! ([`crate::analysis::Model`]) into edits of its text, through the same narrow interface —
//! the model to read, the [`Emit`] context, and the list of edits to add to. None of them
//! decides what a name means; the analysis did.
//!
//! - [`write`]: the write target's tenant test, tenant column and value, RETURNING `*`, an
//!   upsert's conflict target; with [`keys`], the key column an INSERT allocates;
//! - [`checked`]: tenant values the statement gives itself, checked when it runs;
//! - [`qualify`]: schema prefixes dropped before derived tables and added in views' queries;
//! - [`rowid`]: rowid reads that become reads of the INTEGER PRIMARY KEY column;
//! - [`derived`]: the other tenant tables in FROM, and those after IN, become derived
//!   tables of the tenant's rows;
//! - [`in_place`]: tenant tables read in place (and tenant virtual tables) get their tenant
//!   test in their SELECT's WHERE;
//! - [`guard`]: the WHERE's terms that may raise an error run only on the tenant's rows;
//! - [`view_refs`]: views become placeholders for their scoped query (filled by
//!   `crate::views`);
//! - [`aliases`]: result columns whose text changed keep their legacy name (last: it looks
//!   at every other edit).

mod aliases;
mod checked;
mod context;
mod derived;
mod guard;
mod in_place;
mod keys;
mod qualify;
mod rowid;
mod view_refs;
mod write;

use crate::analysis::Model;
use crate::template::{Edit, Edits};

pub use checked::TENANT_FUNCTION;
pub(crate) use context::Emit;
pub use keys::{KEY_FUNCTION, SEQUENCE_TABLE};

/// The edits that scope a statement, from its model. (Everything that can fail was checked
/// by the analysis.)
pub(crate) fn emit(model: &Model<'_>, cx: &Emit<'_, '_>) -> Vec<Edit> {
    let mut edits = Edits::default();
    // Inside the WHERE's closing parenthesis, which the write target and in-place tables
    // add: made before theirs.
    guard::close(model, cx, &mut edits);
    if let Some(target) = &model.write {
        write::emit(target, model, cx, &mut edits);
    }
    checked::emit(model, cx, &mut edits);
    qualify::emit(model, &mut edits);
    rowid::emit(model, &mut edits);
    derived::emit(model, cx, &mut edits);
    in_place::emit(model, cx, &mut edits);
    // After the tenant test that goes before the WHERE: made after it.
    guard::open(model, cx, &mut edits);
    guard::spell_out_stars(model, cx, &mut edits);
    view_refs::emit(model, &mut edits);
    aliases::emit(model, cx.src, &mut edits);
    edits.list
}
