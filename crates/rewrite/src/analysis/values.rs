//! Tenant values a statement gives itself: the tenant column named in an INSERT's column
//! list (or, on a table whose tenant column is the application's own, an INSERT without
//! one), and `tenant_id = <value>` among the top-level AND terms of an UPDATE's or DELETE's
//! WHERE. What is accepted depends on [`TenantValues`]:
//!
//! - `Literal` (plain rewrites): a string literal in a VALUES row, checked when the plan is
//!   rendered; anything else in an INSERT is refused. A WHERE compares as written (the
//!   tenant test already keeps every other tenant's row out).
//! - `Checked` (tenant connections): a string literal as above; any other value is wrapped
//!   in `tenantry_tenant(...)`, which fails the statement when it is not the tenant. In a
//!   WHERE, an operand that is one value, parameter or column name is wrapped; any other
//!   expression compares as written.
//! - `FiringRow` (trigger bodies): only the firing row's tenant column, `NEW."tenant_id"`
//!   or `OLD."tenant_id"` as the event has it, which is the scoping value itself.

use sqlparser::ast::{BinaryOperator, Expr, Parens, Query, SelectItem, SetExpr, Value};
use sqlparser::keywords::Keyword;

use crate::analysis::clauses::{self, internal};
use crate::analysis::model::{CheckedValue, Context, Model, TenantValues};
use crate::analysis::terms::{Nesting, and_terms};
use crate::objects::TriggerEvent;
use crate::plan::TenantCheck;
use crate::refusal::Refusal;
use crate::schema::Table;
use crate::sql::{loc_of, token_at};

/// The tenant values of an INSERT into `table` whose source gives the tenant column as its
/// `k`-th column: `values` when the source is nothing but VALUES rows, else `query`.
pub(super) fn insert(
    cx: &Context<'_, '_>,
    model: &mut Model<'_>,
    query: &Query,
    values: Option<&[Parens<Vec<Expr>>]>,
    k: usize,
    table: &Table,
) -> Result<(), Refusal> {
    let unchecked = || unchecked(cx, table);
    if let Some(rows) = values {
        for row in rows {
            let Some(item) = row.content.get(k) else {
                return Err(unchecked());
            };
            if let Some(value) = string_literal(item) {
                model.checks.push(TenantCheck {
                    table: table.name.clone(),
                    value: value.to_owned(),
                });
                continue;
            }
            given(cx, model, item, table, || {
                clauses::row_item(cx.src, cx.seg.end, row, k)
            })?;
        }
        return Ok(());
    }
    // INSERT ... SELECT: the k-th result column of a plain SELECT.
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(unchecked());
    };
    let (expr, alias) = match select.projection.get(k) {
        Some(SelectItem::UnnamedExpr(expr)) => (expr, None),
        Some(SelectItem::ExprWithAlias { expr, alias }) => (expr, Some(alias)),
        Some(
            SelectItem::ExprWithAliases { .. }
            | SelectItem::QualifiedWildcard(..)
            | SelectItem::Wildcard(_),
        )
        | None => return Err(unchecked()),
    };
    given(cx, model, expr, table, || {
        let src = cx.src;
        let items = clauses::select_items(src, cx.seg.end, select)?;
        let &(first, mut last) = items
            .get(k)
            .ok_or_else(|| internal("result column not found".to_owned()))?;
        if let Some(alias) = alias {
            // The expression ends before the alias (and its AS).
            let at = token_at(src, loc_of(alias))?;
            last = src
                .prev_sig(at, first)
                .ok_or_else(|| internal("aliased result column without expression".to_owned()))?;
            if src.is_kw(last, Keyword::AS) {
                last = src
                    .prev_sig(last, first)
                    .ok_or_else(|| internal("result column without expression".to_owned()))?;
            }
        }
        Ok((src.toks[first].start, src.toks[last].end))
    })
}

/// The tenant values an UPDATE's or DELETE's WHERE (`selection`) compares with the tenant
/// column of its target `table`, named `qualifier` (its alias, or its name, unquoted).
pub(super) fn filter(
    cx: &Context<'_, '_>,
    model: &mut Model<'_>,
    selection: &Expr,
    table: &Table,
    qualifier: &str,
) -> Result<(), Refusal> {
    if cx.tenant_values != TenantValues::Checked {
        return Ok(());
    }
    let column = cx.schema.tenant_column();
    let is_tenant = |e: &Expr| names_column(e, column, qualifier);
    for term in and_terms(selection, Nesting::Through) {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = term
        else {
            continue;
        };
        let value = match (is_tenant(left), is_tenant(right)) {
            (true, false) => right,
            (false, true) => left,
            (true, true) | (false, false) => continue,
        };
        if let Some((start, end)) = operand(cx, value)? {
            model.checked.push(CheckedValue {
                table: table.name.clone(),
                span: start..end,
            });
        }
    }
    Ok(())
}

