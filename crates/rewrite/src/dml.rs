//! The targets of INSERT, UPDATE and DELETE: the table a statement writes cannot be replaced
//! by a derived table, so it is scoped in place.
//!
//! - UPDATE and DELETE: `WHERE +t."tenant_id" = 'A' AND (original condition)`, qualified
//!   with the target's alias or name; without a WHERE, one is added. The tenant test comes
//!   first so the caller's condition never runs on another tenant's row.
//! - INSERT: the tenant column is added to the column list (the schema gives the list when
//!   the statement has none) and the tenant to every VALUES row; in an INSERT ... SELECT the
//!   tenant becomes the SELECT's last column (a compound SELECT, or one before an upsert,
//!   is wrapped instead); DEFAULT VALUES becomes a one-column VALUES.
//! - Upsert: `DO UPDATE` gains the tenant predicate, so a conflict with another tenant's row
//!   changes nothing. REPLACE is refused: it deletes the conflicting row, whoever owns it.
//! - RETURNING `*` lists the columns, so it does not reveal the tenant column.

use std::ops::Range;

use sqlparser::ast::{
    AssignmentTarget, Delete, Expr, FromTable, Insert, ObjectName, OnConflictAction, OnInsert,
    Parens, Query, SelectItem, SetExpr, SqliteOnConflict, TableFactor, TableObject, Update,
    UpdateTableFromKind, Value,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::error::Refusal;
use crate::objects::TriggerEvent;
use crate::rewriter::Access;
use crate::schema::Table;
use crate::scope::{Scoper, ident_parts, loc_of, quote_ident, visible_columns};
use crate::source::Lex;
use crate::template::{Piece, text};

/// A tenant value written explicitly in an INSERT, checked when the tenant is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TenantCheck {
    pub table: String,
    pub value: String,
}

/// What one DML statement needs from the rest of the rewriter.
pub(crate) struct Dml<'x, 's, 'a> {
    pub cx: &'x mut Scoper<'s, 'a>,
    pub seg: Range<usize>,
    pub checks: &'x mut Vec<TenantCheck>,
}

/// The target of an UPDATE or DELETE, as the AST gives it.
struct Target<'t> {
    name: &'t ObjectName,
    alias: Option<&'t sqlparser::ast::TableAlias>,
    /// The UPDATE or DELETE keyword.
    keyword: &'t sqlparser::ast::helpers::attached_token::AttachedToken,
    has_where: bool,
    tail: Tail,
}

/// Which trailing clauses the AST says a statement has, to cross-check the token scan.
#[derive(Clone, Copy, Default)]
struct Tail {
    returning: bool,
    order_by: bool,
    limit: bool,
}

impl<'s> Dml<'_, 's, '_> {
    fn tenant_column(&self) -> String {
        self.cx.schema.tenant_column().to_owned()
    }

