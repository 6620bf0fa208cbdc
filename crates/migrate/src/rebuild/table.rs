//! The tenant-first form of one table: its `CREATE TABLE` text edited so that every key
//! includes the tenant column, foreign keys between tenant tables are composite, and the
//! tenant column is declared without a default.

use std::ops::Range;

use serde::Serialize;

use super::ddl::{self, Action, ColumnDef, Constraint, Item, Kept, Moved, Reference, TableDdl};
use crate::sql::ident;

// The primary key's constraint names that tell tenant connections what became of the
// legacy rowid; the rewriter reads them (`tenantry_rewrite::RowKey`).
pub use tenantry_rewrite::{
    AUTOINCREMENT_MARKER as AUTOINCREMENT_MARK, CLUSTERED_MARKER as CLUSTERED_MARK,
    ROWID_MARKER as ROWID_MARK,
};

/// How a table's rows are keyed after the rebuild.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Keying {
    /// A legacy `INTEGER PRIMARY KEY` (the rowid): `WITHOUT ROWID`, primary key (tenant,
    /// column); tenant connections allocate the column per tenant.
    Rowid {
        /// The key column.
        column: String,
        /// Declared `AUTOINCREMENT`: a tenant never gets a key again.
        autoincrement: bool,
    },
    /// A rowid table with another primary key: `WITHOUT ROWID`, primary key (tenant, key);
    /// the legacy rowid values are gone (tenant connections refuse rowid reads of it).
    Clustered,
    /// Already `WITHOUT ROWID`: primary key (tenant, key).
    WithoutRowid,
    /// A rowid table kept as one: no primary key, or one whose columns hold NULL (which a
    /// `WITHOUT ROWID` key cannot); its rowid values are kept, its rows not clustered.
    RowidKept,
}

/// A foreign-key action SQLite cannot run on a composite key whose tenant column is
/// NOT NULL (`SET NULL` would null the tenant too), run by a trigger instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EmulatedAction {
    pub child_cols: Vec<String>,
    pub parent: String,
    pub parent_cols: Vec<String>,
    pub on_delete: Option<Action>,
    pub on_update: Option<Action>,
}

/// What the rebuild needs to know about the other tables.
pub(crate) struct Context<'a> {
    /// The tenant column.
    pub column: &'a str,
    /// Whether a table is a tenant table.
    pub is_scoped: &'a dyn Fn(&str) -> bool,
    /// A table's primary-key columns, in key order.
    pub primary_key: &'a dyn Fn(&str) -> Option<Vec<String>>,
}

/// What the database and the plan know of a table that its text does not say.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Known {
    /// Its primary key (not its rowid) holds NULL in some row.
    pub nullable_key: bool,
    /// Its tenant column is the application's own, not one an earlier migration recorded
    /// adding.
    pub own_column: bool,
    /// SQLite takes its primary key for the rowid (an `INTEGER PRIMARY KEY`, however its
    /// type is quoted: `"INTEGER"`, `[INTEGER]`), as its index list says (no index of
    /// origin `pk`).
    pub rowid_key: bool,
}

/// The new table: its definition (the `CREATE TABLE` text from the column list on), how
/// it is keyed, the actions emulated by triggers, and its columns' declared collations.
#[derive(Clone, Debug)]
pub(crate) struct NewTable {
    definition: String,
    pub keying: Keying,
    pub actions: Vec<EmulatedAction>,
    pub collations: Vec<(String, String)>,
}

impl NewTable {
    /// Its `CREATE TABLE` under the name `name`.
    pub fn create(&self, name: &str) -> String {
        format!("CREATE TABLE {} ({}", ident(name), self.definition)
    }
}

