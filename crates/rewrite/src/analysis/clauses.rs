//! Where the clauses of an INSERT, UPDATE or DELETE lie in the text: the exact positions at
//! which the write target's scoping goes, found by depth-aware token scans and checked
//! against what the AST says the statement has (a clause the scan finds that the AST does
//! not have, or the reverse, is an internal refusal, never a guess).

use std::ops::Range;

use sqlparser::ast::{Expr, Parens, Select};
use sqlparser::keywords::Keyword;

use crate::analysis::model::{FilterPlace, InsertSource};
use crate::refusal::Refusal;
use crate::source::{Lex, SELECT_LIST_END, Source};
use crate::sql::token_at;

/// Which trailing clauses the AST says a statement has, to cross-check the token scan.
#[derive(Clone, Copy, Default)]
pub(super) struct Tail {
    pub returning: bool,
    pub order_by: bool,
    pub limit: bool,
}

/// Where the tenant test goes in the WHERE clause that follows token `from` (the UPDATE or
/// DELETE keyword, or an upsert's DO): before the existing condition, or in a new WHERE
/// before the trailing clauses.
pub(super) fn filter_place(
    src: &Source<'_>,
    end: usize,
    from: usize,
    has_where: bool,
    tail: Tail,
) -> Result<FilterPlace, Refusal> {
    let mut where_tok = None;
    let mut stop = end;
    for (j, depth) in src.depth_walk(from, end) {
        if depth != 0 || !src.is_sig(j) {
            continue;
        }
        if src.is_kw(j, Keyword::WHERE) && where_tok.is_none() {
            where_tok = Some(j);
        }
        let (found, expected) = if src.is_kw(j, Keyword::RETURNING) {
            (true, tail.returning)
        } else if src.is_kw(j, Keyword::ORDER) {
            (true, tail.order_by)
        } else if src.is_kw(j, Keyword::LIMIT) {
            (true, tail.limit)
        } else {
            (false, true)
        };
        if found {
            if !expected {
                return Err(internal(format!(
                    "clause {} found where the parsed statement has none",
                    src.tok_text(j)
                )));
            }
            stop = j;
            break;
        }
    }
    if where_tok.is_some() != has_where {
        return Err(internal(
            "WHERE clause not where the parser put it".to_owned(),
        ));
    }
    place(src, from, where_tok, stop)
}

/// The tenant test's place in a clause that starts after token `from` and ends before token
/// `stop`, with its WHERE keyword at `where_tok` (checked against the parser by the
/// caller): before the WHERE's condition, or as a new WHERE after the clause's last token.
pub(super) fn place(
    src: &Source<'_>,
    from: usize,
    where_tok: Option<usize>,
    stop: usize,
) -> Result<FilterPlace, Refusal> {
    let last = src
        .prev_sig(stop, from)
        .ok_or_else(|| internal("empty statement tail".to_owned()))?;
    match where_tok {
        Some(w) => {
            let first = src
                .next_sig(w, stop)
                .ok_or_else(|| internal("empty WHERE".to_owned()))?;
            Ok(FilterPlace::Before {
                start: src.toks[first].start,
                end: src.toks[last].end,
            })
        }
        None => Ok(FilterPlace::After {
            at: src.toks[last].end,
        }),
    }
}

/// The token of an upsert's `DO` (of `DO UPDATE`), at or after token `from`.
pub(super) fn do_update(src: &Source<'_>, end: usize, from: usize) -> Result<usize, Refusal> {
    for (j, depth) in src.depth_walk(from, end) {
        if depth == 0
            && src.is_kw(j, Keyword::DO)
            && src
                .next_sig(j, end)
                .is_some_and(|n| src.is_kw(n, Keyword::UPDATE))
        {
            return Ok(j);
        }
    }
    Err(internal("DO UPDATE not found".to_owned()))
}

/// The `(` and `)` tokens of an INSERT's column list, which follows the table name's last
/// token `name_end`.
pub(super) fn column_list(
    src: &Source<'_>,
    end: usize,
    name_end: usize,
) -> Result<(usize, usize), Refusal> {
    let open = src
        .next_sig(name_end, end)
        .filter(|&i| src.toks[i].lex == Lex::LParen)
        .ok_or_else(|| internal("column list not found".to_owned()))?;
    let close = src
        .matching_paren(open, end)
        .ok_or_else(|| internal("column list not closed".to_owned()))?;
    Ok((open, close))
}

/// `DEFAULT VALUES`, after token `after`: its bytes.
pub(super) fn default_values(
    src: &Source<'_>,
    end: usize,
    after: usize,
) -> Result<InsertSource, Refusal> {
    let default = src.next_sig(after, end);
    let values = default.and_then(|d| src.next_sig(d, end));
    match (default, values) {
        (Some(d), Some(v)) if src.is_kw(d, Keyword::DEFAULT) && src.is_kw(v, Keyword::VALUES) => {
            Ok(InsertSource::DefaultValues {
                span: src.toks[d].start..src.toks[v].end,
            })
        }
        _ => Err(internal("DEFAULT VALUES not found".to_owned())),
    }
}

