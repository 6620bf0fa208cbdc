//! The AST's printer, continued: SELECT, WITH, compound queries, INSERT, UPDATE, DELETE.

use super::print::{CteInfo, Printer, Src};
use super::*;

impl Printer {
    /// Prints a SELECT. `arity` forces the number of result columns (and forbids `*`);
    /// `star_ok` allows `*` where the result columns do not matter. Returns the SQL and the
    /// result column names (meaningful when `*` was not used).
    pub(super) fn select(
        &mut self,
        sel: &Select,
        arity: Option<usize>,
        star_ok: bool,
        order: &[(OrderKey, bool)],
    ) -> (String, Vec<String>) {
        self.scopes.push(Vec::new());
        let from = sel.from.as_ref().map(|f| self.print_from_clause(f));
        let sources = self.scopes.last().cloned().unwrap_or_default();
        let mut items: Vec<&Item> = sel.items.iter().collect();
        if let Some(n) = arity {
            items.truncate(n);
        }
        let mut printed = Vec::new();
        let mut names = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let name = format!("o{i}");
            let must_alias = arity.is_some() || !star_ok;
            // (text, whether it may go without an alias)
            let (text, bare_ok) = match item {
                Item::Star | Item::QualStar(_) if star_ok && arity.is_none() => {
                    let text = match item {
                        Item::QualStar(pick) if !sources.is_empty() => {
                            format!("{}.*", sources[*pick as usize % sources.len()].qual)
                        }
                        _ if sources.is_empty() => "1".to_owned(),
                        _ => "*".to_owned(),
                    };
                    (text, true)
                }
                Item::Star | Item::QualStar(_) => ("NULL".to_owned(), false),
                Item::Expr(e, alias) => (self.expr(e), !alias),
                Item::Agg(f, e, alias) => {
                    let name = f.name();
                    let distinct = matches!(f, AggFn::Count) && *alias;
                    let distinct = if distinct { "DISTINCT " } else { "" };
                    (format!("{name}({distinct}{})", self.expr(e)), !alias)
                }
                Item::CountStar => ("count(*)".to_owned(), false),
                Item::Window(f, part, ord, alias) => {
                    let call = match f {
                        WinFn::RowNumber => "row_number()".to_owned(),
                        WinFn::Rank => "rank()".to_owned(),
                        WinFn::SumOver => format!("sum({})", self.expr(part)),
                        WinFn::CountOver => "count(*)".to_owned(),
                        WinFn::Lag => format!("lag({})", self.expr(ord)),
                    };
                    let part = self.expr(part);
                    let ord = self.expr(ord);
                    let frame = if matches!(f, WinFn::SumOver) {
                        " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
                    } else {
                        ""
                    };
                    (
                        format!("{call} OVER (PARTITION BY {part} ORDER BY {ord}{frame})"),
                        !alias,
                    )
                }
            };
            let is_star = text == "*" || text.ends_with(".*");
            if is_star {
                self.used_star = true;
                printed.push(text);
            } else if must_alias || !bare_ok {
                printed.push(format!("{text} AS {name}"));
            } else {
                printed.push(text);
            }
            names.push(name);
        }
        if let Some(n) = arity {
            while printed.len() < n {
                let name = format!("o{}", printed.len());
                printed.push(format!("NULL AS {name}"));
                names.push(name);
            }
        }
        let mut s = format!(
            "SELECT {}{}",
            if sel.distinct { "DISTINCT " } else { "" },
            printed.join(", ")
        );
        if let Some(from) = from {
            s.push_str(&format!(" FROM {from}"));
        }
        let filter = self.filter(sel.filter.as_ref());
        s.push_str(&filter);
        if let Some(g) = &sel.group {
            let keys: Vec<String> = g.keys.iter().map(|k| self.expr(k)).collect();
            s.push_str(&format!(" GROUP BY {}", keys.join(", ")));
            if let Some((f, e, n)) = &g.having {
                let f = f.name();
                let e = self.expr(e);
                s.push_str(&format!(" HAVING {f}({e}) > {n}"));
            }
        }
        if !order.is_empty() {
            let keys: Vec<String> = order
                .iter()
                .map(|(k, desc)| {
                    let k = match k {
                        OrderKey::Ordinal => "1".to_owned(),
                        OrderKey::Expr(e) => self.expr(e),
                    };
                    if *desc { format!("{k} DESC") } else { k }
                })
                .collect();
            s.push_str(&format!(" ORDER BY {}", keys.join(", ")));
        }
        self.scopes.pop();
        (s, names)
    }

    /// Prints a WITH clause and pushes its CTEs (the caller pops them).
    pub(super) fn with(&mut self, ctes: &[Cte]) -> String {
        // Every CTE of a WITH sees every other (and itself), as in SQLite.
        let infos: Vec<CteInfo> = ctes
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Cte::Plain(name, col_list, body) => {
                    let name = match name {
                        CteName::W => format!("w{i}"),
                        CteName::LikeT => "t".to_owned(),
                        CteName::LikeU => "u".to_owned(),
                    };
                    let prefix = if *col_list { "x" } else { "o" };
                    let cols = (0..body.items.len())
                        .map(|j| format!("{prefix}{j}"))
                        .collect();
                    CteInfo { name, cols }
                }
                Cte::Recursive(_) => CteInfo {
                    name: format!("r{i}"),
                    cols: vec!["n".to_owned()],
                },
            })
            .collect();
        self.ctes.push(infos.clone());
        if ctes.is_empty() {
            return String::new();
        }
        let recursive = ctes.iter().any(|c| matches!(c, Cte::Recursive(_)));
        let mut parts = Vec::new();
        for (c, info) in ctes.iter().zip(&infos) {
            match c {
                Cte::Plain(_, col_list, body) => {
                    let saved = std::mem::take(&mut self.scopes);
                    let (sub, _) = self.select(body, Some(body.items.len()), false, &[]);
                    self.scopes = saved;
                    let cols = if *col_list {
                        format!("({})", info.cols.join(", "))
                    } else {
                        String::new()
                    };
                    parts.push(format!("{}{cols} AS ({sub})", info.name));
                }
                Cte::Recursive(tab) => {
                    let key = tab.cols()[0];
                    let table = tab.name();
                    let r = &info.name;
                    parts.push(format!(
                        "{r}(n) AS (SELECT min({key}) FROM {table} UNION ALL \
                         SELECT n + 1 FROM {r} WHERE n < 3)"
                    ));
                }
            }
        }
        let kw = if recursive { "WITH RECURSIVE" } else { "WITH" };
        format!("{kw} {} ", parts.join(", "))
    }

    pub(super) fn query(&mut self, q: &Query) -> String {
        let with = self.with(&q.with);
        let mut s = with;
        if q.rest.is_empty() {
            let (sel, _) = self.select(&q.first, None, true, &q.order);
            s.push_str(&sel);
        } else {
            let arity = q.first.items.len();
            let (first, _) = self.select(&q.first, Some(arity), false, &[]);
            s.push_str(&first);
            for (op, sel) in &q.rest {
                let op = match op {
                    SetOp::UnionAll => "UNION ALL",
                    SetOp::Union => "UNION",
                    SetOp::Except => "EXCEPT",
                    SetOp::Intersect => "INTERSECT",
                };
                let (sel, _) = self.select(sel, Some(arity), false, &[]);
                s.push_str(&format!(" {op} {sel}"));
            }
            if !q.order.is_empty() {
                let keys: Vec<String> = q
                    .order
                    .iter()
                    .enumerate()
                    .map(|(i, (_, desc))| {
                        let k = (i % arity + 1).to_string();
                        if *desc { format!("{k} DESC") } else { k }
                    })
                    .collect();
                s.push_str(&format!(" ORDER BY {}", keys.join(", ")));
            }
        }
        if let Some(l) = &q.limit {
            let count = if l.param {
                "?".to_owned()
            } else {
                l.count.to_string()
            };
            s.push_str(&format!(" LIMIT {count}"));
            if let Some(o) = l.offset {
                s.push_str(&format!(" OFFSET {o}"));
            }
        }
        self.ctes.pop();
        s
    }

    pub(super) fn returning(&mut self, r: &Option<Returning>) -> String {
        match r {
            None => String::new(),
            Some(Returning::Star) => {
                self.used_star = true;
                " RETURNING *".to_owned()
            }
            Some(Returning::Exprs(es)) => {
                let es: Vec<String> = es.iter().map(|e| self.expr(e)).collect();
                format!(" RETURNING {}", es.join(", "))
            }
        }
    }

    /// The source a DML target gives its WHERE, SET and RETURNING.
    pub(super) fn target(&mut self, tab: Tab, alias: AliasStyle) -> (String, Src) {
        let alias = self.alias(alias, tab.name());
        let qual = alias
            .as_ref()
            .map_or_else(|| tab.name().to_owned(), |(_, q)| q.clone());
        let src = Src {
            qual,
            cols: tab.cols().iter().map(|c| (*c).to_owned()).collect(),
            schema_ok: alias.is_none(),
            rowid_ok: true,
        };
        (alias.map(|(a, _)| a).unwrap_or_default(), src)
    }

    pub(super) fn insert(&mut self, i: &Insert) -> String {
        let mut s = self.with(&i.with);
        let verb = if i.or_ignore {
            "INSERT OR IGNORE"
        } else {
            "INSERT"
        };
        s.push_str(&format!("{verb} INTO {}", i.name.print(i.tab.name())));
        let all = i.tab.cols();
        let default = matches!(i.source, InsertSource::Default);
        let columns: Vec<&str> = match &i.columns {
            // DEFAULT VALUES takes no column list.
            Some(picks) if !default => {
                let mut cols: Vec<&str> = Vec::new();
                for p in picks {
                    let c = all[*p as usize % all.len()];
                    if !cols.contains(&c) {
                        cols.push(c);
                    }
                }
                s.push_str(&format!(" ({})", cols.join(", ")));
                cols
            }
            _ => all.to_vec(),
        };
        let arity = columns.len();
        let mut may_conflict = true;
        match &i.source {
            InsertSource::Values(rows) => {
                let rows: Vec<String> = rows
                    .iter()
                    .map(|row| {
                        let mut vals: Vec<String> =
                            row.iter().take(arity).map(|e| self.expr(e)).collect();
                        while vals.len() < arity {
                            vals.push("NULL".to_owned());
                        }
                        format!("({})", vals.join(", "))
                    })
                    .collect();
                s.push_str(&format!(" VALUES {}", rows.join(", ")));
            }
            InsertSource::Select(sel) => {
                let (mut sub, _) = self.select(sel, Some(arity), false, &[]);
                // SQLite reads `ON` after a FROM without WHERE as a join constraint.
                if i.conflict.is_some() && sel.from.is_some() && sel.filter.is_none() {
                    sub.push_str(if sel.group.is_some() { "" } else { " WHERE 1" });
                }
                s.push(' ');
                s.push_str(&sub);
            }
            InsertSource::Default => {
                s.push_str(" DEFAULT VALUES");
                may_conflict = false;
            }
        }
        // Known bug: a FROM-less SELECT source followed by clauses with commas is refused.
        if avoid("insert-select-without-from")
            && matches!(&i.source, InsertSource::Select(sel) if sel.from.is_none())
        {
            self.ctes.pop();
            return s;
        }
        let (_, target) = self.target(i.tab, AliasStyle::None);
        if let (Some(c), true) = (&i.conflict, may_conflict) {
            match (c, i.tab.key()) {
                (Conflict::Nothing(true), Some(key)) => {
                    s.push_str(&format!(" ON CONFLICT ({key}) DO NOTHING"));
                }
                (Conflict::Nothing(_), _) | (Conflict::Update(..), None) => {
                    s.push_str(" ON CONFLICT DO NOTHING");
                }
                (Conflict::Update(sets, filter), Some(key)) => {
                    let excluded = Src {
                        qual: "excluded".to_owned(),
                        ..target.clone()
                    };
                    self.scopes.push(vec![target.clone(), excluded]);
                    let sets = self.assignments(all, sets);
                    s.push_str(&format!(" ON CONFLICT ({key}) DO UPDATE SET {sets}"));
                    let filter = self.filter(filter.as_ref());
                    s.push_str(&filter);
                    self.scopes.pop();
                }
            }
        }
        self.finish(s, target, &i.returning)
    }

    pub(super) fn update(&mut self, u: &Update) -> String {
        let (mut s, target) = self.write_head("UPDATE", &u.head);
        s.push_str(" SET ");
        self.scopes.push(vec![target.clone()]);
        let from = u.from.as_ref().map(|f| self.print_from_clause(f));
        let sets = self.assignments(u.head.tab.cols(), &u.sets);
        s.push_str(&sets);
        if let Some(from) = from {
            s.push_str(&format!(" FROM {from}"));
        }
        let filter = self.filter(u.filter.as_ref());
        s.push_str(&filter);
        self.scopes.pop();
        self.finish(s, target, &u.returning)
    }

    pub(super) fn delete(&mut self, d: &Delete) -> String {
        let (mut s, target) = self.write_head("DELETE FROM", &d.head);
        self.scopes.push(vec![target.clone()]);
        let filter = self.filter(d.filter.as_ref());
        s.push_str(&filter);
        self.scopes.pop();
        self.finish(s, target, &d.returning)
    }

    /// The start of an UPDATE or a DELETE: its WITH, `<verb> <table>[ <alias>]`; and the
    /// target's columns (its WITH stays in scope until [`Printer::finish`]).
    fn write_head(&mut self, verb: &str, head: &WriteHead) -> (String, Src) {
        let mut s = self.with(&head.with);
        let (alias, target) = self.target(head.tab, head.alias);
        s.push_str(&format!(
            "{verb} {}{alias}",
            head.name.print(head.tab.name())
        ));
        (s, target)
    }

    /// ` WHERE <f>`, or nothing.
    fn filter(&mut self, f: Option<&Expr>) -> String {
        match f {
            Some(f) => format!(" WHERE {}", self.expr(f)),
            None => String::new(),
        }
    }

    /// `col = expr, …`, the columns picked from `all`.
    fn assignments(&mut self, all: &[&str], sets: &[(u8, Expr)]) -> String {
        let sets: Vec<String> = sets
            .iter()
            .map(|(p, e)| format!("{} = {}", all[*p as usize % all.len()], self.expr(e)))
            .collect();
        sets.join(", ")
    }

    /// Ends a write to `target`: its RETURNING (which sees the target alone); its WITH goes
    /// out of scope.
    fn finish(&mut self, mut s: String, target: Src, returning: &Option<Returning>) -> String {
        self.scopes.push(vec![target]);
        let r = self.returning(returning);
        self.scopes.pop();
        s.push_str(&r);
        self.ctes.pop();
        s
    }
}
