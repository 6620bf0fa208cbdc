//! The AST's printer: SQLite SQL, with abstract column references resolved against the
//! names in scope so that most generated statements are valid; here the printer itself,
//! expressions and FROM clauses ([`super::print_statement`] has the statements).

use super::*;

/// A source of columns in a FROM clause (or a DML target).
#[derive(Clone, Debug)]
pub(super) struct Src {
    /// What qualifies its columns.
    pub(super) qual: String,
    pub(super) cols: Vec<String>,
    /// A real table, unaliased: `main.<qual>.<col>` works too.
    pub(super) schema_ok: bool,
    /// A real table: it has a rowid.
    pub(super) rowid_ok: bool,
}

#[derive(Clone, Debug)]
pub(super) struct CteInfo {
    pub(super) name: String,
    pub(super) cols: Vec<String>,
}

/// Prints the AST as SQLite SQL, resolving abstract column references against the names in
/// scope so that most generated statements are valid.
#[derive(Default)]
pub(super) struct Printer {
    /// Sources of each enclosing query, innermost last.
    pub(super) scopes: Vec<Vec<Src>>,
    /// CTEs of each enclosing WITH, innermost last.
    pub(super) ctes: Vec<Vec<CteInfo>>,
    /// Counter for alias names.
    pub(super) aliases: usize,
    /// Print rowid references as literals.
    pub(super) no_rowid: bool,
    pub(super) used_rowid: bool,
    pub(super) used_star: bool,
}

/// Prints a generated statement.
pub fn print_statement(s: &Statement) -> String {
    let print = |p: &mut Printer| match &s.stmt {
        Stmt::Query(q) => p.query(q),
        Stmt::Insert(i) => p.insert(i),
        Stmt::Update(u) => p.update(u),
        Stmt::Delete(d) => p.delete(d),
    };
    let mut p = Printer {
        no_rowid: avoid("rowid"),
        ..Printer::default()
    };
    let mut body = print(&mut p);
    // rowid read alongside `*` is refused by design: keep the two apart.
    if p.used_rowid && p.used_star {
        body = print(&mut Printer {
            no_rowid: true,
            ..Printer::default()
        });
    }
    if s.explain {
        format!("EXPLAIN QUERY PLAN {body}")
    } else {
        body
    }
}

impl Printer {
    pub(super) fn expr(&mut self, e: &Expr) -> String {
        match e {
            Expr::Col(c) => self.col(c),
            Expr::Rowid(pick) => {
                let srcs: Vec<&Src> = self
                    .scopes
                    .last()
                    .map(|s| s.iter().filter(|s| s.rowid_ok).collect())
                    .unwrap_or_default();
                if srcs.is_empty() || self.no_rowid {
                    "2".to_owned()
                } else {
                    self.used_rowid = true;
                    format!("{}.rowid", srcs[*pick as usize % srcs.len()].qual)
                }
            }
            Expr::Int(i) => i.to_string(),
            Expr::Str(s) => (*s).to_owned(),
            Expr::Null => "NULL".to_owned(),
            Expr::Param(p) => match p {
                Param::Anon => "?".to_owned(),
                Param::Numbered(n) => format!("?{n}"),
                Param::Colon => ":p".to_owned(),
                Param::At => "@q".to_owned(),
                Param::Dollar => "$r".to_owned(),
            },
            Expr::Bin(l, op, r) => {
                let op = match op {
                    BinOp::Eq => "=",
                    BinOp::Ne => "<>",
                    BinOp::Lt => "<",
                    BinOp::Ge => ">=",
                    BinOp::And => "AND",
                    BinOp::Or => "OR",
                    BinOp::Add => "+",
                    BinOp::Mul => "*",
                    BinOp::Concat => "||",
                    BinOp::Like => "LIKE",
                    BinOp::Is => "IS",
                    BinOp::IsNot => "IS NOT",
                };
                format!("({} {op} {})", self.expr(l), self.expr(r))
            }
            Expr::Not(e) => format!("NOT ({})", self.expr(e)),
            Expr::IsNull(e, not) => {
                let not = if *not { "NOT " } else { "" };
                format!("({} IS {not}NULL)", self.expr(e))
            }
            Expr::InList(e, list, not) => {
                let not = if *not { "NOT " } else { "" };
                let list: Vec<String> = list.iter().map(|e| self.expr(e)).collect();
                format!("({} {not}IN ({}))", self.expr(e), list.join(", "))
            }
            Expr::Func(f, args) => {
                let (name, arity) = match f {
                    Func::Coalesce => ("coalesce", args.len().max(2)),
                    Func::Lower => ("lower", 1),
                    Func::Abs => ("abs", 1),
                    Func::Length => ("length", 1),
                    Func::Ifnull => ("ifnull", 2),
                    Func::Typeof => ("typeof", 1),
                    Func::Max2 => ("max", 2),
                    Func::Substr => ("substr", 2),
                };
                let mut printed: Vec<String> =
                    args.iter().take(arity).map(|e| self.expr(e)).collect();
                while printed.len() < arity {
                    printed.push("1".to_owned());
                }
                format!("{name}({})", printed.join(", "))
            }
            Expr::Case(whens, otherwise) => {
                let mut s = "CASE".to_owned();
                for (w, t) in whens {
                    s.push_str(&format!(" WHEN {} THEN {}", self.expr(w), self.expr(t)));
                }
                if let Some(e) = otherwise {
                    s.push_str(&format!(" ELSE {}", self.expr(e)));
                }
                s.push_str(" END");
                s
            }
            Expr::Cast(e) => format!("CAST({} AS TEXT)", self.expr(e)),
            Expr::InSub(e, sel, not) => {
                let not = if *not { "NOT " } else { "" };
                let lhs = self.expr(e);
                let (sub, _) = self.select(sel, Some(1), false, &[]);
                format!("({lhs} {not}IN ({sub}))")
            }
            Expr::Exists(sel, not) => {
                let not = if *not { "NOT " } else { "" };
                let (sub, _) = self.select(sel, None, true, &[]);
                format!("{not}EXISTS ({sub})")
            }
            Expr::Scalar(sel) => {
                let (sub, _) = self.select(sel, Some(1), false, &[]);
                format!("({sub})")
            }
        }
    }