/// Writes the tenant-first form of the `CREATE TABLE` in `sql`. `nullable_key`: the legacy
/// primary key's columns hold NULL, so the table stays a rowid table.
///
/// # Errors
/// A message when the text cannot be read.
pub(crate) fn tenant_first(sql: &str, known: Known, cx: &Context<'_>) -> Result<NewTable, String> {
    let Known {
        nullable_key,
        own_column,
        rowid_key,
    } = known;
    let ddl = ddl::read(sql)?;
    let tenant = ident(cx.column);
    let keying = keying(&ddl, nullable_key, rowid_key);
    let decl = if ddl.strict { "TEXT" } else { "VARCHAR(255)" };
    let mut declared = false;
    let last_column = ddl.items.iter().rev().find_map(|item| match item {
        Item::Column(col) => Some(&col.name),
        Item::Constraint { .. } => None,
    });
    let mut columns: Vec<String> = Vec::new();
    let mut constraints: Vec<String> = Vec::new();
    let mut actions = Vec::new();

    for (item, raw) in ddl.items.iter().zip(&ddl.raws) {
        match item {
            Item::Column(col) => {
                if col.name.eq_ignore_ascii_case(cx.column) {
                    if !own_column && last_column == Some(&col.name) && added_by_column_layout(col)
                    {
                        // As the column layout adds it (`ALTER TABLE … ADD COLUMN`), and an
                        // earlier migration recorded adding it: declared anew below, as on a
                        // fresh table.
                        continue;
                    }
                    // The application's own tenant column.
                    let (text, key) = own_tenant_column(sql, raw.clone(), col, &keying);
                    columns.push(text);
                    if let Some(key) = key {
                        constraints.insert(0, key);
                    }
                    declared = true;
                    continue;
                }
                let mut cuts: Vec<Range<usize>> = Vec::new();
                for (span, moved) in &col.moved {
                    match moved {
                        Moved::PrimaryKey { desc, conflict, .. } => {
                            cuts.push(span.clone());
                            let order = if *desc { " DESC" } else { "" };
                            constraints.insert(
                                0,
                                format!(
                                    "{}PRIMARY KEY ({tenant}, {}{order}){}",
                                    constraint_name(&keying, None, sql),
                                    ident(&col.name),
                                    suffix(sql, conflict.as_ref()),
                                ),
                            );
                        }
                        Moved::Unique { conflict } => {
                            cuts.push(span.clone());
                            constraints.push(format!(
                                "UNIQUE ({tenant}, {}){}",
                                ident(&col.name),
                                suffix(sql, conflict.as_ref())
                            ));
                        }
                        Moved::References(r) => {
                            let Some(fk) = composite(sql, std::slice::from_ref(&col.name), r, cx)
                            else {
                                continue;
                            };
                            cuts.push(span.clone());
                            constraints.push(fk.0);
                            actions.extend(fk.1);
                        }
                    }
                }
                columns.push(cut(sql, raw.clone(), col.span.end, &cuts));
            }
            Item::Constraint {
                span,
                named,
                constraint,
            } => match constraint {
                Constraint::Key {
                    primary,
                    open,
                    columns: key_columns,
                } => {
                    let start = named.as_ref().map_or(span.start, |n| n.end);
                    // A key led by the tenant column already (an application keyed per
                    // tenant) is kept as written.
                    let led = key_columns
                        .first()
                        .is_some_and(|c| c.eq_ignore_ascii_case(cx.column));
                    let head = if *primary {
                        constraint_name(&keying, named.as_ref(), sql)
                    } else {
                        named
                            .as_ref()
                            .map_or(String::new(), |n| sql[n.clone()].to_owned())
                    };
                    let text = if led {
                        format!("{head}{}", &sql[start..span.end])
                    } else {
                        format!(
                            "{head}{}{tenant}, {}",
                            &sql[start..*open],
                            &sql[*open..span.end]
                        )
                    };
                    if *primary {
                        constraints.insert(0, text);
                    } else {
                        constraints.push(text);
                    }
                }
                Constraint::ForeignKey {
                    columns: cols,
                    reference,
                } => match composite(sql, cols, reference, cx) {
                    Some((text, emulated)) => {
                        let head = named
                            .as_ref()
                            .map_or(String::new(), |n| sql[n.clone()].to_owned());
                        constraints.push(format!("{head}{text}"));
                        actions.extend(emulated);
                    }
                    None => constraints.push(sql[span.clone()].to_owned()),
                },
                Constraint::Check => constraints.push(sql[span.clone()].to_owned()),
            },
        }
    }

    // A rowid takes integers only ("datatype mismatch" otherwise); the key column that
    // replaces it must too, or an allocation (largest key + 1) could meet a text key.
    if let Keying::Rowid { column, .. } = &keying {
        constraints.push(format!("CHECK (typeof({}) = 'integer')", ident(column)));
    }
    // The tenant column comes first, so that the key `(tenant, id)` lists the columns in
    // the order the table declares them: SQLite 3.40's `quick_check` reports NULLs that are
    // not there in a `WITHOUT ROWID` table whose key does not (README).
    let mut out = String::new();
    let mut first = true;
    if !declared {
        out.push_str(&format!("{tenant} {decl} NOT NULL"));
        first = false;
    }
    for part in columns {
        if !first {
            out.push(',');
            if !part.starts_with(char::is_whitespace) {
                out.push(' ');
            }
        }
        out.push_str(&part);
        first = false;
    }
    let mut push = |text: &str| {
        out.push_str(if first { "\n    " } else { ",\n    " });
        out.push_str(text);
        first = false;
    };
    for c in &constraints {
        push(c);
    }
    out.push_str("\n)");
    let without_rowid = matches!(
        keying,
        Keying::Rowid { .. } | Keying::Clustered | Keying::WithoutRowid
    );
    match (without_rowid, ddl.strict) {
        (true, true) => out.push_str(" WITHOUT ROWID, STRICT"),
        (true, false) => out.push_str(" WITHOUT ROWID"),
        (false, true) => out.push_str(" STRICT"),
        (false, false) => {}
    }
    let collations = ddl
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Column(c) => c.collation.clone().map(|k| (c.name.clone(), k)),
            Item::Constraint { .. } => None,
        })
        .collect();
    Ok(NewTable {
        definition: out,
        keying,
        actions,
        collations,
    })
}