/// The `)` of every VALUES row (byte offsets of where the tenant value goes).
pub(super) fn values_rows(
    src: &Source<'_>,
    rows: &[Parens<Vec<Expr>>],
) -> Result<InsertSource, Refusal> {
    let mut closes = Vec::with_capacity(rows.len());
    for row in rows {
        let start = row.closing_token.0.span.start;
        let close = token_at(src, (start.line, start.column))?;
        if src.toks[close].lex != Lex::RParen {
            return Err(internal("VALUES row does not end with ')'".to_owned()));
        }
        closes.push(src.toks[close].start);
    }
    Ok(InsertSource::Values { closes })
}

/// The bytes of item `index` of a VALUES row, its items found between the row's
/// parentheses and counted against the parsed row.
pub(super) fn row_item(
    src: &Source<'_>,
    end: usize,
    row: &Parens<Vec<Expr>>,
    index: usize,
) -> Result<(usize, usize), Refusal> {
    let start = row.opening_token.0.span.start;
    let open = token_at(src, (start.line, start.column))?;
    let items = src.list_items(open, end, &[]);
    match (items.get(index), items.len() == row.content.len()) {
        (Some(&(first, last)), true) => Ok((src.toks[first].start, src.toks[last].end)),
        _ => Err(internal(format!(
            "{} VALUES items found in the text, {} parsed",
            items.len(),
            row.content.len()
        ))),
    }
}

/// The end of the last item of an INSERT's SELECT list (`INSERT INTO t (cols) SELECT a, b
/// ...`), where the tenant becomes the last column of every row. (A constant column changes
/// neither DISTINCT, grouping, ordering nor the order rows are inserted in.)
pub(super) fn select_list(
    src: &Source<'_>,
    end: usize,
    select: &Select,
) -> Result<InsertSource, Refusal> {
    let ranges = select_items(src, end, select)?;
    let Some(&(_, last)) = ranges.last() else {
        return Err(internal("empty SELECT list".to_owned()));
    };
    // Before a WINDOW clause (a FROM-less SELECT), `sqlparser` would read `'A' WINDOW` as
    // a value with the alias WINDOW: the value is named, so the output parses again.
    let before_window = src
        .next_sig(last, end)
        .is_some_and(|n| src.is_kw(n, Keyword::WINDOW));
    Ok(InsertSource::SelectList {
        at: src.toks[last].end,
        before_window,
    })
}

/// The first and last tokens of each item of a SELECT's result-column list, counted
/// against the parsed list.
pub(super) fn select_items(
    src: &Source<'_>,
    end: usize,
    select: &Select,
) -> Result<Vec<(usize, usize)>, Refusal> {
    let start = select.select_token.0.span.start;
    let mut after = token_at(src, (start.line, start.column))?;
    while let Some(next) = src.next_sig(after, end) {
        if src.is_kw(next, Keyword::DISTINCT) || src.is_kw(next, Keyword::ALL) {
            after = next;
        } else {
            break;
        }
    }
    let ranges = src.list_items(after, end, SELECT_LIST_END);
    if ranges.is_empty() || ranges.len() != select.projection.len() {
        return Err(internal(format!(
            "{} result columns found in the text, {} parsed",
            ranges.len(),
            select.projection.len()
        )));
    }
    Ok(ranges)
}

/// The bytes of an INSERT's source (after token `after`, up to ON CONFLICT or RETURNING),
/// to be wrapped in a SELECT that adds the tenant column (or only the key).
pub(super) fn source_bytes(
    src: &Source<'_>,
    end: usize,
    after: usize,
) -> Result<Range<usize>, Refusal> {
    let first = src
        .next_sig(after, end)
        .ok_or_else(|| internal("INSERT source not found".to_owned()))?;
    let mut stop = end;
    let sig_after = |j: usize| src.next_sig(j, end);
    for (j, depth) in src.depth_walk(first, end) {
        if depth != 0 || !src.is_sig(j) {
            continue;
        }
        let on_conflict = src.is_kw(j, Keyword::ON)
            && sig_after(j).is_some_and(|n| src.is_kw(n, Keyword::CONFLICT));
        if on_conflict || src.is_kw(j, Keyword::RETURNING) {
            stop = j;
            break;
        }
    }
    let last = src
        .prev_sig(stop, first)
        .ok_or_else(|| internal("empty INSERT source".to_owned()))?;
    Ok(src.toks[first].start..src.toks[last].end)
}

/// The RETURNING keyword of a statement's tokens `seg`: the last one.
pub(super) fn returning_keyword(src: &Source<'_>, seg: Range<usize>) -> Result<usize, Refusal> {
    seg.rev()
        .find(|&j| src.is_kw(j, Keyword::RETURNING))
        .ok_or_else(|| internal("RETURNING not found".to_owned()))
}

pub(super) fn internal(detail: String) -> Refusal {
    Refusal::Internal { detail }
}
