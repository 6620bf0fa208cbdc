//! The generator's FROM clauses: tables, views, CTEs, derived tables, table-valued
//! functions, joined every way, each with the columns it brings into scope.

use super::*;

impl Gen<'_> {
    /// A FROM clause; `taken`: qualifiers already in use (a write target).
    pub(super) fn join_clause(&mut self, outer: &[Src], taken: &[String]) -> (String, Vec<Src>) {
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

    pub(super) fn source_item(&mut self, outer: &[Src], used: &mut Vec<String>) -> (String, Src) {
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
}
