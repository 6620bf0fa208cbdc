//! The dialect the rewriter reads SQL in: sqlparser's SQLite dialect, plus three SQLite
//! operators and one clause it does not read.
//!
//! - `x ISNULL` (SQLite's postfix `IS NULL`; `NOTNULL` sqlparser reads). sqlparser takes
//!   the word for a result column's alias, and stops at it elsewhere; SQLite reserves it.
//! - `x NOT GLOB y` and `x NOT MATCH y`: sqlparser reads `GLOB` and `MATCH` but not their
//!   negations (`NOT LIKE` and `NOT REGEXP` it reads).
//! - `WITH c AS [NOT] MATERIALIZED (…)`: a hint to SQLite's planner, read into the CTE.
//!
//! Each is read into the tree SQLite's grammar gives it (`Expr::IsNull`, `NOT` over the
//! binary operator), so every check of the analysis sees the operands as it would in the
//! operator's plain form; the output is the caller's text, never this tree printed. Every
//! other method is SQLite's, and the dialect answers to sqlparser's "is this SQLite"
//! checks.

use std::any::TypeId;

use sqlparser::ast::{BinaryOperator, DataType, Expr, Statement, UnaryOperator};
use sqlparser::dialect::{BindPlaceholderStyle, Dialect, Precedence, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// sqlparser's SQLite dialect, with `ISNULL`, `NOT GLOB`, `NOT MATCH` and `AS [NOT]
/// MATERIALIZED`: the dialect the rewriter reads SQL in, for tools that parse what it
/// reads or writes the same way.
///
/// ```
/// use sqlparser::parser::Parser;
/// use tenantry_rewrite::SqliteDialect;
/// let parsed = Parser::parse_sql(&SqliteDialect, "SELECT name FROM t WHERE note ISNULL")?;
/// assert_eq!(parsed[0].to_string(), "SELECT name FROM t WHERE note IS NULL");
/// # Ok::<(), sqlparser::parser::ParserError>(())
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct SqliteDialect;

/// What every other method forwards to.
const BASE: SQLiteDialect = SQLiteDialect {};

/// Whether `token` is SQLite's postfix `ISNULL` (an unquoted word: quoted, it is a name).
fn is_isnull(token: &Token) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("ISNULL"))
}

/// The binary operator negated by `NOT` when the two tokens ahead are `NOT GLOB` or
/// `NOT MATCH`.
fn negated_operator(parser: &Parser) -> Option<BinaryOperator> {
    if !parser.peek_keyword(Keyword::NOT) {
        return None;
    }
    match &parser.peek_nth_token_ref(1).token {
        Token::Word(w) if w.keyword == Keyword::GLOB => Some(BinaryOperator::Glob),
        Token::Word(w) if w.keyword == Keyword::MATCH => Some(BinaryOperator::Match),
        _ => None,
    }
}

