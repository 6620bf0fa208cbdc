//! The migrator's bookkeeping table, `_tenantry_migrations`: what each migration did and
//! where its backup is. It stays global.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::checks::FkViolations;
use crate::error::{Error, Result, Step};
use crate::sql;

/// Name of the bookkeeping table.
pub const RECORD_TABLE: &str = "_tenantry_migrations";

/// One migration, as recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// When it was committed (UTC, ISO 8601).
    pub applied_at: String,
    /// The tenantry version that ran it.
    pub tool_version: String,
    /// The tenant column's name.
    pub column: String,
    /// The tenant given to the existing rows.
    pub default_tenant: String,
    /// The backup taken before it.
    pub backup: Option<PathBuf>,
    /// The tables scoped.
    pub scoped_tables: Vec<String>,
    /// The tables left global.
    pub global_tables: Vec<String>,
    /// Foreign-key violations that existed before the migration.
    pub fk_violations_before: Vec<FkViolations>,
    /// The layout it made (records of earlier releases, which had only `column`, read as
    /// `column`).
    #[serde(default = "column_layout")]
    pub layout: crate::Layout,
    /// Which tenant-first tables got the tenant index (records of earlier releases: every
    /// one).
    #[serde(default)]
    pub tenant_index: crate::TenantIndex,
    /// The scoped tables whose tenant column was the application's own (it declared it
    /// before any migration): tenant connections show it to legacy statements. Records of
    /// earlier releases have none.
    #[serde(default)]
    pub own_column_tables: Vec<String>,
    /// The rows of each table the backup holds, so that `rollback` restores only the copy
    /// this migration made. Records of earlier releases have none.
    #[serde(default)]
    pub backup_rows: std::collections::BTreeMap<String, u64>,
}

fn column_layout() -> crate::Layout {
    crate::Layout::Column
}

/// Writes `record` (creating the table on first use).
pub(crate) fn insert(conn: &Connection, record: &Record) -> Result<()> {
    let err = Error::sqlite(Step::Record, Some(RECORD_TABLE));
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  id INTEGER PRIMARY KEY,\n  applied_at TEXT NOT NULL,\n  tool_version TEXT NOT NULL,\n  details TEXT NOT NULL\n)",
        sql::ident(RECORD_TABLE)
    ))
    .map_err(Error::sqlite(Step::Record, Some(RECORD_TABLE)))?;
    let details = serde_json::to_string(record).map_err(|e| {
        Error::sqlite(Step::Record, Some(RECORD_TABLE))(rusqlite::Error::ToSqlConversionFailure(
            Box::new(e),
        ))
    })?;
    conn.execute(
        &format!(
            "INSERT INTO {} (applied_at, tool_version, details) VALUES (?1, ?2, ?3)",
            sql::ident(RECORD_TABLE)
        ),
        (&record.applied_at, &record.tool_version, details),
    )
    .map_err(err)?;
    Ok(())
}

/// The last recorded migration, if the table exists and has one.
pub fn last(conn: &Connection) -> Result<Option<Record>> {
    let err = Error::sqlite(Step::Plan, Some(RECORD_TABLE));
    let exists: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [RECORD_TABLE],
            |r| r.get(0),
        )
        .map_err(Error::sqlite(Step::Plan, Some(RECORD_TABLE)))?;
    if !exists {
        return Ok(None);
    }
    let details: Option<String> = conn
        .query_row(
            &format!(
                "SELECT details FROM {} ORDER BY id DESC LIMIT 1",
                sql::ident(RECORD_TABLE)
            ),
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    match details {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Sqlite {
                step: Step::Plan,
                table: Some(RECORD_TABLE.into()),
                source: rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                ),
            }),
    }
}
