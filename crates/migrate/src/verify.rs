//! Verification: the checks run before `COMMIT` and by `tenantry verify`.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::checks::{self, FkViolations};
use crate::error::{Error, Result, Step};
use crate::inspect::Catalog;
use crate::plan::Registry;
use crate::sql;
use crate::tenant::check_tenant_id;

/// Which check found a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The tenant column is missing, nullable, or not text.
    Column,
    /// Rows with a NULL or empty tenant id.
    NullTenant,
    /// Rows whose tenant id breaks the rules of [`crate::TenantId`].
    InvalidTenant,
    /// Rows whose tenant id is not in the registry.
    UnregisteredTenant,
    /// A table's row count differs from the count before the migration.
    RowCount,
    /// No index leads with the tenant column.
    Index,
    /// A tenant table of the tenant-first layout is not tenant-first (a key without the
    /// tenant column, an index that does not lead with it, a default on it, …).
    TenantFirst,
    /// Foreign-key violations that were not there before.
    ForeignKeys,
    /// `PRAGMA quick_check` complaints.
    Integrity,
    /// A view that worked before the migration fails after it.
    View,
    /// A foreign-key guard trigger of the column layout is missing.
    Guard,
    /// Rows whose foreign key names another tenant's row (column layout, `verify` only).
    CrossTenant,
}

/// One thing verification found wrong.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// The check.
    pub check: Check,
    /// The table, when the problem is in one.
    pub table: Option<String>,
    /// What is wrong, in words.
    pub detail: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.table {
            Some(t) => write!(f, "table {t:?}: {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

/// Rows per tenant in one scoped table.
#[derive(Clone, Debug, Serialize)]
pub struct TableTenants {
    /// Table name.
    pub table: String,
    /// All rows.
    pub rows: u64,
    /// Rows per tenant id (NULL shown as `null`).
    pub tenants: BTreeMap<String, u64>,
}

/// The outcome of verification.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// Rows per tenant, per scoped table.
    pub tables: Vec<TableTenants>,
    /// Foreign-key violations now present (old and new).
    pub foreign_key_violations: Vec<FkViolations>,
    /// Foreign-key violations that were there before the migration (the database's own).
    pub foreign_key_violations_before: Vec<FkViolations>,
    /// `Some(true)` when `quick_check` ran clean, `None` when it was not run.
    pub integrity_ok: Option<bool>,
    /// Everything found wrong; empty when the database passed.
    pub problems: Vec<Problem>,
}

impl Verification {
    /// True when no problem was found.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What verification checks against.
pub(crate) struct Expected<'a> {
    /// The tables that must be scoped.
    pub scoped: Vec<String>,
    /// The tenant column.
    pub column: &'a str,
    /// The registry every tenant id must be in.
    pub registry: Option<&'a Registry>,
    /// Row counts before the migration (inside `migrate` only).
    pub rows_before: Option<&'a BTreeMap<String, u64>>,
    /// What foreign-key violations to compare with.
    pub fk_before: FkBaseline<'a>,
    /// Whether to run `quick_check`.
    pub integrity: bool,
    /// The layout the tables must have.
    pub layout: crate::Layout,
    /// Layout `tenant-first`: which tables must have the tenant index.
    pub tenant_index: crate::TenantIndex,
    /// The views that worked before the migration (inside `migrate` only): each must still.
    pub views_before: Option<&'a [String]>,
}

/// The views of the main database that SQLite can read now (their names): a view can fail
/// on its own (a table it names was dropped), and only one that worked before the
/// migration is held to working after it.
///
/// # Errors
/// SQLite's, when the schema cannot be read.
pub(crate) fn working_views(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM main.sqlite_schema WHERE type = 'view' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names
        .into_iter()
        .filter(|v| view_error(conn, v).is_none())
        .collect())
}

/// Why SQLite cannot read view `name` (its error preparing `SELECT * FROM` it), if it cannot.
pub(crate) fn view_error(conn: &Connection, name: &str) -> Option<rusqlite::Error> {
    conn.prepare(&format!("SELECT * FROM main.{}", sql::ident(name)))
        .err()
}

