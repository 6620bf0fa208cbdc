//! Reads what a database holds: tables, their columns and indexes, views and triggers.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Error, Result, Step};

/// What kind of table `PRAGMA table_list` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// An ordinary table (rowid or `WITHOUT ROWID`).
    Ordinary,
    /// A virtual table (FTS, R-tree, …): SQLite cannot add a column to it.
    Virtual,
    /// A shadow table that stores a virtual table's data.
    Shadow,
}

/// One column, from `PRAGMA table_xinfo`.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Declared type, as written (may be empty).
    pub decl_type: String,
    /// Declared `NOT NULL`.
    pub not_null: bool,
    /// The default expression's text, if any.
    pub default: Option<String>,
    /// Position in the primary key (0 when not part of it).
    pub pk: u32,
    /// 0 ordinary, 1 hidden (virtual tables), 2 or 3 generated.
    pub hidden: i64,
}

/// One index, from `PRAGMA index_list` and `PRAGMA index_info`.
#[derive(Clone, Debug, Serialize)]
pub struct IndexInfo {
    /// Index name (`sqlite_autoindex_…` for constraints).
    pub name: String,
    /// Whether it enforces uniqueness.
    pub unique: bool,
    /// `c` (CREATE INDEX), `u` (UNIQUE constraint) or `pk` (PRIMARY KEY).
    pub origin: String,
    /// Whether it has a WHERE clause.
    pub partial: bool,
    /// Key columns in order; `None` for an expression.
    pub columns: Vec<Option<String>>,
}

/// One foreign key of a table, from `PRAGMA foreign_key_list`.
#[derive(Clone, Debug, Serialize)]
pub struct ForeignKeyInfo {
    /// The referenced table.
    pub parent: String,
    /// The referencing columns, in key order.
    pub columns: Vec<String>,
    /// The referenced columns, in key order; empty when the key names none (it references
    /// the parent's primary key).
    pub parent_columns: Vec<String>,
}

/// One table of the `main` schema.
#[derive(Clone, Debug, Serialize)]
pub struct TableInfo {
    /// Table name, as stored in the schema.
    pub name: String,
    /// Ordinary, virtual or shadow.
    pub kind: TableKind,
    /// Declared `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// Declared `STRICT` (only the six strict type names are allowed).
    pub strict: bool,
    /// Columns in order (empty for virtual tables).
    pub columns: Vec<ColumnInfo>,
    /// Indexes (empty for virtual tables).
    pub indexes: Vec<IndexInfo>,
    /// Foreign keys (empty for virtual tables).
    pub foreign_keys: Vec<ForeignKeyInfo>,
}

impl TableInfo {
    /// The primary key's columns, in key order (empty when the table declares none).
    pub fn primary_key(&self) -> Vec<String> {
        let mut pk: Vec<(u32, &str)> = self
            .columns
            .iter()
            .filter(|c| c.pk > 0)
            .map(|c| (c.pk, c.name.as_str()))
            .collect();
        pk.sort();
        pk.into_iter().map(|(_, name)| name.to_owned()).collect()
    }

