//! The walk: `sqlparser`'s visitor over the whole statement (every subquery, CTE, join,
//! function argument, CASE branch and RETURNING list it knows of), keeping the scopes
//! ([`Scopes`]) and recording into the model what each construct resolves to. Table names
//! are resolved in `from.rs`; this file follows the statement's structure and its
//! expressions.

use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FromTable, InTarget, ObjectName, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableObject,
    UpdateTableFromKind, Visitor,
};
use sqlparser::keywords::Keyword;

use crate::analysis::columns::{self, Naming};
use crate::analysis::in_place::{self, FromFacts};
use crate::analysis::model::{Context, ExposedRowid, InPlaceRead, Model, RowidRead, SelectShape};
use crate::analysis::scopes::{self, Scopes};
use crate::classify::{self, Factor, Shape};
use crate::keys::RowKey;
use crate::refusal::{Refusal, SourceForm};
use crate::rowid::{Action, FromItem, ItemKind, ROWID_NAMES};
use crate::source::SELECT_LIST_END;
use crate::sql::{last_ident, loc_of, name_pos, quote_ident, token_at};

/// Functions refused anywhere in a statement.
pub const FORBIDDEN_FUNCTIONS: &[&str] = &["load_extension", "fts3_tokenizer"];

/// Every relation name the walk met, and those it resolved: the two must agree.
#[derive(Default)]
pub(super) struct Coverage {
    /// Start positions (line, column) of every relation name met.
    pub met: Vec<(u64, u64)>,
    /// Start positions of relation names resolved (in a FROM, after IN, or as a write
    /// target).
    pub resolved: Vec<(u64, u64)>,
}

/// The analysis visitor of one statement.
pub(crate) struct Walk<'s, 'a> {
    pub(super) cx: Context<'s, 'a>,
    pub(super) scopes: Scopes<'s>,
    /// Start positions of the write targets' names: scoped by the target analysis, so the
    /// walk must not make them derived tables.
    pub(super) targets: Vec<(u64, u64)>,
    pub(super) coverage: Coverage,
    pub(super) model: Model<'s>,
    /// Per SELECT whose FROM holds a tenant table: where its tenant tests go in place.
    pub(super) from_facts: HashMap<usize, FromFacts>,
    /// Where the table names on the nullable side of an outer join start (in the SELECTs
    /// that hold a tenant table).
    pub(super) nullable: Vec<(u64, u64)>,
}

impl<'s, 'a> Walk<'s, 'a> {
    /// A walk over a statement whose write targets (if any) start at `targets`.
    pub fn new(cx: Context<'s, 'a>, targets: Vec<(u64, u64)>, model: Model<'s>) -> Self {
        let coverage = Coverage {
            met: Vec::new(),
            resolved: targets.clone(),
        };
        Walk {
            cx,
            scopes: Scopes::default(),
            targets,
            coverage,
            model,
            from_facts: HashMap::new(),
            nullable: Vec::new(),
        }
    }

