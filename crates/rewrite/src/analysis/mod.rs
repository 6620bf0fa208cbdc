//! The analysis pass: reads one parsed statement and builds its resolution [`Model`] —
//! what every name resolves to, where each clause the rewrite touches lies in the text, and
//! what SQLite will call each result column. It edits nothing; the emitters
//! (`crate::emit`) turn the model into edits.
//!
//! Every refusal about what a statement means is raised here, in the order the statement is
//! read: first its write target ([`target`]), then each table, expression and result
//! column in the order the `sqlparser` visitor meets them ([`walk`]), then the checks that
//! need the whole statement (`Walk::finish`). Constructs of other dialects (`TABLE t` or
//! MERGE in a query, joins SQLite does not have) are refused when the query, SELECT or
//! UPDATE that holds them is entered, before what is inside it.
//!
//! - [`model`]: the model's types, plain data.
//! - [`target`]: the table an INSERT, UPDATE or DELETE writes, and the positions of the
//!   clauses that scope it ([`clauses`]); [`keys`]: where an INSERT allocates the key column
//!   that replaced a legacy rowid.
//! - [`unreadable`]: statements that may touch an unreadable object or a shadow table,
//!   refused first; [`vtab`]: tenant virtual tables, read in place (their SELECT's tenant
//!   test, outer joins) and the INSERTs they refuse.
//! - [`raising`]: whether a condition may raise an error on the values it reads, which
//!   makes every tenant table without per-tenant keys read through its tenant index, or,
//!   where the statement's shape allows ([`guard`]), the condition guarded by the tenant
//!   test;
//! - [`terms`]: a condition's AND terms, as SQLite splits them;
//! - [`walk`]: the visitor; [`scopes`]: CTEs and FROM clauses in scope; [`from`]: what each
//!   table name in a FROM or after IN resolves to; [`columns`]: result columns and their
//!   names; [`words`]: facts about the statement's text.

mod clauses;
mod columns;
mod from;
mod guard;
mod in_place;
mod keys;
mod model;
pub(crate) mod raising;
mod scopes;
mod target;
mod terms;
mod unreadable;
mod values;
mod vtab;
mod walk;
mod words;

use std::ops::ControlFlow;

use sqlparser::ast::{Statement, Visit};

use crate::refusal::Refusal;

pub use from::TABLE_FUNCTIONS;
pub(crate) use model::{
    Context, Filter, FilterPlace, InPlaceRead, InsertClauses, InsertSource, KeyAlloc, KeyPlace,
    Model, RowidRead, TenantRead, TenantValues, Write, WriteClauses,
};
pub use walk::FORBIDDEN_FUNCTIONS;
use words::Words;

/// Builds the model of `statement`: a query, INSERT, UPDATE or DELETE (or EXPLAIN of one,
/// or a transaction statement, which has no tables).
///
/// # Errors
/// The first [`Refusal`] in reading order.
pub(crate) fn analyze<'s>(
    cx: &Context<'s, '_>,
    statement: &Statement,
) -> Result<Model<'s>, Refusal> {
    let mut model = Model::new(Words::of(cx.src, cx.seg.clone()));
    unreadable::check(cx, statement, &model.words)?;
    vtab::check_insert(cx, statement)?;
    // A trigger's body is the application's own text, and SQLite refuses INDEXED BY on
    // its UPDATE and DELETE targets.
    let in_trigger = matches!(cx.tenant_values, TenantValues::FiringRow(_));
    // A view's result columns that may raise: SQLite puts their expressions in place of
    // their names, into this statement's WHERE too.
    let used = raising::Names::of(statement);
    let names = raising::inherited(cx.raising_columns, &used.table_names());
    let raising = !in_trigger && raising::condition_can_raise(cx.schema, statement, &used, &names);
    // Guarded where the statement's shape allows it, else bounded (a view's query always:
    // its terms end up in other statements).
    let candidate = match raising && !cx.bounded && !cx.in_view {
        true => guard::candidate(cx.schema, statement, &used, &names),
        false => None,
    };
    model.bounded = cx.bounded || (raising && candidate.is_none());
    model.spell_out_stars = candidate.is_some() && matches!(statement, Statement::Query(_));
    let targets = target::analyze(cx, statement, &mut model)?;
    let mut walk = walk::Walk::new(cx.clone(), targets, model);
    if let ControlFlow::Break(refusal) = statement.visit(&mut walk) {
        return Err(refusal);
    }
    let mut model = walk.finish()?;
    if let Some(candidate) = candidate {
        match guard::place(cx, &model, &candidate) {
            Some(guard) => model.guard = Some(guard),
            None => {
                let bounded = Context {
                    bounded: true,
                    ..cx.clone()
                };
                return analyze(&bounded, statement);
            }
        }
    }
    raising::check_indexes(cx.schema, &model)?;
    raising::check_rank(statement, &model, cx.in_view)?;
    Ok(model)
}
