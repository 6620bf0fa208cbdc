//! The tenant-sliced oracle (issue 5, part 1), with proptest.
//!
//! Each case generates a small schema (2 to 5 tables, foreign keys between some, some
//! tables global), rows for three tenants, and statements from a grammar of what the
//! rewriter supports. Two databases are built:
//! - `single`: the legacy schema, A's rows only, plain rusqlite: what the application saw
//!   before the migration;
//! - `multi`: the same rows for A, B and C (B's and C's with other ids and other values),
//!   migrated by `tenantry migrate`, read and written through A's tenant connection.
//!
//! For every statement: the outcome through A's connection equals the outcome of the
//! original on `single` (rows as a multiset, or in order where the statement orders on every
//! column; changes; RETURNING rows; whether it failed), A's rows afterwards equal `single`'s
//! rows afterwards, the global tables stay equal, and B's and C's rows are byte for byte what
//! they were. A refusal is allowed, and counted; its rate must stay low. Each statement runs
//! in a transaction rolled back on both sides, so the next one starts from the same rows.
//!
//! Case counts fit CI by default; `PROPTEST_CASES` raises them, `TENANTRY_PROPTEST_SEED`
//! changes the seed. Failures shrink, and are kept in `tests/it/proptest-regressions/`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use rusqlite::types::Value;
use tenantry_migrate::{MigrateOptions, migrate};
use tenantry_sqlite::{Connection, Error};

const A: &str = "caps-automotive";
const B: &str = "store-b";
const C: &str = "store-c";

/// Share of generated statements the tenant connection may refuse.
const MAX_REFUSAL_RATE: f64 = 0.05;

/// One column beside `id`.
#[derive(Clone, Debug)]
struct Col {
    name: String,
    text: bool,
}

/// How a table's `id` key is declared, which decides what its rowid is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Key {
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
struct Tab {
    name: String,
    key: Key,
    cols: Vec<Col>,
    parent: Option<(usize, bool)>,
    global: bool,
}

#[derive(Clone, Debug)]
struct World {
    tables: Vec<Tab>,
    /// Per table, rows of A (values of the value columns; the reference as an index into
    /// the parent's rows).
    rows: Vec<Vec<Row>>,
}

#[derive(Clone, Debug)]
struct Row {
    values: Vec<i64>,
    parent: Option<usize>,
}

