//! What is in scope where the walk is: the CTEs of each enclosing WITH, the FROM clauses a
//! name can be looked up in, and the SELECTs being read. Name lookups that SQLite makes
//! (a CTE by name, a rowid read) are answered here.

use std::collections::HashMap;

use sqlparser::ast::{JoinConstraint, JoinOperator, Query, TableFactor, TableWithJoins};

use crate::classify::{self, Factor};

use crate::rowid::{self, Action, FromItem, ItemKind};
use crate::schema::Schema;

/// The scopes of the statement being walked, innermost last.
#[derive(Default)]
pub(crate) struct Scopes<'s> {
    /// CTEs of each enclosing query's WITH: name (lower case) and column names (see
    /// [`rowid::column_names`]; only when the statement reads a rowid).
    ctes: Vec<HashMap<String, Option<Vec<String>>>>,
    /// The FROM clauses in scope (a statement's write target is one too).
    from: Vec<Vec<FromItem<'s>>>,
    /// Indexes into `from` of the FROM clauses a subquery being visited cannot see: the
    /// FROM that holds it as a derived table.
    hidden: Vec<usize>,
    /// Per query being visited: its body is one SELECT, whose FROM stays in scope for the
    /// query's ORDER BY and LIMIT (which `sqlparser` keeps on the query, after the SELECT).
    select_bodies: Vec<bool>,
    /// The innermost statement is a query: its outermost SELECT's columns are its result
    /// columns. (A write's queries are all subqueries.)
    statement_is_query: bool,
    /// The SELECTs being visited, innermost last (indexes into the model's selects).
    selects: Vec<usize>,
}

impl<'s> Scopes<'s> {
    /// A statement begins: its write target (if any) is the outermost FROM level.
    pub fn enter_statement(&mut self, is_query: bool, target: Vec<FromItem<'s>>) {
        self.statement_is_query = is_query;
        self.from.push(target);
    }

    pub fn leave_statement(&mut self) {
        self.from.pop();
    }

    /// A query begins, with the CTEs its WITH declares.
    pub fn enter_query(
        &mut self,
        ctes: HashMap<String, Option<Vec<String>>>,
        body_is_select: bool,
    ) {
        self.ctes.push(ctes);
        self.select_bodies.push(body_is_select);
    }

    pub fn leave_query(&mut self) {
        self.ctes.pop();
        if self.select_bodies.pop() == Some(true) {
            self.from.pop();
        }
    }

    /// A SELECT begins (the `index`th of the statement), with the items of its FROM.
    pub fn enter_select(&mut self, index: usize, from: Vec<FromItem<'s>>) {
        self.from.push(from);
        self.selects.push(index);
    }

    pub fn leave_select(&mut self) {
        // The SELECT that is its query's whole body keeps its FROM until the query ends.
        if self.select_bodies.last() != Some(&true) {
            self.from.pop();
        }
        self.selects.pop();
    }

    /// A subquery in FROM begins: it cannot see the other items of the FROM that holds it.
    pub fn enter_derived(&mut self) {
        if let Some(depth) = self.from.len().checked_sub(1) {
            self.hidden.push(depth);
        }
    }

    pub fn leave_derived(&mut self) {
        if !self.from.is_empty() {
            self.hidden.pop();
        }
    }

    /// The innermost SELECT being visited.
    pub fn current_select(&self) -> Option<usize> {
        self.selects.last().copied()
    }

    /// Whether the walk is inside a query that is not the statement's own result: SQLite
    /// names such a query's columns differently.
    pub fn in_subquery(&self) -> bool {
        self.ctes.len() > 1 || !self.statement_is_query
    }

    /// The CTE in scope of that name: its column names, `None` inside when unknown.
    pub fn cte(&self, name: &str) -> Option<Option<Vec<String>>> {
        let lower = name.to_ascii_lowercase();
        self.ctes
            .iter()
            .rev()
            .find_map(|level| level.get(&lower).cloned())
    }

    /// Whether any enclosing WITH declares a CTE of that name.
    pub fn has_cte(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.ctes.iter().any(|level| level.contains_key(&lower))
    }

