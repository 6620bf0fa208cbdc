//! Tenant tables scoped in place: the table stays in its FROM, and its tenant test goes
//! into the WHERE of the SELECT whose FROM holds it, before the SELECT's own condition:
//!
//! `FROM customers c WHERE c.city = ?` → `FROM customers c WHERE +c."tenant_id" = 'A' AND
//! (c.city = ?)`
//!
//! That is the shortest scoped text, and the planner sees the table itself. It reads
//! exactly what the derived table `(SELECT … WHERE +"tenant_id" = 'A') AS c` reads when
//! nothing in the SELECT can see the difference — the one column the migration added:
//! - no `*` or `c.*` over the FROM, and no NATURAL join in it (they would show or join on
//!   the tenant column);
//! - the statement never spells the tenant column (unless the table shows it), so no name
//!   in it can resolve to that column;
//! - no rowid read in the statement (in place, a rowid read reaches the table's own rowid,
//!   which the tenant-first migration may have replaced);
//! - the table is not on the nullable side of an outer join, where a WHERE test would drop
//!   the rows the join fills with NULLs;
//! - its qualifier (alias or name) is the only one of that name in its FROM, so the test's
//!   `c."tenant_id"` names it and nothing else;
//! - the SELECT's WHERE (or where a new one goes) was found in the text;
//! - the statement is not one whose tables are read through their tenant index
//!   (`analysis/raising.rs`), which the derived table names.
//!
//! Anything else becomes a derived table (`emit/derived.rs`). Tenant virtual tables are
//! always read in place: a derived table would hide the hidden columns their special forms
//! need (`psi MATCH ?`, `rank`, `bm25(psi)`), and would show them in a `*` if it listed
//! them; their tenant column is the application's own, and the walk refuses them where in
//! place is not the same (an outer join's nullable side, UPDATE … FROM).

use sqlparser::ast::{JoinOperator, TableWithJoins};
use sqlparser::keywords::Keyword;

use crate::analysis::clauses::{self, internal};
use crate::analysis::model::{FilterPlace, Model, TenantRead};
use crate::classify::{self, Factor};
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::rowid::FromItem;
use crate::schema::Schema;
use crate::source::{Lex, SELECT_LIST_END, Source};
use crate::sql::{name_pos, visible_columns};

/// What the walk knows of a SELECT whose FROM holds a tenant table.
pub(super) struct FromFacts {
    /// Where its tenant tests go; none when the text could not be read with confidence.
    pub place: Option<FilterPlace>,
    /// Qualifiers (lower case) that more than one item of its FROM has.
    pub repeated: Vec<String>,
}

impl FromFacts {
    pub fn new(place: Option<FilterPlace>, items: &[FromItem<'_>]) -> Self {
        let mut repeated: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if items[..i].iter().any(|o| o.qualifier == item.qualifier)
                && !repeated.contains(&item.qualifier)
            {
                repeated.push(item.qualifier.clone());
            }
        }
        FromFacts { place, repeated }
    }
}

/// Where the tenant test of `read` goes when it can be scoped in place, or `None` when it
/// must become a derived table.
pub(super) fn place_of(
    read: &TenantRead<'_>,
    facts: Option<&FromFacts>,
    model: &Model<'_>,
    schema: &Schema,
    policy: &Policy,
) -> Option<FilterPlace> {
    // Read through its tenant index: the derived table names it.
    if model.through_tenant_index(read.table) {
        return None;
    }
    let select = read.select?;
    let facts = facts?;
    let shape = model.selects.get(select)?;
    let tenant = schema.tenant_column();
    let tenant_visible =
        visible_columns(read.table, schema, policy).any(|c| c.name.eq_ignore_ascii_case(tenant));
    let hidden_spelled = !tenant_visible && model.words.spells(tenant);
    // A guarded statement's SELECT spells out its `*` and `t.*` (`emit/guard.rs`): one
    // table's `*`, and any table's `t.*`.
    let spelled_out = model.spell_out_stars
        && select == 0
        && !shape.natural
        && shape.stars_complete
        && (!shape.wildcard || shape.single_item);
    let shows_columns = !spelled_out
        && (shape.wildcard || shape.natural || shape.qualified_wildcards.contains(&read.qualifier));
    let fits = !read.nullable
        && read.rowid.is_none()
        && !model.words.reads_rowid()
        && !shows_columns
        && !hidden_spelled
        && !facts.repeated.contains(&read.qualifier);
    if fits { facts.place } else { None }
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
            "WHERE of a SELECT reading a tenant table in place not where the parser put it"
                .to_owned(),
        ));
    }
    clauses::place(src, after, where_tok, stop)
}
