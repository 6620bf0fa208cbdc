//! The root oracle's generator: random schemas (2 to 5 tables, foreign keys between some,
//! some tables global, three kinds of rowid) with rows of three tenants ([`world`]), and
//! statements over them ([`statement`]) from a grammar of what the rewriter supports.

mod statement;

use proptest::collection::vec;
use proptest::prelude::*;

pub use statement::{Stmt, statement};

/// The acting tenant.
pub const A: &str = "caps-automotive";
/// The other tenants.
pub const B: &str = "store-b";
/// The other tenants.
pub const C: &str = "store-c";

/// One column beside `id`.
#[derive(Clone, Debug)]
pub struct Col {
    /// `c0`, `c1`, …
    pub name: String,
    /// TEXT (or INTEGER).
    pub text: bool,
}

/// How a table's `id` key is declared, which decides what its rowid is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Key {
    /// `id INTEGER PRIMARY KEY`: `id` is the rowid.
    Rowid,
    /// `id INT PRIMARY KEY`: a rowid of its own beside `id`.
    Separate,
    /// `id INTEGER PRIMARY KEY` in a `WITHOUT ROWID` table: no rowid.
    WithoutRowid,
}

/// One table: an `id` primary key, value columns, maybe a reference to an earlier table
/// (`ref`).
#[derive(Clone, Debug)]
pub struct Tab {
    /// `t0`, `t1`, …
    pub name: String,
    /// How `id` is declared.
    pub key: Key,
    /// The value columns.
    pub cols: Vec<Col>,
    /// The table `ref` points at, and whether deleting its row cascades.
    pub parent: Option<(usize, bool)>,
    /// Left global by the migration (no tenant column).
    pub global: bool,
}

/// A schema and tenant A's rows (B's and C's are derived from them).
#[derive(Clone, Debug)]
pub struct World {
    /// The tables.
    pub tables: Vec<Tab>,
    /// Per table, rows of A (values of the value columns; the reference as an index into
    /// the parent's rows).
    pub rows: Vec<Vec<Row>>,
}

/// One row of A's.
#[derive(Clone, Debug)]
pub struct Row {
    /// The value columns' values (printed as text for TEXT columns).
    pub values: Vec<i64>,
    /// The parent row, an index into the parent table's rows.
    pub parent: Option<usize>,
}

/// A random schema with rows.
pub fn world() -> impl Strategy<Value = World> {
    (2usize..=5)
        .prop_flat_map(|n| {
            let tabs = (0..n)
                .map(|i| {
                    (
                        vec(any::<bool>(), 1..=3),
                        any::<bool>(),
                        any::<bool>(),
                        // Every fourth table or so is global; never the first two.
                        prop::bool::weighted(if i >= 2 { 0.3 } else { 0.0 }),
                        // Half the tables have `id` as their rowid.
                        prop_oneof![
                            2 => Just(Key::Rowid),
                            1 => Just(Key::Separate),
                            1 => Just(Key::WithoutRowid),
                        ],
                    )
                })
                .collect::<Vec<_>>();
            // At least one row of A per table: A's ids are the highest, so a new row gets
            // the same id on both databases.
            (tabs, vec(vec((vec(0i64..6, 3), any::<u8>()), 1..6), n))
        })
        .prop_map(|(tabs, rows)| {
            let tables: Vec<Tab> = tabs
                .into_iter()
                .enumerate()
                .map(|(i, (cols, has_parent, cascade, global, key))| Tab {
                    name: format!("t{i}"),
                    key,
                    cols: cols
                        .into_iter()
                        .enumerate()
                        .map(|(j, text)| Col {
                            name: format!("c{j}"),
                            text,
                        })
                        .collect(),
                    // A tenant table refers to an earlier tenant table.
                    parent: (i > 0 && has_parent && !global).then(|| (i - 1, cascade)),
                    global,
                })
                .collect();
            let rows = rows
                .into_iter()
                .enumerate()
                .map(|(t, rs)| {
                    rs.into_iter()
                        .map(|(values, p)| Row {
                            values,
                            parent: tables[t].parent.map(|_| usize::from(p)),
                        })
                        .collect()
                })
                .collect();
            World { tables, rows }
        })
}

