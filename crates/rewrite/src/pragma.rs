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
    let unjournaled = matches!(journal_mode_named(value), Some("off" | "memory"));
    if name.eq_ignore_ascii_case("journal_mode") && unjournaled {
        return Err(Refusal::PragmaValue {
            name,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// The journal mode SQLite takes `value` to name: the first of its modes, in its order,
/// that `value` begins (any case), so `o` and `mem` name OFF and MEMORY; `None` for a value
/// that names none (SQLite then keeps the mode).
fn journal_mode_named(value: &str) -> Option<&'static str> {
    const MODES: [&str; 6] = ["delete", "persist", "off", "truncate", "memory", "wal"];
    MODES.into_iter().find(|mode| {
        value.len() <= mode.len()
            && mode.as_bytes()[..value.len()].eq_ignore_ascii_case(value.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::journal_mode_named;

    /// SQLite compares a journal mode's name only as far as the value goes (checked
    /// against SQLite itself in `crates/sqlite/tests/it/pragmas.rs`).
    #[test]
    fn a_journal_mode_is_named_by_any_start_of_it() {
        for (value, mode) in [
            ("OFF", Some("off")),
            ("o", Some("off")),
            ("Of", Some("off")),
            ("m", Some("memory")),
            ("MEMO", Some("memory")),
            ("w", Some("wal")),
            ("t", Some("truncate")),
            ("", Some("delete")),
            ("offline", None),
            ("0", None),
        ] {
            assert_eq!(journal_mode_named(value), mode, "{value:?}");
        }
    }
}
