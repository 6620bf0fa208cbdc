//! Whether a statement has a condition that can raise an error (or call an application
//! function) on the values of the rows it reads: then every tenant table it reads must be
//! read through its tenant index, so that no condition ever runs on another tenant's row.
//!
//! Why: SQLite does not evaluate the tenant test first. Scanning an index that lacks the
//! tenant column, it checks the conditions that need only the index's columns before it
//! reads the row (and its tenant); through an OR it may scan such an index even when the
//! tenant column leads it. A condition that fails for some values
//! (`json(CASE WHEN phone = '555-0199' THEN 'x' ELSE '1' END)`) then fails or not depending
//! on another tenant's rows: an error is a one-bit answer about them. Read through the
//! tenant index (`INDEXED BY`, with the tenant test as its equality), SQLite visits only the
//! tenant's entries, whatever the conditions are.
//!
//! What counts ([`raises`]): a function call other than those that return a value for any
//! argument ([`NEVER_RAISES`]: `lower`, `length`, `coalesce`, the date functions, the
//! aggregates, which see only rows that passed the WHERE, …), `||` (a result too big is an
//! error), `->` / `->>`, REGEXP, MATCH (except a virtual table's own, standing alone among
//! a WHERE's AND terms), a LIKE or GLOB whose pattern is not a literal SQLite takes, and any
//! construct of another dialect. Whether its arguments read a column does not matter: under
//! a CASE or an AND, whether it runs at all depends on the row. What does not count: such
//! an expression where SQLite evaluates it only on rows that passed every condition — the
//! statement's own result columns (unless their alias is used elsewhere: SQLite puts the
//! expression in its place), its ORDER BY, an INSERT's VALUES, an UPDATE's SET, RETURNING —
//! unless it sits in a subquery there, which has conditions of its own.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::analysis::model::{Model, WriteClauses};
use crate::analysis::terms::{self, Nesting};
use crate::classify::Factor;
use crate::refusal::{Refusal, VirtualForm};
use crate::schema::Schema;
use crate::sql::column_ident;
use sqlparser::ast::{
    BinaryOperator, Expr, Function, Insert, JoinConstraint, OnConflictAction, OnInsert,
    OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
    UnaryOperator, Value, Visit, Visitor,
};

/// Functions (lower case) that return a value, never an error, whatever their arguments,
/// and have no effect: a call of one cannot tell anything about the row it runs on. The
/// aggregate and window functions are here because SQLite runs them only on rows that
/// passed the WHERE. Everything else — `json()`, `abs()` (it fails on the smallest
/// integer), `printf()`, `replace()` and `strftime()` (a result too big), any function of
/// the application — counts as one that may raise.
pub const NEVER_RAISES: &[&str] = &[
    // Core scalar functions.
    "changes",
    "char",
    // Date functions: fixed-size results, NULL for what they cannot read; `localtime`
    // maps a year outside 1970–2037 into that range first (strftime's result grows with
    // its format: not here).
    "date",
    "datetime",
    "julianday",
    "time",
    "timediff",
    "unixepoch",
    "coalesce",
    "if",
    "ifnull",
    "iif",
    "instr",
    "last_insert_rowid",
    "length",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "octet_length",
    "random",
    "round",
    "rtrim",
    "sign",
    "soundex",
    "sqlite_version",
    "substr",
    "substring",
    "total_changes",
    "trim",
    "typeof",
    "unhex",
    "unicode",
    "unlikely",
    "upper",
    // Math functions: a value out of their domain gives NULL.
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "ceiling",
    "cos",
    "cosh",
    "degrees",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "log2",
    "mod",
    "pi",
    "pow",
    "power",
    "radians",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
    // Aggregate and window functions: they see only rows that passed the WHERE.
    "avg",
    "count",
    "group_concat",
    "string_agg",
    "sum",
    "total",
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
];

/// Whether `statement` has an expression that may raise an error on the values of the rows
/// it reads, where SQLite may evaluate it before the tenant test (see the module's doc).
pub(super) fn condition_can_raise(
    schema: &Schema,
    statement: &Statement,
    names: &Names,
    raising_names: &Option<Vec<String>>,
) -> bool {
    condition_can_raise_beside(schema, statement, names, &[], raising_names)
}

