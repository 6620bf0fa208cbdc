//! Where an INSERT into a tenant-first table allocates the key column that replaced its
//! legacy rowid ([`crate::RowKey::Column`]): SQLite gave a row whose INTEGER PRIMARY KEY
//! was omitted or NULL one more than the largest rowid (AUTOINCREMENT: than the largest
//! ever); the rewrite does the same per tenant, in the statement's text.
//!
//! SQLite evaluates an INSERT's source before it writes when the source reads the target
//! table (as the allocation does), so every row sees the same largest key: the k-th
//! allocated row gets it plus k. Where the source gives the key and some rows may be NULL,
//! a row's key is computed as SQLite's running maximum would have it.

use std::ops::{ControlFlow, Range};

use sqlparser::ast::{
    Expr, Insert, ObjectName, OnConflictAction, OnInsert, Query, SelectItem, SqliteOnConflict,
    Visit, Visitor,
};

use crate::analysis::clauses::{self, internal};
use crate::analysis::model::{Context, InsertSource, KeyAlloc, KeyPlace};
use crate::refusal::{Refusal, WriteForm};
use crate::schema::Table;
use crate::source::Lex;
use crate::sql::{last_ident, loc_of, token_at};

/// What the INSERT looks like, as `Target::insert` found it.
pub(super) struct Shape<'x> {
    pub insert: &'x Insert,
    /// The last token of the target's name and of the column list (or the name).
    pub name_end: usize,
    pub after_target: usize,
    /// The rows of a source that is nothing but VALUES.
    pub values: Option<&'x [sqlparser::ast::Parens<Vec<Expr>>]>,
}

/// The key allocation of an INSERT into `table`, when its legacy rowid is a key column;
/// `source` is changed where the allocation needs another form of it.
pub(super) fn analyze(
    cx: &Context<'_, '_>,
    table: &Table,
    shape: &Shape<'_>,
    source: &mut InsertSource,
) -> Result<Option<KeyAlloc>, Refusal> {
    let Some((column, autoincrement)) = table.allocated_key() else {
        return Ok(None);
    };
    let src = cx.src;
    let end = cx.seg.end;
    let tenant_column = cx.schema.tenant_column();
    let insert = shape.insert;
    // The key's position among the columns the source gives, and how many it gives.
    let (position, count) = if insert.columns.is_empty() {
        // The application's own tenant column is given by position, as before migration.
        let own = cx.schema.has_own_tenant_column(&table.name);
        let listed: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| !c.generated && (own || !c.name.eq_ignore_ascii_case(tenant_column)))
            .map(|c| c.name.as_str())
            .collect();
        let position = listed.iter().position(|c| c.eq_ignore_ascii_case(column));
        (position, listed.len())
    } else {
        let position = insert.columns.iter().position(|c| names(c, column));
        (position, insert.columns.len())
    };
    let place = match (position, &*source) {
        // DEFAULT VALUES: the source's emitter writes the key.
        (_, InsertSource::DefaultValues { .. }) => KeyPlace::Omitted {
            column_at: None,
            rows: None,
        },
        (None, _) => {
            // A source that is not VALUES, with the tenant column written by the statement
            // itself: wrapped in a SELECT that adds only the key (red team 17: the key was
            // named in the column list and given by no row).
            if matches!(source, InsertSource::Explicit) && shape.values.is_none() {
                let bytes = clauses::source_bytes(src, end, shape.after_target)?;
                *source = InsertSource::Wrapped {
                    start: bytes.start,
                    end: bytes.end,
                    add_tenant: false,
                };
            }
            let (_, close) = clauses::column_list(src, end, shape.name_end)?;
            let last = src
                .prev_sig(close, shape.name_end)
                .ok_or_else(|| internal("empty column list".to_owned()))?;
            let rows = match (&*source, shape.values) {
                (InsertSource::Values { closes }, _) => Some(closes.clone()),
                (InsertSource::Explicit, Some(rows)) => match clauses::values_rows(src, rows)? {
                    InsertSource::Values { closes } => Some(closes),
                    _ => return Err(internal("VALUES rows not found".to_owned())),
                },
                (InsertSource::SelectList { .. }, _) => {
                    return Err(internal("a keyed INSERT's SELECT is wrapped".to_owned()));
                }
                _ => None,
            };
            KeyPlace::Omitted {
                column_at: Some(src.toks[last].end),
                rows,
            }
        }
        (Some(index), _) => match shape.values {
            Some([row]) => {
                let (start, end) = clauses::row_item(src, end, row, index)?;
                KeyPlace::Item { start, end }
            }
            _ => {
                let add_tenant = !matches!(source, InsertSource::Explicit);
                let bytes = clauses::source_bytes(src, end, shape.after_target)?;
                *source = InsertSource::Windowed {
                    start: bytes.start,
                    end: bytes.end,
                    add_tenant,
                };
                KeyPlace::Windowed { index, count }
            }
        },
    };
    // SQLite allocated each row's rowid as it wrote it: a row that OR IGNORE, an upsert or
    // a constraint's own `ON CONFLICT IGNORE` (when the statement names no other) then
    // skipped left its rowid to the next row, which the rows' fixed offsets here do not.
    // (AUTOINCREMENT keeps no such gap either way: SQLite burnt the key.)
    let single_row =
        matches!(source, InsertSource::DefaultValues { .. }) || matches!(shape.values, Some([_]));
    let skips = insert.or == Some(SqliteOnConflict::Ignore)
        || insert.on.is_some()
        || (insert.or.is_none() && !insert.replace_into && table.ignores_on_conflict);
    if !autoincrement && skips && !single_row {
        return Err(Refusal::WriteForm {
            form: WriteForm::SkippingKeyedRows,
        });
    }
    Ok(Some(KeyAlloc {
        column: column.to_owned(),
        table: table.name.clone(),
        autoincrement,
        report: cx.report_keys,
        place,
        returned: Vec::new(),
    }))
}

