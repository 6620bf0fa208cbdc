//! Planner statistics for the tenant-first schema: what the legacy schema's planner
//! believed, with the tenant column in front.
//!
//! Every index of a rebuilt table leads with the tenant column, and tenant connections test
//! the tenant with an equality SQLite can use. Without statistics SQLite assumes that an
//! equality on an index's first column matches about ten rows, so the tenant test alone
//! looks as selective as the application's own lookups, and the planner reads a tenant's
//! whole range through the primary key where the legacy statement used its index (measured
//! on the typical fixture: point lookups 249× slower, joins 67×).
//!
//! So each rebuilt table gets one `sqlite_stat1` row per index:
//! - the tenant column matches every row (right after the migration one tenant holds them
//!   all), so it never outranks an index the legacy plan chose;
//! - the columns after it are as selective as the legacy index's were: its `ANALYZE`
//!   figures where the legacy table had them, otherwise what SQLite assumes for a table
//!   without statistics (about a million rows, ten rows per value of an index's first
//!   column, nine for two columns, …, one for a whole unique key), so the legacy plans come
//!   back, each index read within the tenant's range.
//!
//! A later `ANALYZE` (or `PRAGMA optimize`) replaces these rows with measured ones, as it
//! would on any database.

use rusqlite::Connection;

use super::TableRebuild;
use crate::error::{Error, Result, Step};
use crate::inspect::{Catalog, IndexInfo, read_indexes};

/// The number of rows SQLite assumes for a table without statistics (`LogEst` 200).
pub(crate) const ASSUMED_ROWS: u64 = 1_048_576;

/// Rows per value SQLite assumes for an equality on the first, second, … column of an
/// index without statistics; every further column: 5.
const ASSUMED_PER_VALUE: [u64; 5] = [10, 9, 8, 7, 6];

/// Options of a `sqlite_stat1` row that still hold once the tenant column leads the index.
const KEPT_OPTIONS: [&str; 2] = ["unordered", "noskipscan"];

/// One legacy index with its `sqlite_stat1` figures, read before its table is rebuilt.
#[derive(Clone, Debug)]
struct LegacyIndex {
    name: String,
    /// Key columns, ASCII-lowercased; `None` for an expression.
    columns: Vec<Option<String>>,
    unique: bool,
    partial: bool,
    /// `nRow nEq1 nEq2 …` as `ANALYZE` wrote them.
    figures: Vec<u64>,
    /// Options kept from the row.
    options: Vec<String>,
}

/// One rebuilt table's legacy statistics.
#[derive(Clone, Debug, Default)]
pub(crate) struct Legacy {
    table: String,
    /// The table's row count as `ANALYZE` last saw it; `None` when it was never analysed.
    rows: Option<u64>,
    indexes: Vec<LegacyIndex>,
}

