//! The fuzz target's grammar-shaped SQL generator: the fuzzer's bytes choose each
//! production ([`generate`]), through `arbitrary::Unstructured`.
//!
//! It prints statements against the legacy schema here ([`LEGACY_TABLES`]) (tables `t`, `u`, `n`, `w`, the
//! global `g`, views `vt`, `vagg`, `vg`, `vv`): SELECT with every join kind, derived tables,
//! correlated subqueries, CTEs (recursive too, some named like a table), compound selects,
//! aggregates, window functions; INSERT … VALUES / SELECT / DEFAULT VALUES with upserts;
//! UPDATE … FROM; DELETE with subqueries; RETURNING; EXPLAIN; transactions and pragmas.
//! Column references are drawn from the sources in scope, so most statements are valid.
//! No literal it prints looks like a value of tenant B's rows. When the bytes run out every
//! choice takes its first, smallest option, so generation always ends.
//!
//! Here the schema, the generator's state and its top level; [`query`] has the queries,
//! [`from`] the FROM clauses, [`expr`] the expressions, [`write`] INSERT, UPDATE and DELETE.
//! The same bytes always print the same SQL: the fuzz corpus depends on it.

use arbitrary::Unstructured;

mod expr;
mod from;
mod query;
mod write;

/// The single-tenant (legacy) schema, before migration.
pub const LEGACY_TABLES: &str = "
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t(id), c TEXT);
CREATE TABLE n (x TEXT, y INTEGER);
CREATE TABLE w (k TEXT PRIMARY KEY, q INTEGER) WITHOUT ROWID;
CREATE TABLE g (k TEXT PRIMARY KEY, v TEXT);
CREATE VIEW vt AS SELECT t.id, t.a, u.c FROM t JOIN u ON u.t_id = t.id;
CREATE VIEW vagg AS SELECT a, count(*) AS cnt, sum(b) AS total FROM t GROUP BY a;
CREATE VIEW vg AS SELECT k, v FROM g;
CREATE VIEW vv AS SELECT vt.id, vt.c, n.x FROM vt LEFT JOIN n ON n.y = vt.id;
";

/// Triggers of the legacy schema (scoped by the rewriter, as the migrator does).
pub const LEGACY_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN \
     INSERT INTO n (x, y) VALUES (NEW.a, NEW.id); END",
    "CREATE TRIGGER t_upd AFTER UPDATE OF b ON t BEGIN \
     UPDATE u SET c = 'bumped' WHERE t_id = NEW.id; END",
];

/// The tables that get the tenant column; `g` stays global.
pub const TENANT_TABLES: &[&str] = &["t", "u", "n", "w"];

/// Nesting depth of subqueries and expressions.
const MAX_DEPTH: u32 = 3;

/// A table of the legacy schema.
struct Table {
    name: &'static str,
    cols: &'static [&'static str],
    /// Has a rowid.
    rowid: bool,
    /// A unique key column, for ON CONFLICT.
    key: Option<&'static str>,
}

const TABLES: &[Table] = &[
    Table {
        name: "t",
        cols: &["id", "a", "b"],
        rowid: true,
        key: Some("id"),
    },
    Table {
        name: "u",
        cols: &["id", "t_id", "c"],
        rowid: true,
        key: Some("id"),
    },
    Table {
        name: "n",
        cols: &["x", "y"],
        rowid: true,
        key: None,
    },
    Table {
        name: "w",
        cols: &["k", "q"],
        rowid: false,
        key: Some("k"),
    },
    Table {
        name: "g",
        cols: &["k", "v"],
        rowid: true,
        key: Some("k"),
    },
];

const VIEWS: &[(&str, &[&str])] = &[
    ("vt", &["id", "a", "c"]),
    ("vagg", &["a", "cnt", "total"]),
    ("vg", &["k", "v"]),
    ("vv", &["id", "c", "x"]),
];

const LITERALS: &[&str] = &[
    "1", "2", "0", "-1", "3", "10", "1.5", "'a1'", "'x'", "''", "'c1'", "NULL", "'k1'", "X'00'",
    "0x1F", "'it''s'", "'a2'", "'x1'", "TRUE",
];

const PARAMS: &[&str] = &["?", "?1", "?2", ":p", "@p", "$p"];

const PRAGMAS: &[&str] = &[
    "PRAGMA foreign_keys",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 100",
    "PRAGMA cache_size = -2000",
    "PRAGMA recursive_triggers = 1",
    "PRAGMA defer_foreign_keys = ON",
    "PRAGMA query_only",
    "PRAGMA main.synchronous",
    "PRAGMA table_info(t)",
    "PRAGMA foreign_key_check",
];

/// A source of columns: a FROM item or a write target.
#[derive(Clone, Debug)]
struct Src {
    /// What qualifies its columns.
    qual: String,
    cols: Vec<String>,
    rowid: bool,
}

/// Prints SQL chosen by `data`.
pub fn generate(data: &[u8]) -> String {
    let mut g = Gen {
        u: Unstructured::new(data),
        depth: 0,
        ctes: Vec::new(),
        next: 0,
    };
    g.script()
}

struct Gen<'a> {
    u: Unstructured<'a>,
    depth: u32,
    /// CTEs in scope: name and columns.
    ctes: Vec<(String, Vec<String>)>,
    /// The next alias number.
    next: u32,
}

impl Gen<'_> {
    /// A number in `0..k` (0 once the bytes run out).
    fn n(&mut self, k: usize) -> usize {
        if k <= 1 {
            0
        } else {
            self.u.int_in_range(0..=k - 1).unwrap_or(0)
        }
    }

    /// True with about `pct` percent (false once the bytes run out).
    fn chance(&mut self, pct: u32) -> bool {
        if self.u.is_empty() {
            return false;
        }
        let x: u8 = self.u.arbitrary().unwrap_or(255);
        u32::from(x) * 100 < pct * 256
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.n(items.len())]
    }

    fn alias(&mut self) -> String {
        self.next += 1;
        format!("s{}", self.next)
    }

    /// ` AS sN` for a write's target, `pct` percent of the time (the target is then
    /// qualified by it), or nothing.
    fn target_alias(&mut self, pct: u32, target: &mut Src) -> String {
        if !self.chance(pct) {
            return String::new();
        }
        let a = self.alias();
        target.qual = a.clone();
        format!(" AS {a}")
    }

    fn script(&mut self) -> String {
        match self.n(10) {
            0..=6 => self.statement(),
            7 => format!("{}; {}", self.statement(), self.statement()),
            8 => format!(
                "{}; {}; {}",
                self.pick(&["BEGIN", "SAVEPOINT sp", "BEGIN IMMEDIATE"]),
                self.statement(),
                self.pick(&["COMMIT", "ROLLBACK", "RELEASE sp", "END"]),
            ),
            _ => format!("{}; {}", self.pick(PRAGMAS), self.statement()),
        }
    }

    fn statement(&mut self) -> String {
        let explain = if self.chance(4) {
            self.pick(&["EXPLAIN ", "EXPLAIN QUERY PLAN "])
        } else {
            ""
        };
        let body = match self.n(20) {
            0..=7 => self.query(&[]).0,
            8..=11 => self.insert(),
            12..=15 => self.update(),
            16..=18 => self.delete(),
            _ => self.values(3),
        };
        format!("{explain}{body}")
    }
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}