/// The value an upsert's `DO UPDATE` assigns the tenant column (tenant connections only):
/// a string literal checked when the plan is rendered, as in a VALUES row; one value,
/// parameter or column name (`excluded.tenant_id`) checked when the statement runs; any
/// other expression refused.
pub(super) fn assignment(
    cx: &Context<'_, '_>,
    model: &mut Model<'_>,
    value: &Expr,
    table: &Table,
) -> Result<(), Refusal> {
    if let Some(literal) = string_literal(value) {
        model.checks.push(TenantCheck {
            table: table.name.clone(),
            value: literal.to_owned(),
        });
        model.assigns_tenant = true;
        return Ok(());
    }
    let Some((start, end)) = operand(cx, value)? else {
        return Err(Refusal::TenantColumnWrite {
            table: table.name.clone(),
            column: cx.schema.tenant_column().to_owned(),
        });
    };
    model.checked.push(CheckedValue {
        table: table.name.clone(),
        span: start..end,
    });
    model.assigns_tenant = true;
    Ok(())
}

/// A value given for the tenant column, other than a string literal in a VALUES row:
/// checked when the statement runs (its bytes from `span`), the firing row's tenant in a
/// trigger, or refused.
fn given(
    cx: &Context<'_, '_>,
    model: &mut Model<'_>,
    expr: &Expr,
    table: &Table,
    span: impl FnOnce() -> Result<(usize, usize), Refusal>,
) -> Result<(), Refusal> {
    match cx.tenant_values {
        TenantValues::Literal => Err(unchecked(cx, table)),
        TenantValues::FiringRow(event) => {
            if firing_row(expr, event, cx.schema.tenant_column()) {
                Ok(())
            } else {
                Err(unchecked(cx, table))
            }
        }
        TenantValues::Checked => {
            let (start, end) = span()?;
            model.checked.push(CheckedValue {
                table: table.name.clone(),
                span: start..end,
            });
            Ok(())
        }
    }
}

fn unchecked(cx: &Context<'_, '_>, table: &Table) -> Refusal {
    Refusal::UncheckedTenantValue {
        table: table.name.clone(),
        column: cx.schema.tenant_column().to_owned(),
    }
}

/// A string literal's text.
fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `expr` is the firing row's tenant column, as trigger `event` has it: `NEW` for
/// INSERT and UPDATE, `OLD` for UPDATE and DELETE (on UPDATE they are equal: tenant
/// connections cannot change the column). Any quoting and case.
fn firing_row(expr: &Expr, event: TriggerEvent, column: &str) -> bool {
    let Expr::CompoundIdentifier(parts) = expr else {
        return false;
    };
    let [row, col] = parts.as_slice() else {
        return false;
    };
    if !col.value.eq_ignore_ascii_case(column) {
        return false;
    }
    let new = row.value.eq_ignore_ascii_case("new");
    let old = row.value.eq_ignore_ascii_case("old");
    match event {
        TriggerEvent::Insert => new,
        TriggerEvent::Update => new || old,
        TriggerEvent::Delete => old,
    }
}

/// Whether `expr` names the target's tenant column: `tenant_id`, `q.tenant_id` or
/// `main.q.tenant_id`, `q` being the target's alias or name.
fn names_column(expr: &Expr, column: &str, qualifier: &str) -> bool {
    match expr {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(column),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [q, c] => {
                q.value.eq_ignore_ascii_case(qualifier) && c.value.eq_ignore_ascii_case(column)
            }
            [s, q, c] => {
                s.value.eq_ignore_ascii_case("main")
                    && q.value.eq_ignore_ascii_case(qualifier)
                    && c.value.eq_ignore_ascii_case(column)
            }
            _ => false,
        },
        _ => false,
    }
}

/// The bytes of an operand that is one value, parameter or (qualified) column name; none
/// for any other expression.
fn operand(cx: &Context<'_, '_>, expr: &Expr) -> Result<Option<(usize, usize)>, Refusal> {
    let src = cx.src;
    let (first, last) = match expr {
        Expr::Value(v) => {
            let at = token_at(src, (v.span.start.line, v.span.start.column))?;
            match &v.value {
                // A parameter may be several of the lexer's tokens (`:` and `name`).
                Value::Placeholder(name) => {
                    let start = src.toks[at].start;
                    let last = (at..src.toks.len())
                        .find(|&j| src.toks[j].end >= start + name.len())
                        .filter(|&j| src.sql.get(start..src.toks[j].end) == Some(name.as_str()))
                        .ok_or_else(|| internal(format!("parameter {name} not found")))?;
                    (at, last)
                }
                _ => (at, at),
            }
        }
        Expr::Identifier(i) => {
            let at = token_at(src, loc_of(i))?;
            (at, at)
        }
        Expr::CompoundIdentifier(parts) => match (parts.first(), parts.last()) {
            (Some(a), Some(b)) => (token_at(src, loc_of(a))?, token_at(src, loc_of(b))?),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some((src.toks[first].start, src.toks[last].end)))
}
