//! Finding the SQL a Rust file hands to rusqlite and sqlx, from its syntax tree.
//!
//! Calls looked for:
//! - rusqlite, as methods: [`RUSQLITE_METHODS`] (`conn.execute(sql, …)`, `tx.prepare(…)`);
//! - sqlx, as functions: [`SQLX_FUNCTIONS`] (`sqlx::query(sql)`, `query_as::<_, T>(sql)`),
//!   and as macros: [`SQLX_MACROS`] (`sqlx::query!("…", …)`, `query_as!(T, "…", …)`).
//!
//! The SQL argument is a string literal (raw ones included), a `const` or `static` string
//! declared anywhere in the files read, `concat!` of literals, or a reference to one of
//! those; anything else (`format!`, `+`, a variable, a function's result) is built at run
//! time and reported as such.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::visit::Visit;
use syn::{Expr, ExprCall, ExprMethodCall, Lit, Macro};

/// rusqlite methods whose first argument is SQL.
pub const RUSQLITE_METHODS: &[&str] = &[
    "execute",
    "execute_batch",
    "prepare",
    "prepare_cached",
    "query_row",
    "query_row_and_then",
    "query_one",
];

/// sqlx functions whose first argument is SQL.
pub const SQLX_FUNCTIONS: &[&str] = &["query", "query_as", "query_scalar", "query_with"];

/// sqlx macros, with the position of their SQL argument.
pub const SQLX_MACROS: &[(&str, usize)] = &[
    ("query", 0),
    ("query_unchecked", 0),
    ("query_scalar", 0),
    ("query_scalar_unchecked", 0),
    ("query_as", 1),
    ("query_as_unchecked", 1),
];

/// The SQL of one call, as far as the source tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sql {
    /// Known before the program runs: a literal, or a constant (named).
    Known {
        /// The text.
        text: String,
        /// The constant it came from, if any.
        constant: Option<String>,
    },
    /// Built when the program runs; why it cannot be checked.
    RunTime(String),
}

/// One call that hands SQL to rusqlite or sqlx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The line of the call (1-based).
    pub line: usize,
    /// How SQL was handed over: `execute`, `sqlx::query`, `sqlx::query_as!`, ….
    pub form: String,
    /// The SQL.
    pub sql: Sql,
}

/// The string constants (`const` and `static`) that `files` declare, by name. A name
/// declared twice with different values is left out (the call's SQL is then not known).
pub fn constants<'f>(files: impl IntoIterator<Item = &'f syn::File>) -> HashMap<String, String> {
    let mut found = Constants::default();
    for file in files {
        found.visit_file(file);
    }
    found
        .values
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
}

#[derive(Default)]
struct Constants {
    /// `None`: declared more than once, differently.
    values: HashMap<String, Option<String>>,
}

impl Constants {
    fn add(&mut self, name: String, expr: &Expr) {
        let Some(value) = literal_text(expr, &HashMap::new()) else {
            return;
        };
        self.values
            .entry(name)
            .and_modify(|v| {
                if v.as_deref() != Some(value.as_str()) {
                    *v = None;
                }
            })
            .or_insert(Some(value));
    }
}

impl<'ast> Visit<'ast> for Constants {
    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        self.add(item.ident.to_string(), &item.expr);
        syn::visit::visit_item_const(self, item);
    }
    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        self.add(item.ident.to_string(), &item.expr);
        syn::visit::visit_item_static(self, item);
    }
    fn visit_impl_item_const(&mut self, item: &'ast syn::ImplItemConst) {
        self.add(item.ident.to_string(), &item.expr);
        syn::visit::visit_impl_item_const(self, item);
    }
}

/// Every call of `file` that hands SQL over, in source order, with `constants` resolving
/// named SQL.
pub fn calls(file: &syn::File, constants: &HashMap<String, String>) -> Vec<Call> {
    let mut finder = Finder {
        constants,
        found: Vec::new(),
    };
    finder.visit_file(file);
    finder.found.sort_by_key(|c| c.line);
    finder.found
}

struct Finder<'c> {
    constants: &'c HashMap<String, String>,
    found: Vec<Call>,
}

