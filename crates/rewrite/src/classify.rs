//! What kind of statement, query body, table factor and join it is, decided on the AST with
//! every `sqlparser` variant named: the kinds a tenant may run go on to be scoped, every
//! other kind is refused by name, and a `sqlparser` upgrade that adds a kind fails to
//! compile here until someone decides.
//!
//! Some kinds are refused before parsing, by their first word: schema changes, ATTACH,
//! maintenance, and PRAGMAs (checked against their allowlist by their tokens).

use std::ops::Range;

use sqlparser::ast::{
    Delete, Insert, JoinConstraint, JoinOperator, ObjectName, Query, SetExpr, Statement,
    TableAlias, TableFactor, TableWithJoins, Update,
};

use crate::pragma;
use crate::refusal::Refusal;
use crate::source::Source;
use crate::statement::StatementKind;

/// What the first words of a statement decide, before it is parsed.
pub(crate) enum Leading {
    /// An allowed PRAGMA: nothing to scope.
    Pragma,
    /// Parse it and read on; `explain` when it is EXPLAIN or EXPLAIN QUERY PLAN.
    Parse { explain: bool },
}

/// Refuses a statement by its first words: CREATE, ALTER, DROP, ATTACH, DETACH, VACUUM,
/// REINDEX, ANALYZE, and a PRAGMA that is not on the allowlist.
pub(crate) fn leading(src: &Source<'_>, seg: Range<usize>) -> Result<Leading, Refusal> {
    let words = src.leading_words(seg.clone(), 4);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let (explain, rest) = match words.as_slice() {
        ["EXPLAIN", "QUERY", "PLAN", rest @ ..] => (true, rest),
        ["EXPLAIN", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let keyword = rest.first().copied().unwrap_or_default().to_owned();
    match keyword.as_str() {
        "CREATE" | "ALTER" | "DROP" => Err(Refusal::SchemaChange { keyword }),
        "ATTACH" | "DETACH" => Err(Refusal::Attach { keyword }),
        "VACUUM" | "REINDEX" | "ANALYZE" => Err(Refusal::Maintenance { keyword }),
        "PRAGMA" if !explain => {
            pragma::check(src, seg)?;
            Ok(Leading::Pragma)
        }
        _ => Ok(Leading::Parse { explain }),
    }
}

/// A statement of a kind the rewriter scopes.
pub(crate) enum Shape<'a> {
    /// A query: SELECT, VALUES, a compound, or WITH ... in front of one of them.
    Query(&'a Query),
    Insert(&'a Insert),
    Update(&'a Update),
    Delete(&'a Delete),
    /// EXPLAIN or EXPLAIN QUERY PLAN of this statement.
    Explain(&'a Statement),
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE.
    Transaction,
}

/// What a query's body is.
pub(crate) enum Body<'a> {
    /// Rows read: a SELECT, VALUES, a compound or a nested query.
    Read,
    /// `WITH ... INSERT / UPDATE / DELETE`: this statement.
    Write(&'a Statement),
}

/// The shape of `statement`.
///
/// # Errors
/// [`Refusal::UnsupportedStatement`] for every other kind.
pub(crate) fn shape(statement: &Statement) -> Result<Shape<'_>, Refusal> {
    match statement {
        Statement::Query(query) => Ok(Shape::Query(query)),
        Statement::Insert(insert) => Ok(Shape::Insert(insert)),
        Statement::Update(update) => Ok(Shape::Update(update)),
        Statement::Delete(delete) => Ok(Shape::Delete(delete)),
        Statement::Explain { statement, .. } => Ok(Shape::Explain(statement)),
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => Ok(Shape::Transaction),
        // Fail closed: every other kind of statement is refused, by category (in arms of
        // at most eight).
        // Schema changes (caught by their first word; named here too).
        Statement::CreateView(..)
        | Statement::CreateTable(..)
        | Statement::CreateVirtualTable { .. }
        | Statement::CreateIndex(..)
        | Statement::CreateRole(..)
        | Statement::CreateSecret { .. }
        | Statement::CreateServer(..)
        | Statement::CreateForeignTable(..) => Err(unsupported(statement)),
        Statement::CreateForeignDataWrapper(..)
        | Statement::CreateUserMapping(..)
        | Statement::CreatePolicy(..)
        | Statement::CreateRule(..)
        | Statement::CreateConnector(..)
        | Statement::CreateOperator(..)
        | Statement::CreateOperatorFamily(..)
        | Statement::CreateOperatorClass(..) => Err(unsupported(statement)),
        Statement::CreateTextSearch(..)
        | Statement::CreateAggregate(..)
        | Statement::AlterTable(..)
        | Statement::AlterSchema(..)
        | Statement::AlterIndex { .. }
        | Statement::AlterView(..)
        | Statement::AlterFunction(..)
        | Statement::AlterType(..) => Err(unsupported(statement)),
        Statement::AlterCollation(..)
        | Statement::AlterOperator(..)
        | Statement::AlterOperatorFamily(..)
        | Statement::AlterOperatorClass(..)
        | Statement::AlterTextSearch(..)
        | Statement::AlterRole { .. }
        | Statement::AlterPolicy(..)
        | Statement::AlterTrigger(..) => Err(unsupported(statement)),
        Statement::AlterConnector { .. }
        | Statement::AlterSession { .. }
        | Statement::Drop { .. }
        | Statement::DropFunction(..)
        | Statement::DropDomain(..)
        | Statement::DropProcedure { .. }
        | Statement::DropSecret { .. }
        | Statement::DropPolicy(..) => Err(unsupported(statement)),
        Statement::DropRule(..)
        | Statement::DropConnector { .. }
        | Statement::CreateExtension(..)
        | Statement::CreateCollation(..)
        | Statement::DropExtension(..)
        | Statement::DropOperator(..)
        | Statement::DropOperatorFamily(..)
        | Statement::DropOperatorClass(..) => Err(unsupported(statement)),
        Statement::Comment { .. }
        | Statement::CreateSchema { .. }
        | Statement::CreateDatabase { .. }
        | Statement::CreateFunction(..)
        | Statement::CreateTrigger(..)
        | Statement::DropTrigger(..)
        | Statement::CreateProcedure { .. }
        | Statement::CreateMacro { .. } => Err(unsupported(statement)),
        Statement::CreateStage { .. }
        | Statement::CreateFileFormat { .. }
        | Statement::CreateWarehouse(..)
        | Statement::AlterDefaultPrivileges(..)
        | Statement::CreateSequence { .. }
        | Statement::CreateDomain(..)
        | Statement::CreateType { .. }
        | Statement::RenameTable(..) => Err(unsupported(statement)),
        Statement::CreateUser(..) | Statement::AlterUser(..) => Err(unsupported(statement)),
        // Other databases and files.
        Statement::Install { .. }
        | Statement::Load { .. }
        | Statement::Directory { .. }
        | Statement::Copy { .. }
        | Statement::CopyIntoSnowflake { .. }
        | Statement::AttachDatabase { .. }
        | Statement::AttachDuckDBDatabase { .. }
        | Statement::DetachDuckDBDatabase { .. } => Err(unsupported(statement)),
        Statement::Use(..)
        | Statement::Unload { .. }
        | Statement::LoadData { .. }
        | Statement::List(..)
        | Statement::Put { .. }
        | Statement::Remove(..)
        | Statement::ExportData(..) => Err(unsupported(statement)),
        // Privileges and users.
        Statement::Grant(..)
        | Statement::GrantRole(..)
        | Statement::Deny(..)
        | Statement::Revoke(..)
        | Statement::RevokeRole(..) => Err(unsupported(statement)),
        // Maintenance.
        Statement::Analyze(..)
        | Statement::Truncate(..)
        | Statement::Msck(..)
        | Statement::Flush { .. }
        | Statement::Discard { .. }
        | Statement::Cache { .. }
        | Statement::UNCache { .. }
        | Statement::OptimizeTable { .. } => Err(unsupported(statement)),
        Statement::Vacuum(..) | Statement::RefreshMaterializedView(..) => {
            Err(unsupported(statement))
        }
        // Introspection.
        Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. } => Err(unsupported(statement)),
        Statement::ShowProcessList { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(..)
        | Statement::ShowObjects(..)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. }
        | Statement::ExplainTable { .. } => Err(unsupported(statement)),
        // Session and server state.
        Statement::Set(..)
        | Statement::Kill { .. }
        | Statement::Pragma { .. }
        | Statement::Lock(..)
        | Statement::LockTables { .. }
        | Statement::UnlockTables
        | Statement::LISTEN { .. }
        | Statement::UNLISTEN { .. } => Err(unsupported(statement)),
        Statement::NOTIFY { .. } | Statement::Reset(..) => Err(unsupported(statement)),
        // Procedural code and prepared statements.
        Statement::Case(..)
        | Statement::If(..)
        | Statement::While(..)
        | Statement::Raise(..)
        | Statement::Call(..)
        | Statement::Open(..)
        | Statement::Close { .. }
        | Statement::Declare { .. } => Err(unsupported(statement)),
        Statement::Fetch { .. }
        | Statement::Assert { .. }
        | Statement::Deallocate { .. }
        | Statement::Execute { .. }
        | Statement::Prepare { .. }
        | Statement::RaisError { .. }
        | Statement::Throw(..)
        | Statement::Print(..) => Err(unsupported(statement)),
        Statement::WaitFor(..) | Statement::Return(..) => Err(unsupported(statement)),
        // Writes of other dialects.
        Statement::Merge(..) => Err(unsupported(statement)),
    }
}

/// What the body of `query` is.
///
/// # Errors
/// [`Refusal::UnsupportedStatement`] for `TABLE t` and `MERGE`, which SQLite does not have.
pub(crate) fn body(query: &Query) -> Result<Body<'_>, Refusal> {
    match query.body.as_ref() {
        SetExpr::Select(_)
        | SetExpr::Query(_)
        | SetExpr::SetOperation { .. }
        | SetExpr::Values(_) => Ok(Body::Read),
        SetExpr::Insert(inner) | SetExpr::Update(inner) | SetExpr::Delete(inner) => {
            Ok(Body::Write(inner))
        }
        SetExpr::Table(_) => Err(Refusal::UnsupportedStatement {
            kind: "TABLE".to_owned(),
        }),
        SetExpr::Merge(_) => Err(Refusal::UnsupportedStatement {
            kind: "MERGE".to_owned(),
        }),
    }
}

/// The first part of a query body, through its compounds, that SQLite does not have:
/// `TABLE t` or `MERGE`.
pub(crate) fn foreign(body: &SetExpr) -> Option<&'static str> {
    match body {
        SetExpr::Table(_) => Some("TABLE"),
        SetExpr::Merge(_) => Some("MERGE"),
        SetExpr::SetOperation { left, right, .. } => foreign(left).or_else(|| foreign(right)),
        SetExpr::Select(_)
        | SetExpr::Query(_)
        | SetExpr::Values(_)
        | SetExpr::Insert(_)
        | SetExpr::Update(_)
        | SetExpr::Delete(_) => None,
    }
}

/// The kind of a statement of a supported shape (of the inner statement, for EXPLAIN).
///
/// # Errors
/// [`Refusal::UnsupportedStatement`] when it is not of a supported shape.
pub(crate) fn kind(statement: &Statement) -> Result<StatementKind, Refusal> {
    match shape(statement)? {
        Shape::Query(query) => match body(query)? {
            Body::Read => Ok(StatementKind::Select),
            Body::Write(inner) => kind(inner),
        },
        Shape::Insert(_) => Ok(StatementKind::Insert),
        Shape::Update(_) => Ok(StatementKind::Update),
        Shape::Delete(_) => Ok(StatementKind::Delete),
        Shape::Explain(inner) => kind(inner),
        Shape::Transaction => Ok(StatementKind::Transaction),
    }
}

/// The refusal of a statement of an unsupported kind, named by the first words of its SQL.
fn unsupported(statement: &Statement) -> Refusal {
    let kind = statement
        .to_string()
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Refusal::UnsupportedStatement { kind }
}

/// What an item of a FROM clause is.
pub(crate) enum Factor<'a> {
    /// A table, view, CTE or table-valued function (`args`), by name.
    Table {
        name: &'a ObjectName,
        alias: Option<&'a TableAlias>,
        args: bool,
    },
    /// A subquery.
    Derived {
        subquery: &'a Query,
        alias: Option<&'a TableAlias>,
    },
    /// A parenthesised join.
    Nested(&'a TableWithJoins),
    /// A table expression SQLite does not have (`UNNEST`, `PIVOT`, ...): refused by the walk.
    Foreign,
}

/// What `factor` is.
pub(crate) fn factor(factor: &TableFactor) -> Factor<'_> {
    match factor {
        TableFactor::Table {
            name, alias, args, ..
        } => Factor::Table {
            name,
            alias: alias.as_ref(),
            args: args.is_some(),
        },
        TableFactor::Derived {
            subquery, alias, ..
        } => Factor::Derived {
            subquery,
            alias: alias.as_ref(),
        },
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => Factor::Nested(table_with_joins),
        TableFactor::TableFunction { .. }
        | TableFactor::Function { .. }
        | TableFactor::UNNEST { .. }
        | TableFactor::JsonTable { .. }
        | TableFactor::OpenJsonTable { .. }
        | TableFactor::Pivot { .. }
        | TableFactor::Unpivot { .. }
        | TableFactor::UnpivotExpr { .. }
        | TableFactor::MatchRecognize { .. }
        | TableFactor::XmlTable { .. }
        | TableFactor::SemanticView { .. } => Factor::Foreign,
    }
}

/// The constraint of a join operator SQLite has, or the name of one it does not have.
pub(crate) fn join_constraint(op: &JoinOperator) -> Result<&JoinConstraint, &'static str> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c) => Ok(c),
        JoinOperator::Semi(_) => Err("SEMI JOIN"),
        JoinOperator::LeftSemi(_) => Err("LEFT SEMI JOIN"),
        JoinOperator::RightSemi(_) => Err("RIGHT SEMI JOIN"),
        JoinOperator::Anti(_) => Err("ANTI JOIN"),
        JoinOperator::LeftAnti(_) => Err("LEFT ANTI JOIN"),
        JoinOperator::RightAnti(_) => Err("RIGHT ANTI JOIN"),
        JoinOperator::CrossApply => Err("CROSS APPLY"),
        JoinOperator::OuterApply => Err("OUTER APPLY"),
        JoinOperator::AsOf { .. } => Err("ASOF JOIN"),
        JoinOperator::StraightJoin(_) => Err("STRAIGHT_JOIN"),
        JoinOperator::ArrayJoin => Err("ARRAY JOIN"),
        JoinOperator::LeftArrayJoin => Err("LEFT ARRAY JOIN"),
        JoinOperator::InnerArrayJoin => Err("INNER ARRAY JOIN"),
    }
}
