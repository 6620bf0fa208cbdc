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
//! argument ([`NEVER_RAISES`]: `lower`, `length`, `coalesce`, the aggregates, which see
//! only rows that passed the WHERE, …), `||` (a result too big is an error), `->` / `->>`,
//! REGEXP, a GLOB, MATCH or LIKE whose pattern (or escape) is not a constant, and any
//! construct of another dialect; in each case only when what it reads includes a column
//! (`json(?)` answers the same on every row). What does not count: such an expression where
//! SQLite evaluates it only on rows that passed every condition — the statement's own
//! result columns, its ORDER BY, an INSERT's VALUES, an UPDATE's SET, RETURNING — unless it
//! sits in a subquery there, which has conditions of its own.

use std::ops::ControlFlow;

use crate::analysis::model::{Model, WriteClauses};
use crate::refusal::Refusal;
use crate::schema::Schema;
use sqlparser::ast::{
    BinaryOperator, Expr, Function, Insert, OnConflictAction, OnInsert, OrderByKind, Query,
    SelectItem, SetExpr, Statement, UnaryOperator, Visit, Visitor,
};

/// Functions (lower case) that return a value, never an error, whatever their arguments,
/// and have no effect: a call of one cannot tell anything about the row it runs on. The
/// aggregate and window functions are here because SQLite runs them only on rows that
/// passed the WHERE. Everything else — `json()`, `abs()` (it fails on the smallest
/// integer), `printf()`, `replace()`, the date functions (`localtime` can fail), any
/// function of the application — counts as one that may raise.
pub const NEVER_RAISES: &[&str] = &[
    // Core scalar functions.
    "changes",
    "char",
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
pub(super) fn condition_can_raise(statement: &Statement) -> bool {
    let mut scan = Scan::default();
    safe_zones(statement, &mut scan.safe);
    statement.visit(&mut scan).is_break()
}

/// The expressions SQLite evaluates only on rows that passed every condition of the
/// statement: the outermost query's result columns and ORDER BY, an INSERT's VALUES and
/// its upsert's SET, an UPDATE's SET, RETURNING.
fn safe_zones(statement: &Statement, safe: &mut Vec<*const Expr>) {
    match statement {
        Statement::Query(query) => safe_query(query, safe),
        Statement::Insert(insert) => safe_insert(insert, safe),
        Statement::Update(update) => {
            safe.extend(update.assignments.iter().map(|a| &a.value as *const Expr));
            safe_items(update.returning.iter().flatten(), safe);
        }
        Statement::Delete(delete) => safe_items(delete.returning.iter().flatten(), safe),
        Statement::Explain { statement, .. } => safe_zones(statement, safe),
        // Other statements read no table (the classifier refused any that would).
        _ => {}
    }
}

fn safe_insert(insert: &Insert, safe: &mut Vec<*const Expr>) {
    if let Some(source) = &insert.source {
        safe_query(source, safe);
    }
    if let Some(OnInsert::OnConflict(conflict)) = &insert.on
        && let OnConflictAction::DoUpdate(update) = &conflict.action
    {
        // Evaluated on the row in conflict, which has the tenant's key: the tenant's own.
        safe.extend(update.assignments.iter().map(|a| &a.value as *const Expr));
    }
    safe_items(insert.returning.iter().flatten(), safe);
}

fn safe_query(query: &Query, safe: &mut Vec<*const Expr>) {
    safe_body(&query.body, safe);
    if let Some(order_by) = &query.order_by
        && let OrderByKind::Expressions(list) = &order_by.kind
    {
        safe.extend(list.iter().map(|o| &o.expr as *const Expr));
    }
}

fn safe_body(body: &SetExpr, safe: &mut Vec<*const Expr>) {
    match body {
        SetExpr::Select(select) => safe_items(select.projection.iter(), safe),
        SetExpr::Query(query) => safe_query(query, safe),
        SetExpr::SetOperation { left, right, .. } => {
            safe_body(left, safe);
            safe_body(right, safe);
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

fn safe_items<'a>(items: impl Iterator<Item = &'a SelectItem>, safe: &mut Vec<*const Expr>) {
    for item in items {
        match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                safe.push(expr as *const Expr);
            }
            SelectItem::ExprWithAliases { expr, .. } => safe.push(expr as *const Expr),
            SelectItem::QualifiedWildcard(..) | SelectItem::Wildcard(_) => {}
        }
    }
}

/// The visitor: breaks at the first expression that may raise outside a safe zone.
#[derive(Default)]
struct Scan {
    /// The safe zones' root expressions (compared by address, never dereferenced).
    safe: Vec<*const Expr>,
    /// Safe zones entered, innermost last, with the query depth at which each was entered.
    entered: Vec<(*const Expr, usize)>,
    /// How many queries deep the visit is.
    depth: usize,
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
        if self.safe.iter().any(|s| std::ptr::eq(*s, at)) {
            self.entered.push((at, self.depth));
        }
        // In a safe zone, unless inside a subquery of it.
        let safe = self.entered.last().is_some_and(|&(_, d)| d == self.depth);
        if !safe && raises(expr) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
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
/// on their own) may raise an error or call the application, depending on a column's value.
pub(crate) fn raises(expr: &Expr) -> bool {
    match expr {
        Expr::Function(f) => function_raises(f) && reads_column(expr),
        Expr::BinaryOp { left, op, right } => match op {
            // The pattern is GLOB's right operand (too long a pattern is an error); MATCH's
            // right operand is a full-text query, which the table reads (its syntax errors
            // depend on the query alone).
            BinaryOperator::Glob | BinaryOperator::Match => reads_column(right),
            BinaryOperator::StringConcat
            | BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::Regexp => reads_column(left) || reads_column(right),
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
            | BinaryOperator::Assignment => reads_column(expr),
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
            | UnaryOperator::QuestionPipe => reads_column(expr),
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
        } => reads_column(pattern) || escape_char.as_deref().is_some_and(reads_column),
        Expr::RLike { .. } => reads_column(expr),
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
        // Other dialects' constructs: not known not to raise.
        Expr::CompoundFieldAccess { .. }
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
        | Expr::MemberOf(_) => reads_column(expr),
    }
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
/// has one, and the statement does not name another index (or NOT INDEXED) for it.
///
/// # Errors
/// [`Refusal::IndexHint`] or [`Refusal::NoTenantIndex`], naming the table.
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
    for table in tables {
        if model.through_tenant_index(table) && schema.tenant_index(&table.name).is_none() {
            return Err(Refusal::NoTenantIndex {
                table: table.name.clone(),
            });
        }
    }
    Ok(())
}
