//! Small facts about names in the AST: their parts, where they start, how to quote one, and
//! which columns of a table a statement may see.

use sqlparser::ast::{Expr, Ident, ObjectName};
use sqlparser::keywords::Keyword;

use crate::policy::Policy;
use crate::refusal::{Refusal, SourceForm};
use crate::schema::{Column, Schema, Table};
use crate::source::{Lex, Source};

/// The identifier parts of a name, unquoted.
pub(crate) fn ident_parts(name: &ObjectName) -> Result<Vec<String>, Refusal> {
    name.0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(|i| i.value.clone())
                .ok_or_else(|| Refusal::TableSource {
                    form: SourceForm::Name {
                        name: name.to_string(),
                    },
                })
        })
        .collect()
}

/// The last identifier of a name (a table's own name, without its schema).
pub(crate) fn last_ident(name: &ObjectName) -> Option<&Ident> {
    name.0.last().and_then(|p| p.as_ident())
}

/// The column a name expression names: its last part (`c`, `t.c`, `main.t.c`); `None`
/// for any other expression.
pub(crate) fn column_ident(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Identifier(ident) => Some(ident),
        Expr::CompoundIdentifier(parts) => parts.last(),
        _ => None,
    }
}

/// Where a name starts, as (line, column).
pub(crate) fn name_pos(name: &ObjectName) -> Option<(u64, u64)> {
    name.0
        .first()
        .and_then(|p| p.as_ident())
        .map(loc_of)
        .filter(|&(line, _)| line > 0)
}

/// Where an identifier starts, as (line, column).
pub(crate) fn loc_of(ident: &Ident) -> (u64, u64) {
    (ident.span.start.line, ident.span.start.column)
}

/// The index of the token of `src` that starts at `pos` (line, column).
///
/// # Errors
/// [`Refusal::Internal`] when none does: the AST and the token stream disagree.
pub(crate) fn token_at(src: &Source<'_>, pos: (u64, u64)) -> Result<usize, Refusal> {
    src.index_at(sqlparser::tokenizer::Location {
        line: pos.0,
        column: pos.1,
    })
    .ok_or_else(|| Refusal::Internal {
        detail: format!("no token at line {} column {}", pos.0, pos.1),
    })
}

/// The token of a table's alias, which follows the table's name (token `name_end`).
///
/// SQLite reads a string there as a name (`FROM customers AS 'c'`, `UPDATE t 'c'`), and
/// sqlparser gives such an alias no position. It is then the token after the name (and
/// its `AS`), which must be that string.
///
/// # Errors
/// [`Refusal::Internal`] when the token is not found.
pub(crate) fn alias_token(
    src: &Source<'_>,
    name_end: usize,
    alias: &Ident,
) -> Result<usize, Refusal> {
    if alias.span.start.line > 0 {
        return token_at(src, loc_of(alias));
    }
    let end = src.toks.len();
    let mut next = src.next_sig(name_end, end);
    if let Some(n) = next
        && src.is_kw(n, Keyword::AS)
    {
        next = src.next_sig(n, end);
    }
    next.filter(|&i| {
        matches!(src.toks[i].lex, Lex::Str)
            && alias.quote_style == Some('\'')
            && string_content(src.tok_text(i)).as_deref() == Some(alias.value.as_str())
    })
    .ok_or_else(|| Refusal::Internal {
        detail: format!(
            "the alias {} was not found after its table's name",
            alias.value
        ),
    })
}

/// The text of a string literal `'…'`, its doubled quotes single (`'it''s'` → `it's`).
pub(crate) fn string_content(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// `value` as an SQL string literal.
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// An identifier in double quotes, with inner quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns a statement sees of `table`: all but the tenant column, unless the policy
/// exposes it or the column is the application's own ([`Schema::has_own_tenant_column`];
/// a virtual table's always is, [`Table::shows_tenant_column`]).
pub(crate) fn visible_columns<'t>(
    table: &'t Table,
    schema: &Schema,
    policy: &Policy,
) -> impl Iterator<Item = &'t Column> {
    let tenant = schema.tenant_column().to_owned();
    let expose = policy.expose_tenant_column
        || table.shows_tenant_column()
        || schema.has_own_tenant_column(&table.name);
    table
        .columns
        .iter()
        .filter(move |c| expose || !c.name.eq_ignore_ascii_case(&tenant))
}

/// The visible columns of `table`, quoted and joined by `, `: what a derived table selects
/// when the statement may read every column.
pub(crate) fn column_list(table: &Table, schema: &Schema, policy: &Policy) -> String {
    visible_columns(table, schema, policy)
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}