    pub(super) fn col(&mut self, c: &ColRef) -> String {
        let n = self.scopes.len();
        let scope = match n {
            0 => return "1".to_owned(),
            _ if c.outer && n >= 2 => &self.scopes[n - 2],
            _ => &self.scopes[n - 1],
        };
        let all: Vec<(&Src, &String)> = scope
            .iter()
            .flat_map(|s| s.cols.iter().map(move |c| (s, c)))
            .collect();
        if all.is_empty() {
            return "1".to_owned();
        }
        let (src, col) = all[c.pick as usize % all.len()];
        match c.style {
            QualStyle::Qualified => format!("{}.{col}", src.qual),
            QualStyle::Bare => col.clone(),
            QualStyle::QuotedColumn => format!("{}.\"{col}\"", src.qual),
            QualStyle::Schema if src.schema_ok && !avoid("schema-columns") => {
                format!("main.{}.{col}", src.qual)
            }
            QualStyle::Schema => format!("{}.{col}", src.qual),
        }
    }

    pub(super) fn cte_in_scope(&self, name: &str) -> Option<&CteInfo> {
        self.ctes
            .iter()
            .rev()
            .flat_map(|level| level.iter())
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub(super) fn alias(&mut self, style: AliasStyle, tab_name: &str) -> Option<(String, String)> {
        self.aliases += 1;
        let n = self.aliases;
        // (text after the table name, qualifier)
        match style {
            AliasStyle::None => None,
            AliasStyle::Bare => Some((format!(" s{n}"), format!("s{n}"))),
            AliasStyle::As => Some((format!(" AS s{n}"), format!("s{n}"))),
            AliasStyle::Quoted => Some((format!(" AS \"s {n}\""), format!("\"s {n}\""))),
            AliasStyle::Confusing => {
                let other = match tab_name {
                    "t" => Tab::T.other(),
                    "u" => Tab::U.other(),
                    "g" => Tab::G.other(),
                    _ => Tab::N.other(),
                };
                Some((format!(" AS {other}"), other.to_owned()))
            }
        }
    }

    /// Prints a FROM item, adding its source to the innermost scope.
    pub(super) fn print_from_item(&mut self, item: &FromItem) -> String {
        let (text, src) = match item {
            FromItem::Table(tab, style, alias) => {
                let name = style.print(tab.name());
                let cte = (!style.schema_qualified())
                    .then(|| self.cte_in_scope(tab.name()).cloned())
                    .flatten();
                let alias = self.alias(*alias, tab.name());
                let cols = match &cte {
                    Some(c) => c.cols.clone(),
                    None => tab.cols().iter().map(|c| (*c).to_owned()).collect(),
                };
                let qual = alias
                    .as_ref()
                    .map_or_else(|| tab.name().to_owned(), |(_, q)| q.clone());
                let src = Src {
                    qual,
                    cols,
                    schema_ok: cte.is_none() && alias.is_none(),
                    rowid_ok: cte.is_none(),
                };
                let text = format!("{name}{}", alias.map(|(a, _)| a).unwrap_or_default());
                (text, src)
            }
            FromItem::Cte(pick, alias) => {
                let all: Vec<CteInfo> = self.ctes.iter().flatten().cloned().collect();
                if all.is_empty() {
                    return self.print_from_item(&FromItem::Table(
                        Tab::T,
                        NameStyle::Plain,
                        *alias,
                    ));
                }
                let picked = &all[*pick as usize % all.len()];
                // The innermost CTE of that name is the one the name means.
                let info = self
                    .cte_in_scope(&picked.name)
                    .cloned()
                    .unwrap_or_else(|| picked.clone());
                let alias = self.alias(*alias, &info.name);
                let qual = alias
                    .as_ref()
                    .map_or_else(|| info.name.clone(), |(_, q)| q.clone());
                let text = format!("{}{}", info.name, alias.map(|(a, _)| a).unwrap_or_default());
                let src = Src {
                    qual,
                    cols: info.cols,
                    schema_ok: false,
                    rowid_ok: false,
                };
                (text, src)
            }
            FromItem::Derived(sel, quoted) => {
                // Subqueries in FROM are not correlated: print them without outer scopes.
                let saved = std::mem::take(&mut self.scopes);
                let (sub, cols) = self.select(sel, None, false, &[]);
                self.scopes = saved;
                self.aliases += 1;
                let qual = if *quoted {
                    format!("\"d {}\"", self.aliases)
                } else {
                    format!("d{}", self.aliases)
                };
                let src = Src {
                    qual: qual.clone(),
                    cols,
                    schema_ok: false,
                    rowid_ok: false,
                };
                (format!("({sub}) AS {qual}"), src)
            }
            FromItem::JsonEach => {
                self.aliases += 1;
                let qual = format!("j{}", self.aliases);
                let src = Src {
                    qual: qual.clone(),
                    cols: vec!["key".to_owned(), "value".to_owned()],
                    schema_ok: false,
                    rowid_ok: false,
                };
                (format!("json_each('[1,2]') AS {qual}"), src)
            }
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(src);
        }
        text
    }

    /// Prints a FROM clause into the innermost scope (which the caller has pushed).
    pub(super) fn print_from_clause(&mut self, from: &FromClause) -> String {
        let mut s = self.print_from_item(&from.first);
        for (op, item, constraint) in &from.joins {
            let left: Vec<Src> = self.scopes.last().cloned().unwrap_or_default();
            let keyword = match op {
                JoinOp::Comma => ",",
                JoinOp::Join => " JOIN",
                JoinOp::Inner => " INNER JOIN",
                JoinOp::Left => " LEFT JOIN",
                JoinOp::LeftOuter => " LEFT OUTER JOIN",
                JoinOp::Right => " RIGHT JOIN",
                JoinOp::Full => " FULL OUTER JOIN",
                JoinOp::Cross => " CROSS JOIN",
                JoinOp::Natural => " NATURAL JOIN",
                JoinOp::NaturalLeft => " NATURAL LEFT JOIN",
                JoinOp::NaturalFull => " NATURAL FULL JOIN",
            };
            let text = self.print_from_item(item);
            s.push_str(&format!("{keyword} {text}"));
            let takes_constraint = !matches!(
                op,
                JoinOp::Comma
                    | JoinOp::Cross
                    | JoinOp::Natural
                    | JoinOp::NaturalLeft
                    | JoinOp::NaturalFull
            );
            if !takes_constraint {
                continue;
            }
            let right = self
                .scopes
                .last()
                .and_then(|s| s.last())
                .cloned()
                .expect("the item just added");
            match constraint {
                Constraint::OnEq(l, r) => {
                    let lcols: Vec<String> = left
                        .iter()
                        .flat_map(|s| s.cols.iter().map(move |c| format!("{}.{c}", s.qual)))
                        .collect();
                    if lcols.is_empty() || right.cols.is_empty() {
                        s.push_str(" ON 1");
                    } else {
                        let lc = &lcols[*l as usize % lcols.len()];
                        let rc = &right.cols[*r as usize % right.cols.len()];
                        s.push_str(&format!(" ON {lc} = {}.{rc}", right.qual));
                    }
                }
                Constraint::On(e) => {
                    let e = self.expr(e);
                    s.push_str(&format!(" ON {e}"));
                }
                Constraint::Using(pick) => {
                    let common: Vec<&String> = right
                        .cols
                        .iter()
                        .filter(|c| left.iter().any(|s| s.cols.contains(c)))
                        .collect();
                    if common.is_empty() {
                        s.push_str(" ON 1");
                    } else {
                        let c = common[*pick as usize % common.len()];
                        s.push_str(&format!(" USING ({c})"));
                    }
                }
                Constraint::Nothing => {}
            }
        }
        s
    }
}
