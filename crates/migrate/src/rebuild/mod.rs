//! The tenant-first schema: every tenant table rebuilt so that its keys include the tenant
//! column, its foreign keys to other tenant tables are composite, its rows are stored in
//! tenant order where it has a primary key, and every index leads with the tenant column.
//!
//! SQLite cannot change a key in place, so each table is rebuilt the way SQLite documents
//! (create the new table, copy the rows, drop the old, rename the new), inside the
//! migration's one transaction with foreign keys off. Views and triggers are dropped first
//! and created again at the end, so no rename ever meets a view of a missing table.

mod ddl;
pub(crate) mod digest;
mod lex;
pub(crate) mod stats;
mod table;

use rusqlite::{Connection, OptionalExtension};
use tenantry_rewrite::SCOPED_TRIGGER_MARK;

pub(crate) use ddl::Action;
pub use table::{AUTOINCREMENT_MARK, CLUSTERED_MARK, Keying, ROWID_MARK};
use table::{Context, EmulatedAction};

pub(crate) use digest::Digest;

use crate::TenantIndex;
use crate::error::{Error, Result, Step};
use crate::inspect::{Catalog, TableInfo};
use crate::sql::{self, ident};

/// The table that keeps each tenant's AUTOINCREMENT high-water mark, as `sqlite_sequence`
/// keeps it for a rowid table (the rewriter's name: its INSERTs read it).
pub use tenantry_rewrite::SEQUENCE_TABLE;

/// The name a table is built under before it replaces the old one.
const NEW_NAME: &str = "_tenantry_new";

/// One table's rebuild.
#[derive(Clone, Debug)]
pub(crate) struct TableRebuild {
    /// The table.
    pub name: String,
    /// Its tenant-first `CREATE TABLE`, under its own name (what the schema will hold).
    pub create: String,
    /// The same, under [`NEW_NAME`].
    create_new: String,
    /// How its rows are keyed.
    pub keying: Keying,
    /// The columns copied (stored ones, the tenant column aside).
    copied: Vec<String>,
    /// The old table has the tenant column already (a database migrated by an earlier
    /// release): its values are copied rather than the default tenant given.
    old_tenant: bool,
    /// The legacy primary key's columns, which identify a row for the comparison (empty
    /// for a table whose rowid is kept).
    key: Vec<String>,
    /// Its indexes, tenant-first, and the tenant index.
    pub indexes: Vec<String>,
    /// Whether it gets the tenant index `idx_<table>_<column>` (without it, its primary
    /// key leads with the tenant column and serves the tenant test).
    pub tenant_index: bool,
    /// Foreign-key actions run by triggers.
    actions: Vec<EmulatedAction>,
    /// Its columns' declared collations (SQLite matches a foreign key with the parent
    /// key's).
    collations: Vec<(String, String)>,
}

/// Whether SQLite takes the table's primary key for its rowid: one column, in a rowid
/// table, and no index of origin `pk` (SQLite builds one for any other primary key).
fn is_rowid_key(info: &TableInfo) -> bool {
    !info.without_rowid
        && info.primary_key().len() == 1
        && !info.indexes.iter().any(|i| i.origin == "pk")
}