/// How the table is keyed after the rebuild; `rowid_key` is SQLite's word on whether the
/// primary key is the rowid (it knows its rules: the type `INTEGER` however quoted, and no
/// `DESC` on a column's own `PRIMARY KEY`).
fn keying(ddl: &TableDdl, nullable_key: bool, rowid_key: bool) -> Keying {
    if ddl.without_rowid {
        return Keying::WithoutRowid;
    }
    for item in &ddl.items {
        match item {
            Item::Column(col) => {
                for (_, moved) in &col.moved {
                    if let Moved::PrimaryKey { autoincrement, .. } = moved {
                        if rowid_key {
                            return Keying::Rowid {
                                column: col.name.clone(),
                                autoincrement: *autoincrement,
                            };
                        }
                        return if nullable_key {
                            Keying::RowidKept
                        } else {
                            Keying::Clustered
                        };
                    }
                }
            }
            Item::Constraint {
                constraint:
                    Constraint::Key {
                        primary: true,
                        columns,
                        ..
                    },
                ..
            } => {
                if let [only] = columns.as_slice()
                    && rowid_key
                {
                    return Keying::Rowid {
                        column: only.clone(),
                        autoincrement: false,
                    };
                }
                return if nullable_key {
                    Keying::RowidKept
                } else {
                    Keying::Clustered
                };
            }
            Item::Constraint { .. } => {}
        }
    }
    Keying::RowidKept
}

/// `CONSTRAINT "<mark>" ` for a primary key whose keying has a mark; otherwise the key's own
/// name, if it had one.
fn constraint_name(keying: &Keying, named: Option<&Range<usize>>, sql: &str) -> String {
    let mark = match keying {
        Keying::Rowid {
            autoincrement: false,
            ..
        } => ROWID_MARK,
        Keying::Rowid {
            autoincrement: true,
            ..
        } => AUTOINCREMENT_MARK,
        Keying::Clustered => CLUSTERED_MARK,
        Keying::WithoutRowid | Keying::RowidKept => {
            return named.map_or(String::new(), |n| sql[n.clone()].to_owned());
        }
    };
    format!("CONSTRAINT {} ", ident(mark))
}

/// ` ON CONFLICT x` when the constraint had one.
fn suffix(sql: &str, conflict: Option<&Range<usize>>) -> String {
    conflict.map_or(String::new(), |c| format!(" {}", &sql[c.clone()]))
}

