//! Result columns: which of a select list's or RETURNING's columns may need an alias to
//! keep the name SQLite gave them before the rewrite, and what that name is.
//!
//! SQLite names an unaliased result column by its text (a column reference by the column).
//! A column whose text now holds a derived table, or that reads a rowid through one, would
//! get another name; the alias emitter (`crate::emit::aliases`) gives it its old one.

use sqlparser::ast::{Expr, SelectItem};

use crate::analysis::model::ResultColumn;
use crate::analysis::scopes::Scopes;
use crate::refusal::Refusal;
use crate::rowid::{Action, ROWID_NAMES};
use crate::source::Source;

/// How the columns being read are named.
pub(crate) enum Naming<'x, 's> {
    /// A select list, looked up in these scopes (a rowid read may name its column).
    Select {
        scopes: &'x Scopes<'s>,
        tenant_column: &'x str,
    },
    /// RETURNING: each column is named by its text, but for a column reference (in
    /// parentheses or not), named after its column.
    Returning,
}

/// The result columns of a select list or RETURNING list (`ranges`: each item's first and
/// last token, from [`Source::list_items`], one per AST item) that may need an alias.
///
/// # Errors
/// [`Refusal::PostfixNullTest`] for an unquoted alias `ISNULL` / `NOTNULL` (`x AS ISNULL`,
/// which SQLite reserves); [`Refusal::Internal`] when the text and the AST disagree on the
/// items.
pub(crate) fn candidates(
    src: &Source<'_>,
    seg_end: usize,
    items: &[SelectItem],
    ranges: &[(usize, usize)],
    naming: &Naming<'_, '_>,
) -> Result<Vec<ResultColumn>, Refusal> {
    // An unquoted alias `ISNULL` / `NOTNULL`: SQLite's postfix operators, which it never
    // reads as a name. `dialect.rs` reads `x ISNULL` and `x NOTNULL` as the operators, so
    // only `x AS ISNULL` reaches here, which SQLite refuses; refused here too, rather than
    // mean something else.
    for item in items {
        if let SelectItem::ExprWithAlias { alias, .. } = item
            && alias.quote_style.is_none()
            && (alias.value.eq_ignore_ascii_case("isnull")
                || alias.value.eq_ignore_ascii_case("notnull"))
        {
            return Err(Refusal::PostfixNullTest {
                operator: alias.value.to_ascii_uppercase(),
            });
        }
    }
    if items.len() != ranges.len() {
        return Err(Refusal::Internal {
            detail: format!(
                "{} result columns found in the text, {} parsed",
                ranges.len(),
                items.len()
            ),
        });
    }
    let mut out = Vec::new();
    for (item, &(first, last)) in items.iter().zip(ranges) {
        let expr = match item {
            SelectItem::UnnamedExpr(expr) => expr,
            SelectItem::ExprWithAlias { .. }
            | SelectItem::ExprWithAliases { .. }
            | SelectItem::QualifiedWildcard(..)
            | SelectItem::Wildcard(_) => continue,
        };
        let start = src.toks[first].start;
        let end = src.toks[last].end;
        let name_end = match src.next_sig(last, seg_end) {
            Some(next) => src.toks[next].start,
            None => src.toks[seg_end.max(last + 1) - 1].end,
        };
        let column = |name: Option<String>, always: bool| ResultColumn {
            start,
            end,
            name_end,
            name,
            always,
        };
        let expr = match naming {
            Naming::Select {
                scopes,
                tenant_column,
            } => {
                // SQLite names a column by what is inside parentheses; a subquery's column
                // also by what is under COLLATE (the statement's own: by its text).
                let expr = named_part(expr, scopes.in_subquery());
                // A bare rowid reference through a scoped table: SQLite names it after the
                // INTEGER PRIMARY KEY column, or "rowid".
                if let Some(name) = rowid_result_name(expr, scopes, tenant_column) {
                    out.push(column(Some(name), true));
                    continue;
                }
                expr
            }
            // As in a select list, a column reference in parentheses is named after the
            // column (a rowid read after the INTEGER PRIMARY KEY it reads).
            Naming::Returning => named_part(expr, false),
        };
        // A column reference is named after the column, whatever its qualifier.
        if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            continue;
        }
        out.push(column(None, false));
    }
    Ok(out)
}

/// The part of a select-list expression SQLite takes a column's name from.
fn named_part(expr: &Expr, in_subquery: bool) -> &Expr {
    match expr {
        Expr::Nested(inner) => named_part(inner, in_subquery),
        Expr::Collate { expr: inner, .. } if in_subquery => named_part(inner, in_subquery),
        other => other,
    }
}

/// The name SQLite gave a result column that is a bare rowid read through a tenant table,
/// when the rewritten text would give it another.
fn rowid_result_name(expr: &Expr, scopes: &Scopes<'_>, tenant_column: &str) -> Option<String> {
    let (qualifier, written) = match expr {
        Expr::Identifier(id) => (None, id.value.as_str()),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => (
            Some(parts[parts.len() - 2].value.to_ascii_lowercase()),
            parts[parts.len() - 1].value.as_str(),
        ),
        _ => return None,
    };
    let word = written.to_ascii_lowercase();
    if !ROWID_NAMES.contains(&word.as_str()) {
        return None;
    }
    let (table, replaced) = match scopes.resolve_rowid(qualifier.as_deref(), &word, tenant_column) {
        Action::Keep
        | Action::Expose { table: None }
        | Action::Gone { .. }
        | Action::Unsure { .. } => return None,
        Action::Replace { table, .. } => (table, true),
        Action::Expose { table: Some(table) } => (table, false),
    };
    // A subquery's or CTE's column (a query inside the statement's) is named by the word
    // as written, which an exposed rowid keeps; the statement's own result column reading
    // a rowid is named after the INTEGER PRIMARY KEY column (which a replaced read now
    // reads), or "rowid".
    if scopes.in_subquery() {
        return replaced.then(|| written.to_owned());
    }
    match table.rowid_column() {
        Some(_) if replaced => None,
        Some(ipk) => Some(ipk.to_owned()),
        None => Some("rowid".to_owned()),
    }
}
