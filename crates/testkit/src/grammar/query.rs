//! The generator's queries: WITH, compound selects, ORDER BY and LIMIT, SELECT items,
//! windows and aggregates.

use super::*;

impl Gen<'_> {
    /// A full query: WITH, compound selects, ORDER BY, LIMIT. Returns it and its column
    /// count.
    pub(super) fn query(&mut self, outer: &[Src]) -> (String, usize) {
        self.query_with(outer, None)
    }

    pub(super) fn query_with(&mut self, outer: &[Src], want: Option<usize>) -> (String, usize) {
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

    pub(super) fn with_clause(&mut self, outer: &[Src]) -> String {
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
    pub(super) fn names_of(&self, _body: &str, k: usize) -> Vec<String> {
        (0..k).map(|i| format!("c{i}")).collect()
    }

    /// `VALUES (…), (…)` with `k` columns.
    pub(super) fn values(&mut self, k: usize) -> String {
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
    pub(super) fn select(
        &mut self,
        outer: &[Src],
        want: Option<usize>,
        named: bool,
    ) -> (String, Vec<String>) {
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
    pub(super) fn item(&mut self, scope: &[Src]) -> (String, bool, bool) {
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

    pub(super) fn window_spec(&mut self, scope: &[Src]) -> String {
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

    pub(super) fn aggregate(&mut self, scope: &[Src]) -> String {
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
}
