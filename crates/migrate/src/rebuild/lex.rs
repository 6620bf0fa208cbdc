//! SQLite's tokens with their byte ranges, for editing schema text in place (whitespace and
//! comments are skipped, never part of a token).

use std::ops::Range;

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A name or keyword; `value` is unquoted (`"a""b"` reads `a"b`).
    Word { value: String, quoted: bool },
    /// A string or blob literal, a number, a parameter: anything kept as written.
    Literal,
    /// One punctuation character (`(`, `)`, `,`, `.`, `;`, operators).
    Punct(char),
}

/// One token: its kind and where it is in the text.
#[derive(Clone, Debug)]
pub(crate) struct Tok {
    pub kind: Kind,
    pub span: Range<usize>,
}

impl Tok {
    /// True for the unquoted keyword `kw` (ASCII case-insensitive).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.kind, Kind::Word { value, quoted: false } if value.eq_ignore_ascii_case(kw))
    }

    /// True for the punctuation `c`.
    pub fn is(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }

    /// The name a word spells (unquoted), if it is one.
    pub fn name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Word { value, .. } => Some(value),
            Kind::Literal | Kind::Punct(_) => None,
        }
    }
}

/// Splits `sql` into tokens.
///
/// # Errors
/// A message when a quote or comment is not closed.
pub(crate) fn tokens(sql: &str) -> Result<Vec<Tok>, String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = match sql[i + 2..].find("*/") {
                    Some(end) => i + 2 + end + 2,
                    // SQLite accepts a comment left open at the end of the text.
                    None => b.len(),
                };
            }
            b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                let mut value = String::new();
                i += 1;
                loop {
                    let Some(&d) = b.get(i) else {
                        return Err(format!(
                            "a quoted name opened at byte {start} is not closed"
                        ));
                    };
                    if d == close {
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            value.push(close as char);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    let len = utf8_len(d);
                    value.push_str(&sql[i..i + len]);
                    i += len;
                }
                out.push(Tok {
                    kind: Kind::Word {
                        value,
                        quoted: true,
                    },
                    span: start..i,
                });
            }
            b'\'' => {
                i = string_end(b, i)
                    .ok_or_else(|| format!("a string opened at byte {start} is not closed"))?;
                out.push(Tok {
                    kind: Kind::Literal,
                    span: start..i,
                });
            }
            b'x' | b'X' if b.get(i + 1) == Some(&b'\'') => {
                i = string_end(b, i + 1)
                    .ok_or_else(|| format!("a blob opened at byte {start} is not closed"))?;
                out.push(Tok {
                    kind: Kind::Literal,
                    span: start..i,
                });
            }
            b'0'..=b'9' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    // An exponent's sign belongs to the number.
                    if (b[i] == b'e' || b[i] == b'E') && matches!(b.get(i + 1), Some(b'+' | b'-')) {
                        i += 1;
                    }
                    i += 1;
                }
                out.push(Tok {
                    kind: Kind::Literal,
                    span: start..i,
                });
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                while i < b.len()
                    && (b[i] == b'_'
                        || b[i] == b'$'
                        || b[i].is_ascii_alphanumeric()
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Tok {
                    kind: Kind::Word {
                        value: sql[start..i].to_owned(),
                        quoted: false,
                    },
                    span: start..i,
                });
            }
            _ => {
                let len = utf8_len(c);
                let ch = sql[i..i + len].chars().next().unwrap_or('?');
                i += len;
                out.push(Tok {
                    kind: Kind::Punct(ch),
                    span: start..i,
                });
            }
        }
    }
    Ok(out)
}

/// The end of the quoted string that opens at `i` (`''` is a quote inside it).
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'\'' if b.get(j + 1) == Some(&b'\'') => j += 2,
            b'\'' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_their_bytes_and_skip_comments() {
        let sql = "CREATE TABLE \"a \"\"b\"(x INT -- note, (\n, y TEXT DEFAULT 'it''s' /* c */)";
        let toks = tokens(sql).unwrap();
        let texts: Vec<&str> = toks.iter().map(|t| &sql[t.span.clone()]).collect();
        assert_eq!(
            texts,
            [
                "CREATE",
                "TABLE",
                "\"a \"\"b\"",
                "(",
                "x",
                "INT",
                ",",
                "y",
                "TEXT",
                "DEFAULT",
                "'it''s'",
                ")"
            ]
        );
        assert_eq!(toks[2].name(), Some("a \"b"));
        assert!(toks[0].is_kw("create") && !toks[2].is_kw("a \"b"));
    }

    #[test]
    fn unclosed_quotes_are_errors() {
        assert!(tokens("CREATE TABLE \"t(x)").is_err());
        assert!(tokens("CREATE TABLE t(x DEFAULT 'a)").is_err());
    }
}
