//! Agreement between two tokenizers: `sqlparser`'s, which the rewriter reads, and SQLite's,
//! which runs the result.
//!
//! A statement can only hide SQL from the rewriter where the two disagree about what is a
//! comment, a string, a quoted name or a parameter: text that one of them skips as opaque
//! is code to the other. (SQLite reads `$a::b(/*)` as one parameter running to the `)`;
//! `sqlparser` reads a parameter, a cast and an opening comment. SQLite stops at a NUL byte;
//! `sqlparser` reads on.) So before anything else, the rewriter lexes the text the way
//! SQLite's tokenizer does (`sqlite3GetToken` in `tokenize.c`, as of 3.54) and requires
//! both tokenizers to find exactly the same opaque tokens at exactly the same bytes. Code
//! between them is then the same text for both.

use crate::source::{Lex, Source};

/// A token whose inside is not code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    LineComment,
    BlockComment,
    Str,
    QuotedId,
    Blob,
    Variable,
    /// A string form SQLite does not have (`E'..'`, `$$..$$`, ...): never matches.
    Foreign,
}

/// Where the two tokenizers disagree: the byte offset and what was found there.
#[derive(Debug)]
pub(crate) struct Disagreement {
    pub offset: usize,
    pub detail: String,
}

/// Checks that SQLite and `sqlparser` find the same opaque tokens in `src`.
pub(crate) fn check(src: &Source<'_>) -> Result<(), Disagreement> {
    if let Some(offset) = src.sql.bytes().position(|b| b == 0) {
        return Err(Disagreement {
            offset,
            detail: "a NUL byte, where SQLite stops reading the statement".to_owned(),
        });
    }
    let ours = parser_opaque(src);
    let sqlite = sqlite_opaque(src.sql.as_bytes());
    let mut a = ours.iter();
    let mut b = sqlite.iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ok(()),
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                let offset = match (x, y) {
                    (Some(x), Some(y)) => x.1.min(y.1),
                    (Some(x), None) => x.1,
                    (None, Some(y)) => y.1,
                    (None, None) => 0,
                };
                return Err(Disagreement {
                    offset,
                    detail: format!(
                        "the parser reads {} where SQLite reads {}",
                        describe(x),
                        describe(y)
                    ),
                });
            }
        }
    }
}

fn describe(t: Option<&(Kind, usize, usize)>) -> String {
    match t {
        None => "nothing more".to_owned(),
        Some((kind, start, end)) => format!("{kind:?} at bytes {start}..{end}"),
    }
}

/// The opaque tokens `sqlparser` found.
fn parser_opaque(src: &Source<'_>) -> Vec<(Kind, usize, usize)> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for (i, tok) in src.toks.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let text = &src.sql[tok.start..tok.end];
        // `:name`, `@name` and `#name` reach the parser as a sigil and a word, which its
        // parser joins into a placeholder: one variable, as for SQLite.
        if matches!(text, ":" | "@" | "#")
            && let Some(next) = src.toks.get(i + 1)
        {
            let word = matches!(next.lex, Lex::Word { quoted: false, .. } | Lex::Number);
            if word && next.start == tok.end {
                out.push((Kind::Variable, tok.start, next.end));
                skip_next = true;
                continue;
            }
        }
        let kind = match tok.lex {
            Lex::Word { quoted: true, .. } => Kind::QuotedId,
            Lex::Str => Kind::Str,
            Lex::Placeholder => Kind::Variable,
            Lex::Blob => Kind::Blob,
            Lex::LineComment => Kind::LineComment,
            Lex::BlockComment => Kind::BlockComment,
            Lex::Foreign => Kind::Foreign,
            Lex::Space
            | Lex::Word { quoted: false, .. }
            | Lex::LParen
            | Lex::RParen
            | Lex::Comma
            | Lex::Semi
            | Lex::Period
            | Lex::Eq
            | Lex::Minus
            | Lex::Number
            | Lex::Other => continue,
        };
        let mut end = tok.end;
        if kind == Kind::LineComment && text.ends_with('\n') {
            // SQLite's comment stops before the newline.
            end -= 1;
        }
        out.push((kind, tok.start, end));
    }
    out
}

