//! SQL text helpers: quoting a name, and parsing a rewrite again with `sqlparser`.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use tenantry_rewrite::SqliteDialect;

/// `name` as a double-quoted SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Parses each statement of `sql` with `sqlparser` again, in the rewriter's dialect
/// ([`SqliteDialect`]), except PRAGMAs (the rewriter
/// checks those by their tokens, and `sqlparser` does not read every form SQLite accepts).
///
/// # Errors
/// The tokenizer's or the parser's message.
pub fn reparse(sql: &str) -> Result<(), String> {
    let tokens = Tokenizer::new(&SqliteDialect, sql)
        .tokenize()
        .map_err(|e| e.to_string())?;
    let mut segments = vec![Vec::new()];
    let mut depth = 0i64;
    for token in tokens {
        match token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::SemiColon if depth == 0 => {
                segments.push(Vec::new());
                continue;
            }
            _ => {}
        }
        segments.last_mut().expect("a segment").push(token);
    }
    for segment in segments {
        match segment.iter().find(|t| !matches!(t, Token::Whitespace(_))) {
            None => continue,
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("PRAGMA") =>
            {
                continue;
            }
            Some(_) => {}
        }
        Parser::new(&SqliteDialect)
            .with_tokens(segment)
            .parse_statements()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
