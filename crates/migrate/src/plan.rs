//! Decides what a migration will do: which tables get the tenant column and index, which
//! stay global and why, and which views, triggers and constraints are risks.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{Error, Result, Step};
use crate::inspect::{Catalog, TableInfo, TableKind, mentioned_tables};
use crate::options::{Layout, MigrateOptions, TenantIndex};
use crate::rebuild::Keying;
use crate::record::RECORD_TABLE;
use crate::sql;
use crate::tenant::TenantId;
use crate::triggers::{self, ScopedTrigger};

/// Migration-bookkeeping tables of common tools; they stay global.
pub const MIGRATION_TABLES: &[&str] = &[
    "_migrations",
    "migrations",
    "schema_migrations",
    "__diesel_schema_migrations",
    "_sqlx_migrations",
    "refinery_schema_history",
    "seaql_migrations",
    "flyway_schema_history",
    "goose_db_version",
    "knex_migrations",
    "knex_migrations_lock",
    "_prisma_migrations",
    "__EFMigrationsHistory",
];

/// The tenant registry table looked for when `--tenants-table` is not given.
pub const DEFAULT_TENANTS_TABLE: &str = "tenants";

/// Why a table is left global (without the tenant column).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum GlobalReason {
    /// The migrator's own bookkeeping table.
    Bookkeeping,
    /// A migration tool's bookkeeping table (see [`MIGRATION_TABLES`]).
    MigrationTable,
    /// The tenant registry.
    TenantRegistry,
    /// Named by `--exclude`.
    Excluded,
    /// Declared global in the database (`tenantry global add`, [`crate::declare_global`]).
    Declared,
    /// Left global by an earlier migration (its `--exclude`), and so still global.
    Recorded,
    /// Holds the data of the named virtual table.
    ShadowOf(String),
}

/// A table left global.
#[derive(Clone, Debug, Serialize)]
pub struct GlobalTable {
    /// Table name.
    pub name: String,
    /// Why.
    #[serde(flatten)]
    pub reason: GlobalReason,
}

/// A table that gets (or already has) the tenant column.
#[derive(Clone, Debug, Serialize)]
pub struct ScopedTable {
    /// Table name.
    pub name: String,
    /// The column must be added (false: it is already there, NOT NULL and text).
    pub add_column: bool,
    /// The index to create, or `None` when an index already leads with the tenant column.
    pub create_index: Option<String>,
    /// The index that serves the tenant column once migrated.
    pub index: String,
    /// Declared `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// Declared `STRICT` (the column is added as `TEXT`, the one strict text type).
    pub strict: bool,
    /// Rows counted before the change (filled by the count step).
    pub rows: Option<u64>,
    /// Layout `tenant-first`: how the rebuilt table is keyed; `None` when it is tenant-first
    /// already, or the layout is `column`.
    pub keying: Option<Keying>,
    /// A virtual table (FTS, R*Tree) that declares the tenant column itself: scoped as it
    /// is, since SQLite can neither index nor rebuild it (its module searches it).
    pub virtual_table: bool,
    /// The tenant column was the application's own before the first migration (it was
    /// there, and no earlier migration added it): legacy statements read it, so tenant
    /// connections show it.
    pub own_column: bool,
}

impl ScopedTable {
    /// True when nothing remains to do for this table.
    pub fn is_complete(&self) -> bool {
        !self.add_column && self.create_index.is_none() && self.keying.is_none()
    }
}