/// [`condition_can_raise`], not counting what is inside the expressions `beside` (the
/// terms a guard will wrap, `analysis/guard.rs`).
pub(super) fn condition_can_raise_beside(
    schema: &Schema,
    statement: &Statement,
    names: &Names,
    beside: &[*const Expr],
    raising_names: &Option<Vec<String>>,
) -> bool {
    let mut scan = Scan {
        beside: beside.to_vec(),
        names: raising_names.clone(),
        ..Scan::default()
    };
    safe_zones(statement, &names.identifiers, &mut scan.safe);
    let virtual_names = virtual_table_names(schema, &names.tables);
    full_text_matches(statement, &virtual_names, &mut scan.full_text);
    statement.visit(&mut scan).is_break()
}

/// The result columns of views that may raise, by view (lower case): each such column's
/// name (lower case), or `None` when one has no name a statement could use safely (an
/// unnamed expression, a compound SELECT): then any name counts. SQLite merges a view into
/// the statement that reads it and puts a column's expression in place of its name, in
/// that statement's WHERE too.
pub(crate) type RaisingColumns = HashMap<String, Option<Vec<String>>>;

/// The names of the result columns of a view's query `statement` that may raise, or whose
/// expression names a column of `inherited` (the raising columns of the views it reads);
/// `Some(empty)` when none does. `None` when any name must count.
pub(crate) fn raising_columns(
    statement: &Statement,
    inherited: &Option<Vec<String>>,
) -> Option<Vec<String>> {
    let Statement::Query(query) = statement else {
        return Some(Vec::new());
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        // A compound's columns are named by its first SELECT; any member may raise.
        let mut scan = Scan {
            names: inherited.clone(),
            ..Scan::default()
        };
        return match statement.visit(&mut scan).is_break() {
            true => None,
            false => Some(Vec::new()),
        };
    };
    let mut out = Vec::new();
    for item in &select.projection {
        let (expr, name) = match item {
            SelectItem::UnnamedExpr(expr) => (expr, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
            SelectItem::ExprWithAliases { expr, .. } => (expr, None),
            SelectItem::QualifiedWildcard(..) | SelectItem::Wildcard(_) => {
                // A `*` over a view with raising columns passes them on under their names.
                match inherited {
                    Some(names) => {
                        out.extend(names.iter().cloned());
                        continue;
                    }
                    None => return None,
                }
            }
        };
        let mut scan = Scan {
            names: inherited.clone(),
            ..Scan::default()
        };
        if !expr.visit(&mut scan).is_break() {
            continue;
        }
        let name = name.or_else(|| column_ident(expr).map(|i| i.value.clone()));
        match name {
            Some(name) => out.push(name.to_ascii_lowercase()),
            None => return None,
        }
    }
    Some(out)
}

/// The raising column names of the views among `names` (`None`: any name), or none.
pub(crate) fn inherited(columns: &RaisingColumns, names: &[String]) -> Option<Vec<String>> {
    let mut all = Vec::new();
    for name in names {
        match columns.get(name) {
            Some(None) => return None,
            Some(Some(list)) => all.extend(list.iter().cloned()),
            None => {}
        }
    }
    Some(all)
}

/// The names a statement uses: every bare identifier (lower case), and every table name
/// in a FROM with its alias. Read once per statement, by one visit.
#[derive(Default)]
pub(crate) struct Names {
    identifiers: Vec<String>,
    /// (table name's last part, alias), lower case.
    tables: Vec<(String, Option<String>)>,
}

impl Names {
    /// The names `statement` uses.
    pub(crate) fn of(statement: &Statement) -> Names {
        let mut names = Names::default();
        let _ = statement.visit(&mut names);
        names
    }

    /// The names (last part, lower case) of the tables and views in its FROMs.
    pub(crate) fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|(name, _)| name.clone()).collect()
    }
}

impl Visitor for Names {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Identifier(ident) = expr {
            self.identifiers.push(ident.value.to_ascii_lowercase());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = factor
            && let Some(last) = name.0.last().and_then(|p| p.as_ident())
        {
            self.tables.push((
                last.value.to_ascii_lowercase(),
                alias.as_ref().map(|a| a.name.value.to_ascii_lowercase()),
            ));
        }
        ControlFlow::Continue(())
    }
}

