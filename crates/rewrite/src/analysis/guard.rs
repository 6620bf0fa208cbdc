//! Guarded conditions: the cheaper way to keep a condition that may raise an error from
//! running on another tenant's row, where the statement's shape allows it.
//!
//! A bounded statement (`analysis/raising.rs`) reads its tables through their tenant index
//! and gives up the application's own indexes. Where the conditions that may raise are
//! top-level AND terms of the WHERE of the statement's one SELECT (or of its UPDATE or
//! DELETE), and that SELECT's tenant tables are all read in place (their tenant column in
//! reach), each such term is guarded instead:
//!
//! `WHERE +c."tenant_id" = 'A' AND (phone = ?1 AND CASE WHEN c."tenant_id" = 'A' THEN
//! (json(note) = 1) END)`
//!
//! SQLite evaluates a CASE in order, so the term runs only on the tenant's rows (as long as
//! no `tenant_id = <constant>` term without `+` lets SQLite put the constant in place of
//! the guard's column: then the statement is bounded); the
//! other terms (`phone = ?1`) keep their indexes. A guarded term reads the tenant column,
//! which the application's indexes lack, so SQLite cannot evaluate it on an index entry
//! before it reads the row; a tenant-first index that holds the column answers the CASE
//! from the entry, in order, too. On the tenant's rows the CASE is the term itself, so the
//! results are unchanged.
//!
//! Everything else — a raising condition in an ON, HAVING, GROUP BY or subquery, a SELECT
//! over views, subqueries or derived tables, several SELECTs, an INSERT — stays bounded.

use std::ops::{ControlFlow, Range};

use sqlparser::ast::{
    BinaryOperator, Expr, Query, SetExpr, Statement, TableFactor, TableWithJoins, Visit, Visitor,
};
use sqlparser::keywords::Keyword;

use crate::analysis::model::{Context, FilterPlace, Guard, Model, WriteClauses};
use crate::analysis::raising::{self, Names};
use crate::analysis::terms::{Nesting, and_terms};
use crate::policy::TenantFilter;
use crate::schema::Schema;
use crate::source::{Lex, Source};

/// The WHERE whose terms may be guarded: its top-level AND terms, each as `sqlparser`
/// prints it, and which of them may raise.
pub(crate) struct Candidate {
    terms: Vec<String>,
    raising: Vec<usize>,
}

/// The statement's one WHERE, when its shape allows guarding and every condition that may
/// raise (outside the places that run only on rows that passed, see `raising.rs`) is one of
/// its top-level AND terms, without a subquery.
pub(super) fn candidate(
    schema: &Schema,
    statement: &Statement,
    used: &Names,
    names: &Option<Vec<String>>,
) -> Option<Candidate> {
    let selection = match statement {
        Statement::Query(query) if query.with.is_none() => match query.body.as_ref() {
            SetExpr::Select(select) if select.from.iter().all(plain_tables) => {
                select.selection.as_ref()?
            }
            _ => return None,
        },
        Statement::Update(update) if update.from.is_none() => update.selection.as_ref()?,
        Statement::Delete(delete) if delete.using.is_none() => delete.selection.as_ref()?,
        _ => return None,
    };
    let terms = and_terms(selection, Nesting::Kept);
    let mut raising = Vec::new();
    for (i, term) in terms.iter().enumerate() {
        if any_raises(term) {
            // A MATCH must stay where the virtual table sees it: not inside a CASE.
            if has_query(term) || has_match(term) {
                return None;
            }
            raising.push(i);
        }
    }
    let excluded: Vec<*const Expr> = raising.iter().map(|&i| terms[i] as *const Expr).collect();
    if raising.is_empty()
        || raising::condition_can_raise_beside(schema, statement, used, &excluded, names)
    {
        return None;
    }
    Some(Candidate {
        terms: terms.iter().map(|t| t.to_string()).collect(),
        raising,
    })
}

/// The guard of `candidate` in `model` (analysed with the statement not bounded): the
/// qualifiers of the tables whose tenant the guard tests and the bytes of each term it
/// wraps; `None` when a table of the SELECT is not read in place, or the terms' text
/// cannot be found with confidence (the statement is then bounded).
pub(super) fn place(
    cx: &Context<'_, '_>,
    model: &Model<'_>,
    candidate: &Candidate,
) -> Option<Guard> {
    // SQLite puts a constant in place of a column that a top-level `col = <constant>` term
    // fixes, everywhere else in the WHERE: the guard's own test would become `'A' = 'A'`.
    // The tenant tests here have the `+` that keeps a term from fixing its column; a
    // statement that spells the tenant column itself could add one.
    if cx.policy.tenant_filter != TenantFilter::PlanAsBefore
        || model.words.spells(cx.schema.tenant_column())
    {
        return None;
    }
    let src = cx.src;
    let (range, qualifiers) = match &model.write {
        Some(write) => {
            let WriteClauses::Filter(filter) = &write.clauses else {
                return None;
            };
            let FilterPlace::Before { start, end } = filter.place else {
                return None;
            };
            let qualifiers = needs_guard(write.table).then(|| filter.qualifier.clone());
            (start..end, qualifiers.into_iter().collect::<Vec<_>>())
        }
        None => {
            // The statement's SELECT is the first the walk met; its tenant tables must all
            // be read in place, and no view read (a view's query holds tables of its own).
            if !model.views.is_empty() || model.reads.iter().any(|r| r.select == Some(0)) {
                return None;
            }
            let mine: Vec<_> = model.in_place.iter().filter(|r| r.select == 0).collect();
            let place = mine.first()?.place;
            let FilterPlace::Before { start, end } = place else {
                return None;
            };
            let qualifiers = mine
                .iter()
                .filter(|r| needs_guard(r.table))
                .map(|r| r.qualifier.clone())
                .collect();
            (start..end, qualifiers)
        }
    };
    if model.spell_out_stars && !stars_resolved(model) {
        return None;
    }
    let pieces = split(src, range)?;
    if pieces.len() != candidate.terms.len() {
        return None;
    }
    for (piece, term) in pieces.iter().zip(&candidate.terms) {
        let text = src.sql.get(piece.clone())?;
        let parsed = crate::parse::expression(text)?;
        if parsed.to_string() != *term {
            return None;
        }
    }
    Some(Guard {
        qualifiers,
        terms: candidate
            .raising
            .iter()
            .map(|&i| pieces[i].clone())
            .collect(),
    })
}

