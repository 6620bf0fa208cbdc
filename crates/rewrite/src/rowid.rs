//! How SQLite resolves a rowid read (`rowid`, `oid`, `_rowid_`, qualified or not), and what
//! the rewrite must do so the read still finds the same row.
//!
//! SQLite looks a name up one enclosing query at a time, innermost first. In each, it first
//! looks for a column of that name in every FROM item the qualifier matches; only when none
//! has one does it take the rowid of the single matching item that has a rowid (two are
//! ambiguous, an error). A subquery, a CTE, a view and a `WITHOUT ROWID` table have no
//! rowid, so a read that matches only those goes on to the next enclosing query. A
//! subquery in FROM cannot see the other items of its own FROM.
//!
//! A tenant table becomes a derived table, which has no rowid either. The read then
//! becomes a read of the table's INTEGER PRIMARY KEY, when SQLite would find that table
//! first, without doubt; otherwise the derived table exposes its rowid as a column of the
//! same name ([`Action::Expose`]), which the read finds wherever it finds it today.

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr};

use crate::keys::RowKey;
use crate::schema::Table;

/// Names by which SQLite lets a query read a table's rowid.
pub(crate) const ROWID_NAMES: &[&str] = &["rowid", "oid", "_rowid_"];

/// One item of a FROM clause (or a write's target), as a name lookup sees it.
#[derive(Clone, Debug)]
pub(crate) struct FromItem<'s> {
    /// The name that qualifies its columns (alias or table name), lower case; empty for a
    /// subquery without an alias.
    pub qualifier: String,
    pub kind: ItemKind<'s>,
}

/// What a FROM item is.
#[derive(Clone, Debug)]
pub(crate) enum ItemKind<'s> {
    /// A schema table read by name: a tenant table becomes a derived table.
    Read(&'s Table),
    /// The target of INSERT, UPDATE or DELETE, or a virtual table read in place: the real
    /// table, scoped by a predicate.
    Target(Option<&'s Table>),
    /// A subquery, CTE or view: no rowid; its column names (lower case), `None` when they
    /// are not known (`*`).
    Query(Option<Vec<String>>),
    /// A table-valued function or a table the schema does not describe: taken to have a
    /// rowid, never rewritten.
    Opaque,
}

/// What a lookup finds in one FROM item.
enum Found {
    Column,
    Rowid,
    Nothing,
    /// A query whose columns are not known: a column, or nothing.
    Unsure,
}

impl FromItem<'_> {
    fn find(&self, word: &str) -> Found {
        match &self.kind {
            ItemKind::Read(t) | ItemKind::Target(Some(t)) => {
                if t.has_column(word) {
                    Found::Column
                } else if !t.had_rowid() {
                    Found::Nothing
                } else {
                    Found::Rowid
                }
            }
            ItemKind::Target(None) | ItemKind::Opaque => Found::Rowid,
            ItemKind::Query(Some(columns)) => {
                if columns.iter().any(|c| c == word) {
                    Found::Column
                } else {
                    Found::Nothing
                }
            }
            ItemKind::Query(None) => Found::Unsure,
        }
    }
}

