//! Parsing one statement with `sqlparser`, the same way wherever the rewriter reads SQL: a
//! recursion limit, and every token read (`sqlparser` stops quietly at some words, such as
//! `END`, and text it did not read must not run).

use sqlparser::ast::Statement;
use sqlparser::dialect::SQLiteDialect;
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
    let mut parser = Parser::new(&SQLiteDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let statement = parser
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
    Ok(statement)
}