fn world() -> impl Strategy<Value = World> {
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
    fn ddl(&self) -> String {
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
    fn id(tenant: usize, row: usize) -> i64 {
        match tenant {
            2 => row as i64 + 1,
            k => -1000 * (k as i64 + 1) - row as i64,
        }
    }

    /// INSERTs of one tenant's rows (`tenant` 0 = B, 1 = C, 2 = A); B's and C's values are
    /// A's moved far away, so any that leaks changes a result.
    fn inserts(&self, tenant: usize, with_column: Option<&str>) -> String {
        let mut out = String::new();
        for (t, tab) in self.tables.iter().enumerate() {
            if tab.global && tenant != 2 {
                continue;
            }
            for (r, row) in self.rows[t].iter().enumerate() {
                let mut names = vec!["id".to_owned()];
                let mut values = vec![Self::id(tenant, r).to_string()];
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
                    let owner = if self.tables[p].global { 2 } else { tenant };
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

/// A statement generated for a world, whether its result is ordered on every column, and
/// whether it names another tenant's key.
#[derive(Clone, Debug)]
struct Stmt {
    sql: String,
    ordered: bool,
    /// It writes with a key that is another tenant's: keys are global (a documented gap,
    /// see ARCHITECTURE.md), so on the single-tenant database the key is free and the two
    /// outcomes differ by design. Only isolation is checked.
    foreign_key: bool,
}

fn col_ref(tab: &Tab, alias: &str, pick: u8) -> String {
    let n = tab.cols.len() + 1 + usize::from(tab.parent.is_some());
    match usize::from(pick) % n {
        0 => format!("{alias}.id"),
        i if i <= tab.cols.len() => format!("{alias}.{}", tab.cols[i - 1].name),
        _ => format!("{alias}.ref"),
    }
}

/// Statements over `w`, from the bytes of `picks` (shrinks well: fewer, smaller bytes).
fn statement(w: &World, picks: &[u8]) -> Stmt {
    let p = |i: usize| picks.get(i).copied().unwrap_or(0);
    let nt = w.tables.len();
    let t1 = usize::from(p(1)) % nt;
    let t2 = usize::from(p(2)) % nt;
    let (a, b) = (&w.tables[t1], &w.tables[t2]);
    let ca = col_ref(a, "x", p(3));
    let cb = col_ref(b, "y", p(4));
    let lit = i64::from(p(5) % 8) - 1;
    let cond = match p(6) % 6 {
        0 => format!("{ca} > {lit}"),
        1 => format!("{ca} IS NOT NULL"),
        2 => format!(
            "x.id IN (SELECT y.id FROM {} AS y WHERE {cb} <> {lit})",
            b.name
        ),
        3 => format!("EXISTS (SELECT 1 FROM {} AS y WHERE y.id = x.id)", b.name),
        4 => format!("{ca} = (SELECT max({cb}) FROM {} AS y)", b.name),
        _ => "1".to_owned(),
    };
    let join = [
        "JOIN",
        "LEFT JOIN",
        "RIGHT JOIN",
        "FULL JOIN",
        "CROSS JOIN",
        ",",
    ][usize::from(p(7)) % 6];
    let on = if join == "CROSS JOIN" || join == "," {
        String::new()
    } else {
        format!(" ON {ca} = {cb}")
    };
    let value = |tab: &Tab, c: &Col, k: u8| -> String {
        let _ = tab;
        if c.text {
            format!("'n{}'", k % 5)
        } else {
            format!("{}", i64::from(k % 7))
        }
    };
    // A rowid read by one of its names (SQLite names a result column reading it after the
    // INTEGER PRIMARY KEY, or "rowid"; a WITHOUT ROWID table has none: an error both ways).
    let rw = ["rowid", "oid", "_rowid_"][usize::from(p(10)) % 3];
    match p(0) % 24 {
        22 => Stmt {
            sql: format!(
                "SELECT x.{rw}, {rw}, {ca} FROM {} AS x WHERE {cond} AND x.{rw} > {lit}",
                a.name
            ),
            ordered: false,
            foreign_key: false,
        },
        // The rowid read through the shapes where SQLite's lookup passes a source without
        // one (a subquery, the view), or cannot see a sibling.
        23 => Stmt {
            sql: match p(8) % 8 {
                0 => format!(
                    "SELECT x.id, (SELECT x.{rw} FROM (SELECT 1 AS id) AS x) FROM {} AS x",
                    a.name
                ),
                1 => format!(
                    "SELECT x.id, (SELECT s.r FROM {} AS x JOIN (SELECT x.{rw} AS r) AS s ON 1 \
                     LIMIT 1) FROM {} AS x",
                    b.name, a.name
                ),
                2 => format!(
                    "SELECT {rw}, x.id FROM {} AS x, (SELECT 1 AS id) AS d WHERE {cond}",
                    a.name
                ),
                3 => format!(
                    "SELECT * FROM (SELECT {rw}, id FROM {} WHERE id > {lit}) AS s",
                    a.name
                ),
                4 => format!(
                    "SELECT x.id, (SELECT {rw} FROM v LIMIT 1) FROM {} AS x",
                    a.name
                ),
                5 => format!(
                    "DELETE FROM {} WHERE {rw} IN (SELECT y.{rw} FROM {} AS y) RETURNING {rw}, id",
                    a.name, b.name
                ),
                // ORDER BY inside a subquery: the inner table's rowid, not the outer one's
                // (which is the same for every row: `y.id` breaks the tie, so LIMIT picks
                // the same row on both sides).
                6 => format!(
                    "SELECT x.id, (SELECT y.id FROM {} AS y ORDER BY {rw} DESC, y.id LIMIT 1) \
                     FROM {} AS x",
                    b.name, a.name
                ),
                // A result alias named like the key, beside a rowid read from outside.
                _ => format!(
                    "SELECT x.id, (SELECT 5 AS id WHERE {rw} > {lit}) FROM {} AS x \
                     ORDER BY {rw}",
                    a.name
                ),
            },
            ordered: false,
            foreign_key: false,
        },
        14 => Stmt {
            sql: format!(
                "SELECT * FROM v WHERE id IN (SELECT x.id FROM {} AS x) ORDER BY id",
                a.name
            ),
            ordered: true,
            foreign_key: false,
        },
        15 => Stmt {
            sql: format!(
                "SELECT v.val, count(*) FROM v JOIN {} AS x ON x.id = v.id GROUP BY v.val \
                 HAVING count(*) > 0",
                a.name
            ),
            ordered: false,
            foreign_key: false,
        },
        16 => Stmt {
            sql: format!("SELECT * FROM {} AS x NATURAL JOIN {} AS y", a.name, b.name),
            ordered: false,
            foreign_key: false,
        },
        17 => Stmt {
            sql: format!(
                "SELECT x.id, y.id FROM {} AS x JOIN {} AS y USING (id) WHERE {cond}",
                a.name, b.name
            ),
            ordered: false,
            foreign_key: false,
        },
        18 => Stmt {
            sql: format!(
                "SELECT x.id, (SELECT count(*) FROM {} AS y WHERE {cb} = {ca}), \
                 rank() OVER (PARTITION BY {ca} ORDER BY x.id) FROM {} AS x",
                b.name, a.name
            ),
            ordered: false,
            foreign_key: false,
        },
        19 => Stmt {
            sql: format!("DELETE FROM {} AS x WHERE {cond} RETURNING x.id", a.name),
            ordered: false,
            foreign_key: false,
        },
        20 => Stmt {
            sql: format!(
                "SELECT x.id FROM {} AS x INTERSECT SELECT y.id FROM {} AS y \
                 UNION ALL SELECT id FROM v",
                a.name, b.name
            ),
            ordered: false,
            foreign_key: false,
        },
        21 => Stmt {
            sql: format!(
                "SELECT count(*) FROM (SELECT x.id FROM {} AS x LEFT JOIN \
                 (SELECT y.id AS i FROM {} AS y) AS d ON d.i = x.id WHERE d.i IS NULL)",
                a.name, b.name
            ),
            ordered: false,
            foreign_key: false,
        },
        0 => Stmt {
            sql: format!("SELECT * FROM {} AS x WHERE {cond}", a.name),
            ordered: false,
            foreign_key: false,
        },
        1 => Stmt {
            sql: format!(
                "SELECT {ca}, {cb} FROM {} AS x {join} {} AS y{on} ORDER BY 1, 2",
                a.name, b.name
            ),
            ordered: true,
            foreign_key: false,
        },
        2 => Stmt {
            sql: format!(
                "SELECT count(*), sum(x.id), max({ca}) FROM {} AS x {join} {} AS y{on} WHERE {cond}",
                a.name, b.name
            ),
            ordered: false,
            foreign_key: false,
        },
        3 => Stmt {
            sql: format!(
                "WITH w AS (SELECT {ca} AS v, x.id AS i FROM {} AS x WHERE {cond}) \
                 SELECT v, count(*) FROM w GROUP BY v ORDER BY 1, 2",
                a.name
            ),
            ordered: true,
            foreign_key: false,
        },
        4 => Stmt {
            sql: format!(
                "SELECT x.id FROM {} AS x UNION SELECT y.id FROM {} AS y ORDER BY 1 LIMIT 5",
                a.name, b.name
            ),
            ordered: true,
            foreign_key: false,
        },
        5 => Stmt {
            sql: format!(
                "SELECT x.id, row_number() OVER (ORDER BY x.id), sum(x.id) OVER () FROM {} AS x \
                 WHERE {cond} ORDER BY 1",
                a.name
            ),
            ordered: true,
            foreign_key: false,
        },
        6 => Stmt {
            sql: format!(
                "SELECT d.n, d.m FROM (SELECT count(*) AS n, min({cb}) AS m FROM {} AS y) AS d",
                b.name
            ),
            ordered: false,
            foreign_key: false,
        },
        7 => Stmt {
            sql: format!(
                "SELECT x.id FROM {} AS x EXCEPT SELECT y.id FROM {} AS y",
                a.name, b.name
            ),
            ordered: false,
            foreign_key: false,
        },
        8 => {
            let c = &a.cols[usize::from(p(8)) % a.cols.len()];
            Stmt {
                sql: format!(
                    "INSERT INTO {} ({}) VALUES ({}) RETURNING *",
                    a.name,
                    c.name,
                    value(a, c, p(9))
                ),
                ordered: false,
                foreign_key: false,
            }
        }
        9 => {
            let c = &a.cols[usize::from(p(8)) % a.cols.len()];
            Stmt {
                sql: format!(
                    "INSERT INTO {0} ({1}) SELECT {1} FROM {0} AS x WHERE {cond}",
                    a.name, c.name
                ),
                ordered: false,
                foreign_key: false,
            }
        }
        10 => {
            let c = &a.cols[usize::from(p(8)) % a.cols.len()];
            // An upsert on an id that may be A's, B's or C's.
            let owner = usize::from(p(9)) % 3;
            let id = World::id(owner, usize::from(p(10)) % 3);
            Stmt {
                sql: format!(
                    "INSERT INTO {0} (id, {1}) VALUES ({id}, {2}) \
                     ON CONFLICT (id) DO UPDATE SET {1} = excluded.{1}",
                    a.name,
                    c.name,
                    value(a, c, p(11))
                ),
                ordered: false,
                foreign_key: owner != 2,
            }
        }
        11 => {
            let c = &a.cols[usize::from(p(8)) % a.cols.len()];
            Stmt {
                sql: format!(
                    "UPDATE {} AS x SET {} = {} WHERE {cond} RETURNING x.id",
                    a.name,
                    c.name,
                    value(a, c, p(9))
                ),
                ordered: false,
                foreign_key: false,
            }
        }
        12 => {
            let c = &a.cols[usize::from(p(8)) % a.cols.len()];
            Stmt {
                sql: format!(
                    "UPDATE {0} SET {1} = y.id FROM {2} AS y WHERE {0}.id = y.id",
                    a.name, c.name, b.name
                ),
                ordered: false,
                foreign_key: false,
            }
        }
        _ => Stmt {
            sql: format!(
                "DELETE FROM {} WHERE id IN (SELECT y.id FROM {} AS y WHERE {cb} IS NOT NULL \
                 OR y.id > {})",
                a.name,
                b.name,
                World::id(usize::from(p(9)) % 3, 0)
            ),
            ordered: false,
            foreign_key: false,
        },
    }
}

/// What a statement did, comparable across the two databases: its result columns' names
/// and its rows.
#[derive(Debug, PartialEq)]
enum Outcome {
    Rows(Vec<String>, Vec<String>),
    Failed,
}

fn render(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => format!("i{i}"),
        Value::Real(r) => format!("r{r:?}"),
        Value::Text(t) => format!("t{t:?}"),
        Value::Blob(b) => format!("b{b:?}"),
    }
}

fn outcome(prepared: rusqlite::Result<rusqlite::Statement<'_>>, ordered: bool) -> Outcome {
    let Ok(mut stmt) = prepared else {
        return Outcome::Failed;
    };
    let n = stmt.column_count();
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let rows: rusqlite::Result<Vec<String>> = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, Value>(i).map(|v| render(&v)))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(|v| v.join("|"))
        })
        .and_then(|rows| rows.collect());
    match rows {
        Ok(mut rows) => {
            if !ordered {
                rows.sort();
            }
            Outcome::Rows(names, rows)
        }
        Err(_) => Outcome::Failed,
    }
}

/// The rows of every table as text: the tenant's, or all of them; global tables whole
/// (`with_global`) or not at all.
fn rows_of(
    conn: &rusqlite::Connection,
    w: &World,
    tenant: Option<&str>,
    with_global: bool,
) -> String {
    let mut out = String::new();
    for t in w.tables.iter().filter(|t| with_global || !t.global) {
        let filter = match (tenant, t.global) {
            (Some(id), false) => format!(" WHERE tenant_id = '{id}'"),
            _ => String::new(),
        };
        let mut cols = vec!["id".to_owned()];
        cols.extend(t.cols.iter().map(|c| c.name.clone()));
        if t.parent.is_some() {
            cols.push("ref".into());
        }
        let sql = format!(
            "SELECT {} FROM {}{filter} ORDER BY id",
            cols.join(", "),
            t.name
        );
        let got = outcome(conn.prepare(&sql), true);
        out.push_str(&format!("{}: {got:?}\n", t.name));
    }
    out
}

struct Dbs {
    _dir: tempfile::TempDir,
    single: rusqlite::Connection,
    /// A's tenant connection to the multi-tenant database.
    a: Connection,
    /// A plain connection to it, to read every tenant's rows.
    raw: rusqlite::Connection,
}

fn build(w: &World) -> Dbs {
    let dir = tempfile::tempdir().expect("temp dir");
    let single_path = dir.path().join("single.db");
    let multi_path = dir.path().join("multi.db");
    let ddl = w.ddl();
    let single = rusqlite::Connection::open(&single_path).expect("single");
    single
        .execute_batch(&format!(
            "PRAGMA foreign_keys = ON; {ddl}{}",
            w.inserts(2, None)
        ))
        .expect("single rows");
    {
        let multi = rusqlite::Connection::open(&multi_path).expect("multi");
        multi
            .execute_batch(&format!("{ddl}{}", w.inserts(2, None)))
            .expect("multi: A's rows");
    }
    let options = MigrateOptions {
        exclude: w
            .tables
            .iter()
            .filter(|t| t.global)
            .map(|t| t.name.clone())
            .collect(),
        backup: Some(dir.path().join("multi.backup")),
        ..MigrateOptions::default()
    };
    migrate(&multi_path, &options, &mut |_| {}).expect("migrate");
    let raw = rusqlite::Connection::open(&multi_path).expect("raw");
    raw.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; {}{}",
        w.inserts(0, Some("tenant_id")),
        w.inserts(1, Some("tenant_id"))
    ))
    .expect("B's and C's rows");
    let a = Connection::open(&multi_path).expect("tenant connection");
    a.set_tenant(A).expect("tenant A");
    a.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    Dbs {
        _dir: dir,
        single,
        a,
        raw,
    }
}