/// Whether every `*` and `t.*` of the statement's SELECT names what the guard's emitter can
/// spell out, when its tables were read in place under them: a bare `*` the one table
/// read in place (or none, over a global table), a `t.*` one table read in place by that
/// name, or none (a global table, whose `*` stays).
fn stars_resolved(model: &Model<'_>) -> bool {
    let Some(shape) = model.selects.first() else {
        return true;
    };
    let mine: Vec<_> = model.in_place.iter().filter(|r| r.select == 0).collect();
    shape.stars.iter().all(|(qualifier, _)| match qualifier {
        None => mine.len() <= 1,
        Some(q) => mine.iter().filter(|r| r.name == *q).count() <= 1,
    })
}

/// Whether a read of `table` needs its conditions guarded: a table without per-tenant keys,
/// or a virtual table.
fn needs_guard(table: &crate::schema::Table) -> bool {
    table.module.is_some() || !table.tenant_keys
}

/// Whether every item of a FROM is a plain table (no subquery, table function or nested
/// join): the conditions then run on the tables' own rows.
fn plain_tables(item: &TableWithJoins) -> bool {
    let plain = |factor: &TableFactor| matches!(factor, TableFactor::Table { args: None, .. });
    plain(&item.relation) && item.joins.iter().all(|j| plain(&j.relation))
}

/// Whether anything in `expr` may raise.
fn any_raises(expr: &Expr) -> bool {
    struct Any;
    impl Visitor for Any {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if raising::raises(expr) {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    expr.visit(&mut Any).is_break()
}

/// Whether `expr` holds a MATCH.
fn has_match(expr: &Expr) -> bool {
    struct Matches;
    impl Visitor for Matches {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::BinaryOp {
                    op: BinaryOperator::Match,
                    ..
                } => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    expr.visit(&mut Matches).is_break()
}

/// Whether `expr` holds a subquery.
fn has_query(expr: &Expr) -> bool {
    struct Queries;
    impl Visitor for Queries {
        type Break = ();
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    expr.visit(&mut Queries).is_break()
}

/// The bytes of each top-level AND term of the condition at `range`: split at each AND
/// outside parentheses, CASE … END and BETWEEN … AND, each term from its first token to its
/// last (comments and spaces around it left out). `None` if the text does not close what
/// it opens.
fn split(src: &Source<'_>, range: Range<usize>) -> Option<Vec<Range<usize>>> {
    let mut pieces = Vec::new();
    // Per open parenthesis: the CASEs open in it and the BETWEENs waiting for their AND.
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let mut first: Option<usize> = None;
    let mut last: Option<usize> = None;
    for (i, tok) in src.toks.iter().enumerate() {
        if tok.start < range.start || tok.end > range.end {
            continue;
        }
        let sig = !matches!(tok.lex, Lex::Space | Lex::LineComment | Lex::BlockComment);
        if !sig {
            continue;
        }
        let top = levels.len() == 1 && levels[0].0 == 0;
        let level = levels.last_mut()?;
        let is_and = src.is_kw(i, Keyword::AND);
        if is_and && level.1 > 0 {
            // BETWEEN's own AND.
            level.1 -= 1;
        } else if is_and && top {
            pieces.push(src.toks[first?].start..src.toks[last?].end);
            first = None;
            last = None;
            continue;
        } else if src.is_kw(i, Keyword::BETWEEN) {
            level.1 += 1;
        } else if src.is_kw(i, Keyword::CASE) {
            level.0 += 1;
        } else if src.is_kw(i, Keyword::END) {
            level.0 = level.0.checked_sub(1)?;
        } else if matches!(tok.lex, Lex::LParen) {
            levels.push((0, 0));
        } else if matches!(tok.lex, Lex::RParen) {
            levels.pop()?;
            if levels.is_empty() {
                return None;
            }
        }
        first.get_or_insert(i);
        last = Some(i);
    }
    if levels.len() != 1 || levels[0] != (0, 0) {
        return None;
    }
    pieces.push(src.toks[first?].start..src.toks[last?].end);
    Some(pieces)
}