/// Something that will run SQL no interceptor sees, that leaks across tenants, or that
/// legacy statements lose.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Risk {
    /// A view that reads tenant tables and that tenant connections cannot scope: they
    /// refuse the statements that read it.
    View {
        /// View name.
        name: String,
        /// Tenant tables it mentions.
        tables: Vec<String>,
        /// Why it cannot be scoped.
        reason: String,
    },
    /// A trigger that reads or writes tenant tables and that the migration cannot scope:
    /// its statements would run unscoped, so tenant connections refuse the statements that
    /// fire it.
    Trigger {
        /// Trigger name.
        name: String,
        /// The table it fires on.
        on: String,
        /// Tenant tables it mentions.
        tables: Vec<String>,
        /// Why it cannot be scoped.
        reason: String,
    },
    /// A foreign key between tenant tables with no index on the child's columns: only the
    /// child side is guarded, so a reference one tenant left dangling (written with foreign
    /// keys off) could be adopted by another tenant creating the row it names.
    UnindexedForeignKey {
        /// The referencing table.
        table: String,
        /// Its key columns.
        columns: Vec<String>,
        /// The referenced table.
        parent: String,
    },
    /// A rowid table with a primary key other than `INTEGER PRIMARY KEY`, rebuilt
    /// `WITHOUT ROWID` so that its rows are stored in tenant order: its rowid values are
    /// gone (tenant connections refuse statements that read them), and its key columns no
    /// longer take NULL.
    RowidDropped {
        /// Table name.
        table: String,
    },
    /// A tenant table the tenant-first layout keeps a rowid table (it has no primary key,
    /// or its key holds NULL): its rowids stay one sequence for all tenants, so a tenant's
    /// new row gets the next rowid after every tenant's rows.
    SharedRowids {
        /// Table name.
        table: String,
    },
    /// Foreign-key actions the tenant-first schema runs by triggers (SQLite cannot run them
    /// on a key that holds the NOT NULL tenant column): a trigger runs whether or not the
    /// connection turned foreign keys on, where SQLite runs no action with them off.
    ActionsByTrigger {
        /// Each key: the referencing table, the referenced table, and its actions as
        /// declared (`ON DELETE SET NULL`, `ON UPDATE CASCADE`, …).
        keys: Vec<(String, String, Vec<String>)>,
    },
    /// A view that names its columns over `SELECT *`, which the tenant column would give
    /// one column more: SQLite would refuse every statement that reads it, so the migration
    /// refuses to run until the view names its columns.
    ViewWouldBreak {
        /// View name.
        name: String,
        /// SQLite's error reading it with the tenant column added.
        error: String,
    },
    /// A UNIQUE constraint or index without the tenant column: two tenants cannot hold
    /// the same value, and the error tells one tenant that another has it.
    GlobalUnique {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
        /// Its columns.
        columns: Vec<String>,
    },
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Risk::View {
                name,
                tables,
                reason,
            } => write!(
                f,
                "view {name:?} reads tenant tables {} and cannot be scoped ({reason}); tenant connections refuse the statements that read it until it is rewritten",
                tables.join(", ")
            ),
            Risk::Trigger {
                name,
                on,
                tables,
                reason,
            } => write!(
                f,
                "trigger {name:?} on {on:?} runs SQL over tenant tables {} and cannot be scoped ({reason}); tenant connections refuse the statements that fire it until it is rewritten or dropped",
                tables.join(", ")
            ),
            Risk::UnindexedForeignKey {
                table,
                columns,
                parent,
            } => write!(
                f,
                "foreign key {table}({cols}) -> {parent} has no index on {table}({cols}): a reference another tenant left dangling (written with foreign keys off) could be adopted by creating the row it names; index those columns (SQLite advises it for every foreign key) and run `tenantry migrate` again to guard both ends",
                cols = columns.join(", ")
            ),
            Risk::RowidDropped { table } => write!(
                f,
                "table {table:?} is stored in tenant order (WITHOUT ROWID, primary key led by the tenant column): its rowid values are gone, and tenant connections refuse statements that read its rowid (read its primary key instead); an INSERT into it no longer changes last_insert_rowid(); rows a statement reads without ORDER BY come in primary-key order rather than the order they were inserted in, so a LIMIT without ORDER BY may return other rows; and its primary key no longer takes NULL, which SQLite's rowid tables accept by a long-standing quirk. Migrate with --layout column to keep all of these"
            ),
            Risk::SharedRowids { table } => write!(
                f,
                "table {table:?} stays a rowid table (it has no primary key, or its key holds NULL, which a WITHOUT ROWID key cannot): its rowids are one sequence for all tenants, so a tenant's new row gets the rowid after every tenant's rows, last_insert_rowid() and rowid reads differ from a database of its rows alone, and their gaps tell how many rows other tenants inserted. Give it a primary key without NULLs before migrating to make its rows keyed per tenant"
            ),
            Risk::ActionsByTrigger { keys } => write!(
                f,
                "{} foreign-key action(s) are run by triggers (SQLite cannot run them on a key that holds the NOT NULL tenant column), which run whether or not the connection turned foreign keys on; SQLite runs no action with them off (its default), so a connection that leaves them off now sees them run. Turn foreign keys on in the application (PRAGMA foreign_keys = ON), or migrate with --layout column. The keys: {}",
                keys.iter().map(|(_, _, a)| a.len()).sum::<usize>(),
                keys.iter()
                    .map(|(table, parent, actions)| format!(
                        "{table} -> {parent} ({})",
                        actions.join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Risk::ViewWouldBreak { name, error } => write!(
                f,
                "view {name:?} would stop working: with the tenant column its SELECT gives one column more than it names ({error}); the migration refuses to run until it names the columns it selects (CREATE VIEW … AS SELECT a, b FROM …)"
            ),
            Risk::GlobalUnique {
                table,
                index,
                columns,
            } => write!(
                f,
                "unique {index:?} on {table}({}) is global: two tenants cannot hold the same value, and the conflict reveals that another tenant has it",
                columns.join(", ")
            ),
        }
    }
}

