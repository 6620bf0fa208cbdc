//! The statement text as tokens with byte offsets: where each token starts and ends, how the
//! text splits into statements, and the small scans that find a clause's exact position.
//!
//! The rewriter never reprints a statement. It copies the caller's text and splices its
//! additions in at token boundaries found here, so literals, parameters, comments and result
//! column names stay exactly as the caller wrote them.

use std::ops::Range;

use crate::dialect::SqliteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

/// Keywords that end a select list.
pub(crate) const SELECT_LIST_END: &[Keyword] = &[
    Keyword::FROM,
    Keyword::WHERE,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::WINDOW,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::UNION,
    Keyword::INTERSECT,
    Keyword::EXCEPT,
    // A FROM-less SELECT as the source of INSERT: ON CONFLICT or RETURNING follow it.
    Keyword::ON,
    Keyword::RETURNING,
];

/// What kind of token it is: just what the rewriter's scans and checks look at. (The full
/// tokens go to the parser; keeping a copy would cost an allocation per word.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lex {
    Space,
    LineComment,
    BlockComment,
    Word {
        keyword: Keyword,
        quoted: bool,
    },
    LParen,
    RParen,
    Comma,
    Semi,
    Period,
    Eq,
    Minus,
    Number,
    /// `'...'`
    Str,
    /// `?`, `?3`, `$a` (`:a` and `@a` arrive as a sigil and a word)
    Placeholder,
    /// `x'0A'`
    Blob,
    /// A string form SQLite does not have (`$$..$$`, `E'..'`, `N'..'`, ...).
    Foreign,
    Other,
}

fn lex_of(token: &Token, text: &str) -> Lex {
    match token {
        Token::Whitespace(Whitespace::SingleLineComment { .. }) => Lex::LineComment,
        Token::Whitespace(Whitespace::MultiLineComment(_)) => Lex::BlockComment,
        Token::Whitespace(_) => Lex::Space,
        Token::Word(w) => Lex::Word {
            keyword: if w.quote_style.is_none() {
                w.keyword
            } else {
                Keyword::NoKeyword
            },
            quoted: w.quote_style.is_some(),
        },
        Token::LParen => Lex::LParen,
        Token::RParen => Lex::RParen,
        Token::Comma => Lex::Comma,
        Token::SemiColon => Lex::Semi,
        Token::Period => Lex::Period,
        Token::Eq => Lex::Eq,
        Token::Minus => Lex::Minus,
        Token::Number(..) => Lex::Number,
        Token::SingleQuotedString(_) => Lex::Str,
        Token::Placeholder(_) => Lex::Placeholder,
        Token::HexStringLiteral(_) if text.starts_with(['x', 'X']) => Lex::Blob,
        Token::HexStringLiteral(_) => Lex::Number,
        Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::CopyData { .. } => Lex::Foreign,
        _ => Lex::Other,
    }
}

/// One token: its kind, the bytes of the text it covers, and where the tokenizer says it
/// starts (line and column, as in the AST's spans).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    pub lex: Lex,
    pub start: usize,
    pub end: usize,
    pub line: u64,
    pub column: u64,
}

/// Tokenized SQL text.
pub(crate) struct Source<'a> {
    pub sql: &'a str,
    pub toks: Vec<Tok>,
}

/// The parser's tokens, handed out statement by statement without copying.
pub(crate) struct ParserTokens {
    tokens: Vec<TokenWithSpan>,
    offset: usize,
}

impl ParserTokens {
    /// The tokens of `seg`. Segments must be taken in order.
    pub fn take(&mut self, seg: Range<usize>) -> Vec<TokenWithSpan> {
        let skip = seg.start.saturating_sub(self.offset);
        let keep = seg.end.saturating_sub(self.offset).min(self.tokens.len());
        let rest = self.tokens.split_off(keep);
        let mut segment = std::mem::replace(&mut self.tokens, rest);
        segment.drain(..skip.min(segment.len()));
        self.offset = seg.end;
        segment
    }
}

