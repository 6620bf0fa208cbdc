//! The AND terms of a condition, as SQLite splits a WHERE into the terms it plans and
//! evaluates one by one.

use sqlparser::ast::{BinaryOperator, Expr};

/// Whether parentheses around an AND are looked through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Nesting {
    /// `(a AND b) AND c` is three terms, as SQLite sees it (its tree has no parentheses).
    Through,
    /// `(a AND b) AND c` is two terms, as the text shows it (what a guard wraps).
    Kept,
}

/// The top-level AND terms of `expr`, in order.
pub(super) fn and_terms(expr: &Expr, parens: Nesting) -> Vec<&Expr> {
    let mut out = Vec::new();
    collect(expr, parens, &mut out);
    out
}

fn collect<'e>(expr: &'e Expr, parens: Nesting, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            collect(left, parens, out);
            collect(right, parens, out);
        }
        Expr::Nested(inner) if parens == Nesting::Through => collect(inner, parens, out),
        _ => out.push(expr),
    }
}
