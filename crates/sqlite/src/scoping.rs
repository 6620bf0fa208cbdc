//! The rewriter for one schema and the plans it made, shared by every connection of the
//! process whose database has exactly that schema.
//!
//! Reading a schema into a rewriter (parsing every table, view and trigger, planning every
//! view) is most of what opening a tenant connection costs; an application that opens a
//! connection per request pays it on every request. Everything a rewrite depends on is the
//! schema's text, the tenant column, the tables whose tenant column is the
//! application's own and the tables declared global, so a rewriter built for that key serves any connection that presents
//! the same key: the key is the text itself, compared whole, never a hash. The few most
//! recent are kept.

use std::sync::{Arc, LazyLock, Mutex};

use quick_cache::sync::Cache;
use tenantry_rewrite::{Plan, Rewriter};

use crate::schema;

/// Plans kept per schema (SQL text → plan; any tenant).
const PLAN_CACHE_CAPACITY: usize = 4096;

/// Schemas kept for the whole process: more than the databases one process serves at once.
const SCHEMAS_KEPT: usize = 8;

/// The rewriter for one schema, and the rewrites it made.
pub(crate) struct Scoping {
    pub rewriter: Rewriter,
    pub plans: Cache<String, Arc<Plan>>,
}

/// A schema's key (see [`for_schema`]) and its scoping.
type Kept = (String, Arc<Scoping>);

/// The most recently used last.
static SCHEMAS: LazyLock<Mutex<Vec<Kept>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// The scoping for the schema of `conn` as it is now, tenant column `column`, with the
/// tables `own` (and those the last migration recorded) declared as having the
/// application's own tenant column: the process's when one was built for the same key,
/// else a new one.
///
/// # Errors
/// SQLite's errors, or [`crate::Error::NotMigrated`].
pub(crate) fn for_schema(
    conn: &rusqlite::Connection,
    column: &str,
    own: &[String],
) -> rusqlite::Result<Arc<Scoping>> {
    let objects = schema::objects(conn)?;
    let mut own: Vec<String> = own
        .iter()
        .cloned()
        .chain(schema::own_tenant_columns(conn)?)
        .map(|t| t.to_ascii_lowercase())
        .collect();
    own.sort_unstable();
    own.dedup();
    let globals = schema::global_tables(conn)?;
    let mut key = String::with_capacity(objects.iter().map(|o| o.len() + 1).sum::<usize>() + 64);
    for part in std::iter::once(column)
        .chain(own.iter().map(String::as_str))
        .chain(std::iter::once(""))
        .chain(globals.iter().map(String::as_str))
        .chain(std::iter::once(""))
        .chain(objects.iter().map(String::as_str))
    {
        key.push_str(part);
        key.push('\0');
    }
    {
        let mut kept = SCHEMAS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = kept.iter().position(|(k, _)| *k == key) {
            let entry = kept.remove(at);
            let scoping = Arc::clone(&entry.1);
            kept.push(entry);
            return Ok(scoping);
        }
    }
    // Built outside the lock: another connection may build the same one meanwhile, and
    // both are correct.
    let scoping = Arc::new(Scoping {
        rewriter: schema::build_rewriter(&objects, column, &own, globals)?,
        plans: Cache::new(PLAN_CACHE_CAPACITY),
    });
    let mut kept = SCHEMAS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    kept.retain(|(k, _)| *k != key);
    if kept.len() >= SCHEMAS_KEPT {
        kept.remove(0);
    }
    kept.push((key, Arc::clone(&scoping)));
    Ok(scoping)
}
