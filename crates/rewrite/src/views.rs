//! Views: each view's query is scoped once, when the rewriter is built, and put in place of
//! the view's name wherever a statement reads it.
//!
//! SQLite reads a view as the subquery of its definition, so `FROM v AS x` and
//! `FROM (<v's query>) AS x` have the same columns, names and rows. With the query scoped
//! like any statement (each tenant table reading only the tenant's rows), the view
//! shows a tenant exactly what it showed on a database holding only that tenant's rows.
//!
//! A view's query is planned on its own, with the views it reads left as placeholders; the
//! placeholders are filled in when a statement is planned, with a loop rather than recursion,
//! so a deep or circular chain of views is refused instead of exhausting the stack.
//!
//! Each view is planned twice: as it reads, and with every tenant table read through its
//! tenant index (`Model::bounded`). A statement (or view) whose conditions may raise an
//! error gets the second form of the views it reads: SQLite merges a view's query into the
//! statement, so the statement's conditions run on the view's tables.

use std::collections::HashMap;

use crate::analysis::raising::RaisingColumns;
use crate::analysis::{self, Context, TenantValues};
use crate::classify::{self, Body, Shape};
use crate::emit::{self, Emit};
use crate::objects::View;
use crate::parse::{self, Unreadable};
use crate::policy::Policy;
use crate::refusal::{Refusal, ViewForm};
use crate::schema::Schema;
use crate::source::Source;
use crate::statement::TableUse;
use crate::template::{Piece, splice};

/// How many views deep a statement may read views that read views.
pub(crate) const MAX_VIEW_DEPTH: usize = 16;

/// A view's scoped query: text, tenant holes, and placeholders for the views it reads.
#[derive(Clone, Debug)]
pub(crate) struct ViewPlan {
    pieces: Vec<Piece>,
    /// The tables its query reads directly.
    tables: Vec<TableUse>,
    /// The CTEs its query declares.
    ctes: Vec<String>,
    /// Its tables are read through their tenant index, so the views it reads must be too.
    bounded: bool,
}

/// A view's two plans (see the module's doc); each, or why the view cannot be scoped.
#[derive(Clone, Debug)]
pub(crate) struct ViewPlans {
    plain: Result<ViewPlan, Refusal>,
    bounded: Result<ViewPlan, Refusal>,
}

/// Plans every view of `schema`. A view that cannot be scoped keeps its refusal, which a
/// statement that reads it gets.
pub(crate) fn plan_all(
    schema: &Schema,
    policy: &Policy,
    derived: &HashMap<String, String>,
    raising_columns: &RaisingColumns,
) -> HashMap<String, ViewPlans> {
    schema
        .views()
        .map(|v| {
            let plans = ViewPlans {
                plain: plan(schema, policy, derived, raising_columns, v, false),
                bounded: plan(schema, policy, derived, raising_columns, v, true),
            };
            (v.name.to_ascii_lowercase(), plans)
        })
        .collect()
}