/// What the rewrite does to a rowid read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action<'s> {
    /// Leave it: it reads a column, a table that stays a table, or SQLite refuses it
    /// (ambiguous) before and after alike.
    Keep,
    /// Read the INTEGER PRIMARY KEY of this tenant table instead, qualified by the given
    /// name when the read was not.
    Replace {
        table: &'s Table,
        qualifier: Option<String>,
    },
    /// The tenant tables' derived tables (of the read's qualifier, or all when it has none)
    /// expose the rowid as a column. `table` is the tenant table SQLite would read it from,
    /// when one is found.
    Expose { table: Option<&'s Table> },
    /// It reads the legacy rowid of a tenant-first table that no longer has it
    /// ([`crate::RowKey::Gone`]): refused.
    Gone { table: &'s Table },
    /// It reads the key column that replaced a write target's rowid, but the lookup passed
    /// something it might have meant on the way: refused rather than guessed.
    Unsure { table: &'s Table },
}

/// Resolves a rowid read. `levels` are the FROM clauses in scope, outermost first;
/// `hidden` the indexes of those a subquery in FROM cannot see (its own FROM's);
/// `qualifier` and `word` are lower case.
pub(crate) fn resolve<'s>(
    levels: &[Vec<FromItem<'s>>],
    hidden: &[usize],
    qualifier: Option<&str>,
    word: &str,
    tenant_column: &str,
) -> Action<'s> {
    // Whether the lookup passed an item it might have meant: then the INTEGER PRIMARY KEY
    // of a table further out could be captured on the way, so only exposing is safe.
    let mut passed = false;
    let innermost = levels.len().saturating_sub(1);
    for (depth, level) in levels.iter().enumerate().rev() {
        // An unqualified name passing a query on its way out may have been that query's
        // result alias (WHERE, GROUP BY, HAVING and ORDER BY see them).
        if qualifier.is_none() && depth < innermost {
            passed = true;
        }
        let candidates: Vec<&FromItem<'s>> = level
            .iter()
            .filter(|item| qualifier.is_none_or(|q| item.qualifier == q))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        if hidden.contains(&depth) {
            passed = true;
            continue;
        }
        let mut with_rowid = Vec::new();
        for item in &candidates {
            match item.find(word) {
                Found::Column => return Action::Keep,
                Found::Rowid => with_rowid.push(*item),
                Found::Nothing => {}
                Found::Unsure => passed = true,
            }
        }
        let item = match with_rowid.as_slice() {
            [] => {
                passed = true;
                continue;
            }
            [item] => *item,
            _ => return Action::Keep,
        };
        let table = match item.kind {
            ItemKind::Read(table) => table,
            // The written table is the real one: its rowid is its own, unless the
            // tenant-first migration moved it into a key column (the target has no derived
            // table that could expose it).
            ItemKind::Target(Some(table)) => match &table.key {
                None => return Action::Keep,
                Some(RowKey::Gone) => return Action::Gone { table },
                Some(RowKey::Column { .. }) if passed => return Action::Unsure { table },
                Some(RowKey::Column { .. }) => {
                    let qualifier = qualifier.is_none().then(|| item.qualifier.clone());
                    return Action::Replace { table, qualifier };
                }
            },
            ItemKind::Target(None) | ItemKind::Opaque | ItemKind::Query(_) => {
                return Action::Keep;
            }
        };
        if !table.has_column(tenant_column) {
            return Action::Keep;
        }
        if table.key == Some(RowKey::Gone) {
            return Action::Gone { table };
        }
        if passed || table.rowid_column().is_none() {
            return Action::Expose { table: Some(table) };
        }
        // Unqualified, the key column's name could be taken by another item's column or, in
        // ORDER BY and GROUP BY, by a result alias: it is qualified.
        let qualifier = qualifier.is_none().then(|| item.qualifier.clone());
        return Action::Replace { table, qualifier };
    }
    // Nothing has it: SQLite refuses the statement; exposing keeps that so.
    Action::Expose { table: None }
}

/// The column names of a query (lower case), as SQLite names a subquery's columns: by
/// alias, else by the column a bare reference reads; `None` when a `*` hides them.
pub(crate) fn column_names(query: &Query) -> Option<Vec<String>> {
    let mut body = query.body.as_ref();
    loop {
        match body {
            SetExpr::Select(select) => {
                return select.projection.iter().map(item_name).collect();
            }
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(inner) => body = inner.body.as_ref(),
            SetExpr::Values(values) => {
                let n = values.rows.first().map_or(0, |row| row.content.len());
                return Some((1..=n).map(|i| format!("column{i}")).collect());
            }
            // Not a query SQLite reads (refused elsewhere): columns unknown.
            SetExpr::Insert(_)
            | SetExpr::Update(_)
            | SetExpr::Delete(_)
            | SetExpr::Merge(_)
            | SetExpr::Table(_) => return None,
        }
    }
}

fn item_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_ascii_lowercase()),
        SelectItem::UnnamedExpr(expr) => Some(expr_name(expr)),
        SelectItem::ExprWithAliases { .. }
        | SelectItem::QualifiedWildcard(..)
        | SelectItem::Wildcard(_) => None,
    }
}

