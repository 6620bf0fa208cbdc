//! The schema's views and triggers: what the rewriter needs to put a view's query in place of
//! its name, and to know whether a trigger's body is scoped to the tenant of the row that
//! fires it.

use std::ops::Range;

use sqlparser::keywords::Keyword;

use crate::source::{Lex, Source};
use crate::unreadable::ObjectKind;

/// The comment `tenantry migrate` puts at the start of a trigger body it scoped (see
/// [`crate::Rewriter::scope_trigger`]). A trigger whose body starts with it reads and writes
/// only the rows of the tenant of the row that fired it; any other trigger on a tenant table
/// is unscoped, and statements that would fire it are refused.
pub const SCOPED_TRIGGER_MARK: &str = "/* tenantry: scoped to the tenant of the firing row */";

/// A view of the main schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// The view's name as declared.
    pub name: String,
    /// The column names of `CREATE VIEW v(a, b) AS ...`; empty when the view names its
    /// columns by its query.
    pub columns: Vec<String>,
    /// The view's query: the text after `AS`.
    pub select: String,
}

/// What makes a trigger fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerEvent {
    /// `INSERT`.
    Insert,
    /// `UPDATE` (with or without `OF columns`).
    Update,
    /// `DELETE`.
    Delete,
}

impl TriggerEvent {
    /// The event as an SQL keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerEvent::Insert => "INSERT",
            TriggerEvent::Update => "UPDATE",
            TriggerEvent::Delete => "DELETE",
        }
    }
}

/// A trigger of the main schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// The trigger's name as declared.
    pub name: String,
    /// The table (or view, for INSTEAD OF) it is on.
    pub table: String,
    /// The event that fires it.
    pub event: TriggerEvent,
    /// Its body starts with [`SCOPED_TRIGGER_MARK`].
    pub scoped: bool,
    /// The text of its body, between `BEGIN` and `END`.
    pub body: String,
}

impl Trigger {
    /// Whether its body names `table` (as a word, ASCII case-insensitive; a name inside a
    /// string counts too, which errs on the side of caution).
    pub fn mentions(&self, table: &str) -> bool {
        self.body
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .any(|w| w.eq_ignore_ascii_case(table))
    }
}

/// The parts of a `CREATE TRIGGER` statement, as token indexes of its [`Source`].
pub(crate) struct TriggerParts {
    pub trigger: Trigger,
    /// `TEMP` or `TEMPORARY`.
    pub temporary: bool,
    /// The `ON` before the table name.
    pub on: usize,
    /// The `BEGIN` of the body.
    pub begin: usize,
    /// The `END` that closes the body.
    pub end: usize,
}

/// The meaningful tokens of `seg`.
fn sig(src: &Source<'_>, seg: Range<usize>) -> Vec<usize> {
    seg.filter(|&i| src.is_sig(i)).collect()
}

/// Reads an object name (`name` or `schema.name`) at `sig[at]`: the last part and the
/// position after it.
fn object_name(src: &Source<'_>, sig: &[usize], at: usize) -> Option<(String, usize)> {
    let first = src.word(*sig.get(at)?)?.to_owned();
    let dotted = sig
        .get(at + 1)
        .is_some_and(|&i| src.toks[i].lex == Lex::Period);
    if dotted {
        let second = src.word(*sig.get(at + 2)?)?.to_owned();
        Some((second, at + 3))
    } else {
        Some((first, at + 1))
    }
}

/// Skips `CREATE [TEMP|TEMPORARY] <kind> [IF NOT EXISTS]`: whether it is temporary and the
/// position of the name, or `None` when the statement does not create a `kind`.
fn header(src: &Source<'_>, sig: &[usize], kind: Keyword) -> Option<(bool, usize)> {
    if !src.is_kw(*sig.first()?, Keyword::CREATE) {
        return None;
    }
    let mut at = 1;
    let temporary =
        src.is_kw(*sig.get(at)?, Keyword::TEMP) || src.is_kw(*sig.get(at)?, Keyword::TEMPORARY);
    if temporary {
        at += 1;
    }
    if !src.is_kw(*sig.get(at)?, kind) {
        return None;
    }
    at += 1;
    let if_not_exists = sig.get(at..at + 3).is_some_and(|w| {
        src.is_kw(w[0], Keyword::IF)
            && src.is_kw(w[1], Keyword::NOT)
            && src.is_kw(w[2], Keyword::EXISTS)
    });
    if if_not_exists {
        at += 3;
    }
    Some((temporary, at))
}