/// The names by which the statement may refer to a virtual table it reads, or to one of
/// its columns (the left side of a full-text MATCH): the table's name, its aliases, and
/// its columns' names. (An ordinary table's column of the same name, unqualified, would be
/// ambiguous: SQLite refuses the statement before it runs.)
fn virtual_table_names(schema: &Schema, tables: &[(String, Option<String>)]) -> VirtualNames {
    let mut names = VirtualNames::default();
    for (table, alias) in tables {
        if let Some(t) = schema.table(table).filter(|t| t.module.is_some()) {
            names.tables.push(table.clone());
            names.tables.extend(alias.iter().cloned());
            names
                .columns
                .extend(t.columns.iter().map(|c| c.name.to_ascii_lowercase()));
        }
    }
    names
}

/// See [`virtual_table_names`].
#[derive(Default)]
struct VirtualNames {
    /// Names and aliases (lower case).
    tables: Vec<String>,
    /// Column names (lower case).
    columns: Vec<String>,
}

/// The `<virtual table> MATCH <constant>` terms that stand alone among the AND terms of a
/// WHERE: the virtual table answers them from its own index (its errors depend on the
/// query text alone), so they do not count as conditions that may raise. Anywhere else
/// (under OR, NOT, CASE, or on an ordinary column) SQLite calls `match()`, which fails.
fn full_text_matches(statement: &Statement, names: &VirtualNames, out: &mut Vec<*const Expr>) {
    struct Wheres<'n, 'o> {
        names: &'n VirtualNames,
        out: &'o mut Vec<*const Expr>,
    }
    impl Visitor for Wheres<'_, '_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            for select in body_selects(&query.body) {
                if let Some(selection) = &select.selection {
                    and_terms(selection, self.names, self.out);
                }
            }
            ControlFlow::Continue(())
        }
    }
    fn and_terms(expr: &Expr, names: &VirtualNames, out: &mut Vec<*const Expr>) {
        for term in terms::and_terms(expr, Nesting::Through) {
            if let Expr::BinaryOp {
                left,
                op: BinaryOperator::Match,
                right,
            } = term
                && names_virtual_table(left, names)
                && !reads_column(right)
            {
                out.push(term as *const Expr);
            }
        }
    }
    fn names_virtual_table(expr: &Expr, names: &VirtualNames) -> bool {
        let known = |list: &[String], name: &str| list.iter().any(|n| n.eq_ignore_ascii_case(name));
        match expr {
            Expr::Identifier(ident) => {
                known(&names.tables, &ident.value) || known(&names.columns, &ident.value)
            }
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, _] => known(&names.tables, &q.value),
                _ => false,
            },
            _ => false,
        }
    }
    let _ = statement.visit(&mut Wheres { names, out });
}

/// The expressions SQLite evaluates only on rows that passed every condition of the
/// statement: the outermost query's result columns and ORDER BY, an INSERT's VALUES and
/// its upsert's SET, an UPDATE's SET, RETURNING.
fn safe_zones(statement: &Statement, used: &[String], safe: &mut Vec<*const Expr>) {
    match statement {
        Statement::Query(query) => safe_query(query, used, safe),
        Statement::Insert(insert) => safe_insert(insert, used, safe),
        Statement::Update(update) => {
            safe.extend(update.assignments.iter().map(|a| &a.value as *const Expr));
            safe_items(update.returning.iter().flatten(), used, safe);
        }
        Statement::Delete(delete) => safe_items(delete.returning.iter().flatten(), used, safe),
        Statement::Explain { statement, .. } => safe_zones(statement, used, safe),
        // Other statements read no table (the classifier refused any that would).
        _ => {}
    }
}

fn safe_insert(insert: &Insert, used: &[String], safe: &mut Vec<*const Expr>) {
    if let Some(source) = &insert.source {
        safe_query(source, used, safe);
    }
    if let Some(OnInsert::OnConflict(conflict)) = &insert.on
        && let OnConflictAction::DoUpdate(update) = &conflict.action
    {
        // Evaluated on the row in conflict, which has the tenant's key: the tenant's own.
        safe.extend(update.assignments.iter().map(|a| &a.value as *const Expr));
    }
    safe_items(insert.returning.iter().flatten(), used, safe);
}