/// The tenant registry table and the column that holds tenant ids.
#[derive(Clone, Debug, Serialize)]
pub struct Registry {
    /// Table name.
    pub table: String,
    /// Column holding tenant ids.
    pub column: String,
}

/// What `--expect-tables` found.
#[derive(Clone, Debug, Serialize)]
pub struct Expectation {
    /// The file read.
    pub file: PathBuf,
    /// Expected but not among the tables to scope, each with why (`absent` or `global: …`).
    pub missing: Vec<String>,
    /// Among the tables to scope but not expected.
    pub extra: Vec<String>,
}

/// The whole plan of a migration.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// What each tenant table becomes.
    pub layout: Layout,
    /// Layout `tenant-first`: which tables get the tenant index `idx_<table>_<column>`.
    pub tenant_index: TenantIndex,
    /// The tenant column's name.
    pub column: String,
    /// The tenant given to every existing row.
    #[serde(serialize_with = "crate::tenant::serialize_tenant")]
    pub default_tenant: TenantId,
    /// Tables that get (or have) the column.
    pub scoped: Vec<ScopedTable>,
    /// Tables left global.
    pub global: Vec<GlobalTable>,
    /// Triggers on tenant tables replaced by their scoped form.
    pub triggers: Vec<ScopedTrigger>,
    /// Triggers created so that no row references another tenant's row through a foreign
    /// key between tenant tables.
    pub fk_guards: Vec<ScopedTrigger>,
    /// Views, triggers and constraints to look at.
    pub risks: Vec<Risk>,
    /// The registry, when there is one.
    pub registry: Option<Registry>,
    /// The `--expect-tables` comparison, when asked for.
    pub expectation: Option<Expectation>,
    /// Layout `tenant-first`: the triggers the rebuild adds (foreign-key actions SQLite
    /// cannot run on a composite key, AUTOINCREMENT high-water marks).
    pub added_triggers: Vec<ScopedTrigger>,
    /// Layout `tenant-first`: each table to rebuild.
    #[serde(skip)]
    pub(crate) rebuild: Vec<crate::rebuild::TableRebuild>,
}

impl Plan {
    /// True when every scoped table already has its column and index, and every trigger
    /// that can be scoped is.
    pub fn is_complete(&self) -> bool {
        self.scoped.iter().all(ScopedTable::is_complete)
            && self.triggers.is_empty()
            && self.fk_guards.is_empty()
            && self.rebuild.is_empty()
    }
}