/// Plans the rebuild of `to_rebuild` among the tenant tables `scoped` (those already
/// tenant-first included: a foreign key to one of them becomes composite too): reads each
/// table's text and indexes, and whether a primary key that would become a `WITHOUT ROWID`
/// key holds NULL. `own_column` names the tables whose tenant column is the application's
/// (kept where it stands); `tenant_index` says which tables get `idx_<table>_<column>`.
///
/// # Errors
/// [`Error::Unsupported`] naming a table whose text cannot be read; [`Error::Sqlite`].
pub(crate) fn plan(
    conn: &Connection,
    catalog: &Catalog,
    to_rebuild: &[&str],
    scoped: &[&str],
    own_column: &[&str],
    column: &str,
    tenant_index: TenantIndex,
) -> Result<Vec<TableRebuild>> {
    let is_scoped = |t: &str| scoped.iter().any(|s| s.eq_ignore_ascii_case(t));
    let primary_key = |t: &str| catalog.table(t).map(TableInfo::primary_key);
    let cx = Context {
        column,
        is_scoped: &is_scoped,
        primary_key: &primary_key,
    };
    // A global table cannot keep a foreign key to a tenant table: the parent's key is per
    // tenant after the rebuild, so the reference would name no unique row.
    for table in catalog.tables.iter().filter(|t| !is_scoped(&t.name)) {
        if let Some(fk) = table.foreign_keys.iter().find(|fk| is_scoped(&fk.parent)) {
            return Err(Error::Unsupported {
                table: table.name.clone(),
                reason: format!(
                    "it stays global but its foreign key ({}) references tenant table {:?}, \
                     whose key becomes per tenant in the tenant-first layout; scope it (do not \
                     --exclude it) or migrate with --layout column",
                    fk.columns.join(", "),
                    fk.parent
                ),
            });
        }
    }
    let mut out = Vec::new();
    for &name in to_rebuild {
        let info = catalog.table(name).ok_or_else(|| Error::UnknownTable {
            table: name.to_owned(),
            option: "the plan",
        })?;
        let err = Error::sqlite(Step::Plan, Some(name));
        let text: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(err)?;
        let key = info.primary_key();
        let nullable_key = !info.without_rowid && !key.is_empty() && holds_null(conn, name, &key)?;
        let unreadable = |reason: String| Error::Unsupported {
            table: name.to_owned(),
            reason: format!(
                "its CREATE TABLE text could not be read to rebuild it ({reason}); pass --layout column to add the column without a rebuild"
            ),
        };
        let known = table::Known {
            nullable_key,
            own_column: own_column.iter().any(|t| t.eq_ignore_ascii_case(name)),
            rowid_key: is_rowid_key(info),
        };
        let new = table::tenant_first(&text, known, &cx).map_err(unreadable)?;
        if matches!(new.keying, Keying::Rowid { .. } | Keying::Clustered) {
            refuse_rowid_readers(name, &text, info, catalog)?;
        }
        let (key, keyed_by_tenant) = match &new.keying {
            Keying::RowidKept => (Vec::new(), false),
            Keying::Rowid { column, .. } => (vec![column.clone()], true),
            Keying::Clustered | Keying::WithoutRowid => (key, true),
        };
        let tenant_index = tenant_index.wanted(keyed_by_tenant);
        out.push(TableRebuild {
            name: info.name.clone(),
            create: new.create(name),
            create_new: new.create(NEW_NAME),
            keying: new.keying,
            copied: info
                .columns
                .iter()
                .filter(|c| c.hidden == 0 && !c.name.eq_ignore_ascii_case(column))
                .map(|c| c.name.clone())
                .collect(),
            old_tenant: info.column(column).is_some(),
            key,
            indexes: indexes(conn, info, column, tenant_index)?,
            tenant_index,
            actions: new.actions,
            collations: new.collations,
        });
    }
    Ok(out)
}

/// Refuses a table that becomes `WITHOUT ROWID` while its own text (a CHECK, a generated
/// column) or a trigger on it (`NEW.rowid`, `OLD.rowid`) reads its rowid: the schema SQLite
/// would then have no column of that name, and every write of the table would fail.
fn refuse_rowid_readers(name: &str, text: &str, info: &TableInfo, catalog: &Catalog) -> Result<()> {
    let is_rowid = |t: &lex::Tok| {
        matches!(&t.kind, lex::Kind::Word { value, quoted: false }
            if ["rowid", "oid", "_rowid_"].iter().any(|r| r.eq_ignore_ascii_case(value))
                && info.column(value).is_none())
    };
    let refuse = |what: String| Error::Unsupported {
        table: name.to_owned(),
        reason: format!(
            "{what} reads its rowid, which the tenant-first layout replaces (the table becomes \
             WITHOUT ROWID, keyed by tenant); read its primary key there instead, or migrate \
             with --layout column"
        ),
    };
    let unreadable = |e: String| Error::Unsupported {
        table: name.to_owned(),
        reason: format!("its SQL could not be read ({e})"),
    };
    if lex::tokens(text).map_err(unreadable)?.iter().any(is_rowid) {
        return Err(refuse("its CREATE TABLE".to_owned()));
    }
    // A trigger on the table that reads `NEW.rowid` / `OLD.rowid`; and any trigger whose
    // body names the table and reads a rowid other than its firing row's (`UPDATE t … WHERE
    // rowid = …`), which SQLite would only find missing when the trigger fires (red team
    // 18): refused, as a trigger on another table's firing row cannot be told from it here.
    let names_table = |t: &lex::Tok| matches!(&t.kind, lex::Kind::Word { value, .. } if value.eq_ignore_ascii_case(name));
    for trigger in &catalog.triggers {
        let own = trigger.on.eq_ignore_ascii_case(name);
        let toks = lex::tokens(&trigger.sql).map_err(unreadable)?;
        let firing_row = |i: usize| {
            i >= 2 && toks[i - 1].is('.') && (toks[i - 2].is_kw("NEW") || toks[i - 2].is_kw("OLD"))
        };
        let reads_firing_rowid = own
            && toks
                .iter()
                .enumerate()
                .any(|(i, t)| is_rowid(t) && firing_row(i));
        let reads_other_rowid = (own || toks.iter().any(names_table))
            && toks
                .iter()
                .enumerate()
                .any(|(i, t)| is_rowid(t) && !firing_row(i));
        if reads_firing_rowid || reads_other_rowid {
            return Err(refuse(format!("trigger {:?}", trigger.name)));
        }
    }
    Ok(())
}