fn safe_query(query: &Query, used: &[String], safe: &mut Vec<*const Expr>) {
    safe_body(&query.body, used, safe);
    if let Some(order_by) = &query.order_by
        && let OrderByKind::Expressions(list) = &order_by.kind
    {
        safe.extend(list.iter().map(|o| &o.expr as *const Expr));
    }
}

fn safe_body(body: &SetExpr, used: &[String], safe: &mut Vec<*const Expr>) {
    match body {
        SetExpr::Select(select) => safe_items(select.projection.iter(), used, safe),
        SetExpr::Query(query) => safe_query(query, used, safe),
        SetExpr::SetOperation { left, right, .. } => {
            safe_body(left, used, safe);
            safe_body(right, used, safe);
        }
        SetExpr::Values(values) => {
            safe.extend(
                values
                    .rows
                    .iter()
                    .flat_map(|r| r.content.iter())
                    .map(|e| e as *const Expr),
            );
        }
        // Not SQLite's (refused by the classifier); nothing is taken as safe.
        SetExpr::Insert(_)
        | SetExpr::Update(_)
        | SetExpr::Delete(_)
        | SetExpr::Merge(_)
        | SetExpr::Table(_) => {}
    }
}

/// Result columns are safe unless their alias is used as a name anywhere in the statement:
/// SQLite puts the result's expression in place of an alias in WHERE, GROUP BY and HAVING.
fn safe_items<'a>(
    items: impl Iterator<Item = &'a SelectItem>,
    used: &[String],
    safe: &mut Vec<*const Expr>,
) {
    let unused = |alias: &str| !used.iter().any(|u| u.eq_ignore_ascii_case(alias));
    for item in items {
        match item {
            SelectItem::UnnamedExpr(expr) => safe.push(expr as *const Expr),
            SelectItem::ExprWithAlias { expr, alias } if unused(&alias.value) => {
                safe.push(expr as *const Expr);
            }
            SelectItem::ExprWithAliases { expr, aliases }
                if aliases.iter().all(|a| unused(&a.value)) =>
            {
                safe.push(expr as *const Expr);
            }
            SelectItem::ExprWithAlias { .. }
            | SelectItem::ExprWithAliases { .. }
            | SelectItem::QualifiedWildcard(..)
            | SelectItem::Wildcard(_) => {}
        }
    }
}

/// The visitor: breaks at the first expression that may raise outside a safe zone.
struct Scan {
    /// The safe zones' root expressions (compared by address, never dereferenced).
    safe: Vec<*const Expr>,
    /// Safe zones entered, innermost last, with the query depth at which each was entered.
    entered: Vec<(*const Expr, usize)>,
    /// How many queries deep the visit is.
    depth: usize,
    /// MATCH terms a virtual table answers ([`full_text_matches`]).
    full_text: Vec<*const Expr>,
    /// Expressions not looked into, and the one being skipped.
    beside: Vec<*const Expr>,
    skipping: Option<*const Expr>,
    /// Names that count as raising (a read view's raising columns, lower case); `None`:
    /// every name does.
    names: Option<Vec<String>>,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            safe: Vec::new(),
            entered: Vec::new(),
            depth: 0,
            full_text: Vec::new(),
            beside: Vec::new(),
            skipping: None,
            names: Some(Vec::new()),
        }
    }
}

impl Scan {
    /// Whether `expr` names a raising column of a view the statement reads.
    fn names_raising(&self, expr: &Expr) -> bool {
        let Some(name) = column_ident(expr) else {
            return false;
        };
        match &self.names {
            None => true,
            Some(names) => names.iter().any(|n| n.eq_ignore_ascii_case(&name.value)),
        }
    }
}