/// Builds the plan from the catalog and the options; reads the registry to check that the
/// default tenant is in it.
///
/// # Errors
/// A refusal ([`Error::is_bad_input`]) when the database cannot be migrated as asked.
pub fn build(
    conn: &Connection,
    catalog: &Catalog,
    options: &MigrateOptions,
    tenant: &TenantId,
) -> Result<Plan> {
    let column = options.column.as_str();
    for name in &options.exclude {
        if catalog.table(name).is_none() {
            return Err(Error::UnknownTable {
                table: name.clone(),
                option: "--exclude",
            });
        }
    }
    let registry_name = match &options.tenants_table {
        Some(name) => Some(
            catalog
                .table(name)
                .ok_or_else(|| Error::UnknownTable {
                    table: name.clone(),
                    option: "--tenants-table",
                })?
                .name
                .clone(),
        ),
        None => catalog.table(DEFAULT_TENANTS_TABLE).map(|t| t.name.clone()),
    };

    let earlier = crate::record::last(conn)?;
    let recorded_global = |name: &str| {
        earlier
            .as_ref()
            .is_some_and(|r| r.global_tables.iter().any(|g| g.eq_ignore_ascii_case(name)))
    };
    let mut scoped = Vec::new();
    let mut global = Vec::new();
    for table in &catalog.tables {
        let name = &table.name;
        let reason = if options.exclude.iter().any(|e| e.eq_ignore_ascii_case(name)) {
            Some(GlobalReason::Excluded)
        } else if let Some(reason) = global_by_rule(catalog, table, registry_name.as_deref()) {
            Some(reason)
        } else if crate::globals::is_declared(conn, name)? {
            Some(GlobalReason::Declared)
        } else if recorded_global(name) && table.column(column).is_none() {
            // Re-running a migration must not scope what an earlier one left global.
            Some(GlobalReason::Recorded)
        } else {
            None
        };
        if let Some(reason) = reason {
            global.push(GlobalTable {
                name: name.clone(),
                reason,
            });
            continue;
        }
        if table.kind == TableKind::Virtual {
            scoped.push(plan_virtual(table, column)?);
            continue;
        }
        scoped.push(plan_table(conn, table, column, options.layout)?);
    }
    for table in &mut scoped {
        // A column an earlier migration added is tenantry's; one it found was the
        // application's, as is a column found now on a table no migration scoped.
        table.own_column = table.virtual_table
            || match &earlier {
                Some(record) => {
                    record
                        .own_column_tables
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(&table.name))
                        || (!table.add_column
                            && !record
                                .scoped_tables
                                .iter()
                                .any(|t| t.eq_ignore_ascii_case(&table.name)))
                }
                None => !table.add_column,
            };
    }

    let tenant_first = options.layout == Layout::TenantFirst;
    let rebuild = if tenant_first {
        let names: Vec<&str> = scoped.iter().map(|t| t.name.as_str()).collect();
        let to_rebuild: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| {
                catalog.table(name).is_some_and(|info| {
                    info.kind == TableKind::Ordinary && !is_tenant_first(info, column, &names)
                })
            })
            .collect();
        let own: Vec<&str> = scoped
            .iter()
            .filter(|t| t.own_column)
            .map(|t| t.name.as_str())
            .collect();
        let rebuild = crate::rebuild::plan(
            conn,
            catalog,
            &to_rebuild,
            &names,
            &own,
            column,
            options.tenant_index,
        )?;
        for table in &mut scoped {
            // The rebuild declares the column and creates the tenant index.
            table.add_column = false;
            table.create_index = None;
            let rebuilt = rebuild.iter().find(|r| r.name == table.name);
            table.keying = rebuilt.map(|r| r.keying.clone());
            if rebuilt.is_some_and(|r| !r.tenant_index) {
                "the primary key".clone_into(&mut table.index);
            }
            // A table tenant-first already but for a tenant index now wanted gets it
            // without a rebuild.
            if rebuilt.is_none()
                && let Some(info) = catalog.table(&table.name)
                && info.kind == TableKind::Ordinary
                && tenant_index_gap(info, column, options.tenant_index).is_some()
            {
                let name = sql::tenant_index_name(&table.name, column);
                table.create_index = Some(name.clone());
                table.index = name;
            }
        }
        rebuild
    } else {
        check_index_names(catalog, &scoped)?;
        Vec::new()
    };

    let scoped_names: Vec<&str> = scoped.iter().map(|t| t.name.as_str()).collect();
    let mut risks = Vec::new();
    let replaced: Vec<(&str, &str)> = rebuild
        .iter()
        .map(|r| (r.name.as_str(), r.create.as_str()))
        .collect();
    // The triggers the rebuild adds are part of the schema the other triggers are scoped
    // against (a REPLACE in a trigger body must see that a delete runs a key's action).
    let added_triggers: Vec<ScopedTrigger> = rebuild
        .iter()
        .flat_map(|r| crate::rebuild::added_triggers(r, &rebuild, catalog, column))
        .collect();
    let added_sql: Vec<&str> = added_triggers.iter().map(|t| t.sql.as_str()).collect();
    let after = triggers::rewriter_after(conn, &scoped_names, column, &replaced, &added_sql)?;
    for view in &catalog.views {
        let tables = mentioned_tables(&view.sql, scoped_names.iter().copied());
        if tables.is_empty() {
            continue;
        }
        // Tenant connections read a view as its query, scoped; a view they cannot scope
        // is a risk.
        let reason = match &after {
            Ok(rewriter) => {
                match rewriter.plan(&format!("SELECT * FROM {}", sql::ident(&view.name))) {
                    Ok(_) => continue,
                    Err(e) => e.to_string(),
                }
            }
            Err(reason) => reason.clone(),
        };
        risks.push(Risk::View {
            name: view.name.clone(),
            tables,
            reason,
        });
    }
    // A rebuild scopes triggers an earlier migration scoped again, from their text before
    // it, for the tenant-first schema.
    let originals = if tenant_first && !rebuild.is_empty() {
        triggers::originals(conn)?
    } else {
        Vec::new()
    };
    let (scoped_triggers, unscopable) = triggers::plan(catalog, &scoped_names, &after, &originals);
    // Composite foreign keys make SQLite itself keep references within a tenant.
    let (fk_guards, unindexed) = if tenant_first {
        (Vec::new(), Vec::new())
    } else {
        triggers::plan_fk_guards(catalog, &scoped_names, column)
    };
    for r in &rebuild {
        match r.keying {
            Keying::Clustered => risks.push(Risk::RowidDropped {
                table: r.name.clone(),
            }),
            Keying::RowidKept => risks.push(Risk::SharedRowids {
                table: r.name.clone(),
            }),
            Keying::Rowid { .. } | Keying::WithoutRowid => {}
        }
    }
    let by_trigger: Vec<(String, String, Vec<String>)> = rebuild
        .iter()
        .flat_map(|r| {
            r.actions_by_trigger()
                .into_iter()
                .map(|(parent, actions)| (r.name.clone(), parent, actions))
        })
        .collect();
    if !by_trigger.is_empty() {
        risks.push(Risk::ActionsByTrigger { keys: by_trigger });
    }
    for key in unindexed {
        risks.push(Risk::UnindexedForeignKey {
            table: key.table,
            columns: key.columns,
            parent: key.parent,
        });
    }
    for trigger in &catalog.triggers {
        if scoped_triggers.iter().any(|t| t.name == trigger.name) {
            continue;
        }
        let mut tables = mentioned_tables(&trigger.sql, scoped_names.iter().copied());
        let on_scoped = scoped_names
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&trigger.on));
        if on_scoped && !tables.iter().any(|t| t.eq_ignore_ascii_case(&trigger.on)) {
            tables.insert(0, trigger.on.clone());
        }
        let reason = match unscopable.iter().find(|u| u.name == trigger.name) {
            Some(u) => u.reason.clone(),
            // Scoped by an earlier run of the migration.
            None if on_scoped => continue,
            None => format!(
                "it fires on {:?}, a global table, whose rows have no tenant",
                trigger.on
            ),
        };
        if !tables.is_empty() {
            risks.push(Risk::Trigger {
                name: trigger.name.clone(),
                on: trigger.on.clone(),
                tables,
                reason,
            });
        }
    }
    for table in catalog
        .tables
        .iter()
        .filter(|t| !tenant_first && scoped_names.contains(&t.name.as_str()))
    {
        for index in table
            .indexes
            .iter()
            .filter(|i| i.unique && i.origin != "pk")
        {
            let has_tenant = index
                .columns
                .iter()
                .flatten()
                .any(|c| c.eq_ignore_ascii_case(column));
            if !has_tenant {
                risks.push(Risk::GlobalUnique {
                    table: table.name.clone(),
                    index: index.name.clone(),
                    columns: index
                        .columns
                        .iter()
                        .map(|c| c.clone().unwrap_or_else(|| "<expr>".into()))
                        .collect(),
                });
            }
        }
    }

    let registry = match registry_name {
        Some(table) => Some(check_registry(conn, catalog, &table, column, tenant)?),
        None => None,
    };

    let expectation = match &options.expect_tables {
        Some(file) => Some(compare_expected(file, &scoped, &global)?),
        None => None,
    };

    Ok(Plan {
        layout: options.layout,
        tenant_index: options.tenant_index,
        column: column.to_owned(),
        default_tenant: tenant.clone(),
        triggers: scoped_triggers,
        fk_guards,
        scoped,
        global,
        risks,
        registry,
        expectation,
        added_triggers,
        rebuild,
    })
}

