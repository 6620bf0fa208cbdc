//! Statements that may touch what the rewriter cannot see, refused before anything else
//! is read: a schema object whose text could not be read ([`crate::Unreadable`]), and a
//! virtual table's shadow tables, which hold every tenant's data.
//!
//! Conservative by design: a statement is refused when its text names such an object as a
//! word anywhere (quoted or not, whatever the word means there). A write is refused too when
//! it names a table whose writes could fire an unreadable trigger, or a trigger whose body
//! names an unreadable object: the trigger on that table, a foreign-key action into it, or a
//! trigger on another table that writes it.

use sqlparser::ast::Statement;

use crate::analysis::model::{Context, Words};
use crate::classify::{self, Body, Shape};
use crate::refusal::Refusal;
use crate::schema::Schema;
use crate::unreadable::{ObjectKind, Unreadable};

/// Refuses a statement that may touch an unreadable object or a shadow table.
pub(super) fn check(
    cx: &Context<'_, '_>,
    statement: &Statement,
    words: &Words,
) -> Result<(), Refusal> {
    let schema = cx.schema;
    let refuse = |object: &Unreadable| Refusal::UnreadableObject {
        name: object.name.clone(),
        kind: object.kind,
        reason: object.reason.clone(),
    };
    for object in schema.unreadable() {
        if object.kind != ObjectKind::Trigger && words.spells(&object.name) {
            return Err(refuse(object));
        }
    }
    if writes(statement) {
        for object in schema.unreadable() {
            // The tables whose writes run the object: an unreadable trigger's table, or the
            // tables of the triggers whose bodies name the unreadable object.
            let seeds: Vec<String> = match (object.kind, &object.table) {
                (ObjectKind::Trigger, Some(table)) => vec![table.clone()],
                // A trigger on a table we cannot name could be on any table.
                (ObjectKind::Trigger, None) => return Err(refuse(object)),
                _ => schema
                    .triggers()
                    .iter()
                    .filter(|t| t.mentions(&object.name))
                    .map(|t| t.table.clone())
                    .collect(),
            };
            if reach(schema, seeds).iter().any(|t| words.spells(t)) {
                return Err(refuse(object));
            }
        }
    }
    // Shadow tables exist only beside virtual tables; most schemas have none, and the
    // lookups below cost more than the rest of this check.
    let has_virtual = schema.tables().any(|t| t.module.is_some())
        || schema
            .unreadable()
            .iter()
            .any(|u| u.kind == ObjectKind::VirtualTable);
    if !has_virtual {
        return Ok(());
    }
    for table in schema.tables() {
        if let Some(module) = table.module {
            for suffix in module.shadow_suffixes() {
                let shadow = format!("{}_{suffix}", table.name);
                if words.spells(&shadow) {
                    return Err(Refusal::ShadowTable {
                        name: shadow,
                        table: table.name.clone(),
                    });
                }
            }
        }
        if let Some(owner) = schema.shadow_owner(&table.name)
            && words.spells(&table.name)
        {
            return Err(Refusal::ShadowTable {
                name: table.name.clone(),
                table: owner.to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether the statement writes (INSERT, UPDATE or DELETE, through EXPLAIN and WITH).
fn writes(statement: &Statement) -> bool {
    match classify::shape(statement) {
        Ok(Shape::Insert(_) | Shape::Update(_) | Shape::Delete(_)) => true,
        Ok(Shape::Explain(inner)) => writes(inner),
        Ok(Shape::Query(query)) => match classify::body(query) {
            Ok(Body::Write(inner)) => writes(inner),
            Ok(Body::Read) | Err(_) => false,
        },
        Ok(Shape::Transaction) | Err(_) => false,
    }
}

/// The tables whose writes can reach the `seeds` (lower case): the seeds, the parents whose
/// foreign-key actions change their rows, and the tables whose triggers name them.
fn reach(schema: &Schema, seeds: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut todo = seeds;
    while let Some(table) = todo.pop() {
        let lower = table.to_ascii_lowercase();
        if out.contains(&lower) {
            continue;
        }
        if let Some(t) = schema.table(&lower) {
            todo.extend(
                t.foreign_keys
                    .iter()
                    .filter(|fk| fk.acts_on_delete || fk.acts_on_update)
                    .map(|fk| fk.parent.clone()),
            );
        }
        todo.extend(
            schema
                .triggers()
                .iter()
                .filter(|t| t.mentions(&lower))
                .map(|t| t.table.clone()),
        );
        out.push(lower);
    }
    out
}
