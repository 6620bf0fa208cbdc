//! Facts about a statement's words, read once from its tokens: which names it can use, and
//! by which names it reads a rowid.

use std::ops::Range;

use crate::rowid::ROWID_NAMES;
use crate::source::{Lex, Source};
use crate::sql::string_content;

/// The words of one statement.
pub(crate) struct Words {
    /// Rowid names written anywhere in the statement (lower case), in order of first use.
    pub rowid_names: Vec<String>,
    /// A hash of every word of the statement (ASCII lower case, without quotes), and of
    /// every string after a dot (SQLite reads `t.'col'` as a name), sorted and without
    /// repeats: the names it can use. A collision only keeps a column it does not
    /// need (or makes a check more careful).
    hashes: Vec<u64>,
}

impl Words {
    /// The words of the tokens `seg` of `src`.
    pub fn of(src: &Source<'_>, seg: Range<usize>) -> Words {
        let mut rowid_names = Vec::new();
        let mut hashes = Vec::with_capacity(seg.len());
        let mut after_dot = false;
        for i in seg {
            let lex = src.toks[i].lex;
            let name = match lex {
                // SQLite takes a string after a dot as a name (`t.'col'`).
                Lex::Str if after_dot => string_content(src.tok_text(i)),
                _ => src.word(i).map(str::to_owned),
            };
            if !matches!(lex, Lex::Space | Lex::LineComment | Lex::BlockComment) {
                after_dot = matches!(lex, Lex::Period);
            }
            let Some(name) = name else {
                continue;
            };
            let value = name.as_str();
            hashes.push(word_hash(value));
            // Cheap filter first: rowid names are 3 to 7 letters.
            if !(3..=7).contains(&value.len()) {
                continue;
            }
            if let Some(name) = ROWID_NAMES.iter().find(|r| value.eq_ignore_ascii_case(r)) {
                let name = (*name).to_owned();
                if !rowid_names.contains(&name) {
                    rowid_names.push(name);
                }
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        Words {
            rowid_names,
            hashes,
        }
    }

    /// Whether the statement may read a rowid (it writes one of the rowid names).
    pub fn reads_rowid(&self) -> bool {
        !self.rowid_names.is_empty()
    }

    /// Whether the statement spells `name` as a word, in any case, quoted or not.
    pub fn spells(&self, name: &str) -> bool {
        self.hashes.binary_search(&word_hash(name)).is_ok()
    }
}

/// FNV-1a of a name's ASCII-lower-case bytes: words compare as SQLite compares names,
/// without allocating.
fn word_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