/// Whether a table's keys and indexes are tenant-first already, so that it needs no
/// rebuild (see [`structural_gaps`]; a missing tenant index is created without one).
pub(crate) fn is_tenant_first(info: &TableInfo, column: &str, scoped: &[&str]) -> bool {
    structural_gaps(info, column, scoped).is_empty()
}

/// What keeps a table from being tenant-first, in words: the gaps a rebuild closes
/// ([`structural_gaps`]), and a missing tenant index ([`tenant_index_gap`]).
pub(crate) fn tenant_first_gaps(
    info: &TableInfo,
    column: &str,
    scoped: &[&str],
    tenant_index: TenantIndex,
) -> Vec<String> {
    let mut gaps = structural_gaps(info, column, scoped);
    gaps.extend(tenant_index_gap(info, column, tenant_index));
    gaps
}

/// The tenant index `idx_<table>_<column>` missing, when `tenant_index` wants it: always
/// with [`TenantIndex::Every`], only where no primary key leads with the column with
/// [`TenantIndex::WhereNeeded`].
fn tenant_index_gap(info: &TableInfo, column: &str, tenant_index: TenantIndex) -> Option<String> {
    let same = |c: &Option<String>| c.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(column));
    let keyed_by_tenant = info
        .indexes
        .iter()
        .any(|i| i.origin == "pk" && i.columns.first().is_some_and(same));
    let needed = tenant_index.wanted(keyed_by_tenant);
    let named = sql::tenant_index_name(&info.name, column);
    let present = info
        .indexes
        .iter()
        .any(|i| i.name.eq_ignore_ascii_case(&named) && i.columns.first().is_some_and(same));
    (needed && !present).then(|| format!("no index {named:?} led by {column:?}"))
}