/// The result columns of each view that may raise an error (`analysis::raising::
/// raising_columns`), through views that read views: SQLite merges a view into the
/// statement that reads it and puts a column's expression in place of its name, so a
/// statement that names such a column in a condition must be bounded. A view the parser
/// cannot read is left out: its plan is a refusal anyway.
pub(crate) fn raising_columns(schema: &Schema) -> RaisingColumns {
    let parsed: Vec<(String, sqlparser::ast::Statement)> = schema
        .views()
        .filter_map(|v| Some((v.name.to_ascii_lowercase(), parsed(v)?)))
        .collect();
    let mut out = RaisingColumns::new();
    // Each pass can only add columns; one pass per view reaches the end of any chain.
    for _ in 0..=parsed.len() {
        let mut changed = false;
        for (name, statement) in &parsed {
            let reads = analysis::raising::Names::of(statement).table_names();
            let inherited = analysis::raising::inherited(&out, &reads);
            let columns = analysis::raising::raising_columns(statement, &inherited);
            let raising = columns.as_ref().is_none_or(|c| !c.is_empty());
            if raising && out.get(name) != Some(&columns) {
                out.insert(name.clone(), columns);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

/// A view's query, parsed as a plan reads it, or `None`.
fn parsed(view: &View) -> Option<sqlparser::ast::Statement> {
    let (src, mut tokens) = Source::new(view.select.as_str()).ok()?;
    let [seg] = <[_; 1]>::try_from(src.segments()).ok()?;
    parse::statement(tokens.take(seg)).ok()
}

fn plan(
    schema: &Schema,
    policy: &Policy,
    derived: &HashMap<String, String>,
    raising_columns: &RaisingColumns,
    view: &View,
    bounded: bool,
) -> Result<ViewPlan, Refusal> {
    let refuse = |form| Refusal::ViewQuery { form };
    if !view.columns.is_empty() {
        return Err(refuse(ViewForm::ColumnList));
    }
    let sql = view.select.as_str();
    let (src, mut parser_tokens) =
        Source::new(sql).map_err(|detail| Refusal::Tokenization { offset: 0, detail })?;
    if let Err(d) = crate::lexcheck::check(&src) {
        return Err(Refusal::Tokenization {
            offset: d.offset,
            detail: d.detail,
        });
    }
    let [seg] =
        <[_; 1]>::try_from(src.segments()).map_err(|_| refuse(ViewForm::NotOneStatement))?;
    let unreadable = |message: String| refuse(ViewForm::Unreadable { message });
    let statement = parse::statement(parser_tokens.take(seg.clone())).map_err(|e| match e {
        Unreadable::Parser(message) => unreadable(message),
        Unreadable::Stopped { .. } => {
            unreadable("the parser stopped before the end of the query".to_owned())
        }
    })?;
    let is_select = match classify::shape(&statement) {
        Ok(Shape::Query(query)) => matches!(classify::body(query), Ok(Body::Read)),
        Ok(
            Shape::Insert(_)
            | Shape::Update(_)
            | Shape::Delete(_)
            | Shape::Explain(_)
            | Shape::Transaction,
        )
        | Err(_) => false,
    };
    if !is_select {
        return Err(refuse(ViewForm::NotSelect));
    }
    let cx = Context {
        schema,
        policy,
        src: &src,
        seg,
        in_view: true,
        report_keys: false,
        tenant_values: TenantValues::Literal,
        bounded,
        raising_columns,
    };
    let model = analysis::analyze(&cx, &statement)?;
    let edits = emit::emit(
        &model,
        &Emit {
            schema,
            policy,
            src: &src,
            derived,
        },
    );
    let pieces = splice(sql, edits).map_err(|detail| Refusal::Internal { detail })?;
    Ok(ViewPlan {
        pieces,
        tables: model.tables,
        ctes: model.ctes,
        bounded: model.bounded,
    })
}

/// Replaces each view placeholder in `pieces` with the view's scoped query (and the views
/// that one reads, and so on), and adds the tables those queries read to `tables` and the
/// CTEs they declare to `ctes`. `bounded`: the statement reads its tables through their
/// tenant index, so the views it reads must be read so too.
///
/// # Errors
/// [`Refusal::InView`] naming the outermost view when a view cannot be scoped, reads
/// itself, or nests deeper than [`MAX_VIEW_DEPTH`].
pub(crate) fn fill(
    pieces: &mut Vec<Piece>,
    views: &HashMap<String, ViewPlans>,
    tables: &mut Vec<TableUse>,
    ctes: &mut Vec<String>,
    bounded: bool,
) -> Result<(), Refusal> {
    if !pieces.iter().any(|p| matches!(p, Piece::View(_))) {
        return Ok(());
    }
    let mut out = Vec::with_capacity(pieces.len());
    // The pieces being copied, innermost last: (pieces, next index, view name, whether
    // the views they read are bounded).
    let mut stack: Vec<(&[Piece], usize, Option<&str>, bool)> = Vec::new();
    let top = std::mem::take(pieces);
    stack.push((&top, 0, None, bounded));
    while let Some((list, at, _, reads_bounded)) = stack.last_mut() {
        let reads_bounded = *reads_bounded;
        let Some(piece) = list.get(*at) else {
            stack.pop();
            continue;
        };
        *at += 1;
        let Piece::View(name) = piece else {
            out.push(piece.clone());
            continue;
        };
        let outermost = stack
            .iter()
            .find_map(|(_, _, v, _)| *v)
            .unwrap_or(name.as_str())
            .to_owned();
        let in_view = |reason: Refusal| Refusal::InView {
            view: outermost.clone(),
            reason: Box::new(reason),
        };
        if stack.iter().any(|(_, _, v, _)| *v == Some(name.as_str())) {
            return Err(in_view(Refusal::TooComplex {
                detail: format!("view {name:?} reads itself"),
            }));
        }
        if stack.len() > MAX_VIEW_DEPTH {
            return Err(in_view(Refusal::TooComplex {
                detail: format!("views read views more than {MAX_VIEW_DEPTH} deep"),
            }));
        }
        let plans = views.get(name).map(|p| match reads_bounded {
            true => &p.bounded,
            false => &p.plain,
        });
        let plan = match plans {
            Some(Ok(plan)) => plan,
            Some(Err(reason)) => {
                let reason = if outermost == *name {
                    reason.clone()
                } else {
                    Refusal::InView {
                        view: name.clone(),
                        reason: Box::new(reason.clone()),
                    }
                };
                return Err(in_view(reason));
            }
            None => {
                return Err(in_view(Refusal::Internal {
                    detail: format!("view {name:?} has no plan"),
                }));
            }
        };
        tables.extend(plan.tables.iter().cloned());
        for name in &plan.ctes {
            if !ctes.contains(name) {
                ctes.push(name.clone());
            }
        }
        stack.push((&plan.pieces, 0, Some(name.as_str()), plan.bounded));
    }
    *pieces = out;
    Ok(())
}