impl World {
    /// The legacy schema: the tables (with an index on each reference) and a view `v`.
    pub fn ddl(&self) -> String {
        let mut out = String::new();
        for t in &self.tables {
            let mut cols = vec![match t.key {
                Key::Separate => "id INT PRIMARY KEY".to_owned(),
                Key::Rowid | Key::WithoutRowid => "id INTEGER PRIMARY KEY".to_owned(),
            }];
            for c in &t.cols {
                cols.push(format!(
                    "{} {}",
                    c.name,
                    if c.text { "TEXT" } else { "INTEGER" }
                ));
            }
            if let Some((p, cascade)) = t.parent {
                cols.push(format!(
                    "ref INTEGER REFERENCES t{p}(id){}",
                    if cascade { " ON DELETE CASCADE" } else { "" }
                ));
            }
            let without_rowid = if t.key == Key::WithoutRowid {
                " WITHOUT ROWID"
            } else {
                ""
            };
            out.push_str(&format!(
                "CREATE TABLE {} ({}){without_rowid};\n",
                t.name,
                cols.join(", ")
            ));
            if t.parent.is_some() {
                out.push_str(&format!("CREATE INDEX {0}_ref ON {0} (ref);\n", t.name));
            }
        }
        // A view over the first two tables, which reads a CTE, a join and an aggregate.
        out.push_str(&format!(
            "CREATE VIEW v AS WITH k AS (SELECT id FROM t1) \
             SELECT a.id AS id, a.{0} AS val, (SELECT count(*) FROM k) AS n \
             FROM t0 AS a LEFT JOIN t1 AS b ON b.id = a.id;\n",
            self.tables[0].cols[0].name
        ));
        out
    }

    /// The ids of tenant `tenant` (0 = B, 1 = C, 2 = A): A's are positive and B's and C's
    /// negative, so a new row gets the same id on both databases.
    pub fn id(tenant: usize, row: usize) -> i64 {
        match tenant {
            2 => row as i64 + 1,
            k => -1000 * (k as i64 + 1) - row as i64,
        }
    }

    /// INSERTs of one tenant's rows (`tenant` 0 = B, 1 = C, 2 = A); B's and C's values are
    /// A's moved far away, so any that leaks changes a result.
    pub fn inserts(&self, tenant: usize, with_column: Option<&str>) -> String {
        self.inserts_with_keys(tenant, with_column, tenant)
    }

    /// [`World::inserts`] with the ids (and references) of tenant `keys_of`: B and C can hold
    /// exactly A's keys where keys are per tenant.
    pub fn inserts_with_keys(
        &self,
        tenant: usize,
        with_column: Option<&str>,
        keys_of: usize,
    ) -> String {
        let mut out = String::new();
        for (t, tab) in self.tables.iter().enumerate() {
            if tab.global && tenant != 2 {
                continue;
            }
            for (r, row) in self.rows[t].iter().enumerate() {
                let mut names = vec!["id".to_owned()];
                let mut values = vec![Self::id(keys_of, r).to_string()];
                for (c, col) in tab.cols.iter().enumerate() {
                    names.push(col.name.clone());
                    let v = row.values[c] + tenant as i64 * 100 - 200;
                    values.push(if col.text {
                        format!("'v{v}'")
                    } else {
                        v.to_string()
                    });
                }
                if let (Some((p, _)), Some(i)) = (tab.parent, row.parent) {
                    names.push("ref".into());
                    let parents = self.rows[p].len();
                    // A global parent's rows are everyone's (and have A's ids).
                    let owner = if self.tables[p].global { 2 } else { keys_of };
                    values.push(if parents == 0 {
                        "NULL".into()
                    } else {
                        Self::id(owner, i % parents).to_string()
                    });
                }
                if let (Some(column), false) = (with_column, tab.global) {
                    names.push(column.into());
                    values.push(format!("'{}'", [B, C, A][tenant]));
                }
                out.push_str(&format!(
                    "INSERT INTO {} ({}) VALUES ({});\n",
                    tab.name,
                    names.join(", "),
                    values.join(", ")
                ));
            }
        }
        out
    }
}