/// What a rebuild closes, in words: the table must have the tenant column, NOT NULL and
/// without a default; every index (the primary key's and the unique constraints' too) must
/// lead with it; an INTEGER PRIMARY KEY (the rowid, which no index holds) must be gone;
/// every foreign key to a tenant table must include it.
fn structural_gaps(info: &TableInfo, column: &str, scoped: &[&str]) -> Vec<String> {
    let mut gaps = Vec::new();
    match info.column(column) {
        None => gaps.push(format!("no column {column:?}")),
        Some(c) if c.default.is_some() => gaps.push(format!(
            "column {column:?} has a DEFAULT, so an INSERT that names no tenant lands in one"
        )),
        Some(c) if !c.not_null => gaps.push(format!("column {column:?} allows NULL")),
        Some(_) => {}
    }
    let same = |c: &Option<String>| c.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(column));
    for index in &info.indexes {
        if !index.columns.first().is_some_and(same) {
            let what = match index.origin.as_str() {
                "pk" => "the primary key".to_owned(),
                "u" => format!("the unique constraint {:?}", index.name),
                _ => format!("index {:?}", index.name),
            };
            gaps.push(format!("{what} does not lead with {column:?}"));
        }
    }
    let has_pk = info.columns.iter().any(|c| c.pk > 0);
    if has_pk && !info.indexes.iter().any(|i| i.origin == "pk") {
        gaps.push("its INTEGER PRIMARY KEY is the rowid, shared by every tenant".to_owned());
    }
    for fk in &info.foreign_keys {
        let to_tenant_table = scoped.iter().any(|s| s.eq_ignore_ascii_case(&fk.parent));
        if to_tenant_table && !fk.columns.iter().any(|c| c.eq_ignore_ascii_case(column)) {
            gaps.push(format!(
                "its foreign key ({}) to {:?} does not include {column:?}",
                fk.columns.join(", "),
                fk.parent
            ));
        }
    }
    gaps
}

/// A virtual table is scoped when it declares the tenant column itself; otherwise it is
/// global only when declared so (`--exclude`).
fn plan_virtual(table: &TableInfo, column: &str) -> Result<ScopedTable> {
    let has_column = table.column(column).is_some_and(|c| c.hidden == 0);
    if !has_column {
        let known = if table.columns.is_empty() {
            "its columns cannot be read (is its module loaded?)".to_owned()
        } else {
            format!("it has no column {column:?}")
        };
        return Err(Error::Unsupported {
            table: table.name.clone(),
            reason: format!(
                "it is a virtual table and {known}; SQLite cannot add a column to one. If it holds no tenant's data, declare it global with --exclude {name}; otherwise create it again with a {column} column (FTS5: `{column} UNINDEXED`) holding each row's tenant",
                name = table.name
            ),
        });
    }
    Ok(ScopedTable {
        name: table.name.clone(),
        add_column: false,
        create_index: None,
        index: String::new(),
        without_rowid: false,
        strict: false,
        rows: None,
        keying: None,
        virtual_table: true,
        own_column: true,
    })
}

