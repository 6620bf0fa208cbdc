//! The target of INSERT, UPDATE and DELETE: which table a statement writes, whether it may
//! (policy, triggers, foreign-key actions, REPLACE, the tenant column), and — when it is a
//! tenant table — where its scoping goes ([`crate::analysis::Write`]). A written table
//! cannot be replaced by a derived table, so it is scoped in place:
//!
//! - UPDATE and DELETE: the tenant test before the statement's own condition;
//! - INSERT: the tenant column and value; an explicit tenant value is checked as
//!   [`crate::analysis::values`] says (a string literal when the plan is rendered, any
//!   other value when the statement runs, or refused);
//! - an upsert's `DO UPDATE`: the tenant test, so a conflict with another tenant's row
//!   changes nothing. REPLACE is refused: it deletes the conflicting row, whoever owns it;
//! - RETURNING `*`: the legacy columns, so it does not reveal the tenant column.

use std::ops::Range;

use sqlparser::ast::{
    AssignmentTarget, ConflictTarget, Delete, Expr, FromTable, Insert, ObjectName,
    OnConflictAction, OnInsert, Query, SelectItem, SetExpr, SqliteOnConflict, Statement,
    TableFactor, TableObject, Update, UpdateTableFromKind,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::analysis::clauses::{self, Tail, internal};
use crate::analysis::columns::{self, Naming};
use crate::analysis::keys;
use crate::analysis::model::{
    Context, Filter, InsertClauses, InsertSource, Model, TenantValues, Write, WriteClauses,
};
use crate::analysis::values;
use crate::classify::{self, Body, Shape};
use crate::objects::TriggerEvent;
use crate::refusal::{Refusal, SourceForm, WriteForm};
use crate::schema::Table;
use crate::sql::{alias_token, ident_parts, last_ident, loc_of, name_pos, token_at};
use crate::statement::{Access, TableUse};

/// Analyses the write target of `statement` (through EXPLAIN and WITH) into `model`, and
/// returns where the target names start: the walk leaves those tables alone.
pub(super) fn analyze<'s>(
    cx: &Context<'s, '_>,
    statement: &Statement,
    model: &mut Model<'s>,
) -> Result<Vec<(u64, u64)>, Refusal> {
    let mut target = Target {
        cx,
        model,
        positions: Vec::new(),
    };
    target.statement(statement)?;
    Ok(target.positions)
}

struct Target<'x, 's, 'a> {
    cx: &'x Context<'s, 'a>,
    model: &'x mut Model<'s>,
    positions: Vec<(u64, u64)>,
}

/// Refuses a write of `name` when it is the rowid of a table the tenant-first layout made
/// `WITHOUT ROWID` (no column of that name): SQLite would fail with "no such column".
fn refuse_rowid_write(name: &ObjectName, table: &Table) -> Result<(), Refusal> {
    let rowid = last_ident(name).is_some_and(|c| {
        ["rowid", "oid", "_rowid_"]
            .iter()
            .any(|r| c.value.eq_ignore_ascii_case(r))
            && !table
                .columns
                .iter()
                .any(|col| col.name.eq_ignore_ascii_case(&c.value))
    });
    if rowid && table.key.is_some() {
        return Err(Refusal::WriteForm {
            form: WriteForm::RowidWrite,
        });
    }
    Ok(())
}

/// The target of an UPDATE or DELETE, as the AST gives it.
struct Filtered<'t> {
    name: &'t ObjectName,
    alias: Option<&'t sqlparser::ast::TableAlias>,
    /// The UPDATE or DELETE keyword.
    keyword: &'t sqlparser::ast::helpers::attached_token::AttachedToken,
    /// The statement's own WHERE condition.
    selection: Option<&'t Expr>,
    has_where: bool,
    tail: Tail,
}

impl<'s> Target<'_, 's, '_> {
    fn statement(&mut self, statement: &Statement) -> Result<(), Refusal> {
        match classify::shape(statement)? {
            Shape::Query(query) => match classify::body(query)? {
                Body::Read => Ok(()),
                Body::Write(inner) => self.statement(inner),
            },
            Shape::Explain(inner) => self.statement(inner),
            Shape::Insert(insert) => self.insert(insert),
            Shape::Update(update) => self.update(update),
            Shape::Delete(delete) => self.delete(delete),
            Shape::Transaction => Ok(()),
        }
    }