impl Visitor for Scan {
    type Break = ();

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        let at = expr as *const Expr;
        if self.skipping.is_some() {
            return ControlFlow::Continue(());
        }
        if self.beside.iter().any(|s| std::ptr::eq(*s, at)) {
            self.skipping = Some(at);
            return ControlFlow::Continue(());
        }
        if self.safe.iter().any(|s| std::ptr::eq(*s, at)) {
            self.entered.push((at, self.depth));
        }
        // In a safe zone, unless inside a subquery of it.
        let safe = self.entered.last().is_some_and(|&(_, d)| d == self.depth);
        let full_text = self.full_text.iter().any(|m| std::ptr::eq(*m, at));
        if !safe && !full_text && (raises(expr) || self.names_raising(expr)) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self
            .skipping
            .is_some_and(|s| std::ptr::eq(s, expr as *const Expr))
        {
            self.skipping = None;
        }
        if self
            .entered
            .last()
            .is_some_and(|&(e, _)| std::ptr::eq(e, expr as *const Expr))
        {
            self.entered.pop();
        }
        ControlFlow::Continue(())
    }
}

/// Whether evaluating `expr` itself (not the expressions inside it, which the visitor meets
/// on their own) may raise an error or call the application. Its arguments need not read a
/// column: `CASE WHEN phone = ? THEN json('x') END`, or an AND that stops early, makes
/// whether it runs depend on the row.
pub(crate) fn raises(expr: &Expr) -> bool {
    match expr {
        Expr::Function(f) => function_raises(f),
        Expr::BinaryOp { op, right, .. } => match op {
            // GLOB fails on a pattern too long (its right operand).
            BinaryOperator::Glob => pattern_raises(right, None),
            BinaryOperator::StringConcat
            | BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::Regexp
            | BinaryOperator::Match => true,
            // Arithmetic, comparison and logic: SQLite answers NULL or a REAL, never an
            // error (an integer overflow becomes a REAL, a division by zero NULL).
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
            | BinaryOperator::Gt
            | BinaryOperator::Lt
            | BinaryOperator::GtEq
            | BinaryOperator::LtEq
            | BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::And
            | BinaryOperator::Or
            | BinaryOperator::BitwiseOr
            | BinaryOperator::BitwiseAnd
            | BinaryOperator::PGBitwiseShiftLeft
            | BinaryOperator::PGBitwiseShiftRight
            | BinaryOperator::Is
            | BinaryOperator::IsNot => false,
            // Other dialects' operators: not known not to raise.
            BinaryOperator::Spaceship
            | BinaryOperator::Xor
            | BinaryOperator::BitwiseXor
            | BinaryOperator::DuckIntegerDivide
            | BinaryOperator::MyIntegerDivide
            | BinaryOperator::Custom(_)
            | BinaryOperator::PGBitwiseXor
            | BinaryOperator::PGExp
            | BinaryOperator::PGOverlap
            | BinaryOperator::PGRegexMatch
            | BinaryOperator::PGRegexIMatch
            | BinaryOperator::PGRegexNotMatch
            | BinaryOperator::PGRegexNotIMatch
            | BinaryOperator::PGLikeMatch
            | BinaryOperator::PGILikeMatch
            | BinaryOperator::PGNotLikeMatch
            | BinaryOperator::PGNotILikeMatch
            | BinaryOperator::PGStartsWith
            | BinaryOperator::HashArrow
            | BinaryOperator::HashLongArrow
            | BinaryOperator::AtAt
            | BinaryOperator::AtArrow
            | BinaryOperator::ArrowAt
            | BinaryOperator::HashMinus
            | BinaryOperator::AtQuestion
            | BinaryOperator::Question
            | BinaryOperator::QuestionAnd
            | BinaryOperator::QuestionPipe
            | BinaryOperator::PGCustomBinaryOperator(_)
            | BinaryOperator::Overlaps
            | BinaryOperator::DoubleHash
            | BinaryOperator::LtDashGt
            | BinaryOperator::AndLt
            | BinaryOperator::AndGt
            | BinaryOperator::LtLtPipe
            | BinaryOperator::PipeGtGt
            | BinaryOperator::AndLtPipe
            | BinaryOperator::PipeAndGt
            | BinaryOperator::LtCaret
            | BinaryOperator::GtCaret
            | BinaryOperator::QuestionHash
            | BinaryOperator::QuestionDash
            | BinaryOperator::QuestionDashPipe
            | BinaryOperator::QuestionDoublePipe
            | BinaryOperator::At
            | BinaryOperator::TildeEq
            | BinaryOperator::Assignment => true,
        },
        Expr::UnaryOp { op, .. } => match op {
            UnaryOperator::Plus
            | UnaryOperator::Minus
            | UnaryOperator::Not
            | UnaryOperator::BitwiseNot => false,
            UnaryOperator::AtDashAt
            | UnaryOperator::BangNot
            | UnaryOperator::DoubleAt
            | UnaryOperator::Hash
            | UnaryOperator::PGAbs
            | UnaryOperator::PGCubeRoot
            | UnaryOperator::PGPostfixFactorial
            | UnaryOperator::PGPrefixFactorial
            | UnaryOperator::PGSquareRoot
            | UnaryOperator::QuestionDash
            | UnaryOperator::QuestionPipe => true,
        },
        // LIKE fails on a pattern too long or an escape that is not one character; the
        // string it matches cannot make it fail.
        Expr::Like {
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char,
            ..
        }
        | Expr::SimilarTo {
            pattern,
            escape_char,
            ..
        } => pattern_raises(pattern, escape_char.as_deref()),
        // Never an error by themselves.
        Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::In { .. }
        | Expr::Between { .. }
        | Expr::Cast { .. }
        | Expr::Ceil { .. }
        | Expr::Floor { .. }
        | Expr::Substring { .. }
        | Expr::Trim { .. }
        | Expr::Collate { .. }
        | Expr::Nested(_)
        | Expr::Value(_)
        | Expr::Case { .. }
        | Expr::Exists { .. }
        | Expr::Subquery(_)
        | Expr::Tuple(_)
        | Expr::Wildcard(_)
        | Expr::QualifiedWildcard(..) => false,
        // REGEXP calls the application; the rest are other dialects' constructs, not known
        // not to raise.
        Expr::RLike { .. }
        | Expr::CompoundFieldAccess { .. }
        | Expr::JsonAccess { .. }
        | Expr::IsJson { .. }
        | Expr::IsNormalized { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. }
        | Expr::Convert { .. }
        | Expr::AtTimeZone { .. }
        | Expr::Extract { .. }
        | Expr::Position { .. }
        | Expr::Overlay { .. }
        | Expr::Prefixed { .. }
        | Expr::TypedString(_)
        | Expr::GroupingSets(_)
        | Expr::Cube(_)
        | Expr::Rollup(_)
        | Expr::Struct { .. }
        | Expr::Named { .. }
        | Expr::Dictionary(_)
        | Expr::Map(_)
        | Expr::Array(_)
        | Expr::Interval(_)
        | Expr::MatchAgainst { .. }
        | Expr::OuterJoin(_)
        | Expr::Prior(_)
        | Expr::Lambda(_)
        | Expr::MemberOf(_) => true,
    }
}