fn plan_table(
    conn: &Connection,
    table: &TableInfo,
    column: &str,
    layout: Layout,
) -> Result<ScopedTable> {
    let name = &table.name;
    let add_column = match table.column(column) {
        None => true,
        Some(existing) => {
            let decl = existing.decl_type.to_ascii_uppercase();
            let texty = ["CHAR", "CLOB", "TEXT"].iter().any(|k| decl.contains(k));
            let nulls = if existing.not_null {
                0
            } else {
                count_nulls(conn, name, &existing.name)?
            };
            let rebuild = format!(
                "SQLite cannot change a column in place: rebuild the table with `{} VARCHAR(255) NOT NULL`, or choose another column name with --column",
                existing.name
            );
            let collation = crate::inspect::table_sql(conn, name)
                .map_err(Error::sqlite(Step::Plan, Some(name)))?
                .and_then(|sql| crate::rebuild::declared_collation(&sql, &existing.name))
                .filter(|c| !c.eq_ignore_ascii_case("BINARY"));
            let problem = if existing.hidden != 0 {
                Some(("it is a generated or hidden column".to_owned(), rebuild))
            } else if let Some(collation) = collation {
                Some((
                    format!(
                        "it compares with collation {collation}: the tenant test would find \
                         one tenant's rows for another whose id that collation calls equal \
                         ('Acme' and 'acme' under NOCASE)"
                    ),
                    format!(
                        "SQLite cannot change a column in place: rebuild the table with `{} \
                         VARCHAR(255) NOT NULL` and no COLLATE, or choose another column name \
                         with --column",
                        existing.name
                    ),
                ))
            } else if nulls > 0 {
                Some((
                    format!("it allows NULL and {nulls} rows hold NULL"),
                    format!(
                        "Give those rows their tenant first, for example UPDATE {t} SET {c} = '<tenant>' WHERE {c} IS NULL, and run again",
                        t = sql::ident(name),
                        c = sql::ident(&existing.name)
                    ),
                ))
            } else if !existing.not_null && layout == Layout::Column {
                Some((
                    "it allows NULL (no row holds NULL), and layout column cannot change a column in place".to_owned(),
                    "Run with --layout tenant-first, which rebuilds the table with the column NOT NULL".to_owned(),
                ))
            } else if !texty {
                Some((
                    "its declared type does not have TEXT affinity".to_owned(),
                    rebuild,
                ))
            } else {
                None
            };
            if let Some((problem, advice)) = problem {
                return Err(Error::Unsupported {
                    table: name.clone(),
                    reason: format!(
                        "it already has a column {:?} ({} {}), but {problem}. {advice}",
                        existing.name,
                        existing.decl_type,
                        if existing.not_null {
                            "NOT NULL"
                        } else {
                            "NULL"
                        },
                    ),
                });
            }
            false
        }
    };
    let leading = table.indexes.iter().find(|i| {
        !i.partial
            && i.columns
                .first()
                .and_then(|c| c.as_deref())
                .is_some_and(|c| c.eq_ignore_ascii_case(column))
    });
    let (create_index, index) = match leading {
        Some(existing) => (None, existing.name.clone()),
        None => {
            let wanted = sql::tenant_index_name(name, column);
            (Some(wanted.clone()), wanted)
        }
    };
    Ok(ScopedTable {
        name: name.clone(),
        add_column,
        create_index,
        index,
        without_rowid: table.without_rowid,
        strict: table.strict,
        rows: None,
        keying: None,
        virtual_table: false,
        own_column: false,
    })
}

/// Rows of `table` whose `column` is NULL.
fn count_nulls(conn: &Connection, table: &str, column: &str) -> Result<u64> {
    conn.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE {} IS NULL",
            sql::ident(table),
            sql::ident(column)
        ),
        [],
        |r| r.get(0),
    )
    .map_err(Error::sqlite(Step::Plan, Some(table)))
}

fn check_index_names(catalog: &Catalog, scoped: &[ScopedTable]) -> Result<()> {
    for table in scoped {
        let Some(wanted) = &table.create_index else {
            continue;
        };
        for other in &catalog.tables {
            if other
                .indexes
                .iter()
                .any(|i| i.name.eq_ignore_ascii_case(wanted))
            {
                return Err(Error::Unsupported {
                    table: table.name.clone(),
                    reason: format!(
                        "an index named {wanted:?} already exists on table {:?} but does not lead with the tenant column; rename or drop it",
                        other.name
                    ),
                });
            }
        }
    }
    Ok(())
}

fn shadow_owner(catalog: &Catalog, shadow: &str) -> String {
    catalog
        .tables
        .iter()
        .filter(|t| t.kind == TableKind::Virtual)
        .find(|v| {
            shadow.len() > v.name.len() + 1
                && shadow[..v.name.len()].eq_ignore_ascii_case(&v.name)
                && shadow.as_bytes()[v.name.len()] == b'_'
        })
        .map_or_else(|| "a virtual table".to_owned(), |v| v.name.clone())
}