impl Finder<'_> {
    fn push(&mut self, span: Span, form: String, arg: Option<&Expr>) {
        let sql = match arg {
            Some(expr) => sql_of(expr, self.constants),
            None => Sql::RunTime("no SQL argument".to_owned()),
        };
        self.push_sql(span, form, sql);
    }

    fn push_sql(&mut self, span: Span, form: String, sql: Sql) {
        self.found.push(Call {
            line: span.start().line,
            form,
            sql,
        });
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let method = call.method.to_string();
        // `sqlx::query(…).execute(&pool)` hands over the query built before, not SQL.
        // A prepared statement's `stmt.query_row([1], …)` takes parameters, not SQL.
        let params_first = call.args.first().is_some_and(is_params);
        if RUSQLITE_METHODS.contains(&method.as_str())
            && !is_sqlx_query(&call.receiver)
            && !params_first
        {
            self.push(call.method.span(), method, call.args.first());
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if let Expr::Path(path) = &*call.func
            && let Some((last, span)) = sqlx_name(&path.path)
            && SQLX_FUNCTIONS.contains(&last.as_str())
        {
            self.push(span, format!("sqlx::{last}"), call.args.first());
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        if let Some((last, span)) = sqlx_name(&mac.path)
            && let Some(&(name, at)) = SQLX_MACROS.iter().find(|(n, _)| *n == last)
        {
            let args = mac.parse_body_with(
                syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
            );
            let form = format!("sqlx::{name}!");
            match args {
                Ok(args) => self.push(span, form, args.iter().nth(at)),
                Err(e) => self.push_sql(
                    span,
                    form,
                    Sql::RunTime(format!("its arguments could not be read ({e})")),
                ),
            }
        }
        syn::visit::visit_macro(self, mac);
    }
}

/// The last name of `path` and its span, when the path may be sqlx's: `sqlx::query`, or a
/// bare `query` imported from it.
fn sqlx_name(path: &syn::Path) -> Option<(String, Span)> {
    let last = path.segments.last()?;
    let from_sqlx = path.segments.len() == 1 || path.segments.iter().any(|s| s.ident == "sqlx");
    from_sqlx.then(|| (last.ident.to_string(), last.ident.span()))
}

/// Whether `expr` is a parameter list (`[..]`, `&[..]`, a tuple, `params![..]`): the
/// first argument of a prepared statement's methods, which take no SQL.
fn is_params(expr: &Expr) -> bool {
    match expr {
        Expr::Array(_) | Expr::Tuple(_) => true,
        Expr::Reference(r) => is_params(&r.expr),
        Expr::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "params" || s.ident == "named_params"),
        _ => false,
    }
}

/// Whether `expr` is a query sqlx built (`sqlx::query(…)`, `query!(…)`, `.bind(…)` on one).
fn is_sqlx_query(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(m) => is_sqlx_query(&m.receiver),
        Expr::Await(a) => is_sqlx_query(&a.base),
        Expr::Paren(p) => is_sqlx_query(&p.expr),
        Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| SQLX_FUNCTIONS.contains(&s.ident.to_string().as_str()))),
        Expr::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| SQLX_MACROS.iter().any(|(n, _)| s.ident == n)),
        _ => false,
    }
}

/// The SQL `expr` holds, or why it is only known at run time.
fn sql_of(expr: &Expr, constants: &HashMap<String, String>) -> Sql {
    if let Some(text) = literal_text(expr, constants) {
        let constant = constant_name(expr).filter(|n| constants.contains_key(n));
        return Sql::Known { text, constant };
    }
    Sql::RunTime(run_time_reason(expr))
}

/// The name of the constant `expr` reads (through `&`, parentheses and a cast).
fn constant_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Expr::Reference(r) => constant_name(&r.expr),
        Expr::Paren(p) => constant_name(&p.expr),
        Expr::Group(g) => constant_name(&g.expr),
        _ => None,
    }
}