/// Whether any row has NULL in a column of `key` (SQLite allows it in a rowid table's
/// primary key other than an INTEGER one).
fn holds_null(conn: &Connection, table: &str, key: &[String]) -> Result<bool> {
    let test = key
        .iter()
        .map(|c| format!("{} IS NULL", ident(c)))
        .collect::<Vec<_>>()
        .join(" OR ");
    conn.query_row(
        &format!("SELECT 1 FROM {} WHERE {test} LIMIT 1", ident(table)),
        [],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
    .map_err(Error::sqlite(Step::Plan, Some(table)))
}

/// The table's indexes written tenant-first, then the tenant index `idx_<table>_<column>`
/// unless an index of that name is among them. Without `tenant_index` (the new primary key
/// leads with the tenant column, and the tenant index is not wanted where it is redundant),
/// no tenant index is added, and one on the tenant column alone that an earlier migration
/// (the column layout) made is not created again.
fn indexes(
    conn: &Connection,
    info: &TableInfo,
    column: &str,
    tenant_index: bool,
) -> Result<Vec<String>> {
    let err = Error::sqlite(Step::Plan, Some(&info.name));
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 \
             AND sql IS NOT NULL ORDER BY rowid",
        )
        .map_err(err)?;
    let listed = stmt
        .query_map([&info.name], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(Error::sqlite(Step::Plan, Some(&info.name)))?;
    let wanted = sql::tenant_index_name(&info.name, column);
    let mut out = Vec::new();
    let mut has_tenant_index = false;
    let redundant = |name: &str| {
        !tenant_index
            && name.eq_ignore_ascii_case(&wanted)
            && info.indexes.iter().any(|i| {
                i.name == name
                    && !i.unique
                    && !i.partial
                    && i.columns.len() == 1
                    && i.columns[0]
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(column))
            })
    };
    for (name, text) in listed {
        if redundant(&name) {
            continue;
        }
        has_tenant_index |= name.eq_ignore_ascii_case(&wanted);
        let edited = tenant_first_index(&text, column).map_err(|reason| Error::Unsupported {
            table: info.name.clone(),
            reason: format!(
                "its index {name:?} could not be read to lead it with the tenant column ({reason})"
            ),
        })?;
        out.push(edited);
    }
    if tenant_index && !has_tenant_index {
        out.push(format!(
            "CREATE INDEX {} ON {}({})",
            ident(&wanted),
            ident(&info.name),
            ident(column)
        ));
    }
    Ok(out)
}