fn check_registry(
    conn: &Connection,
    catalog: &Catalog,
    table: &str,
    column: &str,
    tenant: &TenantId,
) -> Result<Registry> {
    let info = catalog.table(table).ok_or_else(|| Error::UnknownTable {
        table: table.to_owned(),
        option: "--tenants-table",
    })?;
    let Some(id_column) = registry_column(info, column) else {
        return Err(Error::Unsupported {
            table: table.to_owned(),
            reason: format!(
                "it is the tenant registry, but it has neither a column {column:?} nor a one-column primary key holding tenant ids; name the registry with --tenants-table, or --exclude it"
            ),
        });
    };
    let query = format!(
        "SELECT 1 FROM {} WHERE {} = ?1 LIMIT 1",
        sql::ident(table),
        sql::ident(&id_column)
    );
    let present = conn
        .query_row(&query, [tenant.as_str()], |_| Ok(()))
        .optional()
        .map_err(Error::sqlite(Step::Plan, Some(table)))?
        .is_some();
    if !present {
        return Err(Error::Unsupported {
            table: table.to_owned(),
            reason: format!(
                "it is the tenant registry, and the default tenant {tenant:?} is not in it (column {id_column:?}); add it first, for example INSERT INTO {}({}) VALUES ('{tenant}')",
                sql::ident(table),
                sql::ident(&id_column)
            ),
        });
    }
    Ok(Registry {
        table: table.to_owned(),
        column: id_column,
    })
}

/// Reads an expected-tables file: one name per line; blank lines and `#` comments ignored.
fn read_expected(file: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
        path: file.to_owned(),
        source,
    })?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn compare_expected(
    file: &std::path::Path,
    scoped: &[ScopedTable],
    global: &[GlobalTable],
) -> Result<Expectation> {
    let expected = read_expected(file)?;
    let missing = expected
        .iter()
        .filter(|e| !scoped.iter().any(|s| s.name.eq_ignore_ascii_case(e)))
        .map(
            |e| match global.iter().find(|g| g.name.eq_ignore_ascii_case(e)) {
                Some(g) => format!("{e} (left global: {})", global_reason_text(&g.reason)),
                None => format!("{e} (absent)"),
            },
        )
        .collect();
    let extra = scoped
        .iter()
        .filter(|s| !expected.iter().any(|e| e.eq_ignore_ascii_case(&s.name)))
        .map(|s| s.name.clone())
        .collect();
    Ok(Expectation {
        file: file.to_owned(),
        missing,
        extra,
    })
}

/// A short text for a [`GlobalReason`].
pub fn global_reason_text(reason: &GlobalReason) -> String {
    match reason {
        GlobalReason::Bookkeeping => "tenantry's own bookkeeping".into(),
        GlobalReason::MigrationTable => "migration bookkeeping".into(),
        GlobalReason::TenantRegistry => "tenant registry".into(),
        GlobalReason::Excluded => "--exclude".into(),
        GlobalReason::Declared => "declared global".into(),
        GlobalReason::Recorded => "left global by an earlier migration".into(),
        GlobalReason::ShadowOf(v) => format!("shadow table of virtual table {v}"),
    }
}

/// Why `table` is global whatever the options say, if it is: tenantry's bookkeeping, a
/// migration tool's bookkeeping, the tenant registry, or a virtual table's shadow table.
pub(crate) fn global_by_rule(
    catalog: &Catalog,
    table: &TableInfo,
    registry: Option<&str>,
) -> Option<GlobalReason> {
    let name = &table.name;
    if name.eq_ignore_ascii_case(RECORD_TABLE)
        || name.eq_ignore_ascii_case(crate::rebuild::SEQUENCE_TABLE)
        || name.eq_ignore_ascii_case(crate::globals::GLOBALS_TABLE)
    {
        Some(GlobalReason::Bookkeeping)
    } else if registry.is_some_and(|r| r.eq_ignore_ascii_case(name)) {
        Some(GlobalReason::TenantRegistry)
    } else if MIGRATION_TABLES
        .iter()
        .any(|m| m.eq_ignore_ascii_case(name))
    {
        Some(GlobalReason::MigrationTable)
    } else if table.kind == TableKind::Shadow {
        Some(GlobalReason::ShadowOf(shadow_owner(catalog, name)))
    } else {
        None
    }
}

/// The registry's column that holds tenant ids: one named like the tenant column, else a
/// one-column primary key.
fn registry_column(info: &TableInfo, column: &str) -> Option<String> {
    if let Some(c) = info.column(column) {
        return Some(c.name.clone());
    }
    match info
        .columns
        .iter()
        .filter(|c| c.pk > 0)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [only] => Some(only.name.clone()),
        _ => None,
    }
}

/// The registry (`tenants`, or the one named), when it exists and has a tenant-id column.
pub(crate) fn registry_for(
    catalog: &Catalog,
    tenants_table: Option<&str>,
    column: &str,
) -> Option<Registry> {
    let info = catalog.table(tenants_table.unwrap_or(DEFAULT_TENANTS_TABLE))?;
    registry_column(info, column).map(|c| Registry {
        table: info.name.clone(),
        column: c,
    })
}