/// What the first words of a `CREATE` statement say: enough to name an object whose text
/// cannot be read further.
pub(crate) struct Header {
    pub kind: ObjectKind,
    pub name: String,
    /// `TEMP`, or the `temp` schema.
    pub temporary: bool,
    /// A trigger's table (the name after its first `ON`).
    pub table: Option<String>,
}

/// The header of a `CREATE [TEMP] TABLE | VIEW | TRIGGER` or `CREATE VIRTUAL TABLE`
/// statement; `None` for anything else, or when no name follows.
pub(crate) fn header_of(src: &Source<'_>, seg: Range<usize>) -> Option<Header> {
    let sig = sig(src, seg);
    let in_temp = |at: usize| {
        sig.get(at + 1)
            .is_some_and(|&i| src.toks[i].lex == Lex::Period)
            && src
                .word(sig[at])
                .is_some_and(|w| w.eq_ignore_ascii_case("temp"))
    };
    if src.is_kw(*sig.get(1)?, Keyword::VIRTUAL) {
        if !src.is_kw(sig[0], Keyword::CREATE) || !src.is_kw(*sig.get(2)?, Keyword::TABLE) {
            return None;
        }
        let if_not_exists = sig.get(3..6).is_some_and(|w| {
            src.is_kw(w[0], Keyword::IF)
                && src.is_kw(w[1], Keyword::NOT)
                && src.is_kw(w[2], Keyword::EXISTS)
        });
        let at = if if_not_exists { 6 } else { 3 };
        let (name, _) = object_name(src, &sig, at)?;
        return Some(Header {
            kind: ObjectKind::VirtualTable,
            name,
            temporary: in_temp(at),
            table: None,
        });
    }
    let kinds = [
        (Keyword::TABLE, ObjectKind::Table),
        (Keyword::VIEW, ObjectKind::View),
        (Keyword::TRIGGER, ObjectKind::Trigger),
    ];
    let (kind, (temporary, at)) = kinds
        .iter()
        .find_map(|&(kw, kind)| header(src, &sig, kw).map(|h| (kind, h)))?;
    let (name, after) = object_name(src, &sig, at)?;
    let table = (kind == ObjectKind::Trigger)
        .then(|| {
            let on = (after..sig.len()).find(|&k| src.is_kw(sig[k], Keyword::ON))?;
            object_name(src, &sig, on + 1).map(|(table, _)| table)
        })
        .flatten();
    Some(Header {
        kind,
        name,
        temporary: temporary || in_temp(at),
        table,
    })
}

/// The view a `CREATE VIEW` statement declares, `Ok(None)` when `seg` is not one or the
/// view is temporary, and `Err` with a message when it cannot be read.
pub(crate) fn view_of(src: &Source<'_>, seg: Range<usize>) -> Result<Option<View>, String> {
    let sig = sig(src, seg.clone());
    let Some((temporary, at)) = header(src, &sig, Keyword::VIEW) else {
        return Ok(None);
    };
    if temporary {
        return Ok(None);
    }
    let (name, mut at) = object_name(src, &sig, at).ok_or("no view name")?;
    let mut columns = Vec::new();
    if let Some(&open) = sig.get(at).filter(|&&i| src.toks[i].lex == Lex::LParen) {
        let close = src
            .matching_paren(open, seg.end)
            .ok_or("unclosed column list")?;
        for &i in sig.iter().filter(|&&i| i > open && i < close) {
            match src.toks[i].lex {
                Lex::Comma => {}
                _ => columns.push(src.word(i).ok_or("a column name is not a name")?.to_owned()),
            }
        }
        at = sig.iter().position(|&i| i == close).ok_or("column list")? + 1;
    }
    let Some(&as_kw) = sig.get(at).filter(|&&i| src.is_kw(i, Keyword::AS)) else {
        return Err(format!("no AS after the name of view {name:?}"));
    };
    let select = src.text(as_kw + 1..seg.end).to_owned();
    if select.is_empty() {
        return Err(format!("view {name:?} has no query"));
    }
    Ok(Some(View {
        name,
        columns,
        select,
    }))
}