/// The longest LIKE or GLOB pattern SQLite takes by default (`SQLITE_LIMIT_LIKE_PATTERN_LENGTH`).
const LONGEST_PATTERN: usize = 50_000;

/// Whether a LIKE or GLOB with this pattern and escape may fail: unless the pattern is a
/// string literal SQLite takes (at most [`LONGEST_PATTERN`] bytes) and the escape, if any, a
/// literal of one character. A bound pattern may be of any length.
fn pattern_raises(pattern: &Expr, escape: Option<&Expr>) -> bool {
    let literal = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let pattern_ok = literal(pattern).is_some_and(|p| p.len() <= LONGEST_PATTERN);
    let escape_ok = match escape {
        None => true,
        Some(e) => literal(e).is_some_and(|c| c.chars().count() == 1),
    };
    !(pattern_ok && escape_ok)
}

/// Whether a call of `f` may raise an error (or run the application's code).
fn function_raises(f: &Function) -> bool {
    let name = match f.name.0.last() {
        Some(part) => part.to_string(),
        None => return true,
    };
    let bare = name.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
    !NEVER_RAISES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(bare) && f.name.0.len() == 1)
}

/// Whether `expr` reads a column anywhere inside it (a subquery's columns too).
fn reads_column(expr: &Expr) -> bool {
    struct Columns;
    impl Visitor for Columns {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    expr.visit(&mut Columns).is_break()
}

/// When `model` is [`Model::bounded`]: every table it must read through its tenant index
/// has one, and the statement does not name another index (or NOT INDEXED) for it; and it
/// reads no tenant virtual table, which no index can bound.
///
/// # Errors
/// [`Refusal::IndexHint`], [`Refusal::BoundedVirtualTable`] or [`Refusal::NoTenantIndex`],
/// naming the table.
pub(super) fn check_indexes(schema: &Schema, model: &Model<'_>) -> Result<(), Refusal> {
    if !model.bounded {
        return Ok(());
    }
    let mut tables = Vec::new();
    for read in &model.reads {
        if model.through_tenant_index(read.table) && !read.index_clause.is_empty() {
            return Err(Refusal::IndexHint {
                table: read.table.name.clone(),
            });
        }
        tables.push(read.table);
    }
    tables.extend(model.in_tables.iter().map(|t| t.table));
    if let Some(write) = &model.write
        && let WriteClauses::Filter(filter) = &write.clauses
    {
        if model.through_tenant_index(write.table) && filter.index_at.is_none() {
            return Err(Refusal::IndexHint {
                table: write.table.name.clone(),
            });
        }
        tables.push(write.table);
    }
    if let Some(read) = model.in_place.iter().find(|r| r.table.module.is_some()) {
        return Err(Refusal::BoundedVirtualTable {
            table: read.table.name.clone(),
        });
    }
    for table in tables {
        if model.through_tenant_index(table) && schema.tenant_index(&table.name).is_none() {
            return Err(Refusal::NoTenantIndex {
                table: table.name.clone(),
            });
        }
    }
    Ok(())
}

/// When the statement reads a tenant virtual table: it constrains no `rank`. FTS5 takes a
/// constraint on `rank` (`rank MATCH 'fn()'`, `rank = 'fn()'`) as the ranking function
/// to run, and runs it on every tenant's matching rows before the tenant test, so its
/// errors tell what other tenants' documents hold. SQLite hands FTS5 such a constraint
/// however it is written (parentheses, COLLATE, a `main.` prefix) and pushes a condition
/// on a subquery's, CTE's or view's column down into the scan, so the rule is on names:
/// a name `rank` (any qualifier) may stand only in an ORDER BY, or among the statement's
/// own result columns (not a view's: a view is always read from outside). Anywhere else,
/// refused, even where it names another table's column.
///
/// # Errors
/// [`Refusal::VirtualTable`] with [`VirtualForm::RankConstraint`].
pub(super) fn check_rank(
    statement: &Statement,
    model: &Model<'_>,
    in_view: bool,
) -> Result<(), Refusal> {
    let Some(read) = model.in_place.iter().find(|r| r.table.module.is_some()) else {
        return Ok(());
    };
    // The names that may stand where they are: directly in an ORDER BY or a top-level
    // result column, not in a subquery there (whose WHERE is a WHERE).
    // Each query's ORDER BY, and whether it joins `USING (rank)`, which matches the hidden
    // column too: SQLite adds `x.rank = t.rank`.
    let mut allowed = Allowed::default();
    struct Queries<'a>(&'a mut Allowed);
    impl Visitor for Queries<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if body_uses_rank(&query.body) {
                return ControlFlow::Break(());
            }
            if let Some(order_by) = &query.order_by {
                self.0.add(order_by);
            }
            ControlFlow::Continue(())
        }
    }
    let refused = || Refusal::VirtualTable {
        table: read.table.name.clone(),
        form: VirtualForm::RankConstraint,
    };
    if statement.visit(&mut Queries(&mut allowed)).is_break() {
        return Err(refused());
    }
    // A result column's alias names its expression in the WHERE, GROUP BY and HAVING too.
    let mut aliases: Vec<String> = Vec::new();
    if let (false, Statement::Query(query)) = (in_view, statement) {
        result_columns(&query.body, &mut allowed, &mut aliases);
    }
    let constrained = sqlparser::ast::visit_expressions(statement, |e| {
        let named = names_rank(e)
            || matches!(e, Expr::Identifier(i)
                if aliases.iter().any(|a| a.eq_ignore_ascii_case(&i.value)));
        if named && !allowed.exprs.contains(&std::ptr::from_ref(e)) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    if constrained.is_break() {
        return Err(refused());
    }
    Ok(())
}

/// Whether a SELECT of `body` joins by `USING` a column named `rank`.
fn body_uses_rank(body: &SetExpr) -> bool {
    body_selects(body)
        .iter()
        .any(|select| joins_use_rank(&select.from))
}

/// The SELECTs of a query body, through its set operations; the bodies of nested queries
/// are visited as queries of their own.
fn body_selects(body: &SetExpr) -> Vec<&Select> {
    fn collect<'a>(body: &'a SetExpr, out: &mut Vec<&'a Select>) {
        match body {
            SetExpr::Select(select) => out.push(select),
            SetExpr::SetOperation { left, right, .. } => {
                collect(left, out);
                collect(right, out);
            }
            SetExpr::Query(_)
            | SetExpr::Values(_)
            | SetExpr::Insert(_)
            | SetExpr::Update(_)
            | SetExpr::Delete(_)
            | SetExpr::Merge(_)
            | SetExpr::Table(_) => {}
        }
    }
    let mut out = Vec::new();
    collect(body, &mut out);
    out
}

