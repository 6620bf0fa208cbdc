//! Triggers on tenant tables: planned with the rest of the migration, each one's body scoped
//! to the tenant of the row that fires it, and replaced inside the migration's transaction.
//!
//! A trigger body is SQL that no connection sees: it runs inside the statement that fires
//! it. Rewritten by [`tenantry_rewrite::Rewriter::scope_trigger`], a trigger that updated
//! `inventory` for `NEW.product_id` updates only the inventory of `NEW.tenant_id`, which on
//! a database holding one tenant is exactly what it did before. A trigger that cannot be
//! scoped stays as it was, is reported as a risk, and tenant connections refuse the
//! statements that would fire it.

use rusqlite::Connection;
use serde::Serialize;
use tenantry_rewrite::{Column, Rewriter, Schema};

use crate::error::{Error, Result, Step};
use crate::inspect::Catalog;
use crate::sql;

/// A trigger the migration replaces with its scoped form.
#[derive(Clone, Debug, Serialize)]
pub struct ScopedTrigger {
    /// The trigger's name.
    pub name: String,
    /// The table it fires on.
    pub on: String,
    /// Its new `CREATE TRIGGER` text.
    pub sql: String,
}

/// A trigger on a tenant table that stays unscoped, and why.
#[derive(Clone, Debug)]
pub(crate) struct Unscopable {
    pub name: String,
    pub reason: String,
}

/// A rewriter for the schema as it will be after the migration, or why there is none.
pub(crate) type RewriterAfter = std::result::Result<Rewriter, String>;

/// For each trigger on a table in `scoped`: its scoped form, or why there is none. Triggers
/// already scoped (a resumed migration) are left out.
pub(crate) fn plan(
    catalog: &Catalog,
    scoped: &[&str],
    after: &RewriterAfter,
) -> (Vec<ScopedTrigger>, Vec<Unscopable>) {
    let mut changes = Vec::new();
    let mut unscopable = Vec::new();
    for trigger in catalog
        .triggers
        .iter()
        .filter(|t| scoped.iter().any(|s| s.eq_ignore_ascii_case(&t.on)))
    {
        let rewriter = match after {
            Ok(rewriter) => rewriter,
            Err(reason) => {
                unscopable.push(Unscopable {
                    name: trigger.name.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
        };
        match rewriter.scope_trigger(&trigger.sql) {
            Ok(new) if new == trigger.sql => {}
            Ok(new) => changes.push(ScopedTrigger {
                name: trigger.name.clone(),
                on: trigger.on.clone(),
                sql: new,
            }),
            Err(e) => unscopable.push(Unscopable {
                name: trigger.name.clone(),
                reason: e.to_string(),
            }),
        }
    }
    (changes, unscopable)
}

/// A rewriter for the schema as it will be after the migration: the tables of `scoped`
/// with the tenant column, and the views. `Ok(Err)` when the tables' SQL cannot be read.
pub(crate) fn rewriter_after(
    conn: &Connection,
    scoped: &[&str],
    column: &str,
) -> Result<RewriterAfter> {
    let mut stmt = conn
        .prepare(
            "SELECT sql FROM sqlite_schema WHERE type IN ('table', 'view') AND sql IS NOT NULL \
             ORDER BY rowid",
        )
        .map_err(Error::sqlite(Step::Plan, None))?;
    let ddl = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(Error::sqlite(Step::Plan, None))?;
    let build = || -> std::result::Result<Schema, tenantry_rewrite::SchemaError> {
        let before = Schema::from_sql(&ddl.join(";\n"), column)?;
        let mut after = Schema::new(column)?;
        for table in before.tables() {
            let mut table = table.clone();
            let gets_column = scoped.iter().any(|s| s.eq_ignore_ascii_case(&table.name));
            if gets_column && !table.has_column(column) {
                table.columns.push(Column::new(column));
            }
            after.add_table(table)?;
        }
        for view in before.views() {
            after.add_view(view.clone())?;
        }
        Ok(after)
    };
    Ok(build()
        .map(Rewriter::new)
        .map_err(|e| format!("the schema could not be read to scope it: {e}")))
}

/// Replaces each trigger with its scoped form, inside the caller's transaction.
pub(crate) fn apply(conn: &Connection, triggers: &[ScopedTrigger]) -> Result<()> {
    for trigger in triggers {
        tracing::debug!(trigger = %trigger.name, on = %trigger.on, "scoping the trigger's body");
        conn.execute_batch(&format!(
            "DROP TRIGGER {};\n{};",
            sql::ident(&trigger.name),
            trigger.sql
        ))
        .map_err(Error::sqlite(Step::ScopeTriggers, Some(&trigger.name)))?;
    }
    Ok(())
}