/// `CREATE [UNIQUE] INDEX … ON t (items) …` with the tenant column first among the items,
/// unless it is first already.
fn tenant_first_index(text: &str, column: &str) -> std::result::Result<String, String> {
    let toks = lex::tokens(text)?;
    let on = toks.iter().position(|t| t.is_kw("ON")).ok_or("no ON")?;
    let open = toks[on..]
        .iter()
        .position(|t| t.is('('))
        .map(|i| i + on)
        .ok_or("no column list")?;
    let first = toks.get(open + 1).ok_or("an empty column list")?;
    let already = first.name().is_some_and(|n| n.eq_ignore_ascii_case(column))
        && toks.get(open + 2).is_some_and(|t| {
            t.is(',') || t.is(')') || t.is_kw("COLLATE") || t.is_kw("ASC") || t.is_kw("DESC")
        });
    if already {
        return Ok(text.to_owned());
    }
    let at = toks[open].span.end;
    Ok(format!("{}{}, {}", &text[..at], ident(column), &text[at..]))
}

/// Drops every view and trigger of the main schema (created again by [`recreate`]).
pub(crate) fn drop_views_and_triggers(conn: &Connection, catalog: &Catalog) -> Result<()> {
    for trigger in &catalog.triggers {
        conn.execute_batch(&format!("DROP TRIGGER {}", ident(&trigger.name)))
            .map_err(Error::sqlite(Step::Rebuild, Some(&trigger.on)))?;
    }
    for view in &catalog.views {
        conn.execute_batch(&format!("DROP VIEW {}", ident(&view.name)))
            .map_err(Error::sqlite(Step::Rebuild, Some(&view.name)))?;
    }
    Ok(())
}

/// What a table's copy reads and writes: the new table's columns, and the old table's
/// values for them (`o.` the old table, the tenant's value last).
struct Lists {
    /// The rowid's name, for a table whose rowids are kept.
    rowid: Option<&'static str>,
    /// The copied columns, quoted.
    cols: Vec<String>,
    /// The tenant's value for an old row: its own column, or the default tenant.
    tenant_value: String,
    /// The new table's columns written.
    into: Vec<String>,
    /// The old table's values for them.
    from: Vec<String>,
}

fn lists(t: &TableRebuild, column: &str, default_tenant: &str) -> Lists {
    let tenant = ident(column);
    let tenant_value = if t.old_tenant {
        format!("o.{tenant}")
    } else {
        sql::literal(default_tenant)
    };
    let rowid = (t.keying == Keying::RowidKept).then(|| rowid_name(&t.copied));
    let cols: Vec<String> = t.copied.iter().map(|c| ident(c)).collect();
    let mut into: Vec<String> = rowid.iter().map(|r| r.to_string()).collect();
    into.extend(cols.iter().cloned());
    into.push(tenant);
    let mut from: Vec<String> = rowid.iter().map(|r| format!("o.{r}")).collect();
    from.extend(cols.iter().map(|c| format!("o.{c}")));
    from.push(tenant_value.clone());
    Lists {
        rowid,
        cols,
        tenant_value,
        into,
        from,
    }
}

/// Digests each table of `tables` as it is before the rebuild, in order, read from `file`
/// (the database's committed state, or its backup) on a connection of its own, and sends
/// each digest to `out` (the rebuild compares the new table with it). Stops when `out` is
/// closed. A table SQLite cannot digest (more columns than a function may take) is sent as
/// its error, and a file that cannot be opened closes `out` at once: the rebuild then
/// compares those tables row by row with SQL.
pub(crate) fn digest_old_tables(
    file: &std::path::Path,
    tables: &[TableRebuild],
    column: &str,
    default_tenant: &str,
    out: &std::sync::mpsc::Sender<(String, rusqlite::Result<Digest>)>,
) {
    let opened = Connection::open_with_flags(
        file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|conn| {
        conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA mmap_size = 2147483648;")?;
        digest::register(&conn)?;
        Ok(conn)
    });
    let conn = match opened {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "cannot digest the old tables; comparing row by row");
            return;
        }
    };
    for t in tables {
        let l = lists(t, column, default_tenant);
        let digested = digest::of(
            &conn,
            &l.from.join(", "),
            &format!("{} AS o", ident(&t.name)),
        );
        if out.send((t.name.clone(), digested)).is_err() {
            return;
        }
    }
}