    /// The column named `name`, compared as SQLite compares identifiers (ASCII case-insensitive).
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A view or trigger: SQL that SQLite runs on its own.
#[derive(Clone, Debug, Serialize)]
pub struct SchemaObject {
    /// Its name.
    pub name: String,
    /// For a trigger, the table it is attached to; for a view, its own name.
    pub on: String,
    /// Its `CREATE` text.
    pub sql: String,
}

/// Everything the migrator needs to know about a database's schema.
#[derive(Clone, Debug, Serialize)]
pub struct Catalog {
    /// Tables of `main`, without SQLite's own `sqlite_*` tables, in schema order.
    pub tables: Vec<TableInfo>,
    /// Views.
    pub views: Vec<SchemaObject>,
    /// Triggers.
    pub triggers: Vec<SchemaObject>,
}

impl Catalog {
    /// The table named `name` (ASCII case-insensitive).
    pub fn table(&self, name: &str) -> Option<&TableInfo> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// One foreign key of a table, with its parent's columns resolved.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedKey {
    /// The parent table, as the catalog names it.
    pub parent: String,
    /// The child's columns, in key order.
    pub child_cols: Vec<String>,
    /// The parent's columns: those the key names, or the parent's primary key.
    pub parent_cols: Vec<String>,
}

/// The foreign keys of `table` whose parent is in `catalog`, the parent's columns resolved
/// (a key that names none references the parent's primary key). A key SQLite itself cannot
/// use (the column counts differ) is left out.
pub(crate) fn resolved_foreign_keys(catalog: &Catalog, table: &str) -> Vec<ResolvedKey> {
    let Some(child) = catalog.table(table) else {
        return Vec::new();
    };
    child
        .foreign_keys
        .iter()
        .filter_map(|key| {
            let parent = catalog.table(&key.parent)?;
            let parent_cols = if key.parent_columns.is_empty() {
                parent.primary_key()
            } else {
                key.parent_columns.clone()
            };
            (parent_cols.len() == key.columns.len()).then(|| ResolvedKey {
                parent: parent.name.clone(),
                child_cols: key.columns.clone(),
                parent_cols,
            })
        })
        .collect()
}

/// The `CREATE TABLE` text of `table` in the main schema (`None` when it holds none).
pub(crate) fn table_sql(conn: &Connection, table: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// Reads the catalog of the `main` schema.
///
/// # Errors
/// [`Error::Sqlite`] at [`Step::Plan`] when a pragma fails.
pub fn read_catalog(conn: &Connection) -> Result<Catalog> {
    let err = |t: Option<&str>| Error::sqlite(Step::Plan, t);
    let mut stmt = conn
        .prepare(
            "SELECT l.name, l.type, l.wr, l.strict FROM pragma_table_list AS l \
             LEFT JOIN sqlite_schema AS s ON s.name = l.name AND s.type = 'table' \
             WHERE l.schema = 'main' AND l.type <> 'view' AND l.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY s.rowid",
        )
        .map_err(err(None))?;
    let listed = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(err(None))?;

    let mut tables = Vec::with_capacity(listed.len());
    for (name, kind, without_rowid, strict) in listed {
        let kind = match kind.as_str() {
            "virtual" => TableKind::Virtual,
            "shadow" => TableKind::Shadow,
            _ => TableKind::Ordinary,
        };
        let (columns, indexes, foreign_keys) = if kind == TableKind::Virtual {
            // A virtual table's columns come from its module; a module this SQLite does
            // not have ("no such module") leaves them unknown, and the plan refuses the
            // table unless it is declared global.
            let columns = read_columns(conn, &name).unwrap_or_else(|e| {
                tracing::warn!(table = %name, error = %e, "the virtual table's columns cannot be read");
                Vec::new()
            });
            (columns, Vec::new(), Vec::new())
        } else {
            (
                read_columns(conn, &name).map_err(err(Some(&name)))?,
                read_indexes(conn, &name).map_err(err(Some(&name)))?,
                read_foreign_keys(conn, &name).map_err(err(Some(&name)))?,
            )
        };
        tables.push(TableInfo {
            name,
            kind,
            without_rowid,
            strict,
            columns,
            indexes,
            foreign_keys,
        });
    }

    let objects = |kind: &str| -> Result<Vec<SchemaObject>> {
        let mut stmt = conn
            .prepare("SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = ?1 AND sql IS NOT NULL ORDER BY rowid")
            .map_err(err(None))?;
        stmt.query_map([kind], |r| {
            Ok(SchemaObject {
                name: r.get(0)?,
                on: r.get(1)?,
                sql: r.get(2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(err(None))
    };
    Ok(Catalog {
        tables,
        views: objects("view")?,
        triggers: objects("trigger")?,
    })
}

fn read_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ColumnInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1, 'main') ORDER BY cid",
    )?;
    stmt.query_map([table], |r| {
        Ok(ColumnInfo {
            name: r.get(0)?,
            decl_type: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            not_null: r.get(2)?,
            default: r.get(3)?,
            pk: r.get(4)?,
            hidden: r.get(5)?,
        })
    })?
    .collect()
}

fn read_foreign_keys(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ForeignKeyInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1, 'main') \
         ORDER BY id, seq",
    )?;
    let rows = stmt
        .query_map([table], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut keys: Vec<(i64, ForeignKeyInfo, bool)> = Vec::new();
    for (id, parent, from, to) in rows {
        match keys.last_mut() {
            Some((last, key, named)) if *last == id => {
                key.columns.push(from);
                *named &= to.is_some();
                key.parent_columns.extend(to);
            }
            _ => keys.push((
                id,
                ForeignKeyInfo {
                    parent,
                    columns: vec![from],
                    parent_columns: to.iter().cloned().collect(),
                },
                to.is_some(),
            )),
        }
    }
    Ok(keys
        .into_iter()
        .map(|(_, mut key, named)| {
            if !named {
                key.parent_columns.clear();
            }
            key
        })
        .collect())
}

pub(crate) fn read_indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<IndexInfo>> {
    let mut list = conn.prepare_cached(
        "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1, 'main') ORDER BY seq DESC",
    )?;
    let mut info =
        conn.prepare_cached("SELECT name FROM pragma_index_info(?1, 'main') ORDER BY seqno")?;
    let heads = list
        .query_map([table], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    heads
        .into_iter()
        .map(|(name, unique, origin, partial)| {
            let columns = info
                .query_map([&name], |r| r.get::<_, Option<String>>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(IndexInfo {
                name,
                unique,
                origin,
                partial,
                columns,
            })
        })
        .collect()
}

/// The names in `tables` that the SQL text of a view or trigger mentions.
///
/// Works on SQL tokens (so a name inside a string literal or comment does not count, and
/// quoted names do), and over-approximates: a column that happens to share a table's name
/// is reported too. That is the safe direction for a list of risks.
pub fn mentioned_tables<'a>(sql: &str, tables: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    use sqlparser::dialect::SQLiteDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};

    let words: Vec<String> = match Tokenizer::new(&SQLiteDialect {}, sql).tokenize() {
        Ok(tokens) => tokens
            .into_iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.value),
                Token::SingleQuotedString(s) => Some(s), // SQLite accepts 'name' where a name is expected
                _ => None,
            })
            .collect(),
        // Unreadable text: fall back to every table (the safe answer for a risk list).
        Err(_) => return tables.into_iter().map(str::to_owned).collect(),
    };
    let mut found: Vec<String> = tables
        .into_iter()
        .filter(|t| words.iter().any(|w| w.eq_ignore_ascii_case(t)))
        .map(str::to_owned)
        .collect();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tables_columns_indexes_views_and_triggers() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
             CREATE TABLE \"order\"(k TEXT PRIMARY KEY, v INT) WITHOUT ROWID;
             CREATE TABLE s(x INTEGER) STRICT;
             CREATE INDEX a_name ON a(name, id);
             CREATE VIEW v AS SELECT * FROM a JOIN \"order\" ON k = name;
             CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO s VALUES (new.id); END;",
        )
        .unwrap();
        let c = read_catalog(&conn).unwrap();
        let names: Vec<_> = c.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "order", "s"]); // sqlite_sequence is SQLite's own
        let order = c.table("ORDER").unwrap();
        assert!(order.without_rowid && !order.strict);
        assert!(c.table("s").unwrap().strict);
        let a = c.table("a").unwrap();
        assert_eq!(a.columns.len(), 2);
        assert!(a.column("NAME").unwrap().not_null);
        assert!(
            a.indexes.iter().any(
                |i| i.name == "a_name" && i.columns == [Some("name".into()), Some("id".into())]
            )
        );
        assert!(a.indexes.iter().any(|i| i.unique && i.origin == "u"));
        assert_eq!(c.views.len(), 1);
        assert_eq!(c.triggers[0].on, "a");
    }

    #[test]
    fn finds_tables_mentioned_by_tokens_not_substrings() {
        let tables = ["users", "order", "user"];
        let sql = "CREATE VIEW x AS SELECT 'users' AS label, u.id FROM \"order\" u -- user\n WHERE note = 'usersx'";
        let found = mentioned_tables(sql, tables);
        // 'users' as a string literal counts (SQLite may read it as a name), `user` in a comment does not.
        assert_eq!(found, ["users", "order"]);
    }
}