/// The foreign-key violations that were there before, to tell new ones from old.
pub(crate) enum FkBaseline<'a> {
    /// Known (recorded by the migration).
    Known(&'a [FkViolations]),
    /// Read from a copy of the database as it was before, only if any are found now.
    Copy(&'a std::path::Path),
    /// Unknown: every violation found is reported.
    Unknown,
}

/// Runs every check; returns what it found (an `Err` only when a query itself fails).
pub(crate) fn run(
    conn: &Connection,
    catalog: &Catalog,
    expected: &Expected<'_>,
) -> Result<Verification> {
    let column = expected.column;
    let mut problems = Vec::new();
    let mut tables = Vec::new();
    let problem = |check, table: &str, detail: String| Problem {
        check,
        table: Some(table.to_owned()),
        detail,
    };
    for name in &expected.scoped {
        let err = Error::sqlite(Step::Verify, Some(name));
        let Some(info) = catalog.table(name) else {
            problems.push(problem(Check::Column, name, "the table is gone".into()));
            continue;
        };
        let Some(col) = info.column(column) else {
            problems.push(problem(
                Check::Column,
                name,
                format!(
                    "no column {column:?}; run `tenantry migrate` to scope it, or declare it \
                     global (`tenantry global add`) if every tenant shares it"
                ),
            ));
            continue;
        };
        // A virtual table's module stores its columns untyped and cannot be indexed; its
        // rows are checked below like any table's.
        let virtual_table = info.kind == crate::inspect::TableKind::Virtual;
        let decl = col.decl_type.to_ascii_uppercase();
        if !virtual_table
            && (!col.not_null || !["CHAR", "CLOB", "TEXT"].iter().any(|k| decl.contains(k)))
        {
            problems.push(problem(
                Check::Column,
                name,
                format!(
                    "column {column:?} is {} {}; it must be text and NOT NULL",
                    col.decl_type,
                    if col.not_null { "NOT NULL" } else { "nullable" }
                ),
            ));
        }
        if let Some(collation) = crate::inspect::table_sql(conn, name)
            .map_err(Error::sqlite(Step::Verify, Some(name)))?
            .and_then(|sql| crate::rebuild::declared_collation(&sql, &col.name))
            .filter(|c| !c.eq_ignore_ascii_case("BINARY"))
        {
            problems.push(problem(
                Check::Column,
                name,
                format!(
                    "column {column:?} compares with collation {collation}: the tenant test finds \
                     one tenant's rows for another whose id that collation calls equal; rebuild \
                     the table with the column declared without COLLATE"
                ),
            ));
        }
        let indexed = info.indexes.iter().any(|i| {
            !i.partial
                && i.columns
                    .first()
                    .and_then(|c| c.as_deref())
                    .is_some_and(|c| c.eq_ignore_ascii_case(column))
        });
        if !indexed && !virtual_table {
            problems.push(problem(
                Check::Index,
                name,
                format!("no index leads with {column:?}"),
            ));
        }
        if expected.layout == crate::Layout::TenantFirst && !virtual_table {
            let scoped: Vec<&str> = expected.scoped.iter().map(String::as_str).collect();
            for gap in crate::plan::tenant_first_gaps(info, column, &scoped, expected.tenant_index)
            {
                problems.push(problem(Check::TenantFirst, name, gap));
            }
        }

        // The requirements' verification queries: rows per tenant id (which also counts
        // NULL and empty ids) and the table's total.
        let query = format!(
            "SELECT {c}, count(*) FROM {t} GROUP BY {c}",
            c = sql::ident(column),
            t = sql::ident(name)
        );
        let mut stmt = conn
            .prepare(&query)
            .map_err(Error::sqlite(Step::Verify, Some(name)))?;
        let groups = stmt
            .query_map([], |r| {
                Ok((r.get::<_, rusqlite::types::Value>(0)?, r.get::<_, u64>(1)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(err)?;
        let mut per_tenant = BTreeMap::new();
        let mut total = 0;
        for (value, rows) in groups {
            total += rows;
            let id = match value {
                rusqlite::types::Value::Text(s) => s,
                rusqlite::types::Value::Null => {
                    problems.push(problem(
                        Check::NullTenant,
                        name,
                        format!("{rows} rows have a NULL tenant id"),
                    ));
                    per_tenant.insert("null".to_owned(), rows);
                    continue;
                }
                other => {
                    problems.push(problem(
                        Check::InvalidTenant,
                        name,
                        format!("{rows} rows have a non-text tenant id ({other:?})"),
                    ));
                    continue;
                }
            };
            if id.is_empty() {
                problems.push(problem(
                    Check::NullTenant,
                    name,
                    format!("{rows} rows have an empty tenant id"),
                ));
            } else if let Some(rule) = check_tenant_id(&id) {
                problems.push(problem(
                    Check::InvalidTenant,
                    name,
                    format!("{rows} rows have tenant id {id:?}: {rule}"),
                ));
            } else if let Some(registry) = expected.registry
                && !registered(conn, registry, &id)?
            {
                problems.push(problem(
                    Check::UnregisteredTenant,
                    name,
                    format!(
                        "{rows} rows have tenant id {id:?}, which is not in {}.{}; register it (INSERT INTO {} ({}) VALUES ({})) or give the rows a registered tenant (UPDATE {} SET {} = '<tenant>' WHERE {} = {})",
                        registry.table,
                        registry.column,
                        sql::ident(&registry.table),
                        sql::ident(&registry.column),
                        sql::literal(&id),
                        sql::ident(name),
                        sql::ident(column),
                        sql::ident(column),
                        sql::literal(&id),
                    ),
                ));
            }
            per_tenant.insert(id, rows);
        }
        if let Some(before) = expected.rows_before.and_then(|b| b.get(name))
            && *before != total
        {
            problems.push(problem(
                Check::RowCount,
                name,
                format!("{total} rows now, {before} before the migration"),
            ));
        }
        tables.push(TableTenants {
            table: name.clone(),
            rows: total,
            tenants: per_tenant,
        });
    }

    // The column layout's guards, which keep a reference within its tenant: each one the
    // plan would create must be there as created.
    if expected.layout == crate::Layout::Column {
        let scoped: Vec<&str> = expected
            .scoped
            .iter()
            .map(String::as_str)
            .filter(|t| catalog.table(t).is_some_and(|i| i.column(column).is_some()))
            .collect();
        let (guards, _) = crate::triggers::plan_fk_guards(catalog, &scoped, column);
        // Standalone: rows written since may reference another tenant's row (a guard
        // dropped, foreign keys written by a plain connection). Right after a migration
        // every row has the one tenant.
        if expected.rows_before.is_none() {
            problems.extend(cross_tenant_references(conn, catalog, &scoped, column)?);
        }
        // The plan leaves out the guards the schema holds already: each one left is missing.
        for guard in guards {
            problems.push(problem(
                Check::Guard,
                &guard.on,
                format!(
                    "trigger {:?}, which keeps a reference within its tenant, is missing: a \
                     row could reference another tenant's row; run `tenantry migrate` to \
                     create it again",
                    guard.name
                ),
            ));
        }
    }

    let foreign_key_violations =
        checks::foreign_key_violations(conn).map_err(Error::sqlite(Step::Verify, None))?;
    let before = match expected.fk_before {
        FkBaseline::Known(list) => Some(list.to_vec()),
        FkBaseline::Copy(_) if foreign_key_violations.is_empty() => Some(Vec::new()),
        FkBaseline::Copy(copy) => Some(violations_in(copy)?),
        FkBaseline::Unknown => None,
    };
    let fresh = checks::new_violations(before.as_deref().unwrap_or(&[]), &foreign_key_violations);
    for v in fresh {
        let detail = if before.is_some() {
            format!(
                "{} rows break foreign key {} (to {}) that did not before the migration",
                v.rows, v.fk_id, v.parent
            )
        } else {
            format!(
                "{} rows break foreign key {} (to {})",
                v.rows, v.fk_id, v.parent
            )
        };
        problems.push(Problem {
            check: Check::ForeignKeys,
            table: Some(v.table.clone()),
            detail,
        });
    }

    for view in expected.views_before.unwrap_or_default() {
        if let Some(e) = view_error(conn, view) {
            problems.push(Problem {
                check: Check::View,
                table: None,
                detail: format!(
                    "view {view:?} worked before the migration and fails after it ({e}); a view \
                     that declares its column names over `SELECT *` meets one column more (the \
                     tenant column): name the columns in its SELECT, then run `tenantry migrate` \
                     again"
                ),
            });
        }
    }

    let integrity_ok = if expected.integrity {
        let lines = checks::quick_check(conn).map_err(Error::sqlite(Step::Verify, None))?;
        let ok = lines.is_empty();
        if !ok {
            problems.push(Problem {
                check: Check::Integrity,
                table: None,
                detail: format!("quick_check reports {}", lines.join("; ")),
            });
        }
        Some(ok)
    } else {
        None
    };

    Ok(Verification {
        tables,
        foreign_key_violations_before: before.unwrap_or_default(),
        foreign_key_violations,
        integrity_ok,
        problems,
    })
}

/// The rows of the tenant tables `scoped` whose foreign key to another of them names a row
/// of another tenant. In the column layout keys are global, so a key value names one row.
fn cross_tenant_references(
    conn: &Connection,
    catalog: &Catalog,
    scoped: &[&str],
    column: &str,
) -> Result<Vec<Problem>> {
    let is_scoped = |t: &str| scoped.iter().any(|s| s.eq_ignore_ascii_case(t));
    let mut found = Vec::new();
    for child in scoped {
        let err = || Error::sqlite(Step::Verify, Some(child));
        for key in crate::inspect::resolved_foreign_keys(catalog, child) {
            if !is_scoped(&key.parent) {
                continue;
            }
            let on: Vec<String> = key
                .child_cols
                .iter()
                .zip(&key.parent_cols)
                .map(|(f, t)| format!("c.{} = p.{}", sql::ident(f), sql::ident(t)))
                .collect();
            let rows: u64 = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM main.{} AS c JOIN main.{} AS p ON {} WHERE c.{tenant} IS NOT p.{tenant}",
                        sql::ident(child),
                        sql::ident(&key.parent),
                        on.join(" AND "),
                        tenant = sql::ident(column),
                    ),
                    [],
                    |r| r.get(0),
                )
                .map_err(err())?;
            if rows > 0 {
                found.push(Problem {
                    check: Check::CrossTenant,
                    table: Some((*child).to_owned()),
                    detail: format!(
                        "{rows} rows reference a row of another tenant in {} ({}): deleting or \
                         changing that row reaches them; give them their own tenant's row or \
                         clear the reference",
                        key.parent,
                        key.child_cols.join(", ")
                    ),
                });
            }
        }
    }
    Ok(found)
}

/// `foreign_key_check` on a read-only connection to another file (the backup).
fn violations_in(copy: &std::path::Path) -> Result<Vec<FkViolations>> {
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let bad = |e: rusqlite::Error| Error::BadBackup {
        path: copy.to_owned(),
        detail: format!("cannot run foreign_key_check on it: {e}"),
    };
    let conn = Connection::open_with_flags(copy, flags).map_err(bad)?;
    checks::baseline_violations(&conn).map_err(bad)
}

fn registered(conn: &Connection, registry: &Registry, id: &str) -> Result<bool> {
    let query = format!(
        "SELECT count(*) > 0 FROM {} WHERE {} = ?1",
        sql::ident(&registry.table),
        sql::ident(&registry.column)
    );
    conn.query_row(&query, [id], |r| r.get(0))
        .map_err(Error::sqlite(Step::Verify, Some(&registry.table)))
}

/// The report of [`verify`] (also the `--json` output of `tenantry verify`).
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The database checked.
    pub database: std::path::PathBuf,
    /// The tenant column checked.
    pub column: String,
    /// The last migration recorded in `_tenantry_migrations`, if any.
    pub record: Option<crate::record::Record>,
    /// The tables that must be scoped.
    pub scoped: Vec<String>,
    /// The tables left global.
    pub global: Vec<String>,
    /// What the checks found.
    pub verification: Verification,
}

/// Checks a migrated database without changing it: every table that is not global has a
/// NOT NULL text tenant column that leads an index; no row has a NULL, empty or invalid
/// tenant id (nor one missing from the registry, when there is one); `quick_check` is
/// clean; and `foreign_key_check` shows no violation beyond those recorded before the
/// migration.
///
/// Global tables are those the migration recorded as global, those declared global
/// (`_tenantry_globals`), plus tables that are global by rule (tenantry's and migration
/// tools' bookkeeping, the `tenants` registry, shadow tables). Any other table created
/// since the migration must be scoped.
///
/// # Errors
/// A refusal when the file is missing, not a database or busy; [`Error::Sqlite`] when a
/// query fails. Problems found are not errors: see [`Verification::passed`].
pub fn verify(path: &std::path::Path, options: &crate::VerifyOptions) -> Result<VerifyReport> {
    crate::preflight::check_file(path)?;
    let conn = crate::preflight::open(path, false, options.busy_wait)?;
    conn.execute_batch("BEGIN")
        .map_err(Error::sqlite(Step::Verify, None))?;
    let catalog = crate::inspect::read_catalog(&conn)?;
    let record = crate::record::last(&conn)?;
    let column = options
        .column
        .clone()
        .or_else(|| record.as_ref().map(|r| r.column.clone()))
        .unwrap_or_else(|| crate::options::DEFAULT_COLUMN.to_owned());
    crate::tenant::check_column_name(&column)?;
    let recorded_global: Vec<&str> = record
        .as_ref()
        .map(|r| r.global_tables.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let registry = crate::plan::registry_for(&catalog, None, &column);
    let declared: Vec<String> = crate::globals::declared_global(&conn)?
        .into_iter()
        .flat_map(|d| d.tables)
        .collect();
    let (global, scoped): (Vec<_>, Vec<_>) = catalog
        .tables
        .iter()
        .filter(|t| {
            t.kind != crate::inspect::TableKind::Virtual
                || !recorded_global
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(&t.name))
        })
        .partition(|t| {
            recorded_global
                .iter()
                .any(|g| g.eq_ignore_ascii_case(&t.name))
                || declared.iter().any(|d| d.eq_ignore_ascii_case(&t.name))
                || crate::plan::global_by_rule(
                    &catalog,
                    t,
                    registry.as_ref().map(|r| r.table.as_str()),
                )
                .is_some()
        });
    let scoped: Vec<String> = scoped.into_iter().map(|t| t.name.clone()).collect();
    let verification = run(
        &conn,
        &catalog,
        &Expected {
            scoped: scoped.clone(),
            column: &column,
            registry: registry.as_ref(),
            rows_before: None,
            fk_before: record.as_ref().map_or(FkBaseline::Unknown, |r| {
                FkBaseline::Known(&r.fk_violations_before)
            }),
            integrity: options.integrity,
            layout: record.as_ref().map_or(crate::Layout::Column, |r| r.layout),
            tenant_index: record
                .as_ref()
                .map_or_else(Default::default, |r| r.tenant_index),
            views_before: None,
        },
    )?;
    Ok(VerifyReport {
        database: path.to_owned(),
        column,
        record,
        scoped,
        global: global.into_iter().map(|t| t.name.clone()).collect(),
        verification,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_that_worked_before_and_fails_after_is_a_problem() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
             CREATE VIEW star (a, b) AS SELECT * FROM t;
             CREATE VIEW named (a, b) AS SELECT id, name FROM t;
             CREATE TABLE gone (x);
             CREATE VIEW stale AS SELECT x FROM gone;
             DROP TABLE gone;",
        )
        .unwrap();
        let before = working_views(&conn).unwrap();
        assert_eq!(before, ["named", "star"]);
        conn.execute_batch(
            "ALTER TABLE t ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'a';
             CREATE INDEX idx_t_tenant_id ON t (tenant_id);",
        )
        .unwrap();
        let catalog = crate::inspect::read_catalog(&conn).unwrap();
        let found = run(
            &conn,
            &catalog,
            &Expected {
                scoped: vec!["t".to_owned()],
                column: "tenant_id",
                registry: None,
                rows_before: None,
                fk_before: FkBaseline::Unknown,
                integrity: false,
                layout: crate::Layout::Column,
                tenant_index: crate::TenantIndex::default(),
                views_before: Some(&before),
            },
        )
        .unwrap();
        let views: Vec<&Problem> = found
            .problems
            .iter()
            .filter(|p| p.check == Check::View)
            .collect();
        assert_eq!(views.len(), 1, "{:?}", found.problems);
        assert!(views[0].detail.contains("\"star\""), "{}", views[0].detail);
    }
}
