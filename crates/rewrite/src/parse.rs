//! Parsing one statement with `sqlparser`, the same way wherever the rewriter reads SQL: a
//! recursion limit, and every token read (`sqlparser` stops quietly at some words, such as
//! `END`, and text it did not read must not run).

use std::ops::ControlFlow;

use crate::dialect::SqliteDialect;
use sqlparser::ast::{
    AccessExpr, Expr, Ident, Statement, Value, ValueWithSpan, VisitMut, visit_expressions_mut,
};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// How deeply `sqlparser` may nest before it gives up (its own default).
const RECURSION_LIMIT: usize = 50;

/// Why a statement could not be read.
pub(crate) enum Unreadable {
    /// The parser's error.
    Parser(String),
    /// The parser stopped before the last token: at this token, line and column.
    Stopped {
        token: String,
        line: u64,
        column: u64,
    },
}

/// Parses `tokens` as exactly one statement.
pub(crate) fn statement(tokens: Vec<TokenWithSpan>) -> Result<Statement, Unreadable> {
    let mut parser = Parser::new(&SqliteDialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let mut statement = parser
        .parse_statement()
        .map_err(|e| Unreadable::Parser(e.to_string()))?;
    let rest = parser.peek_token();
    if rest.token != Token::EOF {
        return Err(Unreadable::Stopped {
            token: rest.token.to_string(),
            line: rest.span.start.line,
            column: rest.span.start.column,
        });
    }
    strings_as_names(&mut statement);
    Ok(statement)
}

/// Parses an expression at the start of `text`, read as [`statement`] reads one (the same
/// recursion limit, strings before a dot as names); `None` on the parser's error.
pub(crate) fn expression(text: &str) -> Option<Expr> {
    let mut parser = Parser::new(&SqliteDialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(text)
        .ok()?;
    let mut expr = parser.parse_expr().ok()?;
    strings_as_names(&mut expr);
    Some(expr)
}

/// SQLite reads a string before a dot as a name (`'c'.rowid`, `'main'.t.x`: its grammar's
/// `nm DOT nm`, where a name may be a string), sqlparser as a field access on a string
/// value. Each such access becomes the compound identifier SQLite reads (the string a name
/// quoted with `'`, at the string's position), so every check of names sees it.
fn strings_as_names<V: VisitMut>(node: &mut V) {
    let _ = visit_expressions_mut(node, |expr| {
        string_qualified(expr);
        ControlFlow::<()>::Continue(())
    });
}

/// See [`strings_as_names`]: one expression.
fn string_qualified(expr: &mut Expr) {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return;
    };
    let Expr::Value(ValueWithSpan {
        value: Value::SingleQuotedString(name),
        span,
    }) = root.as_ref()
    else {
        return;
    };
    let mut parts = vec![Ident {
        value: name.clone(),
        quote_style: Some('\''),
        span: *span,
    }];
    for access in access_chain.iter() {
        match access {
            AccessExpr::Dot(Expr::Identifier(ident)) => parts.push(ident.clone()),
            AccessExpr::Dot(_) | AccessExpr::Subscript(_) => return,
        }
    }
    // SQLite's names have at most three parts (schema, table, column).
    if parts.len() <= 3 {
        *expr = Expr::CompoundIdentifier(parts);
    }
}