/// See [`body_uses_rank`]: the joins of a FROM, nested ones included.
fn joins_use_rank(from: &[TableWithJoins]) -> bool {
    let nested = |factor: &TableFactor| match crate::classify::factor(factor) {
        Factor::Nested(joins) => joins_use_rank(std::slice::from_ref(joins)),
        // A subquery is visited as a query of its own.
        Factor::Table { .. } | Factor::Derived { .. } | Factor::Foreign => false,
    };
    from.iter().any(|t| {
        nested(&t.relation)
            || t.joins.iter().any(|join| {
                nested(&join.relation)
                    || match crate::classify::join_constraint(&join.join_operator) {
                        Ok(JoinConstraint::Using(names) | JoinConstraint::UsingAlias(names, _)) => {
                            names.iter().any(|name| {
                                name.0
                                    .last()
                                    .and_then(|part| part.as_ident())
                                    .is_some_and(|i| i.value.eq_ignore_ascii_case("rank"))
                            })
                        }
                        Ok(
                            JoinConstraint::On(_) | JoinConstraint::Natural | JoinConstraint::None,
                        )
                        | Err(_) => false,
                    }
            })
    })
}

/// Whether `expr` is a name whose last part is `rank` (any qualifier, any quoting).
fn names_rank(expr: &Expr) -> bool {
    column_ident(expr).is_some_and(|c| c.value.eq_ignore_ascii_case("rank"))
}