/// Rebuilds one table: the new table, its rows copied and compared with the old table's
/// (which the checked backup holds too), the old dropped, the new renamed.
///
/// The comparison: when `old_digest` gives the old rows' digest (taken beside the change,
/// see [`digest_old_tables`]), the new table's digest must equal it; otherwise, or when
/// they differ, row by row: every old row has a new row with the same key and the same
/// values. Either way the number of rows must be `rows`.
pub(crate) fn rebuild(
    conn: &Connection,
    t: &TableRebuild,
    column: &str,
    default_tenant: &str,
    rows: Option<u64>,
    old_digest: impl FnOnce() -> Option<Digest>,
) -> Result<()> {
    let err = |e| Error::sqlite(Step::Rebuild, Some(&t.name))(e);
    let old = ident(&t.name);
    let new = ident(NEW_NAME);
    let tenant = ident(column);
    let l = lists(t, column, default_tenant);
    let sequence: Option<i64> = match &t.keying {
        Keying::Rowid {
            autoincrement: true,
            ..
        } => conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = ?1",
                [&t.name],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?,
        _ => None,
    };
    conn.execute_batch(&format!(
        "{};\nINSERT INTO {new} ({}) SELECT {} FROM {old} AS o;",
        t.create_new,
        l.into.join(", "),
        l.from.join(", ")
    ))
    .map_err(err)?;

    let digests_agree = match old_digest() {
        Some(expected) => {
            let new_list: Vec<String> = l.into.iter().map(|c| format!("n.{c}")).collect();
            let got =
                digest::of(conn, &new_list.join(", "), &format!("{new} AS n")).map_err(err)?;
            if got != expected {
                tracing::warn!(table = %t.name, "the rebuilt table's digest differs from the old one's; comparing row by row");
            }
            got == expected && Some(got.rows) == rows
        }
        _ => false,
    };
    if !digests_agree {
        compare_rows(conn, t, &l, &tenant, rows)?;
    }

    conn.execute_batch(&format!(
        "DROP TABLE {old};\nALTER TABLE {new} RENAME TO {old};"
    ))
    .map_err(err)?;
    if let Keying::Rowid {
        column: key,
        autoincrement: true,
    } = &t.keying
    {
        // Each tenant's high-water mark: the legacy one (global, so no tenant gets a key
        // any row ever had) or its largest key.
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {seq_table} ({tenant} VARCHAR(255) NOT NULL, \
             name TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY ({tenant}, name)) WITHOUT ROWID;",
            seq_table = ident(SEQUENCE_TABLE)
        ))
        .map_err(err)?;
        conn.execute(
            &format!(
                "INSERT INTO {seq_table} (name, seq, {tenant}) \
                 SELECT ?1, max(max(m), ?2), t FROM (SELECT {tenant} AS t, max({key}) AS m \
                 FROM {old} GROUP BY 1 UNION ALL SELECT ?3, 0) GROUP BY t",
                seq_table = ident(SEQUENCE_TABLE),
                key = ident(key),
            ),
            (&t.name, sequence.unwrap_or(0), default_tenant),
        )
        .map_err(err)?;
    }
    Ok(())
}

