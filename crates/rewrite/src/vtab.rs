//! Virtual tables read from their `CREATE VIRTUAL TABLE` text: which module, which columns
//! (the module's arguments, read with the crate's SQLite-faithful tokens, never by
//! `sqlparser`, which cannot read FTS5's `UNINDEXED`), and which shadow tables hold their
//! data.
//!
//! Only modules whose arguments are known to declare columns are read: FTS3/FTS4, FTS5,
//! R*Tree and Geopoly. Any other module's columns cannot be proven, so its table is
//! unreadable (see [`crate::Unreadable`]) and statements that name it are refused.

use std::ops::Range;

use sqlparser::keywords::Keyword;

use crate::schema::Table;
use crate::source::{Lex, Source};

/// A virtual-table module whose columns the rewriter reads.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    /// `fts5`.
    Fts5,
    /// `fts3` or `fts4`.
    Fts4,
    /// `rtree` or `rtree_i32`.
    Rtree,
    /// `geopoly`.
    Geopoly,
}

impl Module {
    /// The module of this name (ASCII case-insensitive), when its columns can be read.
    ///
    /// ```
    /// use tenantry_rewrite::Module;
    /// assert_eq!(Module::of("FTS5"), Some(Module::Fts5));
    /// assert_eq!(Module::of("rtree_i32"), Some(Module::Rtree));
    /// assert_eq!(Module::of("my_module"), None);
    /// ```
    pub fn of(name: &str) -> Option<Module> {
        match name.to_ascii_lowercase().as_str() {
            "fts5" => Some(Module::Fts5),
            "fts3" | "fts4" => Some(Module::Fts4),
            "rtree" | "rtree_i32" => Some(Module::Rtree),
            "geopoly" => Some(Module::Geopoly),
            _ => None,
        }
    }

    /// The suffixes of the shadow tables that hold a table's data (`<table>_<suffix>`):
    /// every tenant's rows, whatever the virtual table's tenant column says.
    pub fn shadow_suffixes(self) -> &'static [&'static str] {
        match self {
            Module::Fts5 => &["data", "idx", "content", "docsize", "config"],
            Module::Fts4 => &["content", "segments", "segdir", "docsize", "stat"],
            Module::Rtree | Module::Geopoly => &["node", "parent", "rowid"],
        }
    }

    /// The hidden columns an INSERT names to run a command on the whole index
    /// (`INSERT INTO t(t) VALUES ('rebuild')`, FTS5's `rank` configuration) rather than to
    /// insert a row: the table's own name for FTS, and `rank` for FTS5.
    pub fn command_columns(self, table: &str) -> Vec<String> {
        match self {
            Module::Fts5 => vec![table.to_owned(), "rank".to_owned()],
            Module::Fts4 => vec![table.to_owned()],
            Module::Rtree | Module::Geopoly => Vec::new(),
        }
    }
}

/// Reads the virtual table a `CREATE VIRTUAL TABLE` statement (tokens `seg`) declares:
/// `Ok(None)` for one of the `temp` schema, `Err` with the reason when its columns cannot
/// be read (an unknown module, arguments of an unexpected form, or a tenant column that is
/// named in the arguments but not read as a column).
pub(crate) fn read(
    src: &Source<'_>,
    seg: Range<usize>,
    tenant_column: &str,
) -> Result<Option<Table>, String> {
    let sig: Vec<usize> = seg.clone().filter(|&i| src.is_sig(i)).collect();
    let kw = |k: usize, kw: Keyword| sig.get(k).is_some_and(|&i| src.is_kw(i, kw));
    if !(kw(0, Keyword::CREATE) && kw(1, Keyword::VIRTUAL) && kw(2, Keyword::TABLE)) {
        return Err("not a CREATE VIRTUAL TABLE statement".to_owned());
    }
    let mut at = 3;
    if kw(3, Keyword::IF) && kw(4, Keyword::NOT) && kw(5, Keyword::EXISTS) {
        at = 6;
    }
    let word = |k: usize| sig.get(k).and_then(|&i| src.word(i));
    let mut name = word(at).ok_or("no table name")?.to_owned();
    at += 1;
    if sig.get(at).is_some_and(|&i| src.toks[i].lex == Lex::Period) {
        let schema = name;
        name = word(at + 1)
            .ok_or("no table name after the schema")?
            .to_owned();
        at += 2;
        if schema.eq_ignore_ascii_case("temp") {
            return Ok(None);
        }
    }
    if !kw(at, Keyword::USING) {
        return Err(format!("no USING after the name of {name:?}"));
    }
    let module_name = word(at + 1).ok_or("no module name after USING")?.to_owned();
    let Some(module) = Module::of(&module_name) else {
        return Err(format!(
            "module {module_name:?} is not one whose columns the rewriter can read (fts3, \
             fts4, fts5, rtree, rtree_i32, geopoly)"
        ));
    };
    let args = match sig.get(at + 2) {
        None => Vec::new(),
        Some(&open) if src.toks[open].lex == Lex::LParen => {
            let close = src
                .matching_paren(open, seg.end)
                .ok_or("unclosed module arguments")?;
            if sig.last() != Some(&close) {
                return Err("text after the module arguments".to_owned());
            }
            arguments(src, &sig, open, close)
        }
        Some(_) => return Err("text after the module name".to_owned()),
    };
    let columns = match module {
        Module::Fts5 => fts5_columns(src, &args)?,
        Module::Fts4 => fts4_columns(src, &args)?,
        Module::Rtree => rtree_columns(src, &args, tenant_column)?,
        Module::Geopoly => geopoly_columns(src, &args)?,
    };
    if columns.is_empty() {
        return Err(format!("no columns in the arguments of {module_name}"));
    }
    let declared = columns
        .iter()
        .any(|c| c.eq_ignore_ascii_case(tenant_column));
    let named = args
        .iter()
        .flatten()
        .any(|&i| name_of(src, i).is_some_and(|n| n.eq_ignore_ascii_case(tenant_column)));
    if named && !declared {
        return Err(format!(
            "the tenant column {tenant_column:?} appears in the module arguments but not as a \
             column"
        ));
    }
    let mut table = Table::new(name, columns);
    table.module = Some(module);
    Ok(Some(table))
}

