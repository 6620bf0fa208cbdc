//! The grammar-shaped SQL generator: the fuzzer's bytes choose each production.
//!
//! It prints statements against the harness's legacy schema (tables `t`, `u`, `n`, `w`, the
//! global `g`, views `vt`, `vagg`, `vg`, `vv`): SELECT with every join kind, derived tables,
//! correlated subqueries, CTEs (recursive too, some named like a table), compound selects,
//! aggregates, window functions; INSERT … VALUES / SELECT / DEFAULT VALUES with upserts;
//! UPDATE … FROM; DELETE with subqueries; RETURNING; EXPLAIN; transactions and pragmas.
//! Column references are drawn from the sources in scope, so most statements are valid.
//! No literal it prints looks like a value of tenant B's rows. When the bytes run out every
//! choice takes its first, smallest option, so generation always ends.

use arbitrary::Unstructured;

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

    // --- queries ------------------------------------------------------------------------

    /// A full query: WITH, compound selects, ORDER BY, LIMIT. Returns it and its column
    /// count.
    fn query(&mut self, outer: &[Src]) -> (String, usize) {
        self.query_with(outer, None)
    }

    fn query_with(&mut self, outer: &[Src], want: Option<usize>) -> (String, usize) {
        let saved = self.ctes.len();
        let with = if self.depth < 2 && self.chance(25) {
            self.with_clause(outer)
        } else {
            String::new()
        };
        let compound = self.chance(20);
        let (first, cols) = self.select(outer, want, compound);
        let mut sql = format!("{with}{first}");
        let k = cols.len();
        if compound {
            for _ in 0..=self.n(2) {
                let op = self.pick(&["UNION ALL", "UNION", "EXCEPT", "INTERSECT"]);
                let (next, _) = if self.chance(15) {
                    (self.values(k), k)
                } else {
                    let (s, c) = self.select(outer, Some(k), true);
                    (s, c.len())
                };
                sql = format!("{sql} {op} {next}");
            }
        }
        if self.chance(30) && k > 0 {
            let keys: Vec<String> = (0..=self.n(2))
                .map(|_| {
                    let i = self.n(k) + 1;
                    let dir = self.pick(&["", " ASC", " DESC", " NULLS FIRST", " DESC NULLS LAST"]);
                    format!("{i}{dir}")
                })
                .collect();
            sql = format!("{sql} ORDER BY {}", keys.join(", "));
        }
        if self.chance(20) {
            let count = self.pick(&["1", "2", "3", "?", "-1", "(SELECT 2)"]);
            sql = format!("{sql} LIMIT {count}");
            if self.chance(40) {
                sql = format!("{sql} OFFSET {}", self.pick(&["1", "?2", "0"]));
            }
        }
        self.ctes.truncate(saved);
        (sql, k)
    }

    fn with_clause(&mut self, outer: &[Src]) -> String {
        let recursive = self.chance(30);
        let mut parts = Vec::new();
        for _ in 0..=self.n(2) {
            if recursive && self.chance(50) {
                let name = self.pick(&["r", "t", "rr"]).to_owned();
                let seed = self.pick(&[
                    "SELECT 1",
                    "SELECT min(id) FROM t",
                    "SELECT count(*) FROM u",
                ]);
                let step = if self.chance(30) {
                    format!(
                        "SELECT {name}.n + 1 FROM {name} JOIN {} ON 1 WHERE {name}.n < 4",
                        self.pick(&["t", "u", "g"])
                    )
                } else {
                    format!("SELECT n + 1 FROM {name} WHERE n < 5")
                };
                parts.push(format!("{name}(n) AS ({seed} UNION ALL {step})"));
                self.ctes.push((name, vec!["n".to_owned()]));
            } else {
                let name = self.pick(&["w1", "w2", "t", "u", "cte"]).to_owned();
                let list = self.chance(30);
                let materialized = self.pick(&["", "", "", "MATERIALIZED ", "NOT MATERIALIZED "]);
                self.depth += 1;
                let (body, k) = self.query_with(outer, None);
                self.depth -= 1;
                let cols: Vec<String> = if list {
                    (0..k).map(|i| format!("c{i}")).collect()
                } else {
                    self.names_of(&body, k)
                };
                let head = if list {
                    format!("{name}({})", cols.join(", "))
                } else {
                    name.clone()
                };
                parts.push(format!("{head} AS {materialized}({body})"));
                self.ctes.push((name, cols));
            }
        }
        format!(
            "WITH {}{} ",
            if recursive { "RECURSIVE " } else { "" },
            parts.join(", ")
        )
    }

    /// Columns of a query without a column list: the generator names items `c0, c1, …`
    /// where it can; otherwise no column is referred to by name.
    fn names_of(&self, _body: &str, k: usize) -> Vec<String> {
        (0..k).map(|i| format!("c{i}")).collect()
    }

    /// `VALUES (…), (…)` with `k` columns.
    fn values(&mut self, k: usize) -> String {
        let k = k.max(1);
        let rows: Vec<String> = (0..=self.n(2))
            .map(|_| {
                let row: Vec<String> = (0..k).map(|_| self.expr(&[])).collect();
                format!("({})", row.join(", "))
            })
            .collect();
        format!("VALUES {}", rows.join(", "))
    }

    /// One SELECT. `want`: the number of columns (a compound's later members); `named`:
    /// every item gets `AS cN` (so derived tables and CTEs have known column names).
    fn select(&mut self, outer: &[Src], want: Option<usize>, named: bool) -> (String, Vec<String>) {
        let (from, srcs) = if self.chance(88) {
            let (f, s) = self.join_clause(outer, &[]);
            (format!(" FROM {f}"), s)
        } else {
            (String::new(), Vec::new())
        };
        let mut scope = srcs.clone();
        scope.extend(outer.iter().cloned());
        let distinct = if self.chance(10) { "DISTINCT " } else { "" };
        let mut items = Vec::new();
        let mut cols = Vec::new();
        let mut aggregate = false;
        let mut window = false;
        match want {
            None if !srcs.is_empty() && !named && self.chance(25) => {
                if self.chance(50) {
                    items.push("*".to_owned());
                    for s in &srcs {
                        cols.extend(s.cols.iter().cloned());
                    }
                } else {
                    let s = &srcs[self.n(srcs.len())];
                    items.push(format!("{}.*", s.qual));
                    cols.extend(s.cols.iter().cloned());
                }
            }
            _ => {
                let k = want.unwrap_or_else(|| 1 + self.n(3));
                for i in 0..k {
                    let (item, agg, win) = self.item(&scope);
                    aggregate |= agg;
                    window |= win;
                    let name = format!("c{i}");
                    if named || want.is_some() || self.chance(70) {
                        items.push(format!("{item} AS {name}"));
                    } else {
                        items.push(item);
                    }
                    cols.push(name);
                }
            }
        }
        let mut sql = format!("SELECT {distinct}{}{from}", items.join(", "));
        if self.chance(50) {
            sql = format!("{sql} WHERE {}", self.expr(&scope));
        }
        if !scope.is_empty() && (aggregate || self.chance(10)) && self.chance(60) {
            let keys: Vec<String> = (0..=self.n(2)).map(|_| self.col(&scope)).collect();
            sql = format!("{sql} GROUP BY {}", keys.join(", "));
            if self.chance(30) {
                let agg = self.aggregate(&scope);
                sql = format!("{sql} HAVING {agg} > {}", self.pick(&["0", "1", "?"]));
            }
        }
        if window && self.chance(30) {
            let spec = self.window_spec(&scope);
            sql = format!("{sql} WINDOW win AS ({spec})");
        }
        (sql, cols)
    }

    /// A select item: (text, is aggregate, uses the named window `win`).
    fn item(&mut self, scope: &[Src]) -> (String, bool, bool) {
        match self.n(10) {
            0..=5 => (self.expr(scope), false, false),
            6 | 7 => (self.aggregate(scope), true, false),
            _ => {
                let func = match self.n(6) {
                    0 => "row_number()".to_owned(),
                    1 => "rank()".to_owned(),
                    2 => format!("sum({})", self.expr(scope)),
                    3 => "count(*)".to_owned(),
                    4 => format!("lag({})", self.expr(scope)),
                    _ => format!("first_value({})", self.expr(scope)),
                };
                if self.chance(30) {
                    (format!("{func} OVER win"), false, true)
                } else {
                    let spec = self.window_spec(scope);
                    (format!("{func} OVER ({spec})"), false, false)
                }
            }
        }
    }

    fn window_spec(&mut self, scope: &[Src]) -> String {
        let mut parts = Vec::new();
        if !scope.is_empty() && self.chance(50) {
            parts.push(format!("PARTITION BY {}", self.col(scope)));
        }
        if !scope.is_empty() && self.chance(60) {
            parts.push(format!("ORDER BY {}", self.col(scope)));
            if self.chance(30) {
                parts.push(
                    self.pick(&[
                        "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW",
                        "RANGE UNBOUNDED PRECEDING",
                        "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
                    ])
                    .to_owned(),
                );
            }
        }
        parts.join(" ")
    }

    fn aggregate(&mut self, scope: &[Src]) -> String {
        let e = self.expr(scope);
        match self.n(8) {
            0 => "count(*)".to_owned(),
            1 => format!("count({e})"),
            2 => format!("sum({e})"),
            3 => format!("max({e})"),
            4 => format!("min({e})"),
            5 => format!("group_concat({e})"),
            6 => format!("count(DISTINCT {e})"),
            _ => format!("total({e}) FILTER (WHERE {})", self.expr(scope)),
        }
    }

    /// A FROM clause; `taken`: qualifiers already in use (a write target).
    fn join_clause(&mut self, outer: &[Src], taken: &[String]) -> (String, Vec<Src>) {
        let mut used: Vec<String> = taken.to_vec();
        let (mut sql, first) = self.source_item(outer, &mut used);
        let mut srcs = vec![first];
        for _ in 0..self.n(4) {
            let op = self.pick(&[
                ",",
                "JOIN",
                "INNER JOIN",
                "LEFT JOIN",
                "LEFT OUTER JOIN",
                "RIGHT JOIN",
                "FULL JOIN",
                "CROSS JOIN",
                "NATURAL JOIN",
                "NATURAL LEFT JOIN",
                "NATURAL FULL JOIN",
            ]);
            let (item, src) = self.source_item(outer, &mut used);
            let constraint = if op == "," || op.starts_with("NATURAL") || op == "CROSS JOIN" {
                String::new()
            } else {
                let common: Vec<String> = src
                    .cols
                    .iter()
                    .filter(|c| srcs.iter().any(|s| s.cols.contains(c)))
                    .cloned()
                    .collect();
                if !common.is_empty() && self.chance(25) {
                    format!(" USING ({})", common[self.n(common.len())])
                } else {
                    let mut scope = srcs.clone();
                    scope.push(src.clone());
                    let on = if self.chance(60) {
                        let left = self.col(&srcs);
                        let right = self.col(std::slice::from_ref(&src));
                        format!("{left} = {right}")
                    } else {
                        scope.extend(outer.iter().cloned());
                        self.expr(&scope)
                    };
                    format!(" ON {on}")
                }
            };
            let sep = if op == "," { "," } else { " " };
            sql = format!(
                "{sql}{sep}{op_text} {item}{constraint}",
                op_text = if op == "," { "" } else { op }
            );
            srcs.push(src);
        }
        (sql, srcs)
    }

    fn source_item(&mut self, outer: &[Src], used: &mut Vec<String>) -> (String, Src) {
        let choice = self.n(20);
        let (text, qual, cols, rowid) = match choice {
            0..=10 => {
                let t = &TABLES[self.n(TABLES.len())];
                let (text, qual) = match self.n(12) {
                    0..=6 => (t.name.to_owned(), t.name.to_owned()),
                    7 => (t.name.to_ascii_uppercase(), t.name.to_ascii_uppercase()),
                    8 => (format!("\"{}\"", t.name), t.name.to_owned()),
                    9 => (format!("[{}]", t.name), t.name.to_owned()),
                    10 => (format!("main.{}", t.name), t.name.to_owned()),
                    _ => (format!("`{}`", t.name), t.name.to_owned()),
                };
                let indexed = if self.chance(3) { " NOT INDEXED" } else { "" };
                (format!("{text}{indexed}"), qual, cols(t.cols), t.rowid)
            }
            11 | 12 => {
                let (name, c) = VIEWS[self.n(VIEWS.len())];
                (name.to_owned(), name.to_owned(), cols(c), false)
            }
            13 | 14 if !self.ctes.is_empty() => {
                let i = self.n(self.ctes.len());
                let (name, c) = self.ctes[i].clone();
                (name.clone(), name, c, false)
            }
            15..=17 if self.depth < MAX_DEPTH => {
                self.depth += 1;
                let (sql, cols) = if self.chance(30) {
                    let (q, k) = self.query_with(outer, None);
                    (q, (0..k).map(|i| format!("c{i}")).collect())
                } else {
                    let correlated: &[Src] = if self.chance(10) { outer } else { &[] };
                    self.select(correlated, None, true)
                };
                self.depth -= 1;
                let alias = self.alias();
                used.push(alias.clone());
                return (
                    format!("({sql}) AS {alias}"),
                    Src {
                        qual: alias,
                        cols,
                        rowid: false,
                    },
                );
            }
            18 => {
                let (f, c) = [
                    ("json_each('[1,2,3]')", &["key", "value"][..]),
                    ("pragma_table_info('t')", &["cid", "name", "type"][..]),
                ][self.n(2)];
                let alias = self.alias();
                used.push(alias.clone());
                return (
                    format!("{f} AS {alias}"),
                    Src {
                        qual: alias,
                        cols: cols(c),
                        rowid: false,
                    },
                );
            }
            _ => {
                let t = &TABLES[self.n(2)];
                (t.name.to_owned(), t.name.to_owned(), cols(t.cols), t.rowid)
            }
        };
        let clash = used.iter().any(|u| u.eq_ignore_ascii_case(&qual));
        let alias = match self.n(8) {
            _ if clash => Some(self.alias()),
            0..=3 => None,
            4 | 5 => Some(self.alias()),
            6 => Some(format!("\"{}\"", self.alias())),
            _ => {
                let other = self.pick(&["t", "u", "n", "g", "w", "vt"]);
                if used.iter().any(|u| u.eq_ignore_ascii_case(other)) {
                    Some(self.alias())
                } else {
                    Some(other.to_owned())
                }
            }
        };
        match alias {
            None => {
                used.push(qual.clone());
                (text, Src { qual, cols, rowid })
            }
            Some(a) => {
                let bare = a.trim_matches('"').to_owned();
                used.push(bare.clone());
                let kw = if self.chance(50) { "AS " } else { "" };
                (
                    format!("{text} {kw}{a}"),
                    Src {
                        qual: bare,
                        cols,
                        rowid,
                    },
                )
            }
        }
    }

    // --- expressions --------------------------------------------------------------------

    /// A column of the scope (a literal when the scope is empty).
    fn col(&mut self, scope: &[Src]) -> String {
        if scope.is_empty() {
            return self.pick(LITERALS).to_owned();
        }
        // Prefer the innermost sources (they come first).
        let i = if self.chance(80) {
            self.n(scope.len().min(2))
        } else {
            self.n(scope.len())
        };
        let s = &scope[i];
        if s.rowid && self.chance(6) {
            let name = self.pick(&["rowid", "oid", "_rowid_"]);
            return format!("{}.{name}", s.qual);
        }
        if s.cols.is_empty() {
            return "1".to_owned();
        }
        let c = s.cols[self.n(s.cols.len())].clone();
        match self.n(10) {
            0..=5 => format!("{}.{c}", s.qual),
            6 | 7 => c,
            8 => format!("\"{c}\""),
            _ => format!("\"{}\".\"{c}\"", s.qual),
        }
    }

    fn expr(&mut self, scope: &[Src]) -> String {
        if self.depth >= MAX_DEPTH || !self.chance(45) {
            return match self.n(10) {
                0..=5 if !scope.is_empty() => self.col(scope),
                6 => self.pick(PARAMS).to_owned(),
                _ => self.pick(LITERALS).to_owned(),
            };
        }
        self.depth += 1;
        let e = match self.n(16) {
            0..=3 => {
                let op = self.pick(&[
                    "=", "<>", "<", ">=", "AND", "OR", "+", "*", "||", "LIKE", "IS", "IS NOT",
                    "GLOB", "-", "==", "!=",
                ]);
                let (l, r) = (self.expr(scope), self.expr(scope));
                format!("{l} {op} {r}")
            }
            4 => format!("NOT {}", self.expr(scope)),
            5 => format!(
                "{} {}",
                self.expr(scope),
                self.pick(&["IS NULL", "IS NOT NULL", "NOTNULL", "ISNULL"])
            ),
            6 => {
                let e = self.expr(scope);
                let list: Vec<String> = (0..=self.n(3)).map(|_| self.expr(scope)).collect();
                let not = if self.chance(30) { "NOT " } else { "" };
                format!("{e} {not}IN ({})", list.join(", "))
            }
            7 => {
                let e = self.expr(scope);
                let (q, _) = self.query_with(scope, Some(1));
                let not = if self.chance(30) { "NOT " } else { "" };
                format!("{e} {not}IN ({q})")
            }
            8 => {
                let (q, _) = self.query(scope);
                let not = if self.chance(30) { "NOT " } else { "" };
                format!("{not}EXISTS ({q})")
            }
            9 => {
                let (q, _) = self.query_with(scope, Some(1));
                format!("({q})")
            }
            10 => {
                let arms: Vec<String> = (0..=self.n(2))
                    .map(|_| format!("WHEN {} THEN {}", self.expr(scope), self.expr(scope)))
                    .collect();
                let other = if self.chance(50) {
                    format!(" ELSE {}", self.expr(scope))
                } else {
                    String::new()
                };
                format!("CASE {}{other} END", arms.join(" "))
            }
            11 => format!(
                "CAST({} AS {})",
                self.expr(scope),
                self.pick(&["TEXT", "INTEGER", "REAL", "BLOB", "NUMERIC"])
            ),
            12 => {
                let f = self.pick(&[
                    "coalesce",
                    "lower",
                    "abs",
                    "length",
                    "ifnull",
                    "typeof",
                    "max",
                    "substr",
                    "nullif",
                    "quote",
                    "hex",
                    "json_array",
                    "iif",
                    "printf",
                ]);
                let args: Vec<String> = (0..=self.n(3)).map(|_| self.expr(scope)).collect();
                format!("{f}({})", args.join(", "))
            }
            13 => format!(
                "{} BETWEEN {} AND {}",
                self.expr(scope),
                self.expr(scope),
                self.expr(scope)
            ),
            14 => format!("({}) COLLATE NOCASE", self.expr(scope)),
            _ => format!("({})", self.expr(scope)),
        };
        self.depth -= 1;
        e
    }

    // --- writes -------------------------------------------------------------------------

    fn target(&mut self) -> (&'static Table, String, Src) {
        let t = &TABLES[self.n(TABLES.len())];
        let text = match self.n(8) {
            0..=4 => t.name.to_owned(),
            5 => format!("\"{}\"", t.name),
            6 => format!("main.{}", t.name),
            _ => t.name.to_ascii_uppercase(),
        };
        (
            t,
            text,
            Src {
                qual: t.name.to_owned(),
                cols: cols(t.cols),
                rowid: t.rowid,
            },
        )
    }

    fn with_prefix(&mut self) -> String {
        if self.chance(15) {
            self.with_clause(&[])
        } else {
            String::new()
        }
    }

    fn returning(&mut self, target: &Src) -> String {
        if !self.chance(25) {
            return String::new();
        }
        if self.chance(30) {
            return " RETURNING *".to_owned();
        }
        let scope = std::slice::from_ref(target);
        let items: Vec<String> = (0..=self.n(2)).map(|_| self.expr(scope)).collect();
        format!(" RETURNING {}", items.join(", "))
    }

    fn insert(&mut self) -> String {
        let with = self.with_prefix();
        let verb = self.pick(&[
            "INSERT",
            "INSERT",
            "INSERT",
            "INSERT OR IGNORE",
            "INSERT OR ABORT",
            "INSERT OR FAIL",
            "INSERT OR ROLLBACK",
            "REPLACE",
            "INSERT OR REPLACE",
        ]);
        let (t, text, mut target) = self.target();
        let alias = self.target_alias(15, &mut target);
        let columns: Vec<&str> = if self.chance(70) {
            let mut cs: Vec<&str> = Vec::new();
            for c in t.cols {
                if self.chance(70) {
                    cs.push(c);
                }
            }
            if cs.is_empty() {
                cs.push(t.cols[0]);
            }
            if self.chance(20) {
                cs.reverse();
            }
            cs
        } else {
            Vec::new()
        };
        let list = if columns.is_empty() {
            String::new()
        } else {
            format!(" ({})", columns.join(", "))
        };
        let k = if columns.is_empty() {
            t.cols.len()
        } else {
            columns.len()
        };
        let upsert = !verb.contains("REPLACE") && self.chance(35);
        let source = match self.n(10) {
            0..=5 => self.values(k),
            6..=8 => {
                let (q, _) = self.query_with(&[], Some(k));
                if upsert {
                    format!("SELECT * FROM ({q}) WHERE true")
                } else {
                    q
                }
            }
            _ if columns.is_empty() && !upsert => "DEFAULT VALUES".to_owned(),
            _ => self.values(k),
        };
        let mut sql = format!("{with}{verb} INTO {text}{alias}{list} {source}");
        if upsert {
            let key = t.key.filter(|_| self.chance(80));
            match key {
                Some(key) if self.chance(70) => {
                    let excluded = Src {
                        qual: "excluded".to_owned(),
                        cols: cols(t.cols),
                        rowid: false,
                    };
                    let scope = [target.clone(), excluded];
                    let sets: Vec<String> = (0..=self.n(2))
                        .map(|_| {
                            let c = t.cols[self.n(t.cols.len())];
                            let v = if self.chance(50) {
                                format!("excluded.{c}")
                            } else {
                                self.expr(&scope)
                            };
                            format!("{c} = {v}")
                        })
                        .collect();
                    let filter = if self.chance(30) {
                        format!(" WHERE {}", self.expr(&scope))
                    } else {
                        String::new()
                    };
                    sql = format!(
                        "{sql} ON CONFLICT ({key}) DO UPDATE SET {}{filter}",
                        sets.join(", ")
                    );
                }
                Some(key) => sql = format!("{sql} ON CONFLICT ({key}) DO NOTHING"),
                None => sql = format!("{sql} ON CONFLICT DO NOTHING"),
            }
        }
        let returning = self.returning(&target);
        format!("{sql}{returning}")
    }

    fn update(&mut self) -> String {
        let with = self.with_prefix();
        let verb = self.pick(&["UPDATE", "UPDATE", "UPDATE OR IGNORE", "UPDATE OR REPLACE"]);
        let (t, text, mut target) = self.target();
        let alias = self.target_alias(25, &mut target);
        let (from, mut scope) = if self.chance(30) {
            let (f, s) = self.join_clause(&[], std::slice::from_ref(&target.qual));
            (format!(" FROM {f}"), s)
        } else {
            (String::new(), Vec::new())
        };
        scope.insert(0, target.clone());
        let sets: Vec<String> = if self.chance(10) && t.cols.len() >= 2 {
            vec![format!(
                "({}, {}) = ({}, {})",
                t.cols[0],
                t.cols[1],
                self.expr(&scope),
                self.expr(&scope)
            )]
        } else {
            (0..=self.n(2))
                .map(|_| {
                    let c = t.cols[self.n(t.cols.len())];
                    format!("{c} = {}", self.expr(&scope))
                })
                .collect()
        };
        let filter = if self.chance(70) {
            format!(" WHERE {}", self.expr(&scope))
        } else {
            String::new()
        };
        let returning = self.returning(&target);
        format!(
            "{with}{verb} {text}{alias} SET {}{from}{filter}{returning}",
            sets.join(", ")
        )
    }

    fn delete(&mut self) -> String {
        let with = self.with_prefix();
        let (t, text, mut target) = self.target();
        let alias = self.target_alias(25, &mut target);
        let scope = [target.clone()];
        let filter = match self.n(4) {
            0 => String::new(),
            1 => {
                let c = t.cols[self.n(t.cols.len())];
                let other = &TABLES[self.n(TABLES.len())];
                let oc = other.cols[self.n(other.cols.len())];
                let inner = Src {
                    qual: other.name.to_owned(),
                    cols: cols(other.cols),
                    rowid: other.rowid,
                };
                let cond = self.expr(&[inner, target.clone()]);
                format!(
                    " WHERE {}.{c} IN (SELECT {oc} FROM {} WHERE {cond})",
                    target.qual, other.name
                )
            }
            _ => format!(" WHERE {}", self.expr(&scope)),
        };
        let returning = self.returning(&target);
        format!("{with}DELETE FROM {text}{alias}{filter}{returning}")
    }
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}
