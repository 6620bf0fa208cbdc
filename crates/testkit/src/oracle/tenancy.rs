//! Who owns which rows: the tables of the oracle's databases, the other tenants' rows as a
//! snapshot, the acting tenant's slice, and the leak markers (values only the other
//! tenants' rows hold).

use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};

use super::TENANT_COLUMN;
use crate::db::{Outcome, StatementRun, query};
use crate::sql::quote;

/// The tables of a legacy database and of its migrated twin, and the tenant whose
/// statements run.
#[derive(Clone, Debug)]
pub struct Tenancy {
    /// The acting tenant.
    pub tenant: String,
    tables: Vec<Table>,
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    /// The legacy columns (generated ones too).
    columns: Vec<String>,
    /// Has the tenant column in the migrated database.
    tenant: bool,
    /// Has a rowid in the migrated database.
    rowid: bool,
}

/// The first column of every row `sql` returns, as text.
fn strings(conn: &Connection, sql: &str, params: &[&str]) -> Vec<String> {
    conn.prepare(sql)
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?
                .collect()
        })
        .expect("schema")
}

impl Tenancy {
    /// Reads the tables of `single` (the legacy database) and which of them have the tenant
    /// column and a rowid in `multi` (the migrated one).
    pub fn read(single: &Connection, multi: &Connection, tenant: &str) -> Tenancy {
        let names = strings(
            single,
            // A virtual table's shadow tables hold every tenant's data: its rows are read
            // through the virtual table itself.
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
             AND name NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow') \
             ORDER BY rowid",
            &[],
        );
        let tables = names
            .into_iter()
            .map(|name| {
                let columns = strings(
                    single,
                    "SELECT name FROM pragma_table_xinfo(?1) WHERE hidden IN (0, 2, 3)",
                    &[&name],
                );
                let tenant = strings(multi, "SELECT name FROM pragma_table_xinfo(?1)", &[&name])
                    .iter()
                    .any(|c| c == TENANT_COLUMN);
                let rowid = strings(
                    multi,
                    "SELECT name FROM pragma_table_list WHERE name = ?1 AND schema = 'main' \
                     AND wr = 0",
                    &[&name],
                )
                .len()
                    == 1;
                Table {
                    name,
                    columns,
                    tenant,
                    rowid,
                }
            })
            .collect();
        Tenancy {
            tenant: tenant.to_owned(),
            tables,
        }
    }

    /// Every row of the tenant tables whose tenant is not the acting one, every column and
    /// the rowid, as text; with `schema`, the schema too (`sqlite_master` and
    /// `sqlite_temp_master`).
    ///
    /// # Errors
    /// SQLite's message when a table cannot be read.
    pub fn others(&self, conn: &Connection, schema: bool) -> Result<String, String> {
        let mut out = String::new();
        let tenant = [Value::Text(self.tenant.clone())];
        for t in self.tables.iter().filter(|t| t.tenant) {
            let rowid = if t.rowid { "rowid, " } else { "" };
            let sql = format!(
                "SELECT {rowid}* FROM {} WHERE {TENANT_COLUMN} IS NOT ?1",
                quote(&t.name)
            );
            let rows = query(conn, &sql, &tenant)?.sorted();
            out.push_str(&format!("{}: {:?}\n", t.name, rows.rows));
        }
        if schema {
            for table in ["sqlite_master", "sqlite_temp_master"] {
                let sql = format!("SELECT type, name, tbl_name, sql FROM {table}");
                let rows = query(conn, &sql, &[])?.sorted();
                out.push_str(&format!("{table}: {:?}\n", rows.rows));
            }
        }
        Ok(out)
    }

    /// Every table's rows, legacy columns only, in a fixed order: with `scoped`, only the
    /// acting tenant's rows of the tenant tables (read this on the migrated database),
    /// without, all of them (read this on the legacy one).
    pub fn slice(&self, conn: &Connection, scoped: bool) -> Vec<(String, Outcome)> {
        self.tables
            .iter()
            .map(|t| {
                let list: Vec<String> = t.columns.iter().map(|c| quote(c)).collect();
                let filter = if scoped && t.tenant {
                    format!(" WHERE {TENANT_COLUMN} = ?1")
                } else {
                    String::new()
                };
                let sql = format!("SELECT {} FROM {}{filter}", list.join(", "), quote(&t.name));
                let params = if filter.is_empty() {
                    Vec::new()
                } else {
                    vec![Value::Text(self.tenant.clone())]
                };
                let rows = query(conn, &sql, &params)
                    .unwrap_or_else(|e| panic!("read table {}: {e}", t.name));
                (t.name.clone(), rows.sorted())
            })
            .collect()
    }

    /// Checks what `run` (a batch run on `conn`, a migrated database whose
    /// [`others`](Tenancy::others) were `before`) did: it returned no value of `markers`
    /// (when given), and left the other tenants' rows (and with `schema`, the schema) as
    /// they were.
    ///
    /// # Errors
    /// The first way the batch crossed tenants.
    pub fn isolated(
        &self,
        conn: &Connection,
        before: &str,
        schema: bool,
        markers: Option<&Markers<'_>>,
        run: &[StatementRun],
    ) -> Result<(), Leak> {
        if let Some(value) = markers.and_then(|m| m.first(run)) {
            return Err(Leak::Returned(value));
        }
        match self.others(conn, schema) {
            Err(e) => Err(Leak::Unreadable(e)),
            Ok(after) if after != before => Err(Leak::Changed {
                before: before.to_owned(),
                after,
            }),
            Ok(_) => Ok(()),
        }
    }
}

/// How a statement crossed tenants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leak {
    /// It returned this value of another tenant's rows.
    Returned(String),
    /// It changed other tenants' rows (or the schema).
    Changed {
        /// The snapshot before.
        before: String,
        /// The snapshot after.
        after: String,
    },
    /// Other tenants' rows cannot be read after it.
    Unreadable(String),
}

/// Values only other tenants' rows hold: a value among them in a result is a leak.
#[derive(Clone, Copy, Debug)]
pub struct Markers<'a> {
    /// Integers (and the same numbers as reals).
    pub ints: &'a [i64],
    /// Substrings of text, lower case, matched without regard to case.
    pub texts: &'a [&'a str],
    /// Blobs are matched as text too.
    pub blobs: bool,
}

impl Markers<'_> {
    /// Whether `v` is one of the markers.
    pub fn is_marker(&self, v: ValueRef<'_>) -> bool {
        let text = |t: &[u8]| {
            let lower = String::from_utf8_lossy(t).to_ascii_lowercase();
            self.texts.iter().any(|m| lower.contains(m))
        };
        match v {
            ValueRef::Integer(i) => self.ints.contains(&i),
            ValueRef::Real(r) => self.ints.iter().any(|&i| i as f64 == r),
            ValueRef::Text(t) => text(t),
            ValueRef::Blob(b) => self.blobs && text(b),
            ValueRef::Null => false,
        }
    }

    /// The first marker among the rows of `run`, as text.
    pub fn first(&self, run: &[StatementRun]) -> Option<String> {
        run.iter()
            .flat_map(|s| s.rows.iter().flatten())
            .find(|v| self.is_marker(ValueRef::from(*v)))
            .map(|v| format!("{v:?}"))
    }
}
