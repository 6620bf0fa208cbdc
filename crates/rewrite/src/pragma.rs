//! PRAGMA statements: a short allowlist of connection settings that legacy code sets at
//! start-up passes unchanged; every other pragma is refused.
//!
//! `sqlparser` does not parse every SQLite pragma form, so the allowlist check reads the
//! tokens: `PRAGMA [main.]name [= value | (value)]` with a single literal or word as value.

use std::ops::Range;

use crate::refusal::Refusal;
use crate::source::{Lex, Source};

/// Pragmas a tenant-scoped connection may run. Each sets or reads a property of the
/// connection or the file, or does work on the file that changes no row and returns no
/// row's data, and none can read, move or count any table's rows:
/// - connection settings (`foreign_keys` … `wal_autocheckpoint`, `automatic_index`,
///   `analysis_limit`);
/// - `wal_checkpoint`: copies committed pages from the WAL into the database file (it
///   returns frame counts, not rows);
/// - `optimize`: refreshes the planner's statistics where SQLite judges them stale (the
///   statistics are the planner's, which no tenant statement may read: `sqlite_stat1` is
///   refused);
/// - `shrink_memory`: frees this connection's cache.
pub const ALLOWED_PRAGMAS: &[&str] = &[
    "foreign_keys",
    "busy_timeout",
    "journal_mode",
    "synchronous",
    "cache_size",
    "temp_store",
    "mmap_size",
    "defer_foreign_keys",
    "recursive_triggers",
    "query_only",
    "wal_autocheckpoint",
    "automatic_index",
    "analysis_limit",
    "wal_checkpoint",
    "optimize",
    "shrink_memory",
];

/// Checks a PRAGMA statement (the segment starts with the PRAGMA keyword).
pub(crate) fn check(src: &Source<'_>, seg: Range<usize>) -> Result<(), Refusal> {
    let toks: Vec<usize> = seg.filter(|&i| src.is_sig(i)).collect();
    let lex = |i: usize| src.toks[i].lex;
    let word = |i: usize| src.word(i).map(str::to_owned);
    // Skip PRAGMA itself.
    let rest = toks.get(1..).unwrap_or_default();
    let (schema, name, rest) = match rest {
        [s, p, n, rest @ ..] if lex(*p) == Lex::Period => (word(*s), word(*n), rest),
        [n, rest @ ..] => (None, word(*n), rest),
        [] => (None, None, rest),
    };
    let Some(name) = name else {
        return Err(Refusal::PragmaWithoutName);
    };
    let refuse = || Refusal::Pragma {
        name: name.clone(),
        allowed: ALLOWED_PRAGMAS.join(", "),
    };
    if schema.is_some_and(|s| !s.eq_ignore_ascii_case("main")) {
        return Err(refuse());
    }
    if !ALLOWED_PRAGMAS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(refuse());
    }
    let kinds: Vec<Lex> = rest.iter().map(|&i| lex(i)).collect();
    let is_value = |l: &Lex| matches!(l, Lex::Number | Lex::Word { .. } | Lex::Str);
    let ok = match kinds.as_slice() {
        [] => true,
        [Lex::Eq, v] | [Lex::LParen, v, Lex::RParen] => is_value(v),
        [Lex::Eq, Lex::Minus, Lex::Number]
        | [Lex::LParen, Lex::Minus, Lex::Number, Lex::RParen] => true,
        _ => false,
    };
    if !ok {
        return Err(refuse());
    }
    // The value, unquoted: `journal_mode` without a journal on disk is refused.
    let value = rest
        .get(1)
        .map(|&i| src.tok_text(i).trim_matches(['\'', '"', '`', '[', ']']))
        .unwrap_or_default();
    let unjournaled = ["off", "memory"]
        .iter()
        .any(|v| value.eq_ignore_ascii_case(v));
    if name.eq_ignore_ascii_case("journal_mode") && unjournaled {
        return Err(Refusal::PragmaValue {
            name,
            value: value.to_owned(),
        });
    }
    Ok(())
}