impl<'a> Source<'a> {
    /// Tokenizes `sql`, maps every token's line and column to byte offsets, and returns the
    /// tokens for the parser too.
    pub fn new(sql: &'a str) -> Result<(Self, ParserTokens), String> {
        let tokens = Tokenizer::new(&SqliteDialect, sql)
            .tokenize_with_location()
            .map_err(|e| e.to_string())?;
        let mut toks = Vec::with_capacity(tokens.len());
        // Lines as the tokenizer counts them (from 1, a newline starts the next), and whether
        // each is plain ASCII: then column c is byte c - 1 of the line. Otherwise columns
        // count chars (bytes that do not continue a UTF-8 sequence).
        let bytes = sql.as_bytes();
        let mut lines: Vec<(usize, bool)> = vec![(0, true)];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                lines.push((i + 1, true));
            } else if b >= 0x80
                && let Some(last) = lines.last_mut()
            {
                last.1 = false;
            }
        }
        for token in &tokens {
            let want = token.span.start;
            let line = usize::try_from(want.line).unwrap_or(usize::MAX);
            let column = usize::try_from(want.column).unwrap_or(usize::MAX);
            let Some(&(line_start, ascii)) = line.checked_sub(1).and_then(|l| lines.get(l)) else {
                return Err(format!("token at {want} lies past the end of the text"));
            };
            let at = if ascii {
                line_start + column.saturating_sub(1)
            } else {
                let mut chars = 0;
                let mut at = line_start;
                while chars + 1 < column && at < bytes.len() {
                    at += 1;
                    while bytes.get(at).is_some_and(|&c| c & 0xC0 == 0x80) {
                        at += 1;
                    }
                    chars += 1;
                }
                at
            };
            if at > bytes.len() || !sql.is_char_boundary(at) {
                return Err(format!("token at {want} does not start on a character"));
            }
            toks.push(Tok {
                lex: Lex::Other,
                start: at,
                end: at,
                line: want.line,
                column: want.column,
            });
        }
        for i in 0..toks.len() {
            toks[i].end = toks.get(i + 1).map_or(sql.len(), |next| next.start);
            toks[i].lex = lex_of(&tokens[i].token, &sql[toks[i].start..toks[i].end]);
        }
        Ok((Source { sql, toks }, ParserTokens { tokens, offset: 0 }))
    }

    /// The value of a word token: its text, without the quotes when it is quoted.
    pub fn word(&self, i: usize) -> Option<&'a str> {
        match self.toks[i].lex {
            Lex::Word { quoted: false, .. } => Some(self.tok_text(i)),
            Lex::Word { quoted: true, .. } => {
                let text = self.tok_text(i);
                text.get(1..text.len().saturating_sub(1))
            }
            _ => None,
        }
    }

    /// Whether token `i` carries meaning (is not whitespace or a comment).
    pub fn is_sig(&self, i: usize) -> bool {
        !matches!(
            self.toks[i].lex,
            Lex::Space | Lex::LineComment | Lex::BlockComment
        )
    }

    /// The statements: token ranges split at semicolons outside parentheses, empty ones
    /// dropped.
    pub fn segments(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut depth = 0i64;
        let mut begin = 0;
        for (i, tok) in self.toks.iter().enumerate() {
            match tok.lex {
                Lex::LParen => depth += 1,
                Lex::RParen => depth -= 1,
                Lex::Semi if depth == 0 => {
                    if (begin..i).any(|j| self.is_sig(j)) {
                        out.push(begin..i);
                    }
                    begin = i + 1;
                }
                _ => {}
            }
        }
        if (begin..self.toks.len()).any(|j| self.is_sig(j)) {
            out.push(begin..self.toks.len());
        }
        out
    }

    /// The first `n` meaningful tokens of a segment, as upper-case text when they are
    /// unquoted words and as `""` otherwise.
    pub fn leading_words(&self, seg: Range<usize>, n: usize) -> Vec<String> {
        seg.filter(|&i| self.is_sig(i))
            .take(n)
            .map(|i| match self.toks[i].lex {
                Lex::Word { quoted: false, .. } => self.tok_text(i).to_ascii_uppercase(),
                _ => String::new(),
            })
            .collect()
    }

    /// Whether the segment holds the unquoted words `words` in a row (ASCII case-insensitive,
    /// comments and whitespace between them ignored).
    pub fn has_words(&self, seg: Range<usize>, words: &[&str]) -> bool {
        let sig: Vec<usize> = seg.filter(|&i| self.is_sig(i)).collect();
        sig.windows(words.len()).any(|w| {
            w.iter().zip(words).all(|(&i, want)| {
                matches!(self.toks[i].lex, Lex::Word { quoted: false, .. })
                    && self.tok_text(i).eq_ignore_ascii_case(want)
            })
        })
    }

    /// The text of a segment, without the whitespace around it.
    pub fn text(&self, seg: Range<usize>) -> &'a str {
        let first = seg.clone().find(|&i| self.is_sig(i));
        let last = seg.rev().find(|&i| self.is_sig(i));
        match (first, last) {
            (Some(a), Some(b)) => &self.sql[self.toks[a].start..self.toks[b].end],
            _ => "",
        }
    }

    /// The index of the token that starts at `loc`.
    pub fn index_at(&self, loc: Location) -> Option<usize> {
        self.toks
            .binary_search_by(|t| (t.line, t.column).cmp(&(loc.line, loc.column)))
            .ok()
    }

    /// The next meaningful token after `i`, within `end`.
    pub fn next_sig(&self, i: usize, end: usize) -> Option<usize> {
        (i + 1..end).find(|&j| self.is_sig(j))
    }

    /// The last meaningful token before `i`, not before `floor`.
    pub fn prev_sig(&self, i: usize, floor: usize) -> Option<usize> {
        (floor..i).rev().find(|&j| self.is_sig(j))
    }

    /// The `)` that closes the `(` at `open`, within `end`.
    pub fn matching_paren(&self, open: usize, end: usize) -> Option<usize> {
        let mut depth = 0i64;
        for j in open..end {
            match self.toks[j].lex {
                Lex::LParen => depth += 1,
                Lex::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Tokens from `from` (inclusive) to `end`, each with its parenthesis depth relative to
    /// `from`. A token's depth is counted before it: an opening `(` is at the outer depth.
    pub fn depth_walk(&self, from: usize, end: usize) -> impl Iterator<Item = (usize, i64)> + '_ {
        let mut depth = 0i64;
        (from..end).map(move |j| {
            let here = match self.toks[j].lex {
                Lex::LParen => {
                    depth += 1;
                    depth - 1
                }
                Lex::RParen => {
                    depth -= 1;
                    depth
                }
                _ => depth,
            };
            (j, here)
        })
    }

    /// The items of a comma-separated list that starts after token `after` and ends at a
    /// depth-0 keyword of `stop`, at a `)` closing an enclosing parenthesis, or at `end`:
    /// for each item, its first and last meaningful token.
    pub fn list_items(&self, after: usize, end: usize, stop: &[Keyword]) -> Vec<(usize, usize)> {
        let mut items = Vec::new();
        let mut first: Option<usize> = None;
        let mut last = after;
        for (j, depth) in self.depth_walk(after + 1, end) {
            if !self.is_sig(j) {
                continue;
            }
            if depth < 0 {
                break;
            }
            if depth == 0 {
                let is_stop = matches!(self.toks[j].lex,
                    Lex::Word { keyword, quoted: false } if stop.contains(&keyword));
                if is_stop {
                    break;
                }
                if self.toks[j].lex == Lex::Comma {
                    if let Some(f) = first.take() {
                        items.push((f, last));
                    }
                    continue;
                }
            }
            first.get_or_insert(j);
            last = j;
        }
        if let Some(f) = first {
            items.push((f, last));
        }
        items
    }

    /// Whether token `i` is the unquoted keyword `kw`.
    pub fn is_kw(&self, i: usize, kw: Keyword) -> bool {
        matches!(self.toks[i].lex, Lex::Word { keyword, quoted: false } if keyword == kw)
    }

    /// The source text of token `i`.
    pub fn tok_text(&self, i: usize) -> &'a str {
        &self.sql[self.toks[i].start..self.toks[i].end]
    }
}

/// The start of a statement's text, on one line, for error messages.
pub(crate) fn snippet(text: &str) -> String {
    const MAX: usize = 80;
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}...")
    }
}