/// The composite form of a foreign key to a tenant table, and the actions a trigger must
/// run; `None` when the parent is global or its key cannot be named.
fn composite(
    sql: &str,
    child_cols: &[String],
    r: &Reference,
    cx: &Context<'_>,
) -> Option<(String, Option<EmulatedAction>)> {
    // A key to a global table, or one that holds the tenant column already (an application
    // keyed per tenant): kept as written.
    if !(cx.is_scoped)(&r.parent) || child_cols.iter().any(|c| c.eq_ignore_ascii_case(cx.column)) {
        return None;
    }
    let parent_cols = match &r.parent_cols {
        Some(cols) => cols.clone(),
        None => (cx.primary_key)(&r.parent)?,
    };
    if parent_cols.len() != child_cols.len() {
        return None;
    }
    let tenant = ident(cx.column);
    let list = |cols: &[String]| {
        std::iter::once(tenant.clone())
            .chain(cols.iter().map(|c| ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        list(child_cols),
        ident(&r.parent),
        list(&parent_cols)
    );
    for kept in &r.kept {
        text.push(' ');
        text.push_str(&sql[kept.clone()]);
    }
    let emulated = |a: Option<Action>| a.filter(|a| *a != Action::Kept);
    let action = (emulated(r.on_delete).is_some() || emulated(r.on_update).is_some()).then(|| {
        EmulatedAction {
            child_cols: child_cols.to_vec(),
            parent: r.parent.clone(),
            parent_cols,
            on_delete: emulated(r.on_delete),
            on_update: emulated(r.on_update),
        }
    });
    Some((text, action))
}

/// Whether the tenant column `col` is the one the column layout adds
/// (`<column> VARCHAR(255) NOT NULL DEFAULT '<tenant>'`, `TEXT` on a STRICT table) rather
/// than the application's own.
fn added_by_column_layout(col: &ColumnDef) -> bool {
    let mut kinds: Vec<Kept> = col.kept.iter().map(|(_, k)| *k).collect();
    kinds.sort_by_key(|k| *k as u8);
    ["VARCHAR(255)", "TEXT"]
        .iter()
        .any(|t| col.decl_type.eq_ignore_ascii_case(t))
        && col.moved.is_empty()
        && kinds == [Kept::NotNull, Kept::Default]
}

/// The application's own tenant column, as written where it stands (its name, type,
/// `CHECK`, `COLLATE`, `REFERENCES` and `UNIQUE` kept; `*` keeps its order), without its
/// `DEFAULT` or `NULL` and `NOT NULL`; and, when it is the primary key, that key as a table
/// constraint (led by the tenant column already).
fn own_tenant_column(
    sql: &str,
    raw: Range<usize>,
    col: &ColumnDef,
    keying: &Keying,
) -> (String, Option<String>) {
    let mut cuts: Vec<Range<usize>> = col
        .kept
        .iter()
        .filter(|(_, k)| matches!(k, Kept::Default | Kept::Null))
        .map(|(span, _)| span.clone())
        .collect();
    let mut key = None;
    for (span, moved) in &col.moved {
        if let Moved::PrimaryKey { desc, conflict, .. } = moved {
            cuts.push(span.clone());
            let order = if *desc { " DESC" } else { "" };
            key = Some(format!(
                "{}PRIMARY KEY ({}{order}){}",
                constraint_name(keying, None, sql),
                ident(&col.name),
                suffix(sql, conflict.as_ref()),
            ));
        }
    }
    let mut text = cut(sql, raw.start..col.span.end, col.span.end, &cuts);
    if !col.kept.iter().any(|(_, k)| *k == Kept::NotNull) {
        text.push_str(" NOT NULL");
    }
    let tail = &sql[col.span.end..raw.end];
    if tail.contains("--") || tail.contains("/*") {
        text.push_str(tail);
        end_line_comment(&mut text);
    }
    (text, key)
}

/// The text of `raw` without `cuts`; what follows the item's last token is dropped unless
/// it holds a comment.
fn cut(sql: &str, raw: Range<usize>, last: usize, cuts: &[Range<usize>]) -> String {
    let mut out = String::new();
    let mut at = raw.start;
    let mut cuts = cuts.to_vec();
    cuts.sort_by_key(|c| c.start);
    for c in cuts {
        out.push_str(&sql[at..c.start]);
        end_line_comment(&mut out);
        at = c.end;
    }
    out.push_str(&sql[at..last]);
    let tail = &sql[last..raw.end];
    if tail.contains("--") || tail.contains("/*") {
        out.push_str(tail);
    } else {
        // Trailing spaces left by a cut at the end.
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
    }
    end_line_comment(&mut out);
    out
}

/// Ends `text` with a newline when its last line may hold a `--` comment, so that what is
/// written after it is not swallowed by the comment (a newline too many is harmless).
fn end_line_comment(text: &mut String) {
    let last_line = text.rsplit('\n').next().unwrap_or("");
    if last_line.contains("--") {
        text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite says of the table `sql` creates (whether its key is the rowid), with the
    /// key's NULLs and the tenant column's owner as given.
    fn known(sql: &str, nullable_key: bool, own_column: bool) -> Known {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        let name: String = conn
            .query_row(
                "SELECT name FROM sqlite_schema WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let catalog = crate::inspect::read_catalog(&conn).unwrap();
        Known {
            nullable_key,
            own_column,
            rowid_key: super::super::is_rowid_key(catalog.table(&name).unwrap()),
        }
    }

    fn cx<'a>(
        scoped: &'a dyn Fn(&str) -> bool,
        pk: &'a dyn Fn(&str) -> Option<Vec<String>>,
    ) -> Context<'a> {
        Context {
            column: "tenant_id",
            is_scoped: scoped,
            primary_key: pk,
        }
    }

    #[test]
    fn integer_primary_keys_become_per_tenant_keys_of_a_clustered_table() {
        let sql = "CREATE TABLE users (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    username TEXT NOT NULL UNIQUE COLLATE NOCASE,\n    email TEXT UNIQUE,                -- NULL for shared logins\n    role TEXT NOT NULL DEFAULT 'cashier' CHECK (role IN ('admin', 'cashier'))\n)";
        let scoped = |_: &str| true;
        let pk = |_: &str| None;
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(
            t.create("_new"),
            "CREATE TABLE \"_new\" (\"tenant_id\" VARCHAR(255) NOT NULL,\n    id INTEGER,\n    username TEXT NOT NULL  COLLATE NOCASE,\n    email TEXT,                -- NULL for shared logins\n    role TEXT NOT NULL DEFAULT 'cashier' CHECK (role IN ('admin', 'cashier')),\n    CONSTRAINT \"tenantry_autoincrement\" PRIMARY KEY (\"tenant_id\", \"id\"),\n    UNIQUE (\"tenant_id\", \"username\"),\n    UNIQUE (\"tenant_id\", \"email\"),\n    CHECK (typeof(\"id\") = 'integer')\n) WITHOUT ROWID"
        );
        assert_eq!(
            t.keying,
            Keying::Rowid {
                column: "id".into(),
                autoincrement: true
            }
        );
        // SQLite reads it, and the key is per tenant.
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&t.create("_new")).unwrap();
        conn.execute_batch(
            "INSERT INTO _new(id, username, role, tenant_id) VALUES (1, 'admin', 'admin', 'a'), (1, 'ADMIN', 'admin', 'b')",
        )
        .unwrap();
        assert!(
            conn.execute_batch(
                "INSERT INTO _new(id, username, role, tenant_id) VALUES (2, 'Admin', 'admin', 'a')"
            )
            .is_err()
        );
    }

    #[test]
    fn foreign_keys_to_tenant_tables_become_composite_and_set_null_is_emulated() {
        let sql = "CREATE TABLE \"order lines\" (id TEXT PRIMARY KEY, customer_id TEXT REFERENCES customers ON DELETE SET NULL, g TEXT REFERENCES globals(k) ON DELETE CASCADE, CONSTRAINT fk2 FOREIGN KEY (id) REFERENCES orders(id) ON DELETE CASCADE ON UPDATE CASCADE) STRICT";
        let scoped = |t: &str| t != "globals";
        let pk = |t: &str| (t == "customers").then(|| vec!["id".to_owned()]);
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(
            t.create("_new"),
            "CREATE TABLE \"_new\" (\"tenant_id\" TEXT NOT NULL, id TEXT, customer_id TEXT, g TEXT REFERENCES globals(k) ON DELETE CASCADE,\n    CONSTRAINT \"tenantry_clustered\" PRIMARY KEY (\"tenant_id\", \"id\"),\n    FOREIGN KEY (\"tenant_id\", \"customer_id\") REFERENCES \"customers\" (\"tenant_id\", \"id\"),\n    CONSTRAINT fk2 FOREIGN KEY (\"tenant_id\", \"id\") REFERENCES \"orders\" (\"tenant_id\", \"id\") ON DELETE CASCADE\n) WITHOUT ROWID, STRICT"
        );
        assert_eq!(t.keying, Keying::Clustered);
        assert_eq!(
            t.actions,
            [
                EmulatedAction {
                    child_cols: vec!["customer_id".into()],
                    parent: "customers".into(),
                    parent_cols: vec!["id".into()],
                    on_delete: Some(Action::SetNull),
                    on_update: None,
                },
                EmulatedAction {
                    child_cols: vec!["id".into()],
                    parent: "orders".into(),
                    parent_cols: vec!["id".into()],
                    on_delete: None,
                    on_update: Some(Action::Cascade),
                }
            ]
        );
    }

    #[test]
    fn table_keys_get_the_tenant_and_an_old_tenant_column_is_declared_anew() {
        let sql = "CREATE TABLE f (a INT NOT NULL, b TEXT, tenant_id VARCHAR(255) NOT NULL DEFAULT 'x', CONSTRAINT pk PRIMARY KEY (a, b DESC) ON CONFLICT REPLACE, UNIQUE (b)) WITHOUT ROWID";
        let scoped = |_: &str| true;
        let pk = |_: &str| None;
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(
            t.create("f2"),
            "CREATE TABLE \"f2\" (\"tenant_id\" VARCHAR(255) NOT NULL, a INT NOT NULL, b TEXT,\n    CONSTRAINT pk PRIMARY KEY (\"tenant_id\", a, b DESC) ON CONFLICT REPLACE,\n    UNIQUE (\"tenant_id\", b)\n) WITHOUT ROWID"
        );
        // The application's own column keeps its place (a `*` keeps its order) and its
        // type, NOT NULL and without its default.
        let own = "CREATE TABLE v (id INTEGER PRIMARY KEY, tenant_id TEXT DEFAULT 'default', -- the store\n name TEXT)";
        let v = tenant_first(own, known(own, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(
            v.create("v"),
            "CREATE TABLE \"v\" (id INTEGER, tenant_id TEXT NOT NULL, -- the store\n name TEXT,\n    CONSTRAINT \"tenantry_rowid\" PRIMARY KEY (\"tenant_id\", \"id\"),\n    CHECK (typeof(\"id\") = 'integer')\n) WITHOUT ROWID"
        );
        assert_eq!(t.keying, Keying::WithoutRowid);
        // A primary key holding NULLs keeps its rowid table.
        let t = tenant_first(
            "CREATE TABLE n (k TEXT PRIMARY KEY)",
            known("CREATE TABLE n (k TEXT PRIMARY KEY)", true, false),
            &cx(&scoped, &pk),
        )
        .unwrap();
        assert_eq!(t.keying, Keying::RowidKept);
        assert!(
            t.create("n2")
                .ends_with("PRIMARY KEY (\"tenant_id\", \"k\")\n)"),
            "{}",
            t.create("n2")
        );
        let t = tenant_first(
            "CREATE TABLE n (k TEXT)",
            known("CREATE TABLE n (k TEXT)", false, false),
            &cx(&scoped, &pk),
        )
        .unwrap();
        assert_eq!(t.keying, Keying::RowidKept);
    }

    #[test]
    fn an_own_tenant_column_keeps_its_constraints_name_and_type() {
        let scoped = |t: &str| t != "tenants";
        let pk = |_: &str| None;
        // Its REFERENCES (to the global registry), CHECK, UNIQUE, COLLATE and spelling stay;
        // its DEFAULT and NULL go; NOT NULL is added.
        let sql = "CREATE TABLE s (id INTEGER PRIMARY KEY, TENANT_ID TEXT NULL DEFAULT 'x' REFERENCES tenants(id) CHECK (length(TENANT_ID) > 0) UNIQUE COLLATE NOCASE, theme TEXT)";
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(
            t.create("s"),
            "CREATE TABLE \"s\" (id INTEGER, TENANT_ID TEXT   REFERENCES tenants(id) CHECK (length(TENANT_ID) > 0) UNIQUE COLLATE NOCASE NOT NULL, theme TEXT,\n    CONSTRAINT \"tenantry_rowid\" PRIMARY KEY (\"tenant_id\", \"id\"),\n    CHECK (typeof(\"id\") = 'integer')\n) WITHOUT ROWID"
        );
        // Its PRIMARY KEY (one row per tenant) becomes the table's key as it is.
        let sql = "CREATE TABLE p (tenant_id TEXT PRIMARY KEY NOT NULL, name TEXT)";
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(t.keying, Keying::Clustered);
        assert_eq!(
            t.create("p"),
            "CREATE TABLE \"p\" (tenant_id TEXT  NOT NULL, name TEXT,\n    CONSTRAINT \"tenantry_clustered\" PRIMARY KEY (\"tenant_id\")\n) WITHOUT ROWID"
        );
        // The column as the column layout adds it, last, and recorded as added by it, is
        // declared anew as on a fresh table (first); the same text that is the application's
        // own column (no record says the column layout added it) stays where it stands,
        // without its DEFAULT (red team 18); and so does one the column layout would not
        // have written (a CHECK).
        let ours = "CREATE TABLE o (id INTEGER PRIMARY KEY, \"tenant_id\" VARCHAR(255) NOT NULL DEFAULT 'caps-automotive')";
        let o = tenant_first(ours, known(ours, false, false), &cx(&scoped, &pk))
            .unwrap()
            .create("o");
        assert!(
            o.starts_with("CREATE TABLE \"o\" (\"tenant_id\" VARCHAR(255) NOT NULL, id INTEGER,\n"),
            "{o}"
        );
        let o = tenant_first(ours, known(ours, false, true), &cx(&scoped, &pk))
            .unwrap()
            .create("o");
        assert!(
            o.starts_with("CREATE TABLE \"o\" (id INTEGER, \"tenant_id\" VARCHAR(255) NOT NULL,"),
            "{o}"
        );
        let own = "CREATE TABLE o (id INTEGER PRIMARY KEY, tenant_id VARCHAR(255) NOT NULL DEFAULT 'a' CHECK (tenant_id <> ''))";
        let o = tenant_first(own, known(own, false, false), &cx(&scoped, &pk))
            .unwrap()
            .create("o");
        assert!(
            o.starts_with("CREATE TABLE \"o\" (id INTEGER, tenant_id VARCHAR(255) NOT NULL  CHECK (tenant_id <> ''),"),
            "{o}"
        );
    }

    /// SQLite takes a quoted `"INTEGER"` for INTEGER (the key is the rowid), and a column's
    /// `INTEGER PRIMARY KEY DESC` for no rowid; the keying follows SQLite, not the text
    /// (red team 18: `"INTEGER"` was keyed as a clustered table, its ids no longer given).
    #[test]
    fn the_keying_follows_sqlites_reading_of_the_primary_key() {
        let scoped = |_: &str| true;
        let pk = |_: &str| None;
        for sql in [
            "CREATE TABLE q (id \"INTEGER\" PRIMARY KEY, a TEXT)",
            "CREATE TABLE q (id [integer] PRIMARY KEY AUTOINCREMENT, a TEXT)",
            "CREATE TABLE q (id 'INTEGER', a TEXT, PRIMARY KEY (id DESC))",
        ] {
            let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
            assert!(
                matches!(t.keying, Keying::Rowid { .. }),
                "{sql}: {:?}",
                t.keying
            );
        }
        let sql = "CREATE TABLE q (id INTEGER PRIMARY KEY DESC, a TEXT)";
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(t.keying, Keying::Clustered);
    }

    #[test]
    fn keys_that_hold_the_tenant_column_already_are_kept_as_written() {
        let scoped = |_: &str| true;
        let pk = |t: &str| (t == "customers").then(|| vec!["id".to_owned()]);
        let sql = "CREATE TABLE orders (id INTEGER, tenant_id TEXT NOT NULL, customer_id INT, sku TEXT, PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, sku), FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id) ON DELETE CASCADE)";
        let t = tenant_first(sql, known(sql, false, false), &cx(&scoped, &pk)).unwrap();
        assert_eq!(
            t.create("orders"),
            "CREATE TABLE \"orders\" (id INTEGER, tenant_id TEXT NOT NULL, customer_id INT, sku TEXT,\n    CONSTRAINT \"tenantry_clustered\" PRIMARY KEY (tenant_id, id),\n    UNIQUE (tenant_id, sku),\n    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id) ON DELETE CASCADE\n) WITHOUT ROWID"
        );
        assert!(t.actions.is_empty());
    }
}
