//! The statement text as tokens with byte offsets: where each token starts and ends, how the
//! text splits into statements, and the small scans that find a clause's exact position.
//!
//! The rewriter never reprints a statement. It copies the caller's text and splices its
//! additions in at token boundaries found here, so literals, parameters, comments and result
//! column names stay exactly as the caller wrote them.

use std::ops::Range;

use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

/// One token and the bytes of the text it covers.
#[derive(Clone, Debug)]
pub(crate) struct Tok {
    pub token: TokenWithSpan,
    pub start: usize,
    pub end: usize,
}

/// Tokenized SQL text.
pub(crate) struct Source<'a> {
    pub sql: &'a str,
    pub toks: Vec<Tok>,
}

impl<'a> Source<'a> {
    /// Tokenizes `sql` and maps every token's line and column to byte offsets.
    pub fn new(sql: &'a str) -> Result<Self, String> {
        let tokens = Tokenizer::new(&SQLiteDialect {}, sql)
            .tokenize_with_location()
            .map_err(|e| e.to_string())?;
        let mut toks = Vec::with_capacity(tokens.len());
        // Walk the text as the tokenizer does: line from 1, column from 1, one column per
        // char, a newline starts the next line.
        let mut chars = sql.char_indices().peekable();
        let (mut line, mut col) = (1u64, 1u64);
        for token in tokens {
            let want = token.span.start;
            let start = loop {
                if line == want.line && col == want.column {
                    break chars.peek().map_or(sql.len(), |&(i, _)| i);
                }
                match chars.next() {
                    Some((_, '\n')) => {
                        line += 1;
                        col = 1;
                    }
                    Some(_) => col += 1,
                    None => return Err(format!("token at {want} lies past the end of the text")),
                }
            };
            toks.push(Tok {
                token,
                start,
                end: start,
            });
        }
        for i in 0..toks.len() {
            toks[i].end = toks.get(i + 1).map_or(sql.len(), |next| next.start);
        }
        Ok(Source { sql, toks })
    }

    /// Whether token `i` carries meaning (is not whitespace or a comment).
    pub fn is_sig(&self, i: usize) -> bool {
        !matches!(self.toks[i].token.token, Token::Whitespace(_))
    }

    /// The statements: token ranges split at semicolons outside parentheses, empty ones
    /// dropped.
    pub fn segments(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut depth = 0i64;
        let mut begin = 0;
        for (i, tok) in self.toks.iter().enumerate() {
            match tok.token.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::SemiColon if depth == 0 => {
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
            .map(|i| match &self.toks[i].token.token {
                Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
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
                matches!(&self.toks[i].token.token,
                    Token::Word(t) if t.quote_style.is_none() && t.value.eq_ignore_ascii_case(want))
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

    /// The tokens of a segment, for the parser.
    pub fn tokens_of(&self, seg: Range<usize>) -> Vec<TokenWithSpan> {
        self.toks[seg].iter().map(|t| t.token.clone()).collect()
    }

    /// The index of the token that starts at `loc`.
    pub fn index_at(&self, loc: Location) -> Option<usize> {
        self.toks
            .binary_search_by(|t| {
                let s = t.token.span.start;
                (s.line, s.column).cmp(&(loc.line, loc.column))
            })
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
            match self.toks[j].token.token {
                Token::LParen => depth += 1,
                Token::RParen => {
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
            let here = match self.toks[j].token.token {
                Token::LParen => {
                    depth += 1;
                    depth - 1
                }
                Token::RParen => {
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
                let is_stop = matches!(&self.toks[j].token.token,
                    Token::Word(w) if w.quote_style.is_none() && stop.contains(&w.keyword));
                if is_stop {
                    break;
                }
                if matches!(self.toks[j].token.token, Token::Comma) {
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
        matches!(&self.toks[i].token.token, Token::Word(w) if w.quote_style.is_none() && w.keyword == kw)
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