/// Row by row: every old row has a new row with the same key and the same values, of the
/// same storage classes (`typeof`: `IS` finds the integer 12 and the text '12' equal where
/// an affinity applies), and the new table has no other row.
fn compare_rows(
    conn: &Connection,
    t: &TableRebuild,
    l: &Lists,
    tenant: &str,
    rows: Option<u64>,
) -> Result<()> {
    let old = ident(&t.name);
    let new = ident(NEW_NAME);
    let tenant_value = &l.tenant_value;
    let key_match = match &l.rowid {
        Some(r) => format!("n.{r} = o.{r}"),
        None => std::iter::once(format!("n.{tenant} = {tenant_value}"))
            .chain(t.key.iter().map(|k| format!("n.{0} = o.{0}", ident(k))))
            .collect::<Vec<_>>()
            .join(" AND "),
    };
    let same: Vec<String> = l
        .cols
        .iter()
        .map(|c| format!("n.{c} IS o.{c} COLLATE BINARY AND typeof(n.{c}) = typeof(o.{c})"))
        .chain(std::iter::once(format!(
            "n.{tenant} IS {tenant_value} COLLATE BINARY AND typeof(n.{tenant}) = typeof({tenant_value})"
        )))
        .collect();
    let same = all_of(&same);
    let (matched, copied): (u64, u64) = conn
        .query_row(
            &format!(
                "SELECT (SELECT count(*) FROM {old} AS o JOIN {new} AS n ON {key_match} WHERE {same}), \
                 (SELECT count(*) FROM {new})"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(Error::sqlite(Step::Rebuild, Some(&t.name)))?;
    if Some(matched) != rows || copied != matched {
        return Err(Error::RowsDiffer {
            table: t.name.clone(),
            before: rows,
            copied,
            matched,
        });
    }
    Ok(())
}

/// `terms` joined by AND as a balanced tree: SQLite limits an expression's depth (1,000 by
/// default), and a chain of one term per column would pass it on a wide table.
fn all_of(terms: &[String]) -> String {
    match terms {
        [] => "1".to_owned(),
        [one] => one.clone(),
        _ => {
            let (left, right) = terms.split_at(terms.len() / 2);
            format!("({} AND {})", all_of(left), all_of(right))
        }
    }
}

/// A name for the rowid that no column of the table takes.
fn rowid_name(columns: &[String]) -> &'static str {
    ["rowid", "oid", "_rowid_"]
        .into_iter()
        .find(|n| !columns.iter().any(|c| c.eq_ignore_ascii_case(n)))
        .unwrap_or("rowid")
}

/// Creates one table's indexes.
pub(crate) fn create_indexes(conn: &Connection, t: &TableRebuild) -> Result<()> {
    for index in &t.indexes {
        conn.execute_batch(index)
            .map_err(Error::sqlite(Step::CreateIndex, Some(&t.name)))?;
    }
    Ok(())
}

/// The collation that `column` declares in the `CREATE TABLE` text `sql` (`None`: none, so
/// BINARY, or a text this reader does not follow).
pub(crate) fn declared_collation(sql: &str, column: &str) -> Option<String> {
    let ddl = ddl::read(sql).ok()?;
    ddl.items.iter().find_map(|item| match item {
        ddl::Item::Column(c) if c.name.eq_ignore_ascii_case(column) => c.collation.clone(),
        _ => None,
    })
}

impl TableRebuild {
    /// The foreign-key actions of this table that triggers run: each key's parent, and its
    /// actions as declared (`ON DELETE SET NULL`, `ON UPDATE CASCADE`, …).
    pub(crate) fn actions_by_trigger(&self) -> Vec<(String, Vec<String>)> {
        let text = |on: &str, a: Option<Action>| {
            let what = match a? {
                Action::SetNull => "SET NULL",
                Action::SetDefault => "SET DEFAULT",
                Action::Cascade => "CASCADE",
                Action::Kept => return None,
            };
            Some(format!("ON {on} {what}"))
        };
        self.actions
            .iter()
            .map(|a| {
                let actions = [text("DELETE", a.on_delete), text("UPDATE", a.on_update)]
                    .into_iter()
                    .flatten()
                    .collect();
                (a.parent.clone(), actions)
            })
            .collect()
    }
}

/// The triggers the tenant-first schema adds: foreign-key actions SQLite cannot run on a
/// composite key (`SET NULL`, `SET DEFAULT`), and the AUTOINCREMENT high-water marks.
pub(crate) fn added_triggers(
    t: &TableRebuild,
    all: &[TableRebuild],
    catalog: &Catalog,
    column: &str,
) -> Vec<crate::triggers::ScopedTrigger> {
    let tenant = ident(column);
    let mut out = Vec::new();
    for (k, a) in t.actions.iter().enumerate() {
        let child = catalog.table(&t.name);
        let value = |action: Action, col: &str, parent_col: &str| match action {
            Action::SetDefault => child
                .and_then(|c| c.column(col))
                .and_then(|c| c.default.clone())
                .map_or_else(|| "NULL".to_owned(), |d| format!("({d})")),
            Action::Cascade => format!("NEW.{}", ident(parent_col)),
            Action::SetNull | Action::Kept => "NULL".to_owned(),
        };
        // Matched as SQLite matches a foreign key: with the parent key's collation.
        let collation = |p: &str| {
            all.iter()
                .find(|r| r.name.eq_ignore_ascii_case(&a.parent))
                .and_then(|r| r.collations.iter().find(|(c, _)| c.eq_ignore_ascii_case(p)))
                .map_or(String::new(), |(_, k)| format!(" COLLATE {}", ident(k)))
        };
        let matches = std::iter::once(format!("{tenant} = OLD.{tenant}"))
            .chain(
                a.child_cols
                    .iter()
                    .zip(&a.parent_cols)
                    .map(|(c, p)| format!("{} = OLD.{}{}", ident(c), ident(p), collation(p))),
            )
            .collect::<Vec<_>>()
            .join(" AND ");
        for (event, action) in [("delete", a.on_delete), ("update", a.on_update)] {
            let Some(action) = action else { continue };
            let sets = a
                .child_cols
                .iter()
                .zip(&a.parent_cols)
                .map(|(c, p)| format!("{} = {}", ident(c), value(action, c, p)))
                .collect::<Vec<_>>()
                .join(", ");
            let (on, when) = if event == "delete" {
                ("DELETE".to_owned(), String::new())
            } else {
                let cols: Vec<String> = a.parent_cols.iter().map(|p| ident(p)).collect();
                let changed = a
                    .parent_cols
                    .iter()
                    .map(|p| format!("OLD.{0} IS NOT NEW.{0}", ident(p)))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                (
                    format!("UPDATE OF {}", cols.join(", ")),
                    format!(" WHEN {changed}"),
                )
            };
            let name = format!(
                "{}{}_{k}_{event}",
                tenantry_rewrite::FK_ACTION_TRIGGER_PREFIX,
                t.name
            );
            out.push(crate::triggers::ScopedTrigger {
                sql: format!(
                    "CREATE TRIGGER {} AFTER {on} ON {}{when}\nBEGIN\n{SCOPED_TRIGGER_MARK}\n    UPDATE {} SET {sets} WHERE {matches};\nEND",
                    ident(&name),
                    ident(&a.parent),
                    ident(&t.name),
                ),
                name,
                on: a.parent.clone(),
            });
        }
    }
    if let Keying::Rowid {
        column: key,
        autoincrement: true,
    } = &t.keying
    {
        let name = format!("tenantry_seq_{}", t.name);
        out.push(crate::triggers::ScopedTrigger {
            sql: format!(
                "CREATE TRIGGER {} AFTER INSERT ON {}\nBEGIN\n{SCOPED_TRIGGER_MARK}\n    INSERT INTO {} (name, seq, {tenant}) VALUES ({}, NEW.{}, NEW.{tenant})\n        ON CONFLICT ({tenant}, name) DO UPDATE SET seq = max(seq, excluded.seq);\nEND",
                ident(&name),
                ident(&t.name),
                ident(SEQUENCE_TABLE),
                sql::literal(&t.name),
                ident(key),
            ),
            name,
            on: t.name.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table `t (id, a, b)` of three rows, its rebuild planned, and the old rows' digest.
    /// A database made by `sql`, the digest registered, and the rebuild of its `table`.
    fn planned_from(sql: &str, table: &str) -> (Connection, TableRebuild) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        digest::register(&conn).unwrap();
        let catalog = crate::inspect::read_catalog(&conn).unwrap();
        let t = plan(
            &conn,
            &catalog,
            &[table],
            &[table],
            &[],
            "tenant_id",
            TenantIndex::Every,
        )
        .unwrap()
        .remove(0);
        (conn, t)
    }

    /// A planted fault: once the copy writes row `id`, a temporary trigger sets `set` on it.
    fn plant_trigger(t: &mut TableRebuild, set: &str, id: i64) {
        t.create_new.push_str(&format!(
            "; CREATE TEMP TRIGGER plant AFTER INSERT ON {NEW_NAME} BEGIN \
             UPDATE {NEW_NAME} SET {set} WHERE id = {id}; END"
        ));
    }

    fn planned() -> (Connection, TableRebuild, Digest) {
        let (conn, t) = planned_from(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
             INSERT INTO t VALUES (1, 'x', '12'), (2, NULL, 'y'), (3, 'z', x'00');",
            "t",
        );
        let l = lists(&t, "tenant_id", "shop");
        let old = digest::of(&conn, &l.from.join(", "), "t AS o").unwrap();
        (conn, t, old)
    }

    fn rebuilt(conn: &Connection, t: &TableRebuild, old: Option<Digest>) -> Result<()> {
        rebuild(conn, t, "tenant_id", "shop", Some(3), || old)
    }

    #[test]
    fn a_faithful_copy_passes_with_or_without_the_digest() {
        for digest in [true, false] {
            let (conn, t, old) = planned();
            rebuilt(&conn, &t, digest.then_some(old)).unwrap();
            let rows: Vec<(i64, Option<String>, String)> = conn
                .prepare("SELECT id, a, tenant_id FROM t ORDER BY id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(rows.len(), 3);
            assert!(rows.iter().all(|r| r.2 == "shop"));
        }
    }

    /// Planted faults in the copy: a value changed after it is written, and a column whose
    /// affinity changed (`'12'` stored as the integer 12, equal to it under `IS`). Each is
    /// caught whether the old rows' digest is known or not, and nothing is replaced.
    #[test]
    fn a_copy_that_changes_a_value_or_its_storage_class_is_caught() {
        let plants: [fn(&mut TableRebuild); 2] = [
            |t| plant_trigger(t, "a = 'changed'", 2),
            |t| t.create_new = t.create_new.replacen("b TEXT", "b INTEGER", 1),
        ];
        for (i, plant) in plants.iter().enumerate() {
            for digest in [true, false] {
                let (conn, mut t, old) = planned();
                plant(&mut t);
                let error = rebuilt(&conn, &t, digest.then_some(old)).unwrap_err();
                assert!(
                    matches!(&error, Error::RowsDiffer { table, before: Some(3), copied: 3, matched: 2 } if table == "t"),
                    "plant {i}, digest {digest}: {error:?}"
                );
                let legacy: bool = conn
                    .query_row(
                        "SELECT count(*) = 0 FROM pragma_table_info('t') WHERE name = 'tenant_id'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(legacy, "plant {i}: the old table is still there");
            }
        }
    }

    /// A table wider than SQLite lets a function take cannot be digested; compared row by
    /// row, it passes, and a value changed in the copy is still caught.
    #[test]
    fn a_table_of_1100_columns_is_compared_row_by_row() {
        let cols: Vec<String> = (0..1100).map(|i| format!("c{i} TEXT")).collect();
        let (conn, t) = planned_from(
            &format!(
                "CREATE TABLE w (id INTEGER PRIMARY KEY, {});
                 INSERT INTO w (id, c0, c1099) VALUES (1, 'a', 'b'), (2, 'c', 'd');",
                cols.join(", ")
            ),
            "w",
        );
        let l = lists(&t, "tenant_id", "shop");
        assert!(digest::of(&conn, &l.from.join(", "), "w AS o").is_err());

        let mut planted = t.clone();
        plant_trigger(&mut planted, "c1099 = 'changed'", 2);
        let error = rebuild(&conn, &planted, "tenant_id", "shop", Some(2), || None).unwrap_err();
        assert!(
            matches!(
                &error,
                Error::RowsDiffer {
                    copied: 2,
                    matched: 1,
                    ..
                }
            ),
            "{error:?}"
        );
        conn.execute_batch(&format!("DROP TRIGGER plant; DROP TABLE {NEW_NAME}"))
            .unwrap();
        rebuild(&conn, &t, "tenant_id", "shop", Some(2), || None).unwrap();
        let tenants: i64 = conn
            .query_row("SELECT count(*) FROM w WHERE tenant_id = 'shop'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(tenants, 2);
    }

    #[test]
    fn indexes_lead_with_the_tenant_column() {
        assert_eq!(
            tenant_first_index(
                "CREATE UNIQUE INDEX u ON \"t x\"(lower(a), b DESC) WHERE a > 0",
                "tenant_id"
            )
            .unwrap(),
            "CREATE UNIQUE INDEX u ON \"t x\"(\"tenant_id\", lower(a), b DESC) WHERE a > 0"
        );
        let led = "CREATE INDEX idx_t_tenant_id ON t(tenant_id)";
        assert_eq!(tenant_first_index(led, "tenant_id").unwrap(), led);
        // A column that merely starts like it is not it.
        assert_eq!(
            tenant_first_index("CREATE INDEX i ON t(tenant_id_old)", "tenant_id").unwrap(),
            "CREATE INDEX i ON t(\"tenant_id\", tenant_id_old)"
        );
    }
}