fn expr_name(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(id) => id.value.to_ascii_lowercase(),
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .map(|p| p.value.to_ascii_lowercase())
            .unwrap_or_default(),
        Expr::Nested(inner) => expr_name(inner),
        // Named by its text, which is never a bare word.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Query {
        let dialect = crate::dialect::SqliteDialect;
        match sqlparser::parser::Parser::parse_sql(&dialect, sql) {
            Ok(mut v) => match v.pop() {
                Some(sqlparser::ast::Statement::Query(q)) => *q,
                other => panic!("not a query: {other:?}"),
            },
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    #[test]
    fn subquery_columns_are_named_by_alias_or_column() {
        let q = parse("SELECT a, t.b, (c), d AS e, 1 + 2 FROM t UNION SELECT 1, 2, 3, 4, 5");
        assert_eq!(
            column_names(&q),
            Some(vec![
                "a".into(),
                "b".into(),
                "c".into(),
                "e".into(),
                "1 + 2".into()
            ])
        );
        assert_eq!(column_names(&parse("SELECT *, a FROM t")), None);
        assert_eq!(
            column_names(&parse("VALUES (1, 2)")),
            Some(vec!["column1".into(), "column2".into()])
        );
    }

    fn tables() -> (Table, Table, Table) {
        let mut ipk = Table::new("c", ["id", "x", "tenant_id"]);
        ipk.integer_primary_key = Some("id".into());
        let plain = Table::new("v", ["cid", "tenant_id"]);
        let mut without = Table::new("w", ["k", "tenant_id"]);
        without.without_rowid = true;
        (ipk, plain, without)
    }

    fn item<'s>(q: &str, kind: ItemKind<'s>) -> FromItem<'s> {
        FromItem {
            qualifier: q.into(),
            kind,
        }
    }

    #[test]
    fn the_innermost_item_with_a_rowid_is_read() {
        let (c, v, w) = tables();
        let levels = vec![
            vec![item("c", ItemKind::Read(&c))],
            vec![item("w", ItemKind::Read(&w)), item("v", ItemKind::Read(&v))],
        ];
        // Unqualified: w has no rowid, v does (no INTEGER PRIMARY KEY: exposed).
        assert_eq!(
            resolve(&levels, &[], None, "rowid", "tenant_id"),
            Action::Expose { table: Some(&v) }
        );
        // Qualified by an outer name: c, its key, no qualifier added.
        assert_eq!(
            resolve(&levels, &[], Some("c"), "rowid", "tenant_id"),
            Action::Replace {
                table: &c,
                qualifier: None
            }
        );
    }

    #[test]
    fn a_source_without_rowid_passes_the_read_outwards_and_only_exposure_is_safe() {
        let (c, _, w) = tables();
        for inner in [
            ItemKind::Read(&w),
            ItemKind::Query(Some(vec!["id".into()])),
            ItemKind::Query(None),
        ] {
            let levels = vec![
                vec![item("g", ItemKind::Read(&c))],
                vec![item("g", inner.clone())],
            ];
            assert_eq!(
                resolve(&levels, &[], Some("g"), "rowid", "tenant_id"),
                Action::Expose { table: Some(&c) },
                "{inner:?}"
            );
        }
        // Unless it has a column of that name.
        let levels = vec![
            vec![item("g", ItemKind::Read(&c))],
            vec![item("g", ItemKind::Query(Some(vec!["rowid".into()])))],
        ];
        assert_eq!(
            resolve(&levels, &[], Some("g"), "rowid", "tenant_id"),
            Action::Keep
        );
    }

    #[test]
    fn a_subquery_in_from_does_not_see_its_siblings() {
        let (c, v, _) = tables();
        let levels = vec![
            vec![item("g", ItemKind::Read(&v))],
            vec![item("g", ItemKind::Read(&c))],
            vec![],
        ];
        assert_eq!(
            resolve(&levels, &[1], Some("g"), "rowid", "tenant_id"),
            Action::Expose { table: Some(&v) }
        );
    }

    #[test]
    fn two_rowids_are_ambiguous_and_a_column_wins() {
        let (c, v, _) = tables();
        let level = vec![item("c", ItemKind::Read(&c)), item("v", ItemKind::Read(&v))];
        assert_eq!(
            resolve(&[level], &[], None, "rowid", "tenant_id"),
            Action::Keep
        );
        let level = vec![
            item("c", ItemKind::Read(&c)),
            item("", ItemKind::Query(Some(vec!["oid".into()]))),
        ];
        assert_eq!(
            resolve(std::slice::from_ref(&level), &[], None, "oid", "tenant_id"),
            Action::Keep
        );
        // Another item, no column of that name: the key, qualified.
        assert_eq!(
            resolve(&[level], &[], None, "rowid", "tenant_id"),
            Action::Replace {
                table: &c,
                qualifier: Some("c".into())
            }
        );
    }
}
