//! The generator's expressions and column references.

use super::*;

impl Gen<'_> {
    /// A column of the scope (a literal when the scope is empty).
    pub(super) fn col(&mut self, scope: &[Src]) -> String {
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

    pub(super) fn expr(&mut self, scope: &[Src]) -> String {
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
}
