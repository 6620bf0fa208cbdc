//! A table's keys as the rewriter reads them from its `CREATE TABLE` text and the
//! `CREATE UNIQUE INDEX` statements on it: the PRIMARY KEY and UNIQUE constraints, unique
//! indexes, and the markers the tenant-first migration writes as the PRIMARY KEY
//! constraint's name (`tenantry_rowid`, `tenantry_autoincrement`, `tenantry_clustered`).

use sqlparser::ast::{ColumnOption, CreateIndex, CreateTable, Expr, IndexColumn, TableConstraint};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// The constraint name the migrator gives the tenant-first key of a table whose
/// `INTEGER PRIMARY KEY` column was its rowid.
pub const ROWID_MARKER: &str = "tenantry_rowid";
/// As [`ROWID_MARKER`], for an `INTEGER PRIMARY KEY AUTOINCREMENT` column.
pub const AUTOINCREMENT_MARKER: &str = "tenantry_autoincrement";
/// The constraint name of the tenant-first key of a rowid table with another primary key:
/// its legacy rowid values are gone.
pub const CLUSTERED_MARKER: &str = "tenantry_clustered";

/// What became of a tenant-first table's legacy rowid (from its PRIMARY KEY's marker).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowKey {
    /// The legacy rowid was this `INTEGER PRIMARY KEY` column, now an ordinary column keyed
    /// per tenant: a rowid read means it, and an INSERT that omits it (or gives NULL) gets a
    /// new key per tenant.
    Column {
        /// The column's name as declared.
        name: String,
        /// The legacy column was `AUTOINCREMENT`: keys are never reused by the tenant (the
        /// high-water mark is in `_tenantry_sequence`).
        autoincrement: bool,
    },
    /// The legacy table had a rowid that no column kept: a rowid read cannot be served.
    Gone,
}

/// A PRIMARY KEY, UNIQUE constraint or unique index: the columns it names (expression items
/// are left out; they are never the tenant column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueKey {
    /// The named columns, as declared.
    pub columns: Vec<String>,
    /// Whether it is the PRIMARY KEY.
    pub primary: bool,
}

impl UniqueKey {
    /// Whether the key includes the column `name` (ASCII case-insensitive).
    pub fn includes(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.eq_ignore_ascii_case(name))
    }
}

/// The keys a `CREATE TABLE` declares (column and table constraints), and what its PRIMARY
/// KEY's marker says about the legacy rowid.
pub(crate) fn table_keys(
    create: &CreateTable,
    tenant_column: &str,
) -> (Vec<UniqueKey>, Option<RowKey>) {
    let mut keys = Vec::new();
    for column in &create.columns {
        for option in &column.options {
            let primary = match &option.option {
                ColumnOption::PrimaryKey(_) => true,
                ColumnOption::Unique(_) => false,
                _ => continue,
            };
            keys.push(UniqueKey {
                columns: vec![column.name.value.clone()],
                primary,
            });
        }
    }
    let mut row_key = None;
    for constraint in &create.constraints {
        let (columns, primary, name) = match constraint {
            TableConstraint::PrimaryKey(pk) => (&pk.columns, true, pk.name.as_ref()),
            TableConstraint::Unique(u) => (&u.columns, false, u.name.as_ref()),
            TableConstraint::ForeignKey(_)
            | TableConstraint::Check(_)
            | TableConstraint::Index(_)
            | TableConstraint::FulltextOrSpatial(_)
            | TableConstraint::PrimaryKeyUsingIndex(_)
            | TableConstraint::UniqueUsingIndex(_)
            | TableConstraint::Exclude(_) => continue,
        };
        let columns = column_names(columns);
        if primary && let Some(name) = name {
            row_key = marker(&name.value, &columns, tenant_column);
        }
        keys.push(UniqueKey { columns, primary });
    }
    (keys, row_key)
}

/// The table a `CREATE UNIQUE INDEX` is on (its last name part) and its key; `None` for an
/// index that is not unique.
pub(crate) fn index_key(create: &CreateIndex) -> Option<(String, UniqueKey)> {
    if !create.unique {
        return None;
    }
    let table = create
        .table_name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())?;
    Some((
        table,
        UniqueKey {
            columns: column_names(&create.columns),
            primary: false,
        },
    ))
}

/// The table an index is on and the index's name, when its first item is the plain column
/// `tenant_column` and it has no WHERE: an index that can hold every row of one tenant and
/// find them by the tenant alone (SQLite's `INDEXED BY` then reads only that tenant's
/// entries).
pub(crate) fn tenant_index(create: &CreateIndex, tenant_column: &str) -> Option<(String, String)> {
    if create.predicate.is_some() {
        return None;
    }
    let Expr::Identifier(first) = &create.columns.first()?.column.expr else {
        return None;
    };
    if !first.value.eq_ignore_ascii_case(tenant_column) {
        return None;
    }
    let last = |name: &sqlparser::ast::ObjectName| {
        name.0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.clone())
    };
    Some((last(&create.table_name)?, last(create.name.as_ref()?)?))
}

/// The plain column names among an index's items.
fn column_names(items: &[IndexColumn]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match &item.column.expr {
            Expr::Identifier(id) => Some(id.value.clone()),
            _ => None,
        })
        .collect()
}

/// What a PRIMARY KEY named `name` with these columns says about the legacy rowid.
fn marker(name: &str, columns: &[String], tenant_column: &str) -> Option<RowKey> {
    // A marker on a key of another shape is not the migrator's: its rowid is taken as gone
    // (a rowid read is refused rather than guessed).
    let key_column = |autoincrement: bool| match columns {
        [tenant, key] if tenant.eq_ignore_ascii_case(tenant_column) => RowKey::Column {
            name: key.clone(),
            autoincrement,
        },
        _ => RowKey::Gone,
    };
    if name.eq_ignore_ascii_case(ROWID_MARKER) {
        Some(key_column(false))
    } else if name.eq_ignore_ascii_case(AUTOINCREMENT_MARKER) {
        Some(key_column(true))
    } else if name.eq_ignore_ascii_case(CLUSTERED_MARKER) {
        Some(RowKey::Gone)
    } else {
        None
    }
}

/// A `CREATE TABLE`'s tokens without the conflict clauses of its table constraints
/// (`PRIMARY KEY (tenant_id, id) ON CONFLICT REPLACE`), which `sqlparser` cannot read.
/// They say nothing about the keys' columns; whether a table declares `ON CONFLICT
/// REPLACE` is read from its words ([`crate::Table::replaces_on_conflict`]).
pub(crate) fn without_constraint_conflicts(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant = |t: &TokenWithSpan| !matches!(t.token, Token::Whitespace(_));
    let is_word = |t: &TokenWithSpan, keyword: Keyword| matches!(&t.token, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none());
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut depth = 0usize;
    let mut skip = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        if skip > 0 {
            if significant(token) {
                skip -= 1;
            }
            continue;
        }
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        // `) ON CONFLICT <action>` inside the column list: a table constraint's clause.
        let after_group = out
            .iter()
            .rev()
            .find(|t| significant(t))
            .is_some_and(|t| t.token == Token::RParen);
        if depth == 1 && after_group && is_word(token, Keyword::ON) {
            let mut next = tokens[i + 1..].iter().filter(|t| significant(t));
            if next.next().is_some_and(|t| is_word(t, Keyword::CONFLICT)) && next.next().is_some() {
                // This ON, then CONFLICT and the action.
                skip = 2;
                continue;
            }
        }
        out.push(token.clone());
    }
    out
}
