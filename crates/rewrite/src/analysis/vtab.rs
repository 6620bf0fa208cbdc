//! Tenant virtual tables (FTS, R*Tree with the tenant column) are read in place: a derived
//! table would hide the hidden columns their special forms need (`psi MATCH ?`, `rank`,
//! `bm25(psi)`, `highlight(psi, …)`), and would show them in a `*` if it listed them. So the
//! table stays in its FROM, and its tenant test goes into the WHERE of the SELECT whose
//! FROM holds it: `WHERE +s."tenant_id" = 'A' AND (original WHERE)`. For the rows of an
//! inner join that is the same as reading only the tenant's rows; on the nullable side of
//! an outer join it is not, so that is refused.
//!
//! Also here: the INSERTs a tenant virtual table refuses (special commands, which work on
//! the whole index, and an INSERT without a column list).

use sqlparser::ast::{Insert, JoinOperator, Statement, TableObject, TableWithJoins};
use sqlparser::keywords::Keyword;

use crate::analysis::clauses::{self, internal};
use crate::analysis::model::{Context, FilterPlace};
use crate::classify::{self, Body, Factor, Shape};
use crate::refusal::{Refusal, VirtualForm};
use crate::source::{Lex, SELECT_LIST_END, Source};
use crate::sql::{last_ident, name_pos};

/// Refuses an INSERT into a tenant virtual table that names a command column or no
/// columns.
pub(super) fn check_insert(cx: &Context<'_, '_>, statement: &Statement) -> Result<(), Refusal> {
    let Some(insert) = insert_of(statement) else {
        return Ok(());
    };
    let TableObject::TableName(name) = &insert.table else {
        return Ok(());
    };
    let Some(table) = last_ident(name).and_then(|n| cx.schema.table(&n.value)) else {
        return Ok(());
    };
    let (Some(module), true) = (table.module, table.has_column(cx.schema.tenant_column())) else {
        return Ok(());
    };
    if insert.columns.is_empty() && insert.source.is_some() {
        return Err(Refusal::VirtualTable {
            table: table.name.clone(),
            form: VirtualForm::InsertWithoutColumns,
        });
    }
    let commands = module.command_columns(&table.name);
    for column in insert.columns.iter().filter_map(last_ident) {
        if commands
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&column.value))
        {
            return Err(Refusal::VirtualTable {
                table: table.name.clone(),
                form: VirtualForm::Command {
                    column: column.value.clone(),
                },
            });
        }
    }
    Ok(())
}

/// The INSERT a statement is (through EXPLAIN and WITH).
fn insert_of(statement: &Statement) -> Option<&Insert> {
    match classify::shape(statement).ok()? {
        Shape::Insert(insert) => Some(insert),
        Shape::Explain(inner) => insert_of(inner),
        Shape::Query(query) => match classify::body(query).ok()? {
            Body::Write(inner) => insert_of(inner),
            Body::Read => None,
        },
        Shape::Update(_) | Shape::Delete(_) | Shape::Transaction => None,
    }
}

/// Where the table names of a FROM clause start when they are on the nullable side of an
/// outer join: the right side of a LEFT join; every table of a FROM that has a RIGHT or
/// FULL join anywhere (conservatively: SQLite's comma joins and nesting make the left side
/// of such a join hard to bound).
pub(super) fn nullable(from: &[TableWithJoins]) -> Vec<(u64, u64)> {
    let mut all = Vec::new();
    let mut left = Vec::new();
    let mut outer = false;
    for twj in from {
        collect(twj, &mut all, &mut left, &mut outer, false);
    }
    if outer { all } else { left }
}

fn collect(
    twj: &TableWithJoins,
    all: &mut Vec<(u64, u64)>,
    left: &mut Vec<(u64, u64)>,
    outer: &mut bool,
    nullable: bool,
) {
    factor(&twj.relation, all, left, outer, nullable);
    for join in &twj.joins {
        let side = match &join.join_operator {
            JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_) => false,
            JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => true,
            JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_) => {
                *outer = true;
                true
            }
            // Joins of other dialects are refused by the walk; counted as outer meanwhile.
            JoinOperator::Semi(_)
            | JoinOperator::LeftSemi(_)
            | JoinOperator::RightSemi(_)
            | JoinOperator::Anti(_)
            | JoinOperator::LeftAnti(_)
            | JoinOperator::RightAnti(_)
            | JoinOperator::CrossApply
            | JoinOperator::OuterApply
            | JoinOperator::AsOf { .. }
            | JoinOperator::StraightJoin(_)
            | JoinOperator::ArrayJoin
            | JoinOperator::LeftArrayJoin
            | JoinOperator::InnerArrayJoin => {
                *outer = true;
                true
            }
        };
        factor(&join.relation, all, left, outer, nullable || side);
    }
}

fn factor(
    f: &sqlparser::ast::TableFactor,
    all: &mut Vec<(u64, u64)>,
    left: &mut Vec<(u64, u64)>,
    outer: &mut bool,
    nullable: bool,
) {
    match classify::factor(f) {
        Factor::Table { name, .. } => {
            if let Some(pos) = name_pos(name) {
                all.push(pos);
                if nullable {
                    left.push(pos);
                }
            }
        }
        Factor::Nested(inner) => collect(inner, all, left, outer, nullable),
        Factor::Derived { .. } | Factor::Foreign => {}
    }
}

/// Where the tenant test of a SELECT's FROM goes: before its WHERE condition, or in a new
/// WHERE after its FROM clause. `after` is the last token of its result columns; the scan
/// stops at the first clause after the WHERE (GROUP BY, HAVING, WINDOW, ORDER BY, LIMIT, a
/// compound operator, ON CONFLICT, RETURNING) or at the `)` that closes the query.
pub(super) fn where_place(
    src: &Source<'_>,
    end: usize,
    after: usize,
    has_where: bool,
) -> Result<FilterPlace, Refusal> {
    // What ends a select list, but FROM and WHERE (being scanned) and ON (a join's, unless
    // ON CONFLICT: checked below).
    let stops = SELECT_LIST_END
        .iter()
        .filter(|k| !matches!(k, Keyword::FROM | Keyword::WHERE | Keyword::ON));
    let mut where_tok = None;
    let mut stop = end;
    for (j, depth) in src.depth_walk(after + 1, end) {
        if depth < 0 {
            stop = j;
            break;
        }
        if depth != 0 || !src.is_sig(j) || matches!(src.toks[j].lex, Lex::RParen) {
            continue;
        }
        let on_conflict = src.is_kw(j, Keyword::ON)
            && src
                .next_sig(j, end)
                .is_some_and(|n| src.is_kw(n, Keyword::CONFLICT));
        if on_conflict || stops.clone().any(|&k| src.is_kw(j, k)) {
            stop = j;
            break;
        }
        if src.is_kw(j, Keyword::WHERE) && where_tok.is_none() {
            where_tok = Some(j);
        }
    }
    if where_tok.is_some() != has_where {
        return Err(internal(
            "WHERE of a SELECT reading a virtual table not where the parser put it".to_owned(),
        ));
    }
    clauses::place(src, after, where_tok, stop)
}