/// Reads the legacy statistics of every table of `rebuild` (before any is dropped: dropping
/// a table drops its `sqlite_stat1` rows).
///
/// # Errors
/// [`Error::Sqlite`] at [`Step::Statistics`], naming the table.
pub(crate) fn read(
    conn: &Connection,
    catalog: &Catalog,
    rebuild: &[TableRebuild],
) -> Result<Vec<Legacy>> {
    let analysed = stat1_exists(conn)?;
    rebuild
        .iter()
        .map(|t| {
            let mut legacy = Legacy {
                table: t.name.clone(),
                ..Legacy::default()
            };
            if !analysed {
                return Ok(legacy);
            }
            let err = Error::sqlite(Step::Statistics, Some(&t.name));
            let mut stmt = conn
                .prepare_cached(
                    "SELECT idx, CAST(stat AS TEXT) FROM sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([&t.name], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(Error::sqlite(Step::Statistics, Some(&t.name)))?;
            let indexes = catalog.table(&t.name).map_or(&[][..], |i| &i.indexes[..]);
            for (idx, stat) in rows {
                let (figures, options) = parse(stat.as_deref().unwrap_or(""));
                let Some(&total) = figures.first() else {
                    continue;
                };
                let index = match idx {
                    None => None,
                    // `ANALYZE` names a WITHOUT ROWID table's primary key after the table.
                    Some(idx) if idx.eq_ignore_ascii_case(&t.name) => {
                        indexes.iter().find(|i| i.origin == "pk")
                    }
                    Some(idx) => indexes.iter().find(|i| i.name.eq_ignore_ascii_case(&idx)),
                };
                match index {
                    Some(index) => {
                        if !index.partial {
                            legacy.rows = Some(total);
                        }
                        legacy.indexes.push(LegacyIndex {
                            name: index.name.clone(),
                            columns: lowercase(index),
                            unique: index.unique,
                            partial: index.partial,
                            figures,
                            options,
                        });
                    }
                    None => legacy.rows = legacy.rows.or(Some(total)),
                }
            }
            Ok(legacy)
        })
        .collect()
}

/// Writes a `sqlite_stat1` row for every index of every rebuilt table (see the module
/// documentation), creating `sqlite_stat1` if the database has none.
///
/// # Errors
/// [`Error::Sqlite`] at [`Step::Statistics`], naming the table.
pub(crate) fn write(conn: &Connection, legacy: &[Legacy], column: &str) -> Result<()> {
    if legacy.is_empty() {
        return Ok(());
    }
    if !stat1_exists(conn)? {
        // The documented way to create the statistics table without analysing anything.
        conn.execute_batch("ANALYZE sqlite_schema")
            .map_err(Error::sqlite(Step::Statistics, None))?;
    }
    for table in legacy {
        let err = |e| Error::sqlite(Step::Statistics, Some(&table.table))(e);
        let indexes = read_indexes(conn, &table.table).map_err(err)?;
        conn.execute(
            "DELETE FROM sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE",
            [&table.table],
        )
        .map_err(err)?;
        let mut insert = conn
            .prepare_cached("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        for index in &indexes {
            let stat = figures(table, index, column);
            tracing::debug!(table = %table.table, index = %index.name, %stat, "planner statistics");
            insert
                .execute((&table.table, &index.name, &stat))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// The `sqlite_stat1` text for `index` (tenant-first) of `table`.
fn figures(table: &Legacy, index: &IndexInfo, column: &str) -> String {
    let columns = lowercase(index);
    let leads = columns
        .first()
        .is_some_and(|c| c.as_deref() == Some(column.to_ascii_lowercase().as_str()));
    // The columns after the tenant column: what the legacy index held.
    let rest = if leads { &columns[1..] } else { &columns[..] };
    let legacy = table
        .indexes
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(&index.name) && l.columns == rest)
        .or_else(|| {
            table.indexes.iter().find(|l| {
                l.columns == rest && l.unique == index.unique && l.partial == index.partial
            })
        });
    let rows = table.rows.unwrap_or(ASSUMED_ROWS);
    let total = match legacy {
        Some(l) if l.partial => l.figures.first().copied().unwrap_or(rows / 2),
        _ if index.partial => rows / 2,
        _ => rows,
    };
    let mut out = vec![total];
    if leads {
        out.push(total);
    }
    for i in 0..rest.len() {
        let assumed = if index.unique && i + 1 == rest.len() {
            1
        } else {
            ASSUMED_PER_VALUE.get(i).copied().unwrap_or(5)
        };
        let measured = legacy.and_then(|l| l.figures.get(i + 1).copied());
        out.push(measured.unwrap_or(assumed));
    }
    // Each figure at least one row and at most the one before it, as `ANALYZE` writes them.
    for i in 1..out.len() {
        out[i] = out[i].clamp(1, out[i - 1].max(1));
    }
    let mut text: Vec<String> = out.iter().map(u64::to_string).collect();
    if let Some(l) = legacy {
        text.extend(l.options.iter().cloned());
    }
    text.join(" ")
}

/// The figures and the kept options of a `sqlite_stat1` text.
fn parse(stat: &str) -> (Vec<u64>, Vec<String>) {
    let mut figures = Vec::new();
    let mut options = Vec::new();
    for word in stat.split_ascii_whitespace() {
        match word.parse::<u64>() {
            Ok(n) if options.is_empty() => figures.push(n),
            _ if KEPT_OPTIONS.iter().any(|o| o.eq_ignore_ascii_case(word)) => {
                options.push(word.to_ascii_lowercase());
            }
            // `sz=…` (row size, which the tenant column changes) and anything newer.
            _ => {}
        }
    }
    (figures, options)
}

fn lowercase(index: &IndexInfo) -> Vec<Option<String>> {
    index
        .columns
        .iter()
        .map(|c| c.as_ref().map(|c| c.to_ascii_lowercase()))
        .collect()
}

fn stat1_exists(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'",
        [],
        |r| r.get(0),
    )
    .map_err(Error::sqlite(Step::Statistics, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, columns: &[&str], unique: bool) -> IndexInfo {
        IndexInfo {
            name: name.to_owned(),
            unique,
            origin: "c".to_owned(),
            partial: false,
            columns: columns.iter().map(|c| Some((*c).to_owned())).collect(),
        }
    }

    #[test]
    fn an_unanalysed_table_gets_what_sqlite_assumed_behind_an_unselective_tenant_column() {
        let table = Legacy {
            table: "customers".to_owned(),
            ..Legacy::default()
        };
        let phone = index("idx_customers_phone", &["tenant_id", "phone"], false);
        assert_eq!(figures(&table, &phone, "tenant_id"), "1048576 1048576 10");
        let names = index("idx_name", &["tenant_id", "last_name", "first_name"], false);
        assert_eq!(figures(&table, &names, "tenant_id"), "1048576 1048576 10 9");
        let key = index("sqlite_autoindex_customers_1", &["tenant_id", "id"], true);
        assert_eq!(figures(&table, &key, "tenant_id"), "1048576 1048576 1");
        let tenant = index("idx_customers_tenant_id", &["tenant_id"], false);
        assert_eq!(figures(&table, &tenant, "tenant_id"), "1048576 1048576");
    }

    #[test]
    fn an_analysed_table_keeps_its_figures_behind_the_tenant_column() {
        let (figures_, options) = parse("500 25 2 unordered sz=40");
        assert_eq!(figures_, [500, 25, 2]);
        assert_eq!(options, ["unordered"]);
        let table = Legacy {
            table: "customers".to_owned(),
            rows: Some(500),
            indexes: vec![LegacyIndex {
                name: "idx_name".to_owned(),
                columns: vec![Some("last_name".to_owned()), Some("first_name".to_owned())],
                unique: false,
                partial: false,
                figures: figures_,
                options,
            }],
        };
        let names = index("idx_name", &["tenant_id", "Last_Name", "first_name"], false);
        assert_eq!(
            figures(&table, &names, "tenant_id"),
            "500 500 25 2 unordered"
        );
        // An index the legacy table lacked gets the assumptions, at the measured size.
        let phone = index("idx_phone", &["tenant_id", "phone"], false);
        assert_eq!(figures(&table, &phone, "tenant_id"), "500 500 10");
    }
}