/// The meaningful tokens of each comma-separated argument between `open` and `close`.
fn arguments(src: &Source<'_>, sig: &[usize], open: usize, close: usize) -> Vec<Vec<usize>> {
    let mut args = vec![Vec::new()];
    let mut depth = 0i64;
    for &i in sig.iter().filter(|&&i| i > open && i < close) {
        match src.toks[i].lex {
            Lex::LParen => depth += 1,
            Lex::RParen => depth -= 1,
            Lex::Comma if depth == 0 => {
                args.push(Vec::new());
                continue;
            }
            _ => {}
        }
        if let Some(arg) = args.last_mut() {
            arg.push(i);
        }
    }
    args.retain(|a| !a.is_empty());
    args
}

/// A name as a module reads it: a word (quotes removed) or a string literal.
fn name_of(src: &Source<'_>, i: usize) -> Option<String> {
    match src.toks[i].lex {
        Lex::Word { quoted, .. } => {
            let word = src.word(i)?;
            let text = src.tok_text(i);
            Some(if quoted && text.starts_with('"') {
                word.replace("\"\"", "\"")
            } else if quoted && text.starts_with('`') {
                word.replace("``", "`")
            } else {
                word.to_owned()
            })
        }
        Lex::Str => {
            let text = src.tok_text(i);
            text.get(1..text.len().saturating_sub(1))
                .map(|s| s.replace("''", "'"))
        }
        _ => None,
    }
}

/// A `name = value` argument is an option (`tokenize=…`, `content=…`, `prefix=…`, …).
fn is_option(src: &Source<'_>, arg: &[usize]) -> bool {
    arg.iter().any(|&i| src.toks[i].lex == Lex::Eq)
}

/// FTS5: each argument is an option or a column name, optionally followed by `UNINDEXED`.
fn fts5_columns(src: &Source<'_>, args: &[Vec<usize>]) -> Result<Vec<String>, String> {
    let mut columns = Vec::new();
    for arg in args.iter().filter(|a| !is_option(src, a)) {
        let name = name_of(src, arg[0]).ok_or_else(|| unread(src, arg))?;
        match &arg[1..] {
            [] => {}
            [flag]
                if src
                    .word(*flag)
                    .is_some_and(|w| w.eq_ignore_ascii_case("UNINDEXED")) => {}
            _ => return Err(unread(src, arg)),
        }
        columns.push(name);
    }
    Ok(columns)
}

/// FTS3/FTS4: each argument is an option (`name=value`, or the old `tokenize <name>`) or a
/// column: its first token names it, the rest (a type, constraints) is ignored by SQLite.
fn fts4_columns(src: &Source<'_>, args: &[Vec<usize>]) -> Result<Vec<String>, String> {
    let mut columns = Vec::new();
    for arg in args.iter().filter(|a| !is_option(src, a)) {
        let first = arg[0];
        let bare_tokenize = matches!(src.toks[first].lex, Lex::Word { quoted: false, .. })
            && src.tok_text(first).eq_ignore_ascii_case("tokenize");
        if bare_tokenize {
            continue;
        }
        columns.push(name_of(src, first).ok_or_else(|| unread(src, arg))?);
    }
    Ok(columns)
}

/// R*Tree: the id, then the coordinates, then auxiliary columns (`+name`), each a name
/// optionally followed by a type. The tenant column must be auxiliary: a coordinate holds
/// numbers only.
fn rtree_columns(
    src: &Source<'_>,
    args: &[Vec<usize>],
    tenant_column: &str,
) -> Result<Vec<String>, String> {
    let mut columns = Vec::new();
    for arg in args {
        let plus = src.tok_text(arg[0]) == "+";
        let rest = if plus { &arg[1..] } else { &arg[..] };
        let name = rest
            .first()
            .and_then(|&i| name_of(src, i))
            .ok_or_else(|| unread(src, arg))?;
        if rest[1..].iter().any(|&i| src.word(i).is_none()) {
            return Err(unread(src, arg));
        }
        if !plus && name.eq_ignore_ascii_case(tenant_column) {
            return Err(format!(
                "the tenant column {tenant_column:?} of an R*Tree must be an auxiliary column \
                 (+{tenant_column}): a coordinate holds only numbers"
            ));
        }
        columns.push(name);
    }
    Ok(columns)
}

/// Geopoly: `_shape`, then the arguments as auxiliary columns.
fn geopoly_columns(src: &Source<'_>, args: &[Vec<usize>]) -> Result<Vec<String>, String> {
    let mut columns = vec!["_shape".to_owned()];
    for arg in args {
        match arg.as_slice() {
            [only] => columns.push(name_of(src, *only).ok_or_else(|| unread(src, arg))?),
            _ => return Err(unread(src, arg)),
        }
    }
    Ok(columns)
}

fn unread(src: &Source<'_>, arg: &[usize]) -> String {
    let (first, last) = (arg[0], arg[arg.len() - 1]);
    format!(
        "module argument {:?} is not read as a column or an option",
        &src.sql[src.toks[first].start..src.toks[last].end]
    )
}