/// Whether a column-list entry names `column`.
fn names(entry: &ObjectName, column: &str) -> bool {
    last_ident(entry).is_some_and(|i| i.value.eq_ignore_ascii_case(column))
}

/// The bytes of each `last_insert_rowid()` call in an INSERT's RETURNING that SQLite
/// evaluated as that row's rowid, to become a read of the key column: SQLite computes a
/// RETURNING row right after writing the row, when `last_insert_rowid()` is its rowid; the
/// rewrite allocates every row's key (and reports it) before the first is written, so the
/// call would read the last row's key in every row. Left alone: a call in a subquery
/// (SQLite may evaluate an uncorrelated one once), and every call of an upsert with
/// `DO UPDATE`, whose updated row was not written by an insert (SQLite returned the value
/// from before it).
///
/// # Errors
/// [`Refusal::Internal`] when a call's position is not a token of the text.
pub(super) fn returned_key_reads(
    cx: &Context<'_, '_>,
    insert: &Insert,
) -> Result<Vec<Range<usize>>, Refusal> {
    let Some(items) = &insert.returning else {
        return Ok(Vec::new());
    };
    let updates = match &insert.on {
        None => false,
        Some(OnInsert::OnConflict(conflict)) => match conflict.action {
            OnConflictAction::DoNothing => false,
            OnConflictAction::DoUpdate(_) => true,
        },
        // ON DUPLICATE KEY UPDATE and other dialects' forms: refused before the key is
        // analysed; nothing is changed for them either way.
        Some(_) => true,
    };
    if updates {
        return Ok(Vec::new());
    }
    let mut calls = Calls {
        depth: 0,
        found: Vec::new(),
    };
    for item in items {
        match item {
            SelectItem::UnnamedExpr(expr)
            | SelectItem::ExprWithAlias { expr, .. }
            | SelectItem::ExprWithAliases { expr, .. } => {
                let _ = expr.visit(&mut calls);
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {}
        }
    }
    let src = cx.src;
    let end = cx.seg.end;
    let mut spans = Vec::new();
    for at in calls.found {
        let name = token_at(src, at)?;
        // `last_insert_rowid ( )`: any argument is SQLite's error, left to it.
        let open = src.next_sig(name, end);
        let close = open.and_then(|o| src.next_sig(o, end));
        if let (Some(open), Some(close)) = (open, close)
            && matches!(src.toks[open].lex, Lex::LParen)
            && matches!(src.toks[close].lex, Lex::RParen)
        {
            spans.push(src.toks[name].start..src.toks[close].end);
        }
    }
    Ok(spans)
}

/// Finds `last_insert_rowid(...)` calls outside subqueries, by their name's position.
struct Calls {
    depth: usize,
    found: Vec<(u64, u64)>,
}

impl Visitor for Calls {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth == 0
            && let Expr::Function(function) = expr
            && let [part] = function.name.0.as_slice()
            && let Some(ident) = part.as_ident()
            && ident.value.eq_ignore_ascii_case("last_insert_rowid")
        {
            self.found.push(loc_of(ident));
        }
        ControlFlow::Continue(())
    }
}
