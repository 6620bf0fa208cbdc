//! rusqlite's PRAGMA helpers on the tenant connection: each builds the PRAGMA statement
//! rusqlite would run and sends it through the rewriter, so only the PRAGMAs a tenant
//! connection allows run (connection settings and file work that touch no row; see
//! `tenantry_rewrite`'s allowlist), and the others are refused as the SQL would be.

use rusqlite::Row;
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};

use crate::connection::Connection;

impl Connection {
    /// `rusqlite::Connection::pragma_update`: `PRAGMA [schema.]name = value`, through the
    /// rewriter.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("app.db");
    /// # rusqlite::Connection::open(&path)?.execute_batch(
    /// #     "CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);")?;
    /// let conn = tenantry_sqlite::Connection::open(&path)?;
    /// conn.set_tenant("store-1")?;
    /// conn.pragma_update(None, "foreign_keys", true)?;
    /// let on: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    /// assert!(on);
    /// assert!(conn.pragma_update(None, "writable_schema", true).is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A refusal for a PRAGMA outside the allowlist; SQLite's errors.
    pub fn pragma_update<V: ToSql>(
        &self,
        schema: Option<&str>,
        name: &str,
        value: V,
    ) -> rusqlite::Result<()> {
        let sql = format!("{} = {}", pragma(schema, name), literal(&value)?);
        self.execute_batch(&sql)
    }

    /// `rusqlite::Connection::pragma_query_value`: the first row of `PRAGMA
    /// [schema.]name`, through `f`, through the rewriter.
    ///
    /// # Errors
    /// A refusal for a PRAGMA outside the allowlist; SQLite's errors; `f`'s.
    pub fn pragma_query_value<T, F>(
        &self,
        schema: Option<&str>,
        name: &str,
        f: F,
    ) -> rusqlite::Result<T>
    where
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.query_row(&pragma(schema, name), [], f)
    }

    /// `rusqlite::Connection::pragma_query_one`: the only value of `PRAGMA
    /// [schema.]name`, through the rewriter.
    ///
    /// # Errors
    /// A refusal for a PRAGMA outside the allowlist; SQLite's errors.
    pub fn pragma_query_one<T: rusqlite::types::FromSql>(
        &self,
        schema: Option<&str>,
        name: &str,
    ) -> rusqlite::Result<T> {
        self.query_one(&pragma(schema, name), [], |r| r.get(0))
    }

    /// `rusqlite::Connection::pragma_query`: every row of `PRAGMA [schema.]name`, each
    /// through `f`, through the rewriter.
    ///
    /// # Errors
    /// A refusal for a PRAGMA outside the allowlist; SQLite's errors; `f`'s.
    pub fn pragma_query<F>(
        &self,
        schema: Option<&str>,
        name: &str,
        mut f: F,
    ) -> rusqlite::Result<()>
    where
        F: FnMut(&Row<'_>) -> rusqlite::Result<()>,
    {
        let mut stmt = self.prepare(&pragma(schema, name))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(row)?;
        }
        Ok(())
    }

    /// `rusqlite::Connection::pragma`: every row of `PRAGMA [schema.]name(value)`, each
    /// through `f`, through the rewriter.
    ///
    /// # Errors
    /// A refusal for a PRAGMA outside the allowlist; SQLite's errors; `f`'s.
    pub fn pragma<F, V>(
        &self,
        schema: Option<&str>,
        name: &str,
        value: V,
        mut f: F,
    ) -> rusqlite::Result<()>
    where
        F: FnMut(&Row<'_>) -> rusqlite::Result<()>,
        V: ToSql,
    {
        let sql = format!("{}({})", pragma(schema, name), literal(&value)?);
        let mut stmt = self.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(row)?;
        }
        Ok(())
    }
}

/// `PRAGMA name` or `PRAGMA "schema".name`. The name is written as given: the rewriter
/// refuses what is not a PRAGMA it allows, so a crafted name runs nothing.
fn pragma(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("PRAGMA \"{}\".{name}", schema.replace('"', "\"\"")),
        None => format!("PRAGMA {name}"),
    }
}

/// `value` as a SQL literal, as rusqlite writes PRAGMA values.
fn literal(value: &dyn ToSql) -> rusqlite::Result<String> {
    let output = value.to_sql()?;
    let value = match &output {
        ToSqlOutput::Borrowed(v) => *v,
        ToSqlOutput::Owned(v) => ValueRef::from(v),
        _ => {
            return Err(rusqlite::Error::InvalidParameterName(
                "a PRAGMA value rusqlite cannot write as a literal".to_owned(),
            ));
        }
    };
    Ok(match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(_) => {
            return Err(rusqlite::Error::InvalidParameterName(
                "a blob as a PRAGMA value".to_owned(),
            ));
        }
    })
}