/// See [`check_rank`]: the expressions that stand directly in an ORDER BY or a result
/// column, outside any subquery there.
#[derive(Default)]
struct Allowed {
    exprs: Vec<*const Expr>,
    /// How many queries deep the visit is, below the node added.
    depth: usize,
}

impl Allowed {
    fn add<V: Visit>(&mut self, node: &V) {
        self.depth = 0;
        let _ = node.visit(self);
    }
}

impl Visitor for Allowed {
    type Break = ();
    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            self.exprs.push(expr);
        }
        ControlFlow::Continue(())
    }
}

/// The result columns of a statement's own query (each SELECT of a compound one), added
/// to `allowed`, and the aliases of those that name `rank` pushed onto `aliases`.
fn result_columns(body: &SetExpr, allowed: &mut Allowed, aliases: &mut Vec<String>) {
    match body {
        SetExpr::Select(select) => {
            for item in &select.projection {
                allowed.add(item);
                if let SelectItem::ExprWithAlias { expr, alias } = item
                    && sqlparser::ast::visit_expressions(expr, |e| {
                        if names_rank(e) {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    })
                    .is_break()
                {
                    aliases.push(alias.value.clone());
                }
            }
        }
        SetExpr::Query(query) => result_columns(&query.body, allowed, aliases),
        SetExpr::SetOperation { left, right, .. } => {
            result_columns(left, allowed, aliases);
            result_columns(right, allowed, aliases);
        }
        SetExpr::Values(_)
        | SetExpr::Insert(_)
        | SetExpr::Update(_)
        | SetExpr::Delete(_)
        | SetExpr::Merge(_)
        | SetExpr::Table(_) => {}
    }
}