thread_local! {
    static COUNTS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// Refusals by kind (the `Refusal` variant, or the error's when it is not a refusal).
    static REFUSALS: RefCell<BTreeMap<String, u64>> = const { RefCell::new(BTreeMap::new()) };
}

fn note_refusal(error: &tenantry_rewrite::RewriteError) {
    let kind = error
        .refusal()
        .map_or(error.kind(), |refusal| refusal.name());
    REFUSALS.with(|r| *r.borrow_mut().entry(kind.to_owned()).or_default() += 1);
}

/// Runs `s` on both sides in transactions rolled back, and checks the oracle's properties.
fn check(w: &World, dbs: &Dbs, s: &Stmt) -> Result<(), TestCaseError> {
    let others_before = format!(
        "{}{}",
        rows_of(&dbs.raw, w, Some(B), false),
        rows_of(&dbs.raw, w, Some(C), false)
    );
    dbs.single.execute_batch("BEGIN").expect("begin single");
    dbs.a.execute_batch("BEGIN").expect("begin multi");
    let legacy = outcome(dbs.single.prepare(&s.sql), s.ordered);
    let prepared = dbs.a.prepare(&s.sql);
    let refusal = match prepared.as_ref().map_err(Error::of) {
        Err(Some(Error::Rewrite(error))) => Some(error),
        _ => None,
    };
    let scoped = match refusal {
        Some(error) => {
            note_refusal(error);
            None
        }
        None => Some(outcome(prepared, s.ordered)),
    };
    let single_after = rows_of(&dbs.single, w, None, true);
    // Read inside A's transaction, before it is rolled back.
    let (a_after, others_after) = dbs.a.unscoped(|c| {
        (
            rows_of(c, w, Some(A), true),
            format!(
                "{}{}",
                rows_of(c, w, Some(B), false),
                rows_of(c, w, Some(C), false)
            ),
        )
    });
    dbs.single
        .execute_batch("ROLLBACK")
        .expect("rollback single");
    dbs.a.execute_batch("ROLLBACK").expect("rollback multi");
    COUNTS.with(|c| {
        let (n, refused) = c.get();
        c.set((n + 1, refused + u64::from(scoped.is_none())));
    });
    prop_assert_eq!(&others_before, &others_after, "B or C changed: {}", s.sql);
    let Some(scoped) = scoped else {
        return Ok(());
    };
    if s.foreign_key {
        return Ok(());
    }
    prop_assert_eq!(&scoped, &legacy, "outcome differs: {}", s.sql);
    prop_assert_eq!(&a_after, &single_after, "A's rows differ after: {}", s.sql);
    Ok(())
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(64);
    let seed = std::env::var("TENANTRY_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(20_261_128);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/it/proptest-regressions/oracle.txt",
        ))),
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// The property, with the share of refused statements reported and bounded.
#[test]
fn a_tenants_statements_match_its_single_tenant_database_and_touch_no_one_else() {
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let result = runner.run(&(world(), vec(vec(any::<u8>(), 12), 12)), |(w, picks)| {
        let dbs = build(&w);
        for p in &picks {
            check(&w, &dbs, &statement(&w, p))?;
        }
        Ok(())
    });
    let (n, refused) = COUNTS.with(Cell::get);
    let kinds = REFUSALS.with(|r| {
        r.borrow()
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    eprintln!(
        "oracle: {n} statements, {refused} refused ({:.2}%): {kinds}",
        100.0 * refused as f64 / n.max(1) as f64
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(n > 0);
    assert!(
        (refused as f64) <= MAX_REFUSAL_RATE * n as f64,
        "{refused} of {n} statements refused"
    );
}

/// The oracle can fail: the same statements run on the multi-tenant database without a
/// tenant connection give other outcomes (B's and C's rows are there to be seen).
#[test]
fn the_oracle_sees_other_tenants_when_nothing_is_scoped() {
    let mut runner = proptest::test_runner::TestRunner::new(Config {
        failure_persistence: None,
        cases: 4,
        ..config()
    });
    let differs = Cell::new(0);
    let total = Cell::new(0);
    runner
        .run(&world(), |w| {
            let dbs = build(&w);
            let sql = format!("SELECT * FROM {} ORDER BY id", w.tables[0].name);
            let single = outcome(dbs.single.prepare(&sql), true);
            let unscoped = dbs.a.unscoped(|c| outcome(c.prepare(&sql), true));
            let scoped = outcome(dbs.a.prepare(&sql), true);
            prop_assert_eq!(&scoped, &single);
            total.set(total.get() + 1);
            differs.set(differs.get() + usize::from(unscoped != single));
            Ok(())
        })
        .expect("scoped reads equal the single-tenant database");
    assert!(total.get() > 0);
    assert_eq!(
        differs.get(),
        total.get(),
        "unscoped reads showed only A's rows"
    );
}
