//! The INSERTs a tenant virtual table (FTS, R*Tree with the tenant column) refuses: special
//! commands, which work on the whole index, and an INSERT without a column list. Its reads
//! are always scoped in place (see `in_place.rs`).

use sqlparser::ast::{Insert, Statement, TableObject};

use crate::analysis::model::Context;
use crate::classify::{self, Body, Shape};
use crate::refusal::{Refusal, VirtualForm};
use crate::sql::last_ident;

/// Refuses an INSERT into a tenant virtual table that names a command column or no
/// columns.
pub(super) fn check_insert(cx: &Context<'_, '_>, statement: &Statement) -> Result<(), Refusal> {
    let Some(insert) = insert_of(statement) else {
        return Ok(());
    };
    let TableObject::TableName(name) = &insert.table else {
        return Ok(());
    };
    let Some(table) = last_ident(name).and_then(|n| cx.schema.table(&n.value)) else {
        return Ok(());
    };
    let (Some(module), true) = (table.module, table.has_column(cx.schema.tenant_column())) else {
        return Ok(());
    };
    if insert.columns.is_empty() && insert.source.is_some() {
        return Err(Refusal::VirtualTable {
            table: table.name.clone(),
            form: VirtualForm::InsertWithoutColumns,
        });
    }
    let commands = module.command_columns(&table.name);
    for column in insert.columns.iter().filter_map(last_ident) {
        if commands
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&column.value))
        {
            return Err(Refusal::VirtualTable {
                table: table.name.clone(),
                form: VirtualForm::Command {
                    column: column.value.clone(),
                },
            });
        }
    }
    Ok(())
}

/// The INSERT a statement is (through EXPLAIN and WITH).
fn insert_of(statement: &Statement) -> Option<&Insert> {
    match classify::shape(statement).ok()? {
        Shape::Insert(insert) => Some(insert),
        Shape::Explain(inner) => insert_of(inner),
        Shape::Query(query) => match classify::body(query).ok()? {
            Body::Write(inner) => insert_of(inner),
            Body::Read => None,
        },
        Shape::Update(_) | Shape::Delete(_) | Shape::Transaction => None,
    }
}
