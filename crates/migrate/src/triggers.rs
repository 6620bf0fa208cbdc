//! Triggers on tenant tables: planned with the rest of the migration, each one's body scoped
//! to the tenant of the row that fires it, and replaced inside the migration's transaction.
//!
//! A trigger body is SQL that no connection sees: it runs inside the statement that fires
//! it. Rewritten by [`tenantry_rewrite::Rewriter::scope_trigger`], a trigger that updated
//! `inventory` for `NEW.product_id` updates only the inventory of `NEW.tenant_id`, which on
//! a database holding one tenant is exactly what it did before. A trigger that cannot be
//! scoped stays as it was, is reported as a risk, and tenant connections refuse the
//! statements that would fire it.
//!
//! Foreign keys between tenant tables get guard triggers too: SQLite checks a key against
//! every tenant's rows, so without them a tenant could hang its row on another tenant's
//! (and that tenant's `ON DELETE CASCADE` would then reach it).

use rusqlite::Connection;
use serde::Serialize;
use tenantry_rewrite::{Column, Rewriter, SCOPED_TRIGGER_MARK, Schema};

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
/// already scoped (a resumed migration) are left out, unless `originals` holds the text
/// they had before an earlier migration scoped them: that text is scoped again, for the
/// schema as it will be.
pub(crate) fn plan(
    catalog: &Catalog,
    scoped: &[&str],
    after: &RewriterAfter,
    originals: &[(String, String)],
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
        let original = originals
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&trigger.name))
            .map(|(_, sql)| sql.as_str())
            .filter(|_| trigger.sql.contains(SCOPED_TRIGGER_MARK));
        match rewriter.scope_trigger(original.unwrap_or(&trigger.sql)) {
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

/// The triggers as they were before the last recorded migration scoped them, read from its
/// backup (name, `CREATE TRIGGER` text); none when no backup is recorded or it cannot be
/// read (the triggers then keep the scoping they have, which is still correct).
pub(crate) fn originals(conn: &Connection) -> Result<Vec<(String, String)>> {
    let Some(backup) = crate::record::last(conn)?.and_then(|r| r.backup) else {
        return Ok(Vec::new());
    };
    let read = || -> rusqlite::Result<Vec<(String, String)>> {
        let copy = Connection::open_with_flags(
            &backup,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut stmt = copy.prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND sql IS NOT NULL",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    };
    Ok(read().unwrap_or_else(|e| {
        tracing::warn!(backup = %backup.display(), error = %e, "the earlier migration's backup cannot be read; triggers it scoped keep their scoping");
        Vec::new()
    }))
}

/// A rewriter for the schema as it will be after the migration: the tables of `scoped`
/// with the tenant column, and the views. `Ok(Err)` when the tables' SQL cannot be read.
pub(crate) fn rewriter_after(
    conn: &Connection,
    scoped: &[&str],
    column: &str,
    replaced: &[(&str, &str)],
    added: &[&str],
) -> Result<RewriterAfter> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type IN ('table', 'view', 'index') \
             AND sql IS NOT NULL ORDER BY rowid",
        )
        .map_err(Error::sqlite(Step::Plan, None))?;
    let objects = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(Error::sqlite(Step::Plan, None))?;
    // The tables the rebuild replaces are read as they will be (indexes included: the
    // rebuild leads each with the tenant column, which the rewriter only needs to know of
    // unique ones, and those the rebuild writes itself).
    let ddl: Vec<&str> = objects
        .iter()
        .map(|(name, sql)| {
            replaced
                .iter()
                .find(|(r, _)| r.eq_ignore_ascii_case(name))
                .map_or(sql.as_str(), |(_, new)| *new)
        })
        .chain(added.iter().copied())
        .collect();
    let build = || -> std::result::Result<Schema, tenantry_rewrite::SchemaError> {
        let before = Schema::from_objects(&ddl, column)?;
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
        // The rebuild's foreign-key action triggers (marked): a trigger body's REPLACE on
        // their table must be refused, since SQLite would not run them for it.
        for trigger in before.triggers().iter().filter(|t| {
            t.scoped
                && t.name
                    .to_ascii_lowercase()
                    .starts_with(tenantry_rewrite::FK_ACTION_TRIGGER_PREFIX)
        }) {
            after.add_trigger(trigger.clone());
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

/// For each foreign key between two tenant tables: triggers that stop a row from
/// referencing another tenant's row (on INSERT, and on UPDATE of the key or the tenant).
///
/// SQLite checks a foreign key against every row of the parent table, whoever owns it. A
/// tenant could otherwise hang its row on another tenant's (learning that the key exists),
/// and that tenant's own `DELETE` would then cascade into it. The trigger raises the error
/// SQLite raises for a missing parent, so another tenant's row looks like no row. Triggers
/// that exist already (a resumed migration) are left out.
pub(crate) fn plan_fk_guards(
    catalog: &Catalog,
    scoped: &[&str],
    column: &str,
) -> (Vec<ScopedTrigger>, Vec<UnindexedKey>) {
    let is_scoped = |t: &str| scoped.iter().any(|s| s.eq_ignore_ascii_case(t));
    let mut checks = Vec::new();
    let mut unindexed = Vec::new();
    for child_info in catalog.tables.iter().filter(|t| is_scoped(&t.name)) {
        let child = child_info.name.as_str();
        for key in crate::inspect::resolved_foreign_keys(catalog, child) {
            let Some(parent) = catalog.table(&key.parent).filter(|p| is_scoped(&p.name)) else {
                continue;
            };
            let child_cols: Vec<&str> = key.child_cols.iter().map(String::as_str).collect();
            let parent_cols: Vec<&str> = key.parent_cols.iter().map(String::as_str).collect();
            let key = Key {
                child,
                parent: &parent.name,
                child_cols: &child_cols,
                parent_cols: &parent_cols,
                column,
            };
            // The parent-side check looks up the child's rows by the key: without an index
            // on the child's columns that is a scan of the child table on every insert of a
            // parent row. It is left out then, and the key reported.
            checks.push(key.check(Side::Child));
            if indexed(child_info, &child_cols) {
                checks.push(key.check(Side::Parent));
            } else {
                unindexed.push(UnindexedKey {
                    table: child.to_owned(),
                    columns: child_cols.iter().map(|c| (*c).to_owned()).collect(),
                    parent: parent.name.clone(),
                });
            }
        }
    }
    let guards = guards_of(checks, column)
        .into_iter()
        .filter(|g| {
            !catalog
                .triggers
                .iter()
                .any(|t| t.name.eq_ignore_ascii_case(&g.name))
        })
        .collect();
    (guards, unindexed)
}

/// Whether a trigger is a foreign-key guard created by the `column` layout (an earlier
/// release's only layout): composite foreign keys replace it in the tenant-first schema.
pub(crate) fn is_guard_of_earlier_release(name: &str, sql: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("tenantry_fk_")
        && (lower.ends_with("_insert") || lower.ends_with("_update"))
        && sql.contains(SCOPED_TRIGGER_MARK)
        && sql.contains("RAISE(ABORT, 'FOREIGN KEY constraint failed')")
}

/// A foreign key between tenant tables whose child columns no index leads with.
#[derive(Clone, Debug)]
pub(crate) struct UnindexedKey {
    pub table: String,
    pub columns: Vec<String>,
    pub parent: String,
}

/// Whether an index of `table` (not partial) starts with exactly `columns`, in any order,
/// or `columns` is its INTEGER PRIMARY KEY: an equality on them is one index probe.
fn indexed(table: &crate::inspect::TableInfo, columns: &[&str]) -> bool {
    let k = columns.len();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let by_index = table.indexes.iter().any(|index| {
        !index.partial
            && index.columns.len() >= k
            && index.columns[..k].iter().all(|c| {
                c.as_deref()
                    .is_some_and(|c| columns.iter().any(|w| same(w, c)))
            })
    });
    let pk: Vec<&crate::inspect::ColumnInfo> = table.columns.iter().filter(|c| c.pk > 0).collect();
    let by_rowid = !table.without_rowid
        && matches!((pk.as_slice(), columns), ([only], [col])
            if same(&only.name, col) && only.decl_type.eq_ignore_ascii_case("INTEGER"));
    by_index || by_rowid
}

/// Which end of a foreign key a guard watches.
#[derive(Clone, Copy)]
enum Side {
    /// The referencing row: it may not point at another tenant's row.
    Child,
    /// The referenced row: it may not take a key that another tenant's rows point at (a
    /// reference left dangling while foreign keys were off), or that tenant's rows would
    /// hang on it.
    Parent,
}

/// A foreign key between two tenant tables.
struct Key<'a> {
    child: &'a str,
    parent: &'a str,
    child_cols: &'a [&'a str],
    parent_cols: &'a [&'a str],
    /// The tenant column.
    column: &'a str,
}

impl Key<'_> {
    /// The check of `side` of the key: the table it runs on, the columns whose update must
    /// run it, and the condition that is true when the row breaks the rule.
    fn check(&self, side: Side) -> Check {
        let (on, other, mine, theirs) = match side {
            Side::Child => (self.child, self.parent, self.child_cols, self.parent_cols),
            Side::Parent => (self.parent, self.child, self.parent_cols, self.child_cols),
        };
        let present = mine
            .iter()
            .map(|c| format!("NEW.{} IS NOT NULL", sql::ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let matches = theirs
            .iter()
            .zip(mine)
            .map(|(o, m)| format!("o.{} = NEW.{}", sql::ident(o), sql::ident(m)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let tenant = sql::ident(self.column);
        Check {
            on: on.to_owned(),
            watched: mine.iter().map(|c| (*c).to_owned()).collect(),
            breaks: format!(
                "({present} AND EXISTS (SELECT 1 FROM {} AS o WHERE {matches} \
                 AND o.{tenant} <> NEW.{tenant}))",
                sql::ident(other)
            ),
        }
    }
}

/// One foreign-key rule, checked on one table.
struct Check {
    on: String,
    watched: Vec<String>,
    breaks: String,
}

/// One guard per table and event (INSERT, or UPDATE of any watched column or the tenant),
/// holding all of the table's checks: one trigger program per written row, not one per key.
fn guards_of(checks: Vec<Check>, column: &str) -> Vec<ScopedTrigger> {
    let mut by_table: Vec<(String, Vec<Check>)> = Vec::new();
    for check in checks {
        match by_table
            .iter_mut()
            .find(|(t, _)| t.eq_ignore_ascii_case(&check.on))
        {
            Some((_, list)) => list.push(check),
            None => by_table.push((check.on.clone(), vec![check])),
        }
    }
    let mut out = Vec::new();
    for (table, checks) in by_table {
        let breaks = checks
            .iter()
            .map(|c| c.breaks.as_str())
            .collect::<Vec<_>>()
            .join("\n        OR ");
        let mut watched: Vec<String> = Vec::new();
        for c in checks.iter().flat_map(|c| &c.watched) {
            if !watched.iter().any(|w| w.eq_ignore_ascii_case(c)) {
                watched.push(c.clone());
            }
        }
        watched.push(column.to_owned());
        let watched = watched
            .iter()
            .map(|c| sql::ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        for (event, on_event) in [
            ("insert", "INSERT".to_owned()),
            ("update", format!("UPDATE OF {watched}")),
        ] {
            let name = format!("tenantry_fk_{table}_{event}");
            let sql = format!(
                "CREATE TRIGGER {} BEFORE {on_event} ON {}\nBEGIN\n{SCOPED_TRIGGER_MARK}\n    \
                 SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed')\n     WHERE {breaks};\nEND",
                sql::ident(&name),
                sql::ident(&table),
            );
            out.push(ScopedTrigger {
                name,
                on: table.clone(),
                sql,
            });
        }
    }
    out
}

/// Creates the foreign-key guards, inside the caller's transaction.
pub(crate) fn create(conn: &Connection, guards: &[ScopedTrigger]) -> Result<()> {
    for guard in guards {
        tracing::debug!(trigger = %guard.name, on = %guard.on, "guarding a foreign key across tenants");
        conn.execute_batch(&guard.sql)
            .map_err(Error::sqlite(Step::ScopeTriggers, Some(&guard.name)))?;
    }
    Ok(())
}