    /// Resolves a write target: a table of the main schema, never a CTE (SQLite writes only
    /// real tables). Returns the table when it is tenant-scoped.
    fn resolve(
        &mut self,
        name: &ObjectName,
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
                return Err(Refusal::TableSource {
                    form: SourceForm::LongName {
                        name: name.to_string(),
                    },
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
        let schema = self.cx.schema;
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
        if let Some(pos) = name_pos(name) {
            self.positions.push(pos);
        }
        let scoped = table.has_column(schema.tenant_column());
        if !scoped && !self.cx.policy.is_global(&table.name) {
            return Err(Refusal::UndeclaredTable {
                name: table.name.clone(),
            });
        }
        self.model.tables.push(TableUse {
            name: table.name.clone(),
            scoped,
            access: Access::Write,
        });
        Ok(scoped.then_some(table))
    }

    /// Refuses a write that would fire a trigger whose body is not scoped: any such trigger
    /// on a tenant table, and one on a global table whose body names a tenant table or a
    /// table the policy does not let tenants use unscoped (one not declared global).
    fn check_triggers(&self, table: &Table, events: &[TriggerEvent]) -> Result<(), Refusal> {
        let schema = self.cx.schema;
        let scoped = table.has_column(schema.tenant_column());
        // Rows that only a scoped statement may reach: a tenant table's, or those of a
        // table without the tenant column that is not declared global.
        let undeclared = |name: &str| !schema.is_scoped(name) && !self.cx.policy.is_global(name);
        let guarded = |name: &str| schema.is_scoped(name) || undeclared(name);
        // A foreign-key action from a global table reaches every tenant's rows of a tenant
        // child, and from any table every row of an undeclared one.
        for &event in events {
            let child = schema.tables().find(|child| {
                (if scoped {
                    undeclared(&child.name)
                } else {
                    guarded(&child.name)
                }) && child.foreign_keys.iter().any(|fk| {
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
        for &event in events {
            for trigger in schema.unscoped_triggers(&table.name, event) {
                let reaches_tenant_rows = scoped
                    || schema
                        .tables()
                        .any(|t| guarded(&t.name) && trigger.mentions(&t.name));
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

    fn refuse_tenant_assignment(
        &self,
        targets: &[&AssignmentTarget],
        table: &Table,
    ) -> Result<(), Refusal> {
        let column = self.cx.schema.tenant_column();
        for target in targets {
            let names: Vec<&ObjectName> = match target {
                AssignmentTarget::ColumnName(n) => vec![n],
                AssignmentTarget::Tuple(ns) => ns.iter().collect(),
            };
            for n in names {
                if last_ident(n).is_some_and(|c| c.value.eq_ignore_ascii_case(column)) {
                    return Err(Refusal::TenantColumnWrite {
                        table: table.name.clone(),
                        column: column.to_owned(),
                    });
                }
                refuse_rowid_write(n, table)?;
            }
        }
        Ok(())
    }

    /// An upsert's `DO UPDATE` assignments: on a tenant connection the tenant column may be
    /// given a value checked when it runs (`tenant_id = excluded.tenant_id`: the row it
    /// updates is the tenant's, so the value must be the tenant); otherwise, and for any
    /// other form, setting it is refused.
    fn upsert_assignments(
        &mut self,
        assignments: &[sqlparser::ast::Assignment],
        table: &Table,
    ) -> Result<(), Refusal> {
        let column = self.cx.schema.tenant_column();
        let mut others = Vec::new();
        for assignment in assignments {
            let is_tenant = match &assignment.target {
                AssignmentTarget::ColumnName(n) => {
                    last_ident(n).is_some_and(|c| c.value.eq_ignore_ascii_case(column))
                }
                AssignmentTarget::Tuple(_) => false,
            };
            if is_tenant && self.cx.tenant_values == TenantValues::Checked {
                values::assignment(self.cx, self.model, &assignment.value, table)?;
            } else {
                others.push(&assignment.target);
            }
        }
        self.refuse_tenant_assignment(&others, table)
    }

    /// RETURNING's result columns, recorded for aliasing (their names are their text).
    fn note_returning(&mut self, returning: &Option<Vec<SelectItem>>) -> Result<(), Refusal> {
        let Some(items) = returning else {
            return Ok(());
        };
        let src = self.cx.src;
        let seg = self.cx.seg.clone();
        let returning_tok = clauses::returning_keyword(src, seg.clone())?;
        let ranges = src.list_items(returning_tok, seg.end, &[]);
        let found = columns::candidates(src, seg.end, items, &ranges, &Naming::Returning)?;
        self.model.columns.extend(found);
        Ok(())
    }

    /// RETURNING of a tenant table: its columns recorded, and where each `*` is (it becomes
    /// the columns the legacy table had).
    fn returning(
        &mut self,
        returning: &Option<Vec<SelectItem>>,
    ) -> Result<Vec<Range<usize>>, Refusal> {
        let Some(items) = returning else {
            return Ok(Vec::new());
        };
        self.note_returning(returning)?;
        let src = self.cx.src;
        let mut stars = Vec::new();
        for item in items {
            match item {
                SelectItem::Wildcard(w) => {
                    let start = w.wildcard_token.0.span.start;
                    let star = token_at(src, (start.line, start.column))?;
                    stars.push(src.toks[star].start..src.toks[star].end);
                }
                SelectItem::QualifiedWildcard(..) => {
                    return Err(Refusal::WriteForm {
                        form: WriteForm::QualifiedReturningStar,
                    });
                }
                SelectItem::UnnamedExpr(_)
                | SelectItem::ExprWithAlias { .. }
                | SelectItem::ExprWithAliases { .. } => {}
            }
        }
        Ok(stars)
    }

    /// UPDATE: target scoped by WHERE; FROM sources become derived tables (in the walk).
    fn update(&mut self, update: &Update) -> Result<(), Refusal> {
        let refuse = |form| Err(Refusal::WriteForm { form });
        if !update.table.joins.is_empty() {
            return refuse(WriteForm::UpdateOfJoin);
        }
        if matches!(update.from, Some(UpdateTableFromKind::BeforeSet(_))) {
            return refuse(WriteForm::UpdateFromBeforeSet);
        }
        let TableFactor::Table { name, alias, .. } = &update.table.relation else {
            return refuse(WriteForm::UpdateOfNonTable);
        };
        let Some(table) = self.resolve(name, &[TriggerEvent::Update])? else {
            return self.note_returning(&update.returning);
        };
        let replaces = match update.or {
            Some(SqliteOnConflict::Replace) => Some("UPDATE OR REPLACE"),
            None if table.replaces_on_conflict => {
                Some("UPDATE (the table declares ON CONFLICT REPLACE)")
            }
            Some(
                SqliteOnConflict::Rollback
                | SqliteOnConflict::Abort
                | SqliteOnConflict::Fail
                | SqliteOnConflict::Ignore,
            )
            | None => None,
        };
        // With per-tenant keys every conflict is with the tenant's own row.
        if let (Some(verb), false) = (replaces, table.tenant_keys) {
            return Err(Refusal::Replace {
                verb: verb.to_owned(),
                table: table.name.clone(),
            });
        }
        if let Some(verb) = replaces
            && self.cx.schema.deletes_run_actions_by_trigger(&table.name)
        {
            return Err(Refusal::ReplaceSkipsAction {
                verb: verb.to_owned(),
                table: table.name.clone(),
            });
        }
        let targets: Vec<&AssignmentTarget> =
            update.assignments.iter().map(|a| &a.target).collect();
        self.refuse_tenant_assignment(&targets, table)?;
        self.scope_filtered(
            table,
            &Filtered {
                name,
                alias: alias.as_ref(),
                keyword: &update.update_token,
                selection: update.selection.as_ref(),
                has_where: update.selection.is_some(),
                tail: Tail {
                    returning: update.returning.is_some(),
                    order_by: !update.order_by.is_empty(),
                    limit: update.limit.is_some(),
                },
            },
            &update.returning,
        )
    }

    /// An UPDATE's or DELETE's target, a tenant table: its tenant test, the tenant values
    /// its WHERE compares with the tenant column, its RETURNING.
    fn scope_filtered(
        &mut self,
        table: &'s Table,
        target: &Filtered<'_>,
        returning: &Option<Vec<SelectItem>>,
    ) -> Result<(), Refusal> {
        let filter = self.filter(target)?;
        if let Some(selection) = target.selection {
            let qualifier = match target.alias {
                Some(alias) => alias.name.value.clone(),
                None => last_ident(target.name)
                    .map(|i| i.value.clone())
                    .unwrap_or_default(),
            };
            values::filter(self.cx, self.model, selection, table, &qualifier)?;
        }
        let returning_stars = self.returning(returning)?;
        self.model.write = Some(Write {
            table,
            clauses: WriteClauses::Filter(filter),
            returning_stars,
        });
        Ok(())
    }

    /// The tenant test of an UPDATE or DELETE, qualified with the target's alias or name,
    /// before the statement's own WHERE.
    fn filter(&self, target: &Filtered<'_>) -> Result<Filter, Refusal> {
        let src = self.cx.src;
        let name_end = self.name_end(target.name)?;
        let qualifier_tok = match target.alias {
            Some(a) => alias_token(src, name_end, &a.name)?,
            None => name_end,
        };
        let qualifier = src.tok_text(qualifier_tok).to_owned();
        let start = target.keyword.0.span.start;
        let from = token_at(src, (start.line, start.column))?;
        let place =
            clauses::filter_place(src, self.cx.seg.end, from, target.has_where, target.tail)?;
        // After the name and alias, unless the statement names an index there itself.
        let hinted = src
            .next_sig(qualifier_tok, self.cx.seg.end)
            .is_some_and(|n| src.is_kw(n, Keyword::INDEXED) || src.is_kw(n, Keyword::NOT));
        let index_at = (!hinted).then(|| src.toks[qualifier_tok].end);
        Ok(Filter {
            qualifier,
            place,
            index_at,
        })
    }

    /// DELETE: target scoped by WHERE.
    fn delete(&mut self, delete: &Delete) -> Result<(), Refusal> {
        let refuse = |form| Err(Refusal::WriteForm { form });
        let from = match &delete.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
        };
        let [only] = from.as_slice() else {
            return refuse(WriteForm::DeleteFromSeveralTables);
        };
        if !delete.tables.is_empty() || delete.using.is_some() || !only.joins.is_empty() {
            return refuse(WriteForm::DeleteWithJoins);
        }
        let TableFactor::Table { name, alias, .. } = &only.relation else {
            return refuse(WriteForm::DeleteFromNonTable);
        };
        let Some(table) = self.resolve(name, &[TriggerEvent::Delete])? else {
            return self.note_returning(&delete.returning);
        };
        self.scope_filtered(
            table,
            &Filtered {
                name,
                alias: alias.as_ref(),
                keyword: &delete.delete_token,
                selection: delete.selection.as_ref(),
                has_where: delete.selection.is_some(),
                tail: Tail {
                    returning: delete.returning.is_some(),
                    order_by: !delete.order_by.is_empty(),
                    limit: delete.limit.is_some(),
                },
            },
            &delete.returning,
        )
    }

    /// INSERT: where the tenant column and values go; upsert scoped; REPLACE refused.
    fn insert(&mut self, insert: &Insert) -> Result<(), Refusal> {
        if !insert.assignments.is_empty()
            || insert.partitioned.is_some()
            || !insert.after_columns.is_empty()
            || insert.insert_alias.is_some()
            || insert.output.is_some()
            || insert.ignore
            || insert.overwrite
            || insert.table_alias.is_some()
        {
            return Err(Refusal::WriteForm {
                form: WriteForm::OtherInsert,
            });
        }
        let name = match &insert.table {
            TableObject::TableName(name) => name,
            TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                return Err(Refusal::WriteForm {
                    form: WriteForm::InsertIntoFunction,
                });
            }
        };
        // An upsert's DO UPDATE updates; a REPLACE deletes the conflicting row.
        let replaces = insert.replace_into || insert.or == Some(SqliteOnConflict::Replace);
        let events: &[TriggerEvent] = match (insert.on.is_some(), replaces) {
            (_, true) => &[TriggerEvent::Insert, TriggerEvent::Delete],
            (true, false) => &[TriggerEvent::Insert, TriggerEvent::Update],
            (false, false) => &[TriggerEvent::Insert],
        };
        let Some(table) = self.resolve(name, events)? else {
            return self.note_returning(&insert.returning);
        };
        let verb = if replaces {
            let starts_with_replace = matches!(
                &insert.insert_token.0.token,
                Token::Word(w) if w.keyword == Keyword::REPLACE
            );
            Some(if insert.replace_into || starts_with_replace {
                "REPLACE"
            } else {
                "INSERT OR REPLACE"
            })
        } else if insert.or.is_none() && table.replaces_on_conflict {
            Some("INSERT (the table declares ON CONFLICT REPLACE)")
        } else {
            None
        };
        if let Some(verb) = verb {
            // With per-tenant keys every conflict is with the tenant's own row; but the rows
            // a REPLACE deletes fire no trigger, so not where a trigger runs a key's action.
            if !table.tenant_keys {
                return Err(Refusal::Replace {
                    verb: verb.to_owned(),
                    table: table.name.clone(),
                });
            }
            if self.cx.schema.deletes_run_actions_by_trigger(&table.name) {
                return Err(Refusal::ReplaceSkipsAction {
                    verb: verb.to_owned(),
                    table: table.name.clone(),
                });
            }
        }
        for listed in &insert.columns {
            refuse_rowid_write(listed, table)?;
        }
        let column = self.cx.schema.tenant_column();
        let src = self.cx.src;
        let end = self.cx.seg.end;
        let name_end = self.name_end(name)?;

        // Where the column list (or the source) begins.
        let mut after_target = name_end;
        let explicit_tenant = if insert.columns.is_empty() {
            // Without a column list, the application's own tenant column is given by
            // position, as before migration.
            self.cx
                .schema
                .has_own_tenant_column(&table.name)
                .then(|| {
                    table
                        .columns
                        .iter()
                        .filter(|c| !c.generated)
                        .position(|c| c.name.eq_ignore_ascii_case(column))
                })
                .flatten()
        } else {
            insert
                .columns
                .iter()
                .position(|c| last_ident(c).is_some_and(|i| i.value.eq_ignore_ascii_case(column)))
        };
        let mut column_at = None;
        if !insert.columns.is_empty() {
            let (open, close) = clauses::column_list(src, end, name_end)?;
            if explicit_tenant.is_none() {
                let last_col = src
                    .prev_sig(close, open)
                    .ok_or_else(|| internal("empty column list".to_owned()))?;
                column_at = Some(src.toks[last_col].end);
            }
            after_target = close;
        }

        let mut column_list = None;
        let keyed = table.allocated_key().is_some();
        let mut source = match (&insert.source, explicit_tenant) {
            // DEFAULT VALUES → ("tenant_id") VALUES ('A')
            (None, _) => clauses::default_values(src, end, after_target)?,
            (Some(query), Some(k)) => {
                values::insert(self.cx, self.model, query, plain_values(query), k, table)?;
                InsertSource::Explicit
            }
            (Some(query), None) => {
                if insert.columns.is_empty() {
                    column_list = Some(src.toks[name_end].end);
                }
                if let Some(rows) = plain_values(query) {
                    clauses::values_rows(src, rows)?
                } else if let (SetExpr::Select(select), None, false) =
                    (query.body.as_ref(), &insert.on, keyed)
                {
                    // (With an upsert the wrapped form is kept: its `WHERE 1` settles
                    // whether ON belongs to the SELECT or to the INSERT. A keyed INSERT
                    // numbers the source's rows, which needs the wrapped form too.)
                    clauses::select_list(src, end, select)?
                } else {
                    let bytes = clauses::source_bytes(src, end, after_target)?;
                    InsertSource::Wrapped {
                        start: bytes.start,
                        end: bytes.end,
                        add_tenant: true,
                    }
                }
            }
        };

        let mut key = keys::analyze(
            self.cx,
            table,
            &keys::Shape {
                insert,
                name_end,
                after_target,
                values: insert.source.as_deref().and_then(plain_values),
            },
            &mut source,
        )?;
        if let Some(key) = &mut key {
            key.returned = keys::returned_key_reads(self.cx, insert)?;
        }
        let conflict_target = match &insert.on {
            Some(OnInsert::OnConflict(conflict))
                if table.tenant_keys
                    || names_key_without_tenant(
                        table,
                        conflict.conflict_target.as_ref(),
                        column,
                    ) =>
            {
                self.conflict_target(conflict.conflict_target.as_ref())?
            }
            _ => None,
        };
        let upsert = match &insert.on {
            None => None,
            Some(OnInsert::OnConflict(conflict)) => match &conflict.action {
                OnConflictAction::DoNothing => None,
                OnConflictAction::DoUpdate(update) => {
                    self.upsert_assignments(&update.assignments, table)?;
                    let do_tok = clauses::do_update(src, end, after_target + 1)?;
                    let tail = Tail {
                        returning: insert.returning.is_some(),
                        ..Tail::default()
                    };
                    let place =
                        clauses::filter_place(src, end, do_tok, update.selection.is_some(), tail)?;
                    Some(Filter {
                        qualifier: src.tok_text(name_end).to_owned(),
                        place,
                        index_at: None,
                    })
                }
            },
            Some(OnInsert::DuplicateKeyUpdate(_)) => {
                return Err(Refusal::WriteForm {
                    form: WriteForm::OnDuplicateKeyUpdate,
                });
            }
            Some(_) => {
                return Err(Refusal::WriteForm {
                    form: WriteForm::OtherInsertOn,
                });
            }
        };
        let returning_stars = self.returning(&insert.returning)?;
        self.model.write = Some(Write {
            table,
            clauses: WriteClauses::Insert(InsertClauses {
                column: column_at,
                column_list,
                source,
                upsert,
                conflict_target,
                key,
            }),
            returning_stars,
        });
        Ok(())
    }

    /// Where the tenant column goes in an upsert's conflict target on a table with
    /// per-tenant keys (after its last column), so that it names the per-tenant key; none
    /// when the target already names the tenant column, or there is no column list.
    fn conflict_target(&self, target: Option<&ConflictTarget>) -> Result<Option<usize>, Refusal> {
        let tenant_column = self.cx.schema.tenant_column();
        match target {
            Some(ConflictTarget::Columns { columns, .. }) => {
                if columns
                    .iter()
                    .any(|c| c.value.eq_ignore_ascii_case(tenant_column))
                {
                    return Ok(None);
                }
                let Some(last) = columns.last() else {
                    return Ok(None);
                };
                let tok = token_at(self.cx.src, loc_of(last))?;
                Ok(Some(self.cx.src.toks[tok].end))
            }
            // A named constraint is the table's own; SQLite has none of these.
            Some(ConflictTarget::OnConstraint(_)) | None => Ok(None),
        }
    }

    /// The token of a table name's last part.
    fn name_end(&self, name: &ObjectName) -> Result<usize, Refusal> {
        let last = last_ident(name)
            .ok_or_else(|| internal(format!("table name {name} has no identifier")))?;
        token_at(self.cx.src, loc_of(last))
    }
}

/// Whether an upsert's conflict target names, without the tenant column, a key of `table`
/// that holds it: a table the tenant-first migration kept a rowid table (no primary key, or
/// one that held a NULL) has its `UNIQUE (k)` as `UNIQUE (tenant_id, k)`, which the legacy
/// `ON CONFLICT (k)` must name with the tenant column to match. Not when a key of exactly
/// the target's columns exists (the column layout's keys stay global).
fn names_key_without_tenant(
    table: &Table,
    target: Option<&ConflictTarget>,
    tenant_column: &str,
) -> bool {
    let Some(ConflictTarget::Columns { columns, .. }) = target else {
        return false;
    };
    let named = |key_columns: &[&String]| {
        key_columns.len() == columns.len()
            && key_columns
                .iter()
                .all(|k| columns.iter().any(|c| c.value.eq_ignore_ascii_case(k)))
    };
    let exact = table
        .unique_keys
        .iter()
        .any(|k| named(&k.columns.iter().collect::<Vec<_>>()));
    let with_tenant = table.unique_keys.iter().any(|k| {
        k.includes(tenant_column)
            && named(
                &k.columns
                    .iter()
                    .filter(|c| !c.eq_ignore_ascii_case(tenant_column))
                    .collect::<Vec<_>>(),
            )
    });
    !exact && with_tenant
}

/// The rows of a source that is nothing but `VALUES (...), (...)`.
pub(super) fn plain_values(query: &Query) -> Option<&[sqlparser::ast::Parens<Vec<Expr>>]> {
    let plain = query.with.is_none()
        && query.order_by.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none();
    match query.body.as_ref() {
        SetExpr::Values(values) => plain.then_some(values.rows.as_slice()),
        SetExpr::Select(_)
        | SetExpr::Query(_)
        | SetExpr::SetOperation { .. }
        | SetExpr::Insert(_)
        | SetExpr::Update(_)
        | SetExpr::Delete(_)
        | SetExpr::Merge(_)
        | SetExpr::Table(_) => None,
    }
}
