//! The generator's writes: INSERT (with upserts), UPDATE (with FROM), DELETE, RETURNING.

use super::*;

impl Gen<'_> {
    pub(super) fn target(&mut self) -> (&'static Table, String, Src) {
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

    pub(super) fn with_prefix(&mut self) -> String {
        if self.chance(15) {
            self.with_clause(&[])
        } else {
            String::new()
        }
    }

    pub(super) fn returning(&mut self, target: &Src) -> String {
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

    pub(super) fn insert(&mut self) -> String {
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

    pub(super) fn update(&mut self) -> String {
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

    pub(super) fn delete(&mut self) -> String {
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