/// SQLite's identifier characters: ASCII letters and digits, `_`, `$`, and every byte of a
/// multi-byte UTF-8 character.
fn id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The opaque tokens SQLite's tokenizer finds. Tokens SQLite calls illegal are skipped the
/// way SQLite skips them (it then refuses to prepare the statement, so they hide nothing
/// that could run).
fn sqlite_opaque(z: &[u8]) -> Vec<(Kind, usize, usize)> {
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < z.len() {
        let c = z[i];
        let len = match c {
            b'-' if at(i + 1) == b'-' => {
                let mut j = i + 2;
                while j < z.len() && z[j] != b'\n' {
                    j += 1;
                }
                out.push((Kind::LineComment, i, j));
                j - i
            }
            b'/' if at(i + 1) == b'*' && at(i + 2) != 0 => {
                // for(i=3, c=z[2]; (c!='*' || z[i]!='/') && (c=z[i])!=0; i++){} if(c) i++;
                let mut k = 3;
                let mut ch = at(i + 2);
                loop {
                    if ch == b'*' && at(i + k) == b'/' {
                        break;
                    }
                    ch = at(i + k);
                    if ch == 0 {
                        break;
                    }
                    k += 1;
                }
                if ch != 0 {
                    k += 1;
                }
                out.push((Kind::BlockComment, i, i + k));
                k
            }
            b'\'' | b'"' | b'`' => {
                let mut j = i + 1;
                let mut closed = false;
                while j < z.len() {
                    if z[j] == c {
                        if at(j + 1) == c {
                            j += 2;
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    j += 1;
                }
                if closed {
                    let kind = if c == b'\'' {
                        Kind::Str
                    } else {
                        Kind::QuotedId
                    };
                    out.push((kind, i, j + 1));
                    j + 1 - i
                } else {
                    z.len() - i
                }
            }
            b'[' => {
                let mut j = i + 1;
                while j < z.len() && z[j] != b']' {
                    j += 1;
                }
                if j < z.len() {
                    out.push((Kind::QuotedId, i, j + 1));
                    j + 1 - i
                } else {
                    z.len() - i
                }
            }
            b'?' => {
                let mut j = i + 1;
                while at(j).is_ascii_digit() {
                    j += 1;
                }
                out.push((Kind::Variable, i, j));
                j - i
            }
            b'$' | b'@' | b':' | b'#' => {
                let mut n = 0;
                let mut legal = true;
                let mut j = i + 1;
                while j < z.len() {
                    let ch = z[j];
                    if id_char(ch) {
                        n += 1;
                    } else if ch == b'(' && n > 0 {
                        loop {
                            j += 1;
                            let d = at(j);
                            if d == 0 || is_space(d) || d == b')' {
                                break;
                            }
                        }
                        if at(j) == b')' {
                            j += 1;
                        } else {
                            legal = false;
                        }
                        break;
                    } else if ch == b':' && at(j + 1) == b':' {
                        j += 1;
                    } else {
                        break;
                    }
                    j += 1;
                }
                if n > 0 && legal {
                    out.push((Kind::Variable, i, j));
                }
                (j - i).max(1)
            }
            b'x' | b'X' if at(i + 1) == b'\'' => {
                let mut k = 2;
                while at(i + k).is_ascii_hexdigit() {
                    k += 1;
                }
                let legal = at(i + k) == b'\'' && k % 2 == 0;
                while !legal && at(i + k) != 0 && at(i + k) != b'\'' {
                    k += 1;
                }
                if at(i + k) != 0 {
                    k += 1;
                }
                if legal {
                    out.push((Kind::Blob, i, i + k));
                }
                k
            }
            b'0'..=b'9' => number_len(z, i),
            b'.' if at(i + 1).is_ascii_digit() => number_len(z, i),
            0xEF if at(i + 1) == 0xBB && at(i + 2) == 0xBF => 3,
            c if id_char(c) => {
                let mut j = i + 1;
                while j < z.len() && id_char(z[j]) {
                    j += 1;
                }
                j - i
            }
            _ => 1,
        };
        i += len.max(1);
    }
    out
}

/// The length of the number (or illegal number-like token) at `i`, as SQLite reads it.
fn number_len(z: &[u8], i: usize) -> usize {
    let at = |k: usize| z.get(i + k).copied().unwrap_or(0);
    let digits = |mut k: usize, hex: bool| {
        while at(k).is_ascii_digit() || (hex && at(k).is_ascii_hexdigit()) || at(k) == b'_' {
            k += 1;
        }
        k
    };
    let mut k;
    if at(0) == b'0' && matches!(at(1), b'x' | b'X') && at(2).is_ascii_hexdigit() {
        k = digits(3, true);
    } else {
        k = digits(0, false);
        if at(k) == b'.' {
            k = digits(k + 1, false);
        }
        if matches!(at(k), b'e' | b'E')
            && (at(k + 1).is_ascii_digit()
                || (matches!(at(k + 1), b'+' | b'-') && at(k + 2).is_ascii_digit()))
        {
            k = digits(k + 2, false);
        }
    }
    while id_char(at(k)) {
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agrees(sql: &str) -> bool {
        let (src, _) = Source::new(sql).expect("tokenizes");
        let result = check(&src);
        if let Err(d) = &result {
            eprintln!("{sql:?}: {d:?}");
        }
        result.is_ok()
    }

    #[test]
    fn ordinary_sql_agrees() {
        for sql in [
            "SELECT 'a''b', \"c\"\"d\", [e f], `g`, x'0aFF', 0x1F, 1.5e-3, .5 FROM t -- end",
            "SELECT ?, ?12, :name, @name, $name, $$a$$ FROM t /* c */ WHERE a = 'x--y'",
            "SELECT a->>'$.b', a || b, a<>b, a!=b FROM t",
            "SELECT 1; /* unterminated",
        ] {
            assert!(agrees(sql), "{sql}");
        }
    }

    #[test]
    fn text_sqlite_reads_differently_is_found() {
        for sql in [
            "SELECT $a::b(/*) , name FROM main.customers --*/)",
            "DELETE FROM t WHERE id = :x::y(1/*) OR 1) --*/)",
            "SELECT @a::b(/*) FROM t --*/)",
            "DELETE FROM t --\0\nWHERE id = 1",
            "SELECT $a::b FROM t",
        ] {
            assert!(!agrees(sql), "{sql:?}");
        }
    }
}