    /// Resolves a DML target: a table of the main schema, never a CTE (SQLite writes only
    /// real tables). Returns the table when it is tenant-scoped.
    fn target(
        &mut self,
        name: &ObjectName,
        access: Access,
        events: &[TriggerEvent],
    ) -> Result<Option<&'s Table>, Refusal> {
        let parts = ident_parts(name)?;
        let table_name = match parts.as_slice() {
            [t] => t.clone(),
            [schema, t] if schema.eq_ignore_ascii_case("main") => t.clone(),
            [schema, _] => {
                return Err(Refusal::OtherSchema {
                    schema: schema.clone(),
                    name: name.to_string(),
                });
            }
            _ => {
                return Err(Refusal::Unsupported {
                    construct: format!("table name {name} with more than two parts"),
                });
            }
        };
        let lower = table_name.to_ascii_lowercase();
        if lower == "sqlite_master" || lower == "sqlite_schema" {
            return Err(Refusal::SchemaWrite { name: table_name });
        }
        if lower.starts_with("sqlite_") {
            return Err(Refusal::SystemTable { name: table_name });
        }
        let schema: &'s crate::schema::Schema = self.cx.schema;
        if schema.view(&table_name).is_some() {
            return Err(Refusal::ViewWrite { name: table_name });
        }
        let Some(table) = schema.table(&table_name) else {
            return Err(Refusal::UnknownTable {
                name: name.to_string(),
            });
        };
        if self.cx.policy.is_protected(&table.name) {
            return Err(Refusal::Protected {
                name: table.name.clone(),
            });
        }
        if self.cx.policy.is_read_only(&table.name) {
            return Err(Refusal::ReadOnly {
                name: table.name.clone(),
            });
        }
        self.check_triggers(table, events)?;
        self.cx.mark_target(name);
        let scoped = table.has_column(self.cx.schema.tenant_column());
        self.cx.record(&table.name, scoped, access);
        Ok(scoped.then_some(table))
    }

    /// Refuses a write that would fire a trigger whose body is not scoped: any such trigger
    /// on a tenant table, and one on a global table whose body names a tenant table.
    fn check_triggers(&self, table: &Table, events: &[TriggerEvent]) -> Result<(), Refusal> {
        let schema = self.cx.schema;
        let scoped = table.has_column(schema.tenant_column());
        if !scoped {
            // A foreign-key action from a tenant table reaches every tenant's rows.
            for &event in events {
                let child = schema.tables().find(|child| {
                    schema.is_scoped(&child.name)
                        && child.foreign_keys.iter().any(|fk| {
                            fk.parent.eq_ignore_ascii_case(&table.name)
                                && match event {
                                    TriggerEvent::Delete => fk.acts_on_delete,
                                    TriggerEvent::Update => fk.acts_on_update,
                                    TriggerEvent::Insert => false,
                                }
                        })
                });
                if let Some(child) = child {
                    return Err(Refusal::GlobalCascade {
                        table: table.name.clone(),
                        child: child.name.clone(),
                        event: event.as_str().to_owned(),
                    });
                }
            }
        }
        for &event in events {
            for trigger in schema.unscoped_triggers(&table.name, event) {
                let reaches_tenant_rows = scoped
                    || schema
                        .tables()
                        .any(|t| schema.is_scoped(&t.name) && trigger.mentions(&t.name));
                if reaches_tenant_rows {
                    return Err(Refusal::UnscopedTrigger {
                        trigger: trigger.name.clone(),
                        table: table.name.clone(),
                        event: event.as_str().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    fn tok_of_name_end(&self, name: &ObjectName) -> Result<usize, Refusal> {
        let last = name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .ok_or_else(|| internal(format!("table name {name} has no identifier")))?;
        self.tok(loc_of(last))
    }

    fn tok(&self, pos: (u64, u64)) -> Result<usize, Refusal> {
        self.cx
            .src
            .index_at(sqlparser::tokenizer::Location {
                line: pos.0,
                column: pos.1,
            })
            .ok_or_else(|| internal(format!("no token at line {} column {}", pos.0, pos.1)))
    }

    /// `+qualifier."tenant_id" = <tenant>` (see [`crate::TenantFilter`])
    fn predicate(&self, qualifier: &str) -> Vec<Piece> {
        let column = format!(
            "{qualifier}.{}",
            quote_ident(self.cx.schema.tenant_column())
        );
        vec![
            text(self.cx.policy.tenant_filter.prefix(&column)),
            Piece::Tenant,
        ]
    }

    /// Scopes the WHERE clause that starts after token `from`: wraps the existing condition
    /// in parentheses and ANDs the predicate, or adds a WHERE before the trailing clauses.
    fn scope_where(
        &mut self,
        from: usize,
        has_where: bool,
        tail: Tail,
        qualifier: &str,
    ) -> Result<(), Refusal> {
        let src = self.cx.src;
        let end = self.seg.end;
        let mut where_tok = None;
        let mut stop = end;
        for (j, depth) in src.depth_walk(from, end) {
            if depth != 0 || !src.is_sig(j) {
                continue;
            }
            if src.is_kw(j, Keyword::WHERE) && where_tok.is_none() {
                where_tok = Some(j);
            }
            let (found, expected) = if src.is_kw(j, Keyword::RETURNING) {
                (true, tail.returning)
            } else if src.is_kw(j, Keyword::ORDER) {
                (true, tail.order_by)
            } else if src.is_kw(j, Keyword::LIMIT) {
                (true, tail.limit)
            } else {
                (false, true)
            };
            if found {
                if !expected {
                    return Err(internal(format!(
                        "clause {} found where the parsed statement has none",
                        src.tok_text(j)
                    )));
                }
                stop = j;
                break;
            }
        }
        if where_tok.is_some() != has_where {
            return Err(internal(
                "WHERE clause not where the parser put it".to_owned(),
            ));
        }
        let last = src
            .prev_sig(stop, from)
            .ok_or_else(|| internal("empty statement tail".to_owned()))?;
        let mut pred = self.predicate(qualifier);
        match where_tok {
            Some(w) => {
                let first = src
                    .next_sig(w, stop)
                    .ok_or_else(|| internal("empty WHERE".to_owned()))?;
                // The tenant test comes first: SQLite evaluates an AND left to right, so the
                // caller's condition (which may raise an error) never runs on another
                // tenant's row and cannot reveal anything about it.
                pred.push(text(" AND ("));
                self.cx.edits.insert(src.toks[first].start, pred);
                self.cx.edits.insert(src.toks[last].end, vec![text(")")]);
            }
            None => {
                pred.insert(0, text(" WHERE "));
                self.cx.edits.insert(src.toks[last].end, pred);
            }
        }
        Ok(())
    }

    /// Replaces `*` in RETURNING with the columns the legacy table had.
    fn scope_returning(
        &mut self,
        returning: &Option<Vec<SelectItem>>,
        table: &Table,
    ) -> Result<(), Refusal> {
        let Some(items) = returning else {
            return Ok(());
        };
        self.note_returning(returning)?;
        for item in items {
            match item {
                SelectItem::Wildcard(w) => {
                    let star = self.tok((
                        w.wildcard_token.0.span.start.line,
                        w.wildcard_token.0.span.start.column,
                    ))?;
                    let columns: Vec<String> =
                        visible_columns(table, self.cx.schema, self.cx.policy)
                            .map(|c| quote_ident(&c.name))
                            .collect();
                    let (start, end) = (self.cx.src.toks[star].start, self.cx.src.toks[star].end);
                    self.cx
                        .edits
                        .replace(start, end, vec![text(columns.join(", "))]);
                }
                SelectItem::QualifiedWildcard(..) => {
                    return Err(Refusal::Unsupported {
                        construct: "a qualified * in RETURNING".to_owned(),
                    });
                }
                SelectItem::UnnamedExpr(_)
                | SelectItem::ExprWithAlias { .. }
                | SelectItem::ExprWithAliases { .. } => {}
            }
        }
        Ok(())
    }

    /// Registers RETURNING's result columns for aliasing (their names are their text).
    fn note_returning(&mut self, returning: &Option<Vec<SelectItem>>) -> Result<(), Refusal> {
        let Some(items) = returning else {
            return Ok(());
        };
        let src = self.cx.src;
        let returning_tok = (self.seg.start..self.seg.end)
            .rev()
            .find(|&j| src.is_kw(j, Keyword::RETURNING))
            .ok_or_else(|| internal("RETURNING not found".to_owned()))?;
        let ranges = src.list_items(returning_tok, self.seg.end, &[]);
        self.cx.note_items(items, &ranges, false)
    }

    fn refuse_tenant_assignment(
        &self,
        targets: &[&AssignmentTarget],
        table: &Table,
    ) -> Result<(), Refusal> {
        let column = self.tenant_column();
        for target in targets {
            let names: Vec<&ObjectName> = match target {
                AssignmentTarget::ColumnName(n) => vec![n],
                AssignmentTarget::Tuple(ns) => ns.iter().collect(),
            };
            for n in names {
                let last =
                    n.0.last()
                        .and_then(|p| p.as_ident())
                        .map(|i| i.value.as_str());
                if last.is_some_and(|c| c.eq_ignore_ascii_case(&column)) {
                    return Err(Refusal::TenantColumnWrite {
                        table: table.name.clone(),
                        column,
                    });
                }
            }
        }
        Ok(())
    }

    /// UPDATE: target scoped by WHERE; FROM sources become derived tables (in the visitor).
    pub fn update(&mut self, update: &Update) -> Result<(), Refusal> {
        if !update.table.joins.is_empty() {
            return Err(Refusal::Unsupported {
                construct: "a join as the target of UPDATE".to_owned(),
            });
        }
        if matches!(update.from, Some(UpdateTableFromKind::BeforeSet(_))) {
            return Err(Refusal::Unsupported {
                construct: "FROM before SET in UPDATE".to_owned(),
            });
        }
        let TableFactor::Table { name, alias, .. } = &update.table.relation else {
            return Err(Refusal::Unsupported {
                construct: "UPDATE of something other than a table".to_owned(),
            });
        };
        let Some(table) = self.target(name, Access::Write, &[TriggerEvent::Update])? else {
            return self.note_returning(&update.returning);
        };
        let replaces = match update.or {
            Some(SqliteOnConflict::Replace) => Some("UPDATE OR REPLACE"),
            None if table.replaces_on_conflict => {
                Some("UPDATE (the table declares ON CONFLICT REPLACE)")
            }
            _ => None,
        };
        if let Some(verb) = replaces {
            return Err(Refusal::Replace {
                verb: verb.to_owned(),
                table: table.name.clone(),
            });
        }
        let targets: Vec<&AssignmentTarget> =
            update.assignments.iter().map(|a| &a.target).collect();
        self.refuse_tenant_assignment(&targets, table)?;
        let tail = Tail {
            returning: update.returning.is_some(),
            order_by: !update.order_by.is_empty(),
            limit: update.limit.is_some(),
        };
        let target = Target {
            name,
            alias: alias.as_ref(),
            keyword: &update.update_token,
            has_where: update.selection.is_some(),
            tail,
        };
        self.scope_target(&target)?;
        self.scope_returning(&update.returning, table)
    }

    /// Scopes the target of an UPDATE or DELETE: the tenant test, qualified with the
    /// target's alias or name, before the statement's own WHERE.
    fn scope_target(&mut self, target: &Target<'_>) -> Result<(), Refusal> {
        let qualifier_tok = match target.alias {
            Some(a) => self.tok(loc_of(&a.name))?,
            None => self.tok_of_name_end(target.name)?,
        };
        let qualifier = self.cx.src.tok_text(qualifier_tok).to_owned();
        let start = target.keyword.0.span.start;
        let from = self.tok((start.line, start.column))?;
        self.scope_where(from, target.has_where, target.tail, &qualifier)
    }

    /// DELETE: target scoped by WHERE.
    pub fn delete(&mut self, delete: &Delete) -> Result<(), Refusal> {
        let from = match &delete.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
        };
        let [only] = from.as_slice() else {
            return Err(Refusal::Unsupported {
                construct: "DELETE from several tables".to_owned(),
            });
        };
        if !delete.tables.is_empty() || delete.using.is_some() || !only.joins.is_empty() {
            return Err(Refusal::Unsupported {
                construct: "DELETE with joins".to_owned(),
            });
        }
        let TableFactor::Table { name, alias, .. } = &only.relation else {
            return Err(Refusal::Unsupported {
                construct: "DELETE from something other than a table".to_owned(),
            });
        };
        let Some(table) = self.target(name, Access::Write, &[TriggerEvent::Delete])? else {
            return self.note_returning(&delete.returning);
        };
        let tail = Tail {
            returning: delete.returning.is_some(),
            order_by: !delete.order_by.is_empty(),
            limit: delete.limit.is_some(),
        };
        let target = Target {
            name,
            alias: alias.as_ref(),
            keyword: &delete.delete_token,
            has_where: delete.selection.is_some(),
            tail,
        };
        self.scope_target(&target)?;
        self.scope_returning(&delete.returning, table)
    }

    /// INSERT: tenant column and values added; upsert scoped; REPLACE refused.
    pub fn insert(&mut self, insert: &Insert) -> Result<(), Refusal> {
        if !insert.assignments.is_empty()
            || insert.partitioned.is_some()
            || !insert.after_columns.is_empty()
            || insert.insert_alias.is_some()
            || insert.output.is_some()
            || insert.ignore
            || insert.overwrite
            || insert.table_alias.is_some()
        {
            return Err(Refusal::Unsupported {
                construct: "this form of INSERT".to_owned(),
            });
        }
        let TableObject::TableName(name) = &insert.table else {
            return Err(Refusal::Unsupported {
                construct: "INSERT into a table function".to_owned(),
            });
        };
        // An upsert's DO UPDATE updates; a REPLACE deletes the conflicting row.
        let replaces = insert.replace_into || insert.or == Some(SqliteOnConflict::Replace);
        let events: &[TriggerEvent] = match (insert.on.is_some(), replaces) {
            (_, true) => &[TriggerEvent::Insert, TriggerEvent::Delete],
            (true, false) => &[TriggerEvent::Insert, TriggerEvent::Update],
            (false, false) => &[TriggerEvent::Insert],
        };
        let Some(table) = self.target(name, Access::Write, events)? else {
            return self.note_returning(&insert.returning);
        };
        if insert.or.is_none() && !insert.replace_into && table.replaces_on_conflict {
            return Err(Refusal::Replace {
                verb: "INSERT (the table declares ON CONFLICT REPLACE)".to_owned(),
                table: table.name.clone(),
            });
        }
        if insert.replace_into || insert.or == Some(SqliteOnConflict::Replace) {
            let starts_with_replace = matches!(
                &insert.insert_token.0.token,
                Token::Word(w) if w.keyword == Keyword::REPLACE
            );
            let verb = if insert.replace_into || starts_with_replace {
                "REPLACE"
            } else {
                "INSERT OR REPLACE"
            };
            return Err(Refusal::Replace {
                verb: verb.to_owned(),
                table: table.name.clone(),
            });
        }
        let column = self.tenant_column();
        let src = self.cx.src;
        let end = self.seg.end;
        let name_end = self.tok_of_name_end(name)?;

        // Where the column list (or the source) begins.
        let mut after_target = name_end;
        let explicit_tenant = insert.columns.iter().position(|c| {
            c.0.last()
                .and_then(|p| p.as_ident())
                .is_some_and(|i| i.value.eq_ignore_ascii_case(&column))
        });
        if !insert.columns.is_empty() {
            let open = src
                .next_sig(name_end, end)
                .filter(|&i| src.toks[i].lex == Lex::LParen)
                .ok_or_else(|| internal("column list not found".to_owned()))?;
            let close = src
                .matching_paren(open, end)
                .ok_or_else(|| internal("column list not closed".to_owned()))?;
            if explicit_tenant.is_none() {
                let last_col = src
                    .prev_sig(close, open)
                    .ok_or_else(|| internal("empty column list".to_owned()))?;
                self.cx.edits.insert(
                    src.toks[last_col].end,
                    vec![text(format!(", {}", quote_ident(&column)))],
                );
            }
            after_target = close;
        }

        match (&insert.source, explicit_tenant) {
            (None, _) => {
                // DEFAULT VALUES → ("tenant_id") VALUES ('A')
                let default = src.next_sig(after_target, end);
                let values = default.and_then(|d| src.next_sig(d, end));
                match (default, values) {
                    (Some(d), Some(v))
                        if src.is_kw(d, Keyword::DEFAULT) && src.is_kw(v, Keyword::VALUES) =>
                    {
                        self.cx.edits.replace(
                            src.toks[d].start,
                            src.toks[v].end,
                            vec![
                                text(format!("({}) VALUES (", quote_ident(&column))),
                                Piece::Tenant,
                                text(")"),
                            ],
                        );
                    }
                    _ => return Err(internal("DEFAULT VALUES not found".to_owned())),
                }
            }
            (Some(query), Some(k)) => self.check_explicit_tenant(query, k, table)?,
            (Some(query), None) => {
                if insert.columns.is_empty() {
                    let list: Vec<String> = table
                        .columns
                        .iter()
                        .filter(|c| !c.generated && !c.name.eq_ignore_ascii_case(&column))
                        .map(|c| quote_ident(&c.name))
                        .chain(std::iter::once(quote_ident(&column)))
                        .collect();
                    self.cx.edits.insert(
                        src.toks[name_end].end,
                        vec![text(format!(" ({})", list.join(", ")))],
                    );
                }
                if let Some(rows) = plain_values(query) {
                    self.add_to_values(rows)?;
                } else if let (SetExpr::Select(select), None) = (query.body.as_ref(), &insert.on) {
                    // (With an upsert the wrapped form is kept: its `WHERE 1` settles
                    // whether ON belongs to the SELECT or to the INSERT.)
                    self.add_to_select_list(select)?;
                } else {
                    self.wrap_source(after_target)?;
                }
            }
        }

        if let Some(on) = &insert.on {
            match on {
                OnInsert::OnConflict(conflict) => match &conflict.action {
                    OnConflictAction::DoNothing => {}
                    OnConflictAction::DoUpdate(update) => {
                        let targets: Vec<&AssignmentTarget> =
                            update.assignments.iter().map(|a| &a.target).collect();
                        self.refuse_tenant_assignment(&targets, table)?;
                        let do_tok = self.find_do_update(after_target + 1)?;
                        let qualifier = src.tok_text(name_end).to_owned();
                        let tail = Tail {
                            returning: insert.returning.is_some(),
                            ..Tail::default()
                        };
                        self.scope_where(do_tok, update.selection.is_some(), tail, &qualifier)?;
                    }
                },
                OnInsert::DuplicateKeyUpdate(_) => {
                    return Err(Refusal::Unsupported {
                        construct: "ON DUPLICATE KEY UPDATE".to_owned(),
                    });
                }
                _ => {
                    return Err(Refusal::Unsupported {
                        construct: "this ON clause of INSERT".to_owned(),
                    });
                }
            }
        }
        self.scope_returning(&insert.returning, table)
    }

    /// An explicit tenant column is accepted only with string literals, checked against the
    /// current tenant when the SQL is rendered.
    fn check_explicit_tenant(
        &mut self,
        query: &Query,
        k: usize,
        table: &Table,
    ) -> Result<(), Refusal> {
        let unchecked = || Refusal::UncheckedTenantValue {
            table: table.name.clone(),
            column: self.cx.schema.tenant_column().to_owned(),
        };
        let Some(rows) = plain_values(query) else {
            return Err(unchecked());
        };
        for row in rows {
            match row.content.get(k) {
                Some(Expr::Value(v)) => match &v.value {
                    Value::SingleQuotedString(s) => self.checks.push(TenantCheck {
                        table: table.name.clone(),
                        value: s.clone(),
                    }),
                    _ => return Err(unchecked()),
                },
                _ => return Err(unchecked()),
            }
        }
        Ok(())
    }

    /// Adds `, <tenant>` before the closing parenthesis of every VALUES row.
    fn add_to_values(&mut self, rows: &[Parens<Vec<Expr>>]) -> Result<(), Refusal> {
        for row in rows {
            let start = row.closing_token.0.span.start;
            let close = self.tok((start.line, start.column))?;
            if self.cx.src.toks[close].lex != Lex::RParen {
                return Err(internal("VALUES row does not end with ')'".to_owned()));
            }
            let at = self.cx.src.toks[close].start;
            self.cx.edits.insert(at, vec![text(", "), Piece::Tenant]);
        }
        Ok(())
    }

    /// `INSERT INTO t (cols) SELECT a, b ...` → `... SELECT a, b, <tenant> ...`: the tenant
    /// becomes the last column of every row the SELECT produces. (A constant column changes
    /// neither DISTINCT, grouping, ordering nor the order rows are inserted in.)
    fn add_to_select_list(&mut self, select: &sqlparser::ast::Select) -> Result<(), Refusal> {
        let src = self.cx.src;
        let start = select.select_token.0.span.start;
        let mut after = self.tok((start.line, start.column))?;
        while let Some(next) = src.next_sig(after, self.seg.end) {
            if src.is_kw(next, Keyword::DISTINCT) || src.is_kw(next, Keyword::ALL) {
                after = next;
            } else {
                break;
            }
        }
        let ranges = src.list_items(after, self.seg.end, crate::scope::SELECT_LIST_END);
        let (Some(&(_, last)), true) = (ranges.last(), ranges.len() == select.projection.len())
        else {
            return Err(internal(format!(
                "{} result columns found in the text, {} parsed",
                ranges.len(),
                select.projection.len()
            )));
        };
        // Before a WINDOW clause (a FROM-less SELECT), `sqlparser` would read `'A' WINDOW` as
        // a value with the alias WINDOW: name the value, so the output parses again.
        let before_window = src
            .next_sig(last, self.seg.end)
            .is_some_and(|n| src.is_kw(n, Keyword::WINDOW));
        let mut pieces = vec![text(", "), Piece::Tenant];
        if before_window {
            pieces.push(text(format!(" AS {}", quote_ident(&self.tenant_column()))));
        }
        self.cx.edits.insert(src.toks[last].end, pieces);
        Ok(())
    }

    /// `INSERT INTO t (cols) <query>` → `... SELECT *, <tenant> FROM (<query>) WHERE 1`.
    /// (`WHERE 1` keeps SQLite from reading a following ON CONFLICT as a join constraint.)
    fn wrap_source(&mut self, after: usize) -> Result<(), Refusal> {
        let src = self.cx.src;
        let end = self.seg.end;
        let first = src
            .next_sig(after, end)
            .ok_or_else(|| internal("INSERT source not found".to_owned()))?;
        let mut stop = end;
        let sig_after = |j: usize| src.next_sig(j, end);
        for (j, depth) in src.depth_walk(first, end) {
            if depth != 0 || !src.is_sig(j) {
                continue;
            }
            let on_conflict = src.is_kw(j, Keyword::ON)
                && sig_after(j).is_some_and(|n| src.is_kw(n, Keyword::CONFLICT));
            if on_conflict || src.is_kw(j, Keyword::RETURNING) {
                stop = j;
                break;
            }
        }
        let last = src
            .prev_sig(stop, first)
            .ok_or_else(|| internal("empty INSERT source".to_owned()))?;
        self.cx.edits.insert(
            src.toks[first].start,
            vec![text("SELECT *, "), Piece::Tenant, text(" FROM (")],
        );
        self.cx
            .edits
            .insert(src.toks[last].end, vec![text(") WHERE 1")]);
        Ok(())
    }

    fn find_do_update(&self, from: usize) -> Result<usize, Refusal> {
        let src = self.cx.src;
        let end = self.seg.end;
        for (j, depth) in src.depth_walk(from, end) {
            if depth == 0
                && src.is_kw(j, Keyword::DO)
                && src
                    .next_sig(j, end)
                    .is_some_and(|n| src.is_kw(n, Keyword::UPDATE))
            {
                return Ok(j);
            }
        }
        Err(internal("DO UPDATE not found".to_owned()))
    }
}

/// The rows of a source that is nothing but `VALUES (...), (...)`.
fn plain_values(query: &Query) -> Option<&[Parens<Vec<Expr>>]> {
    let plain = query.with.is_none()
        && query.order_by.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none();
    match query.body.as_ref() {
        SetExpr::Values(values) if plain => Some(&values.rows),
        _ => None,
    }
}

fn internal(detail: String) -> Refusal {
    Refusal::Internal { detail }
}