/// The text of a string literal, a known constant, `concat!` of those, or a reference to
/// one of them.
fn literal_text(expr: &Expr, constants: &HashMap<String, String>) -> Option<String> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Some(s.value()),
            _ => None,
        },
        Expr::Reference(r) => literal_text(&r.expr, constants),
        Expr::Paren(p) => literal_text(&p.expr, constants),
        Expr::Group(g) => literal_text(&g.expr, constants),
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .and_then(|s| constants.get(&s.ident.to_string()).cloned()),
        Expr::Macro(m) if m.mac.path.is_ident("concat") => {
            let parts = m
                .mac
                .parse_body_with(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                )
                .ok()?;
            parts
                .iter()
                .map(|p| literal_text(p, constants))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.concat())
        }
        _ => None,
    }
}

/// Why the SQL of `expr` is only known at run time, in a few words.
fn run_time_reason(expr: &Expr) -> String {
    match expr {
        Expr::Macro(m) => {
            let name = m
                .mac
                .path
                .segments
                .last()
                .map_or_else(String::new, |s| s.ident.to_string());
            format!("built by {name}!")
        }
        Expr::Binary(_) => "built by concatenation".to_owned(),
        Expr::Path(p) => format!(
            "the variable {}",
            p.path
                .segments
                .last()
                .map_or_else(String::new, |s| s.ident.to_string())
        ),
        Expr::Reference(r) => run_time_reason(&r.expr),
        Expr::Paren(p) => run_time_reason(&p.expr),
        Expr::Group(g) => run_time_reason(&g.expr),
        Expr::MethodCall(m) => format!("the result of .{}()", m.method),
        Expr::Call(_) => "the result of a function".to_owned(),
        _ => "an expression".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: &str) -> Vec<(String, Sql)> {
        let file = syn::parse_file(source).unwrap();
        let consts = constants([&file]);
        calls(&file, &consts)
            .into_iter()
            .map(|c| (c.form, c.sql))
            .collect()
    }

    fn known(text: &str) -> Sql {
        Sql::Known {
            text: text.to_owned(),
            constant: None,
        }
    }

    #[test]
    fn literals_constants_and_concat_are_known_the_rest_is_run_time() {
        let calls = found(
            r##"
            const BY_ID: &str = "SELECT * FROM t WHERE id = ?1";
            fn f(conn: &Connection, table: &str) {
                conn.execute("DELETE FROM t", []);
                conn.query_row(BY_ID, [1], |r| r.get(0));
                conn.prepare(r#"SELECT "a" FROM t"#).unwrap().query_row([1], |r| r.get(0));
                conn.prepare(concat!("SELECT a ", "FROM t"));
                conn.execute(&format!("DELETE FROM {table}"), []);
                conn.prepare(&("SELECT ".to_owned() + table));
            }
            "##,
        );
        assert_eq!(calls[0], ("execute".to_owned(), known("DELETE FROM t")));
        assert_eq!(
            calls[1],
            (
                "query_row".to_owned(),
                Sql::Known {
                    text: "SELECT * FROM t WHERE id = ?1".to_owned(),
                    constant: Some("BY_ID".to_owned())
                }
            )
        );
        assert_eq!(calls[2].1, known(r#"SELECT "a" FROM t"#));
        assert_eq!(calls[3].1, known("SELECT a FROM t"));
        assert_eq!(calls[4].1, Sql::RunTime("built by format!".to_owned()));
        assert!(matches!(&calls[5].1, Sql::RunTime(r) if r.contains("concatenation")));
        assert_eq!(calls.len(), 6);
    }

    #[test]
    fn sqlx_functions_and_macros_are_found_with_their_sql_argument() {
        let calls = found(
            r#"
            async fn f(pool: &Pool) {
                sqlx::query("DELETE FROM t").execute(pool).await;
                query_as::<_, Row>("SELECT a FROM t").fetch_all(pool).await;
                sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(pool).await;
                sqlx::query!("SELECT a FROM t WHERE id = ?", 1).fetch_one(pool).await;
                sqlx::query_as!(Row, "SELECT a FROM t").fetch_all(pool).await;
                other::query("not sql");
            }
            "#,
        );
        let forms: Vec<&str> = calls.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            forms,
            [
                "sqlx::query",
                "sqlx::query_as",
                "sqlx::query_scalar",
                "sqlx::query!",
                "sqlx::query_as!"
            ]
        );
        assert_eq!(calls[4].1, known("SELECT a FROM t"));
    }
}