impl Dialect for SqliteDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<SQLiteDialect>()
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if is_isnull(&parser.peek_token_ref().token) {
            parser.next_token();
            return Some(Ok(Expr::IsNull(Box::new(expr.clone()))));
        }
        if let Some(op) = negated_operator(parser) {
            parser.next_token();
            parser.next_token();
            let right = match parser.parse_subexpr(precedence) {
                Ok(right) => right,
                Err(e) => return Some(Err(e)),
            };
            return Some(Ok(Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: Box::new(Expr::BinaryOp {
                    left: Box::new(expr.clone()),
                    op,
                    right: Box::new(right),
                }),
            }));
        }
        BASE.parse_infix(parser, expr, precedence)
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        if is_isnull(&parser.peek_token_ref().token) {
            return Some(Ok(self.prec_value(Precedence::Is)));
        }
        if negated_operator(parser).is_some() {
            return Some(Ok(self.prec_value(Precedence::Like)));
        }
        BASE.get_next_precedence(parser)
    }

    /// `WITH c AS [NOT] MATERIALIZED (…)`, which SQLite reads (3.35 on) and sqlparser's
    /// SQLite dialect does not.
    fn supports_cte_materialization(&self) -> bool {
        true
    }

    // Everything below is SQLite's (each method sqlparser's SQLite dialect overrides).

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        BASE.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        BASE.identifier_quote_style(identifier)
    }
    fn ordered_bind_placeholder_style(&self) -> Option<BindPlaceholderStyle> {
        BASE.ordered_bind_placeholder_style()
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        BASE.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        BASE.is_identifier_part(ch)
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        BASE.supports_filter_during_aggregation()
    }
    fn supports_start_transaction_modifier(&self) -> bool {
        BASE.supports_start_transaction_modifier()
    }
    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        BASE.parse_statement(parser)
    }
    fn parse_data_type(&self, parser: &mut Parser) -> Option<Result<DataType, ParserError>> {
        BASE.parse_data_type(parser)
    }
    fn prec_value(&self, prec: Precedence) -> u8 {
        BASE.prec_value(prec)
    }
    fn supports_in_empty_list(&self) -> bool {
        BASE.supports_in_empty_list()
    }
    fn supports_limit_comma(&self) -> bool {
        BASE.supports_limit_comma()
    }
    fn supports_asc_desc_in_column_definition(&self) -> bool {
        BASE.supports_asc_desc_in_column_definition()
    }
    fn supports_dollar_placeholder(&self) -> bool {
        BASE.supports_dollar_placeholder()
    }
    fn supports_notnull_operator(&self) -> bool {
        BASE.supports_notnull_operator()
    }
    fn supports_is_operator(&self) -> bool {
        BASE.supports_is_operator()
    }
    fn supports_comma_separated_trim(&self) -> bool {
        BASE.supports_comma_separated_trim()
    }
    fn supports_numeric_literal_underscores(&self) -> bool {
        BASE.supports_numeric_literal_underscores()
    }
    fn supports_double_eq_assignment(&self) -> bool {
        BASE.supports_double_eq_assignment()
    }
    fn supports_string_literal_column_names(&self) -> bool {
        BASE.supports_string_literal_column_names()
    }
    fn supports_cast_empty_data_type_to_unspecified(&self) -> bool {
        BASE.supports_cast_empty_data_type_to_unspecified()
    }
    fn supports_national_string_literal(&self) -> bool {
        BASE.supports_national_string_literal()
    }
    fn supports_parens_around_table_factor(&self) -> bool {
        BASE.supports_parens_around_table_factor()
    }
    fn supports_unterminated_block_comments(&self) -> bool {
        BASE.supports_unterminated_block_comments()
    }
    fn is_column_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        BASE.is_column_alias(kw, parser)
    }
    fn supports_over_keyword_as_column_alias(&self) -> bool {
        BASE.supports_over_keyword_as_column_alias()
    }
    fn supports_indexed_by(&self) -> bool {
        BASE.supports_indexed_by()
    }
    fn is_table_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        BASE.is_table_alias(kw, parser)
    }
    fn supports_comma_join_constraint(&self) -> bool {
        BASE.supports_comma_join_constraint()
    }
    fn supports_aggregate_order_by_with_empty_args(&self) -> bool {
        BASE.supports_aggregate_order_by_with_empty_args()
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        BASE.supports_bitwise_shift_operators()
    }
    fn supports_in_table_expression(&self) -> bool {
        BASE.supports_in_table_expression()
    }
    fn is_table_factor(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        BASE.is_table_factor(kw, parser)
    }
    fn between_low_bound_precedence(&self) -> u8 {
        BASE.between_low_bound_precedence()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(dialect: &dyn Dialect, sql: &str) -> Result<Vec<Statement>, ParserError> {
        Parser::parse_sql(dialect, sql)
    }

    /// Every form sqlparser's SQLite dialect reads its own way is read the same: a method
    /// this dialect failed to forward would change one of these trees.
    #[test]
    fn reads_what_the_sqlite_dialect_reads_the_same() {
        for sql in [
            "SELECT `a`, [b], \"c\" FROM `t` AS [u] WHERE x == 1",
            "SELECT ?1, ?, $name, :p, @q FROM t",
            "SELECT count(*) FILTER (WHERE x > 1) FROM t",
            "SELECT * FROM t LIMIT 5, 10",
            "SELECT * FROM t WHERE x IN ()",
            "SELECT * FROM t INDEXED BY i WHERE x = 1",
            "SELECT * FROM t NOT INDEXED",
            "SELECT a << 2, b >> 1, c & 3, d | 4 FROM t",
            "SELECT x NOTNULL, y NOT NULL, z IS NOT 1, w IS 2 FROM t",
            "SELECT 'name' FROM t WHERE 'a' = 1",
            "SELECT x GLOB 'a*', y MATCH 'q', z REGEXP 'r', v NOT REGEXP 's' FROM t",
            "SELECT x BETWEEN 1 AND 2 = 0, trim(a, 'x') FROM t",
            "SELECT 1_000, CAST(x AS INTEGER(10, 2)), CAST(y AS) FROM t",
            "SELECT a FROM (t) JOIN u USING (a), v",
            "SELECT group_concat(x ORDER BY y) FROM t",
            "SELECT x over FROM t",
            "SELECT * FROM t WHERE x IN t2",
            "REPLACE INTO t VALUES (1)",
            "INSERT OR IGNORE INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING",
            "UPDATE t SET a == 1 WHERE b = 2",
            "BEGIN DEFERRED TRANSACTION",
            "CREATE TABLE t (a INTEGER PRIMARY KEY ASC, b TEXT, UNIQUE (b DESC)) WITHOUT ROWID",
            "SELECT a FROM t WHERE b = 1 /* unterminated",
            "SELECT N'x' FROM t",
        ] {
            let ours = parse(&SqliteDialect, sql).map(|s| format!("{s:?}"));
            let theirs = parse(&BASE, sql).map(|s| format!("{s:?}"));
            assert_eq!(
                ours.as_ref().map_err(ToString::to_string),
                theirs.as_ref().map_err(ToString::to_string),
                "{sql}"
            );
        }
    }

    fn selection(sql: &str) -> Expr {
        match parse(&SqliteDialect, sql).expect(sql).remove(0) {
            Statement::Query(q) => match *q.body {
                sqlparser::ast::SetExpr::Select(s) => s.selection.expect("a WHERE"),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    /// `NOT (left <op> right)`: the negated operator and its operands.
    fn negated(expr: &Expr) -> Option<(&Expr, &BinaryOperator, &Expr)> {
        match expr {
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => match expr.as_ref() {
                Expr::BinaryOp { left, op, right } => Some((left, op, right)),
                _ => None,
            },
            _ => None,
        }
    }

    /// `ISNULL`, `NOT GLOB` and `NOT MATCH` read as SQLite reads them: the tree of
    /// `IS NULL`, and `NOT` over the operator at its precedence (above AND and OR, level
    /// with `=`, left to right, below `||`).
    #[test]
    fn reads_isnull_not_glob_and_not_match() {
        let isnull = parse(
            &SqliteDialect,
            "SELECT a ISNULL FROM t WHERE b isnull AND c",
        )
        .expect("isnull");
        assert_eq!(
            isnull[0].to_string(),
            "SELECT a IS NULL FROM t WHERE b IS NULL AND c"
        );
        let Expr::BinaryOp { left, op, .. } =
            selection("SELECT * FROM t WHERE a NOT GLOB 'x*' OR b")
        else {
            panic!("not a binary operator")
        };
        assert_eq!(op, BinaryOperator::Or);
        assert!(matches!(negated(&left), Some((_, BinaryOperator::Glob, _))));
        let Expr::BinaryOp { left, op, .. } =
            selection("SELECT * FROM t WHERE t NOT MATCH 'q' AND 1")
        else {
            panic!("not a binary operator")
        };
        assert_eq!(op, BinaryOperator::And);
        assert!(matches!(
            negated(&left),
            Some((_, BinaryOperator::Match, _))
        ));
        let chained = selection("SELECT * FROM t WHERE a = b NOT GLOB c || d");
        let Some((left, op, right)) = negated(&chained) else {
            panic!("{chained:?}")
        };
        assert_eq!(*op, BinaryOperator::Glob);
        assert!(matches!(
            left,
            Expr::BinaryOp {
                op: BinaryOperator::Eq,
                ..
            }
        ));
        assert!(matches!(
            right,
            Expr::BinaryOp {
                op: BinaryOperator::StringConcat,
                ..
            }
        ));
        // The planner hint of a CTE.
        for (sql, hint) in [
            (
                "WITH c AS MATERIALIZED (SELECT 1) SELECT * FROM c",
                "Materialized",
            ),
            (
                "WITH c AS NOT MATERIALIZED (SELECT 1) SELECT * FROM c",
                "NotMaterialized",
            ),
        ] {
            let Statement::Query(q) = parse(&SqliteDialect, sql).expect(sql).remove(0) else {
                panic!("{sql}")
            };
            let cte = &q.with.as_ref().expect("WITH").cte_tables[0];
            assert_eq!(format!("{:?}", cte.materialized), format!("Some({hint})"));
        }
        // Quoted, the word is a name (an alias here), as in SQLite.
        let aliased = parse(&SqliteDialect, "SELECT a \"ISNULL\" FROM t").expect("alias");
        assert!(format!("{aliased:?}").contains("ExprWithAlias"));
    }
}
