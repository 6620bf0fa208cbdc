//! The change itself, inside the caller's transaction: the tenant column, its index, and
//! planner statistics for the index.

use rusqlite::Connection;

use crate::error::{Error, Result, Step};
use crate::plan::{Plan, ScopedTable};
use crate::sql;

/// `ALTER TABLE … ADD COLUMN <column> VARCHAR(255) NOT NULL DEFAULT '<tenant>'`.
///
/// SQLite adds such a column without rewriting a row: existing rows read the default.
/// `STRICT` tables accept only the six strict type names, so they get `TEXT`.
pub(crate) fn add_column(conn: &Connection, plan: &Plan, table: &ScopedTable) -> Result<()> {
    let decl = if table.strict { "TEXT" } else { "VARCHAR(255)" };
    let statement = format!(
        "ALTER TABLE {} ADD COLUMN {} {decl} NOT NULL DEFAULT {}",
        sql::ident(&table.name),
        sql::ident(&plan.column),
        sql::literal(plan.default_tenant.as_str())
    );
    tracing::debug!(table = %table.name, %statement, "adding the tenant column");
    conn.execute_batch(&statement)
        .map_err(Error::sqlite(Step::AddColumn, Some(&table.name)))
}

/// `CREATE INDEX idx_<table>_<column> ON <table>(<column>)`.
pub(crate) fn create_index(
    conn: &Connection,
    plan: &Plan,
    table: &ScopedTable,
    index: &str,
) -> Result<()> {
    let statement = format!(
        "CREATE INDEX {} ON {}({})",
        sql::ident(index),
        sql::ident(&table.name),
        sql::ident(&plan.column)
    );
    tracing::debug!(table = %table.name, %statement, "indexing the tenant column");
    conn.execute_batch(&statement)
        .map_err(Error::sqlite(Step::CreateIndex, Some(&table.name)))
}

/// Tells the query planner how unselective each new tenant index is, for tables that
/// already have statistics.
///
/// Tenant connections test the tenant with `+tenant_id = 'A'` by default, which the planner
/// does not use an index for, so the application's statements keep the plans they had (see
/// `tenantry_rewrite::TenantFilter`). Statistics matter to statements that can use the
/// tenant index: without any, SQLite assumes an equality on an index's first column matches
/// about ten rows, so `WHERE customer_id = ? AND tenant_id = ?` would be a coin toss between
/// the customer index and the tenant index. For a table `ANALYZE` has already seen, a
/// `sqlite_stat1` row for the tenant index saying that each tenant id matches every row
/// settles it, at no cost (no table is scanned).
///
/// A table without statistics gets none: a single `sqlite_stat1` row makes SQLite treat the
/// whole table as analysed, which changes plans that have nothing to do with the tenant
/// (automatic indexes, Bloom filters, join order).
pub(crate) fn write_statistics(conn: &Connection, created: &[(&ScopedTable, &str)]) -> Result<()> {
    let err = |t: Option<&str>| Error::sqlite(Step::Statistics, t);
    if created.is_empty() {
        return Ok(());
    }
    let has_stat1: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_stat1'",
            [],
            |r| r.get(0),
        )
        .map_err(err(None))?;
    if !has_stat1 {
        // Nothing was ever analysed.
        return Ok(());
    }
    let mut analysed = conn
        .prepare("SELECT count(*) > 0 FROM sqlite_stat1 WHERE tbl = ?1 AND idx IS NOT NULL")
        .map_err(err(None))?;
    let mut insert = conn
        .prepare("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?1, ?2, ?3)")
        .map_err(err(None))?;
    for (table, index) in created {
        let has_stats: bool = analysed
            .query_row([&table.name], |r| r.get(0))
            .map_err(err(Some(&table.name)))?;
        if !has_stats {
            continue;
        }
        let rows = table.rows.unwrap_or(0).max(1);
        insert
            .execute((&table.name, index, format!("{rows} {rows}")))
            .map_err(err(Some(&table.name)))?;
    }
    Ok(())
}