    /// The checks that need the whole statement: every relation the walk met was resolved,
    /// and each derived table exposes the rowid reads that need it — except where the
    /// exposed column would show (a `*` over it, or a NATURAL join with it), which is refused.
    pub fn finish(mut self) -> Result<Model<'s>, Refusal> {
        let exposed = self.exposed_rowids();
        for pos in &self.coverage.met {
            if !self.coverage.resolved.contains(pos) {
                let name = self.tok(*pos).map_or("?", |i| self.cx.src.tok_text(i));
                return Err(Refusal::Internal {
                    detail: format!("table reference {name} was not resolved"),
                });
            }
        }
        for (index, rowid) in exposed {
            // The exposed rowid is an extra column of its derived table: it shows in a `*`
            // over that table and joins in a NATURAL join with it.
            let read = &self.model.reads[index];
            let shape = read.select.and_then(|i| self.model.selects.get(i));
            let construct = match shape {
                Some(s) if s.wildcard || s.qualified_wildcards.contains(&read.qualifier) => {
                    Some("*")
                }
                Some(s) if s.natural => Some("a NATURAL join"),
                _ => None,
            };
            if let (Some(construct), Some(name)) = (construct, rowid.names.first()) {
                return Err(Refusal::RowidAmbiguous {
                    name: name.clone(),
                    table: read.table.name.clone(),
                    construct: construct.to_owned(),
                });
            }
            self.model.reads[index].rowid = Some(rowid);
        }
        self.choose_in_place();
        Ok(self.model)
    }

    /// Moves the tenant reads that can be scoped in place out of the derived tables (see
    /// `analysis/in_place.rs`).
    fn choose_in_place(&mut self) {
        let reads = std::mem::take(&mut self.model.reads);
        for read in reads {
            let facts = read.select.and_then(|i| self.from_facts.get(&i));
            let place =
                in_place::place_of(&read, facts, &self.model, self.cx.schema, self.cx.policy);
            match (place, read.select) {
                (Some(place), Some(select)) => {
                    if let Some(at) = read.main_prefix {
                        self.model.main_prefixes.push(at);
                    }
                    self.model.in_place.push(InPlaceRead {
                        select,
                        table: read.table,
                        qualifier: read.alias_text,
                        name: read.qualifier,
                        place,
                    });
                }
                _ => self.model.reads.push(read),
            }
        }
    }

    /// The derived tables that must expose their rowid, and by which names: those a rowid
    /// read could not turn into a read of the INTEGER PRIMARY KEY column reaches (by its
    /// qualifier, or all of them for an unqualified read).
    fn exposed_rowids(&self) -> Vec<(usize, ExposedRowid)> {
        let mut qualifiers = Vec::new();
        let mut unqualified = false;
        for read in &self.model.rowid_reads {
            if let RowidRead::Expose { qualifier } = read {
                match qualifier {
                    Some(q) => qualifiers.push(q.clone()),
                    None => unqualified = true,
                }
            }
        }
        let mut out = Vec::new();
        for (i, read) in self.model.reads.iter().enumerate() {
            let reads_rowid = unqualified || qualifiers.contains(&read.qualifier);
            // The table's rowid by a name none of its columns takes, or the key column a
            // tenant-first table keeps it in.
            let source = match &read.table.key {
                Some(RowKey::Column { name, .. }) => Some(quote_ident(name)),
                Some(RowKey::Gone) => None,
                None => ROWID_NAMES
                    .iter()
                    .find(|n| !read.table.has_column(n))
                    .map(|n| (*n).to_owned()),
            };
            if let (true, true, Some(source)) = (read.table.had_rowid(), reads_rowid, source) {
                let names: Vec<String> = self
                    .model
                    .words
                    .rowid_names
                    .iter()
                    .filter(|rowid| !read.table.has_column(rowid))
                    .cloned()
                    .collect();
                if !names.is_empty() {
                    out.push((i, ExposedRowid { source, names }));
                }
            }
        }
        out
    }

    /// Records a rowid read (`rowid`, `t.oid`, ...), resolved as SQLite resolves it (see
    /// [`crate::rowid`]).
    fn rowid_read(
        &mut self,
        qualifier: Option<&sqlparser::ast::Ident>,
        word: &sqlparser::ast::Ident,
    ) -> Result<(), Refusal> {
        let lower = word.value.to_ascii_lowercase();
        let q = qualifier.map(|q| q.value.to_ascii_lowercase());
        let action =
            self.scopes
                .resolve_rowid(q.as_deref(), &lower, self.cx.schema.tenant_column());
        let read = match action {
            Action::Keep => return Ok(()),
            Action::Gone { table } => {
                return Err(Refusal::RowidGone {
                    name: word.value.clone(),
                    table: table.name.clone(),
                });
            }
            Action::Unsure { table } => {
                return Err(Refusal::RowidUnsure {
                    name: word.value.clone(),
                    table: table.name.clone(),
                });
            }
            Action::Replace { table, qualifier } => {
                let Some(key) = table.rowid_column() else {
                    return Err(Refusal::Internal {
                        detail: format!("{} has no INTEGER PRIMARY KEY", table.name),
                    });
                };
                let i = self.tok(loc_of(word))?;
                RowidRead::Replace {
                    span: self.cx.src.toks[i].start..self.cx.src.toks[i].end,
                    key: key.to_owned(),
                    qualifier,
                }
            }
            Action::Expose { .. } => RowidRead::Expose { qualifier: q },
        };
        self.model.rowid_reads.push(read);
        Ok(())
    }

    /// The index of the token that starts at `pos`.
    pub(super) fn tok(&self, pos: (u64, u64)) -> Result<usize, Refusal> {
        token_at(self.cx.src, pos)
    }

    /// The FROM items of a write's target: the real table, whose rowid is its own.
    fn target_items(&self, statement: &Statement) -> Vec<FromItem<'s>> {
        let schema = self.cx.schema;
        let target = |name: &ObjectName, alias: Option<&sqlparser::ast::Ident>| {
            let last = last_ident(name)
                .map(|i| i.value.clone())
                .unwrap_or_default();
            FromItem {
                kind: ItemKind::Target(schema.table(&last)),
                qualifier: alias.map_or(last, |a| a.value.clone()).to_ascii_lowercase(),
            }
        };
        let columns = self.model.words.reads_rowid();
        // The walk meets only statements the classifier let through.
        let shape = classify::shape(statement).unwrap_or(Shape::Transaction);
        match shape {
            Shape::Insert(insert) => match &insert.table {
                TableObject::TableName(name) => vec![target(name, None)],
                TableObject::TableFunction(_) | TableObject::TableQuery(_) => Vec::new(),
            },
            Shape::Update(update) => {
                let mut level = Vec::new();
                if let TableFactor::Table { name, alias, .. } = &update.table.relation {
                    level.push(target(name, alias.as_ref().map(|a| &a.name)));
                }
                if let Some(
                    UpdateTableFromKind::AfterSet(from) | UpdateTableFromKind::BeforeSet(from),
                ) = &update.from
                {
                    level.extend(self.scopes.items_of(schema, columns, from));
                }
                level
            }
            Shape::Delete(delete) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                from.iter()
                    .filter_map(|twj| match &twj.relation {
                        TableFactor::Table { name, alias, .. } => {
                            Some(target(name, alias.as_ref().map(|a| &a.name)))
                        }
                        _ => None,
                    })
                    .collect()
            }
            Shape::Query(_) | Shape::Explain(_) | Shape::Transaction => Vec::new(),
        }
    }
}