/// The parts of a `CREATE TRIGGER` statement spanning tokens `seg` (its body included),
/// `Ok(None)` when it is not one, `Err` with a message when it cannot be read.
pub(crate) fn trigger_of(
    src: &Source<'_>,
    seg: Range<usize>,
) -> Result<Option<TriggerParts>, String> {
    let sig = sig(src, seg.clone());
    let Some((temporary, at)) = header(src, &sig, Keyword::TRIGGER) else {
        return Ok(None);
    };
    let (name, at) = object_name(src, &sig, at).ok_or("no trigger name")?;
    let events = [
        (Keyword::INSERT, TriggerEvent::Insert),
        (Keyword::UPDATE, TriggerEvent::Update),
        (Keyword::DELETE, TriggerEvent::Delete),
    ];
    let (event_at, event) = sig
        .iter()
        .enumerate()
        .skip(at)
        .find_map(|(k, &i)| {
            events
                .iter()
                .find(|(kw, _)| src.is_kw(i, *kw))
                .map(|(_, e)| (k, *e))
        })
        .ok_or_else(|| format!("trigger {name:?}: no INSERT, UPDATE or DELETE event"))?;
    let on_at = (event_at + 1..sig.len())
        .find(|&k| src.is_kw(sig[k], Keyword::ON))
        .ok_or_else(|| format!("trigger {name:?}: no ON <table>"))?;
    let (table, after_table) = object_name(src, &sig, on_at + 1)
        .ok_or_else(|| format!("trigger {name:?}: no table name after ON"))?;
    let begin_at = (after_table..sig.len())
        .find(|&k| src.is_kw(sig[k], Keyword::BEGIN))
        .ok_or_else(|| format!("trigger {name:?}: no BEGIN"))?;
    let end = *sig
        .last()
        .filter(|&&i| src.is_kw(i, Keyword::END))
        .ok_or_else(|| format!("trigger {name:?}: the body does not end with END"))?;
    let begin = sig[begin_at];
    let scoped = (begin + 1..end)
        .find(|&i| !matches!(src.toks[i].lex, Lex::Space))
        .is_some_and(|i| {
            src.toks[i].lex == Lex::BlockComment && src.tok_text(i) == SCOPED_TRIGGER_MARK
        });
    let body = src.sql[src.toks[begin].end..src.toks[end].start].to_owned();
    Ok(Some(TriggerParts {
        trigger: Trigger {
            name,
            table,
            event,
            scoped,
            body,
        },
        temporary,
        on: sig[on_at],
        begin,
        end,
    }))
}

/// Token ranges of the statements of `src`, with a `CREATE TRIGGER` and its body (whose
/// statements end in `;`) kept together as one: it ends at the `END` that closes its
/// `BEGIN`, not at an `END` that closes a `CASE`.
pub(crate) fn statements(src: &Source<'_>) -> Vec<Range<usize>> {
    let segments = src.segments();
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        let seg = segments[i].clone();
        let words = src.leading_words(seg.clone(), 3);
        let is_trigger = matches!(
            words
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["CREATE", "TRIGGER", ..] | ["CREATE", "TEMP" | "TEMPORARY", "TRIGGER"]
        );
        if !is_trigger {
            out.push(seg);
            i += 1;
            continue;
        }
        match trigger_end(src, seg.start) {
            Some(end) => {
                // The segment holding the END closes the trigger.
                let last = (i..segments.len())
                    .find(|&j| segments[j].end > end)
                    .unwrap_or(segments.len() - 1);
                out.push(seg.start..segments[last].end);
                i = last + 1;
            }
            None => {
                out.push(seg.start..src.toks.len());
                break;
            }
        }
    }
    out
}

/// The `END` that closes the body of the trigger whose `CREATE` is at token `start`.
fn trigger_end(src: &Source<'_>, start: usize) -> Option<usize> {
    let begin = (start..src.toks.len()).find(|&i| src.is_kw(i, Keyword::BEGIN))?;
    let mut cases = 0usize;
    for i in begin + 1..src.toks.len() {
        if src.is_kw(i, Keyword::CASE) {
            cases += 1;
        } else if src.is_kw(i, Keyword::END) {
            if cases == 0 {
                return Some(i);
            }
            cases -= 1;
        }
    }
    None
}