    /// Resolves a rowid read against the FROM clauses in scope (see [`rowid::resolve`]).
    pub fn resolve_rowid(&self, qualifier: Option<&str>, word: &str, tenant: &str) -> Action<'s> {
        rowid::resolve(&self.from, &self.hidden, qualifier, word, tenant)
    }

    /// The items of a FROM clause (with joins), by the name that qualifies their columns.
    /// `columns`: work out the column names of subqueries (only a rowid lookup needs them).
    pub fn items_of(
        &self,
        schema: &'s Schema,
        columns: bool,
        from: &[TableWithJoins],
    ) -> Vec<FromItem<'s>> {
        let mut out = Vec::new();
        for twj in from {
            self.item_of(schema, columns, &twj.relation, &mut out);
            for j in &twj.joins {
                self.item_of(schema, columns, &j.relation, &mut out);
            }
        }
        out
    }

    fn item_of(
        &self,
        schema: &'s Schema,
        columns: bool,
        factor: &TableFactor,
        out: &mut Vec<FromItem<'s>>,
    ) {
        match classify::factor(factor) {
            Factor::Table { name, alias, args } => {
                let parts: Vec<String> = name
                    .0
                    .iter()
                    .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
                    .collect();
                let Some(last) = parts.last() else {
                    return;
                };
                let qualifier = alias
                    .map_or(last.as_str(), |a| a.name.value.as_str())
                    .to_ascii_lowercase();
                let kind = if args {
                    ItemKind::Opaque
                } else if let Some(columns) = (parts.len() == 1).then(|| self.cte(last)).flatten() {
                    ItemKind::Query(columns)
                } else if let Some(table) = schema.table(last) {
                    // A virtual table is read in place: the real table, with its own rowid.
                    if table.module.is_some() {
                        ItemKind::Target(Some(table))
                    } else {
                        ItemKind::Read(table)
                    }
                } else if let Some(view) = schema.view(last) {
                    let columns = &view.columns;
                    ItemKind::Query(
                        (!columns.is_empty())
                            .then(|| columns.iter().map(|c| c.to_ascii_lowercase()).collect()),
                    )
                } else {
                    ItemKind::Opaque
                };
                out.push(FromItem { qualifier, kind });
            }
            Factor::Nested(table_with_joins) => {
                self.item_of(schema, columns, &table_with_joins.relation, out);
                for j in &table_with_joins.joins {
                    self.item_of(schema, columns, &j.relation, out);
                }
            }
            Factor::Derived { subquery, alias } => out.push(FromItem {
                qualifier: alias
                    .map(|a| a.name.value.to_ascii_lowercase())
                    .unwrap_or_default(),
                // Its column names matter only to a rowid read.
                kind: ItemKind::Query(if columns {
                    rowid::column_names(subquery)
                } else {
                    None
                }),
            }),
            // Refused when the walk meets it; nothing to look names up in.
            Factor::Foreign => {}
        }
    }
}

/// The CTEs a query's WITH declares: name (lower case) and, when `columns`, their column
/// names as a rowid lookup needs them.
pub(crate) fn ctes_of(query: &Query, columns: bool) -> Vec<(String, Option<Vec<String>>)> {
    query
        .with
        .iter()
        .flat_map(|w| &w.cte_tables)
        .map(|cte| {
            let name = cte.alias.name.value.to_ascii_lowercase();
            let names = if !columns {
                None
            } else if cte.alias.columns.is_empty() {
                rowid::column_names(&cte.query)
            } else {
                Some(
                    cte.alias
                        .columns
                        .iter()
                        .map(|c| c.name.value.to_ascii_lowercase())
                        .collect(),
                )
            };
            (name, names)
        })
        .collect()
}

/// Whether a FROM clause has a NATURAL join, at any nesting.
pub(crate) fn has_natural_join(from: &[TableWithJoins]) -> bool {
    from.iter().any(natural_in)
}

fn natural_in(t: &TableWithJoins) -> bool {
    natural_in_factor(&t.relation)
        || t.joins
            .iter()
            .any(|j| is_natural(&j.join_operator) || natural_in_factor(&j.relation))
}

fn natural_in_factor(f: &TableFactor) -> bool {
    match classify::factor(f) {
        Factor::Nested(table_with_joins) => natural_in(table_with_joins),
        Factor::Table { .. } | Factor::Derived { .. } | Factor::Foreign => false,
    }
}

/// Whether a join is NATURAL (a join operator of another dialect is not; the walk refuses
/// those).
fn is_natural(op: &JoinOperator) -> bool {
    matches!(classify::join_constraint(op), Ok(JoinConstraint::Natural))
}

/// The first join of a FROM clause, at any nesting, whose operator SQLite does not have.
pub(crate) fn foreign_join(from: &[TableWithJoins]) -> Option<&'static str> {
    from.iter().find_map(foreign_join_in)
}

fn foreign_join_in(t: &TableWithJoins) -> Option<&'static str> {
    foreign_join_in_factor(&t.relation).or_else(|| {
        t.joins.iter().find_map(|j| {
            classify::join_constraint(&j.join_operator)
                .err()
                .or_else(|| foreign_join_in_factor(&j.relation))
        })
    })
}

fn foreign_join_in_factor(f: &TableFactor) -> Option<&'static str> {
    match classify::factor(f) {
        Factor::Nested(table_with_joins) => foreign_join_in(table_with_joins),
        Factor::Table { .. } | Factor::Derived { .. } | Factor::Foreign => None,
    }
}