/// Refuses a FROM clause with a join operator SQLite does not have.
fn foreign_join_refusal(from: &[sqlparser::ast::TableWithJoins]) -> Result<(), Refusal> {
    match scopes::foreign_join(from) {
        Some(operator) => Err(Refusal::TableSource {
            form: SourceForm::Join {
                operator: operator.to_owned(),
            },
        }),
        None => Ok(()),
    }
}

/// A step's result as the visitor's control flow: a refusal stops the walk.
fn flow(result: Result<(), Refusal>) -> ControlFlow<Refusal> {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(refusal) => ControlFlow::Break(refusal),
    }
}

impl Visitor for Walk<'_, '_> {
    type Break = Refusal;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        // `TABLE t` or MERGE inside a compound or subquery: not SQLite's, not scoped.
        if let Some(kind) = classify::foreign(&query.body) {
            return ControlFlow::Break(Refusal::UnsupportedStatement {
                kind: kind.to_owned(),
            });
        }
        let mut level = HashMap::new();
        for (name, columns) in scopes::ctes_of(query, self.model.words.reads_rowid()) {
            if !self.model.ctes.contains(&name) {
                self.model.ctes.push(name.clone());
            }
            level.insert(name, columns);
        }
        self.scopes
            .enter_query(level, matches!(query.body.as_ref(), SetExpr::Select(_)));
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<Refusal> {
        self.scopes.leave_query();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Refusal> {
        flow(self.select(select))
    }

    fn post_visit_select(&mut self, _select: &Select) -> ControlFlow<Refusal> {
        self.scopes.leave_select();
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Refusal> {
        let level = self.target_items(statement);
        self.scopes
            .enter_statement(matches!(statement, Statement::Query(_)), level);
        // `UPDATE … FROM` with a join SQLite does not have (a SELECT's FROM is checked in
        // `select`).
        if let Ok(Shape::Update(update)) = classify::shape(statement)
            && let Some(UpdateTableFromKind::AfterSet(from) | UpdateTableFromKind::BeforeSet(from)) =
                &update.from
        {
            flow(foreign_join_refusal(from))?;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, _statement: &Statement) -> ControlFlow<Refusal> {
        self.scopes.leave_statement();
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Refusal> {
        match name_pos(relation) {
            Some(pos) => {
                self.coverage.met.push(pos);
                ControlFlow::Continue(())
            }
            None => ControlFlow::Break(Refusal::TableSource {
                form: SourceForm::Name {
                    name: relation.to_string(),
                },
            }),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        flow(match classify::factor(factor) {
            Factor::Table { .. } => self.table(factor),
            Factor::Derived { .. } => {
                // Its query cannot see the other items of the FROM that holds it.
                self.scopes.enter_derived();
                Ok(())
            }
            Factor::Nested(_) => Ok(()),
            Factor::Foreign => Err(Refusal::TableSource {
                form: SourceForm::Expression {
                    text: factor.to_string(),
                },
            }),
        })
    }

    fn post_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        if let Factor::Derived { .. } = classify::factor(factor) {
            self.scopes.leave_derived();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        flow(self.expr(expr))
    }
}

impl Walk<'_, '_> {
    /// A SELECT: its FROM comes into scope, its result columns and shape are recorded.
    fn select(&mut self, select: &Select) -> Result<(), Refusal> {
        let src = self.cx.src;
        let start = select.select_token.0.span.start;
        let Some(select_tok) = src.index_at(start) else {
            return Err(Refusal::Internal {
                detail: "SELECT keyword not found".to_owned(),
            });
        };
        // Skip DISTINCT / ALL.
        let mut after = select_tok;
        while let Some(next) = src.next_sig(after, src.toks.len()) {
            if src.is_kw(next, Keyword::DISTINCT) || src.is_kw(next, Keyword::ALL) {
                after = next;
            } else {
                break;
            }
        }
        let ranges = src.list_items(after, self.cx.seg.end, SELECT_LIST_END);
        let from =
            self.scopes
                .items_of(self.cx.schema, self.model.words.reads_rowid(), &select.from);
        let index = self.model.selects.len();
        let tenant = self.cx.schema.tenant_column();
        let mut reads_tenant = false;
        let mut reads_virtual = false;
        for item in &from {
            match item.kind {
                ItemKind::Target(Some(t)) if t.module.is_some() && t.has_column(tenant) => {
                    reads_virtual = true;
                }
                ItemKind::Read(t) if t.has_column(tenant) => reads_tenant = true,
                ItemKind::Read(_) | ItemKind::Target(_) | ItemKind::Query(_) | ItemKind::Opaque => {
                }
            }
        }
        if reads_tenant || reads_virtual {
            let place = match ranges.last() {
                Some(&(_, last)) => {
                    in_place::where_place(src, self.cx.seg.end, last, select.selection.is_some())
                }
                None => Err(Refusal::Internal {
                    detail: "result columns not found".to_owned(),
                }),
            };
            // A virtual table has no other way to be scoped; a table falls back to its
            // derived table.
            let place = match place {
                Ok(place) => Some(place),
                Err(refusal) if reads_virtual => return Err(refusal),
                Err(_) => None,
            };
            self.from_facts.insert(index, FromFacts::new(place, &from));
            self.nullable.extend(in_place::nullable(&select.from));
        }
        self.scopes.enter_select(index, from);
        let naming = Naming::Select {
            scopes: &self.scopes,
            tenant_column: self.cx.schema.tenant_column(),
        };
        let found =
            columns::candidates(src, self.cx.seg.end, &select.projection, &ranges, &naming)?;
        self.model.columns.extend(found);
        let mut shape = SelectShape {
            natural: scopes::has_natural_join(&select.from),
            single_item: select.from.len() == 1 && select.from.iter().all(|f| f.joins.is_empty()),
            stars_complete: ranges.len() == select.projection.len(),
            ..SelectShape::default()
        };
        let bytes = |i: usize| {
            ranges
                .get(i)
                .filter(|_| ranges.len() == select.projection.len())
                .map(|&(first, last)| src.toks[first].start..src.toks[last].end)
        };
        for (i, item) in select.projection.iter().enumerate() {
            match item {
                SelectItem::Wildcard(_) => {
                    shape.wildcard = true;
                    if let Some(span) = bytes(i) {
                        shape.stars.push((None, span));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        if let Some(last) = last_ident(name) {
                            let qualifier = last.value.to_ascii_lowercase();
                            shape.qualified_wildcards.push(qualifier.clone());
                            match (name.0.len(), bytes(i)) {
                                (1, Some(span)) => shape.stars.push((Some(qualifier), span)),
                                _ => shape.stars_complete = false,
                            }
                        }
                    }
                    SelectItemQualifiedWildcardKind::Expr(_) => {
                        shape.wildcard = true;
                        shape.stars_complete = false;
                    }
                },
                SelectItem::UnnamedExpr(_)
                | SelectItem::ExprWithAlias { .. }
                | SelectItem::ExprWithAliases { .. } => {}
            }
        }
        self.model.selects.push(shape);
        foreign_join_refusal(&select.from)
    }

    /// An expression: forbidden functions, `main.t.col`, rowid reads, `x IN t`, and `*`
    /// inside an expression.
    fn expr(&mut self, expr: &Expr) -> Result<(), Refusal> {
        if let Expr::Function(f) = expr {
            let bare = last_ident(&f.name)
                .map(|i| i.value.to_ascii_lowercase())
                .unwrap_or_default();
            if FORBIDDEN_FUNCTIONS.contains(&bare.as_str()) {
                return Err(Refusal::Function {
                    name: f.name.to_string(),
                });
            }
        }
        // `main.t.col` names the table by its schema; a scoped table is now a derived table
        // aliased `t`, so the column is `t.col`. (Every source is scoped whatever a name
        // resolves to, so this can change which same-tenant row is meant only in queries
        // that shadow `t` and name `main.t` at once.)
        if let Expr::CompoundIdentifier(parts) = expr
            && let [schema, table, _] = parts.as_slice()
            && schema.value.eq_ignore_ascii_case("main")
            && self.cx.schema.is_scoped(&table.value)
        {
            let (Ok(a), Ok(b)) = (self.tok(loc_of(schema)), self.tok(loc_of(table))) else {
                return Err(Refusal::Internal {
                    detail: format!("column reference {expr} not found"),
                });
            };
            let src = self.cx.src;
            self.model
                .schema_prefixes
                .push(src.toks[a].start..src.toks[b].start);
        }
        let rowid = match expr {
            Expr::Identifier(word) => Some((None, word)),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, word] => Some((Some(q), word)),
                [_, q, word] => Some((Some(q), word)),
                _ => None,
            },
            _ => None,
        };
        if let Some((q, word)) = rowid
            && ROWID_NAMES.contains(&word.value.to_ascii_lowercase().as_str())
        {
            self.rowid_read(q, word)?;
        }
        // `x IN t`: SQLite reads the table as `(SELECT * FROM t)`.
        if let Expr::In {
            target: InTarget::Table { name, args },
            ..
        } = expr
        {
            self.in_table(name, args.is_some())?;
        }
        // `t.*` can also appear as an expression (inside a function's arguments, say).
        if matches!(expr, Expr::Wildcard(_) | Expr::QualifiedWildcard(..))
            && let Some(shape) = self
                .scopes
                .current_select()
                .and_then(|i| self.model.selects.get_mut(i))
        {
            shape.wildcard = true;
        }
        Ok(())
    }
}
