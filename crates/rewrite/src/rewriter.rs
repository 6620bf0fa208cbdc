//! The rewriter: built once from a schema and a policy, then asked to scope SQL strings.

use std::collections::HashMap;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use sqlparser::ast::{SetExpr, Statement, Visit};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::dml::{Dml, TenantCheck};
use crate::error::{Refusal, RewriteError};
use crate::pragma;
use crate::schema::Schema;
use crate::scope::Scoper;
use crate::source::{Source, snippet};
use crate::template::{Edit, Template};
use crate::tenant::TenantId;

/// How deeply `sqlparser` may nest before it gives up (its own default).
const RECURSION_LIMIT: usize = 50;

/// The longest input accepted, in bytes.
pub const MAX_SQL_LEN: usize = 1 << 20;

/// Statements of more tokens than this are analysed on a thread with a large stack.
const SMALL_STATEMENT_TOKENS: usize = 1_000;

/// That thread's stack: enough to drop the deepest tree a 1 MiB statement can produce.
/// Reserved, not committed: pages are touched only as deep as the tree goes.
const LARGE_STATEMENT_STACK: usize = 512 << 20;

/// Choices about what scoped statements see.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Policy {
    /// Let `*` and `t.*` include the tenant column (off by default: a legacy query returns
    /// the columns it returned before migration).
    pub expose_tenant_column: bool,
    /// Allow reads of `sqlite_master` / `sqlite_schema` (on by default: they describe
    /// tables, not any tenant's rows).
    pub allow_schema_reads: bool,
    /// Global tables no tenant may read or write. By default tenantry's own record of
    /// migrations, which names backup files.
    pub protected_tables: Vec<String>,
    /// Global tables a tenant may read but not write. By default the tenant registry,
    /// `tenants`.
    pub read_only_tables: Vec<String>,
    /// How the tenant test is written, which decides whether SQLite's planner may use the
    /// tenant index.
    pub tenant_filter: TenantFilter,
}

/// How a scoped statement tests the tenant column.
///
/// The test is the same either way (`tenant_id = 'A'`); what differs is what SQLite's query
/// planner makes of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantFilter {
    /// `+"tenant_id" = 'A'`: the unary `+` keeps the planner from using the tenant index, so
    /// every statement gets the plan its legacy form had, with the tenant test applied to
    /// each row it reads. Right after a migration (one tenant holds every row) the tenant
    /// index cannot narrow anything, and the legacy plans are the ones the application was
    /// tuned for. The default.
    #[default]
    PlanAsBefore,
    /// `"tenant_id" = 'A'`: the planner may use the tenant index. Worth it once many tenants
    /// share the database and each holds a small part of it; run `ANALYZE` then, so the
    /// planner knows how selective the tenant index is.
    UseTenantIndex,
}

impl TenantFilter {
    /// The test's left side and operator for the tenant column `column` (already quoted and
    /// qualified as needed): the tenant literal follows.
    pub(crate) fn prefix(self, column: &str) -> String {
        match self {
            TenantFilter::PlanAsBefore => format!("+{column} = "),
            TenantFilter::UseTenantIndex => format!("{column} = "),
        }
    }
}

impl Policy {
    pub(crate) fn is_protected(&self, table: &str) -> bool {
        self.protected_tables
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
    }

    pub(crate) fn is_read_only(&self, table: &str) -> bool {
        self.read_only_tables
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            expose_tenant_column: false,
            allow_schema_reads: true,
            protected_tables: vec!["_tenantry_migrations".to_owned()],
            read_only_tables: vec!["tenants".to_owned()],
            tenant_filter: TenantFilter::default(),
        }
    }
}

/// Whether a statement reads or writes a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read (FROM, JOIN, subqueries).
    Read,
    /// Written (the target of INSERT, UPDATE or DELETE).
    Write,
}

/// One table a statement touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableUse {
    /// The table's name as the schema declares it.
    pub name: String,
    /// Whether the table is tenant-scoped (and was scoped in this statement).
    pub scoped: bool,
    /// Read or written.
    pub access: Access,
}

/// The kind of a statement.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// SELECT, VALUES, or a compound of them.
    Select,
    /// INSERT.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE.
    Transaction,
    /// An allowed PRAGMA.
    Pragma,
}

impl StatementKind {
    /// The kind as a lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Select => "select",
            StatementKind::Insert => "insert",
            StatementKind::Update => "update",
            StatementKind::Delete => "delete",
            StatementKind::Transaction => "transaction",
            StatementKind::Pragma => "pragma",
        }
    }
}

/// What the rewriter found in one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementInfo {
    /// The statement's kind (of the inner statement, for EXPLAIN).
    pub kind: StatementKind,
    /// Whether it is an EXPLAIN or EXPLAIN QUERY PLAN.
    pub explain: bool,
    /// Every table it reads or writes, in the order met.
    pub tables: Vec<TableUse>,
    /// The names of the CTEs it declares, its views' included (lower case). SQLite names a
    /// CTE as the accessor of what the CTE reads, as it names a view.
    pub ctes: Vec<String>,
}

/// A rewritten SQL string for one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewritten {
    sql: String,
    statements: Arc<[StatementInfo]>,
}

impl Rewritten {
    /// The scoped SQL, ready to prepare.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The scoped SQL, owned.
    pub fn into_sql(self) -> String {
        self.sql
    }

    /// What was found in each statement, in order.
    pub fn statements(&self) -> &[StatementInfo] {
        &self.statements
    }
}

/// A rewrite that does not yet know its tenant: what a cache should hold. Rendering it for a
/// tenant only fills in the tenant literal, so one plan serves every tenant and can never
/// carry one tenant's id into another's statement.
#[derive(Clone, Debug)]
pub struct Plan {
    template: Template,
    statements: Arc<[StatementInfo]>,
    checks: Vec<(usize, String, TenantCheck)>,
}

impl Plan {
    /// The SQL for `tenant`.
    ///
    /// # Errors
    /// [`RewriteError::Refused`] with [`Refusal::ForeignTenant`] when an INSERT writes an
    /// explicit tenant value that is not `tenant`.
    pub fn render(&self, tenant: &TenantId) -> Result<Rewritten, RewriteError> {
        for (index, statement, check) in &self.checks {
            if check.value != tenant.as_str() {
                return Err(RewriteError::Refused {
                    index: *index,
                    statement: statement.clone(),
                    reason: Refusal::ForeignTenant {
                        table: check.table.clone(),
                        value: check.value.clone(),
                    },
                });
            }
        }
        Ok(Rewritten {
            sql: self.template.render(tenant),
            statements: Arc::clone(&self.statements),
        })
    }

    /// What was found in each statement, in order.
    pub fn statements(&self) -> &[StatementInfo] {
        &self.statements
    }

    /// Whether an INSERT writes an explicit tenant value that [`Plan::render`] checks.
    pub(crate) fn has_tenant_checks(&self) -> bool {
        !self.checks.is_empty()
    }

    /// The SQL with the tenant given as an SQL expression rather than a literal.
    pub(crate) fn render_expr(&self, expr: &str) -> String {
        self.template.render_expr(expr)
    }
}

/// Rewrites SQL written for a single-tenant database so that it reads and writes only the
/// current tenant's rows, or refuses it.
///
/// ```
/// use tenantry_rewrite::{Rewriter, Schema, TenantId};
///
/// let schema = Schema::from_sql(
///     "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);",
///     "tenant_id",
/// )?;
/// let rewriter = Rewriter::new(schema);
/// let tenant = TenantId::new("store-2")?;
///
/// let out = rewriter.rewrite("SELECT name FROM customers WHERE id = ?1", &tenant)?;
/// assert_eq!(
///     out.sql(),
///     "SELECT name FROM (SELECT \"id\", \"name\" FROM main.\"customers\" \
///      WHERE +\"tenant_id\" = 'store-2') AS customers WHERE id = ?1"
/// );
///
/// // DDL is refused, with a reason.
/// let err = rewriter.rewrite("DROP TABLE customers", &tenant).unwrap_err();
/// assert_eq!(err.kind(), "refused");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Rewriter {
    schema: Schema,
    policy: Policy,
    /// Per tenant table (lower-case name): the columns its derived table selects, quoted
    /// and joined, computed once.
    derived: HashMap<String, String>,
    /// Per view (lower-case name): its query scoped, or why it cannot be.
    views: HashMap<String, Result<crate::views::ViewPlan, Refusal>>,
}

impl Rewriter {
    /// A rewriter with the default [`Policy`].
    pub fn new(schema: Schema) -> Self {
        Rewriter::with_policy(schema, Policy::default())
    }

    /// A rewriter with an explicit policy.
    pub fn with_policy(schema: Schema, policy: Policy) -> Self {
        let derived = schema
            .tables()
            .filter(|t| t.has_column(schema.tenant_column()))
            .map(|t| {
                let list: Vec<String> = crate::scope::visible_columns(t, &schema, &policy)
                    .map(|c| crate::scope::quote_ident(&c.name))
                    .collect();
                (t.name.to_ascii_lowercase(), list.join(", "))
            })
            .collect();
        let views = crate::views::plan_all(&schema, &policy, &derived);
        Rewriter {
            schema,
            policy,
            derived,
            views,
        }
    }

    /// The schema it scopes against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Rewrites `sql` (one or more statements) for `tenant`.
    ///
    /// # Errors
    /// [`RewriteError`] when any statement cannot be parsed or is refused; then nothing of
    /// the string is returned.
    pub fn rewrite(&self, sql: &str, tenant: &TenantId) -> Result<Rewritten, RewriteError> {
        self.plan(sql)?.render(tenant)
    }

    /// Analyses `sql` once, for any tenant.
    ///
    /// # Errors
    /// As [`Rewriter::rewrite`], except the explicit-tenant check, which
    /// [`Plan::render`] makes.
    pub fn plan(&self, sql: &str) -> Result<Plan, RewriteError> {
        if sql.len() > MAX_SQL_LEN {
            return Err(RewriteError::Refused {
                index: 1,
                statement: snippet(sql),
                reason: Refusal::TooComplex {
                    detail: format!("{} bytes of SQL; the limit is {MAX_SQL_LEN}", sql.len()),
                },
            });
        }
        let (src, mut parser_tokens) = Source::new(sql).map_err(|message| RewriteError::Parse {
            index: 1,
            statement: snippet(sql),
            message,
        })?;
        if let Err(d) = crate::lexcheck::check(&src) {
            let around = sql.get(d.offset.saturating_sub(20)..).unwrap_or(sql);
            return Err(RewriteError::Refused {
                index: 1,
                statement: snippet(around),
                reason: Refusal::Tokenization {
                    offset: d.offset,
                    detail: d.detail,
                },
            });
        }
        let mut edits: Vec<Edit> = Vec::new();
        let mut statements = Vec::new();
        let mut checks = Vec::new();
        for (n, seg) in src.segments().into_iter().enumerate() {
            let index = n + 1;
            let text = src.text(seg.clone());
            let refused = |reason: Refusal| RewriteError::Refused {
                index,
                statement: snippet(text),
                reason,
            };
            let mut seg_checks = Vec::new();
            let (info, seg_edits) = self
                .plan_statement_guarded(&src, seg.clone(), parser_tokens.take(seg), &mut seg_checks)
                .map_err(|e| match e {
                    StatementError::Refused(r) => refused(r),
                    StatementError::Parse(message) => RewriteError::Parse {
                        index,
                        statement: snippet(text),
                        message,
                    },
                })?;
            checks.extend(seg_checks.into_iter().map(|c| (index, snippet(text), c)));
            edits.extend(seg_edits);
            statements.push(info);
        }
        let template = Template::build(sql, edits).map_err(|detail| RewriteError::Refused {
            index: 1,
            statement: snippet(sql),
            reason: Refusal::Internal { detail },
        })?;
        Ok(Plan {
            template,
            statements: statements.into(),
            checks,
        })
    }

    /// Plans a statement; a long one on a thread with a large stack. `sqlparser` builds a
    /// left-deep tree for a chain such as `a OR b OR c ...`, and dropping a tree tens of
    /// thousands deep recurses as deep: on an ordinary thread stack that aborts the process.
    fn plan_statement_guarded(
        &self,
        src: &Source<'_>,
        seg: Range<usize>,
        tokens: Vec<TokenWithSpan>,
        checks: &mut Vec<TenantCheck>,
    ) -> Result<(StatementInfo, Vec<Edit>), StatementError> {
        if seg.len() <= SMALL_STATEMENT_TOKENS {
            return self.plan_statement(src, seg, tokens, checks);
        }
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("tenantry-rewrite".to_owned())
                .stack_size(LARGE_STATEMENT_STACK)
                .spawn_scoped(scope, || {
                    let mut local = Vec::new();
                    let planned = self.plan_statement(src, seg, tokens, &mut local);
                    (planned, local)
                });
            let too_complex = |detail: &str| {
                StatementError::Refused(Refusal::TooComplex {
                    detail: detail.to_owned(),
                })
            };
            match worker {
                Ok(handle) => match handle.join() {
                    Ok((planned, local)) => {
                        checks.extend(local);
                        planned
                    }
                    Err(_) => Err(too_complex("the analysis of the statement failed")),
                },
                Err(_) => Err(too_complex("no thread could be started to analyse it")),
            }
        })
    }

    fn plan_statement(
        &self,
        src: &Source<'_>,
        seg: Range<usize>,
        tokens: Vec<TokenWithSpan>,
        checks: &mut Vec<TenantCheck>,
    ) -> Result<(StatementInfo, Vec<Edit>), StatementError> {
        let words = src.leading_words(seg.clone(), 4);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let (explain, rest) = match words.as_slice() {
            ["EXPLAIN", "QUERY", "PLAN", rest @ ..] => (true, rest),
            ["EXPLAIN", rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        let keyword = rest.first().copied().unwrap_or_default().to_owned();
        match keyword.as_str() {
            "CREATE" | "ALTER" | "DROP" => {
                return Err(Refusal::SchemaChange { keyword }.into());
            }
            "ATTACH" | "DETACH" => return Err(Refusal::Attach { keyword }.into()),
            "VACUUM" | "REINDEX" | "ANALYZE" => {
                return Err(Refusal::Maintenance { keyword }.into());
            }
            "PRAGMA" if !explain => {
                pragma::check(src, seg)?;
                let info = StatementInfo {
                    kind: StatementKind::Pragma,
                    explain,
                    tables: Vec::new(),
                    ctes: Vec::new(),
                };
                return Ok((info, Vec::new()));
            }
            _ => {}
        }

        // One statement, and the parser must have read every token of it: `sqlparser`
        // stops quietly at some words (`END`), and text it did not read must not run.
        let mut parser = Parser::new(&SQLiteDialect {})
            .with_recursion_limit(RECURSION_LIMIT)
            .with_tokens_with_locations(tokens);
        let statement = parser
            .parse_statement()
            .map_err(|e| StatementError::Parse(e.to_string()))?;
        let rest = parser.peek_token();
        if rest.token != Token::EOF {
            return Err(StatementError::Parse(format!(
                "the parser stopped before the end of the statement, at {} (line {}, column \
                 {}); the rest cannot be scoped",
                rest.token, rest.span.start.line, rest.span.start.column
            )));
        }
        let statement = &statement;
        let mut cx = Scoper::new(
            &self.schema,
            &self.policy,
            &self.derived,
            src,
            seg.clone(),
            false,
        );
        let kind = {
            let mut dml = Dml {
                cx: &mut cx,
                seg,
                checks,
            };
            dispatch(statement, &mut dml)?
        };
        if let ControlFlow::Break(refusal) = statement.visit(&mut cx) {
            return Err(refusal.into());
        }
        cx.finish()?;
        cx.add_aliases();
        let mut tables = cx.tables;
        let mut ctes = cx.cte_names;
        let mut edits = cx.edits.list;
        for edit in &mut edits {
            crate::views::fill(&mut edit.pieces, &self.views, &mut tables, &mut ctes)?;
        }
        let info = StatementInfo {
            kind,
            explain,
            tables,
            ctes,
        };
        Ok((info, edits))
    }
}

/// Splits `sql` into its statements' texts (without the separating semicolons and the
/// whitespace around them), with the same tokenizer the rewriter uses: a `;` inside a
/// string, a quoted name or a comment does not split.
///
/// ```
/// let parts = tenantry_rewrite::split_statements("SELECT ';'; -- a; comment\n SELECT 2;")
///     .unwrap();
/// assert_eq!(parts, ["SELECT ';'", "-- a; comment\n SELECT 2"]);
/// ```
///
/// # Errors
/// [`RewriteError::Parse`] when the text cannot be tokenized (an unterminated string, say).
pub fn split_statements(sql: &str) -> Result<Vec<&str>, RewriteError> {
    let (src, _) = Source::new(sql).map_err(|message| RewriteError::Parse {
        index: 1,
        statement: snippet(sql),
        message,
    })?;
    Ok(src
        .segments()
        .into_iter()
        .map(|seg| {
            let first = seg.start;
            let last = seg.end.saturating_sub(1);
            sql[src.toks[first].start..src.toks[last].end].trim()
        })
        .collect())
}

/// Scopes the write target of a DML statement (the visitor handles every FROM) and names
/// the statement's kind. Statement kinds not listed are refused.
fn dispatch(statement: &Statement, dml: &mut Dml<'_, '_, '_>) -> Result<StatementKind, Refusal> {
    match statement {
        Statement::Query(query) => match query.body.as_ref() {
            // WITH ... INSERT / UPDATE / DELETE
            SetExpr::Insert(inner) | SetExpr::Update(inner) | SetExpr::Delete(inner) => {
                dispatch(inner, dml)
            }
            _ => Ok(StatementKind::Select),
        },
        Statement::Insert(insert) => dml.insert(insert).map(|()| StatementKind::Insert),
        Statement::Update(update) => dml.update(update).map(|()| StatementKind::Update),
        Statement::Delete(delete) => dml.delete(delete).map(|()| StatementKind::Delete),
        Statement::Explain { statement, .. } => dispatch(statement, dml),
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => Ok(StatementKind::Transaction),
        // Fail closed: every other kind of statement is refused.
        other => Err(Refusal::UnsupportedStatement {
            kind: statement_kind_name(other),
        }),
    }
}

/// The first words of a statement's SQL, to name an unsupported kind.
fn statement_kind_name(statement: &Statement) -> String {
    statement
        .to_string()
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

enum StatementError {
    Refused(Refusal),
    Parse(String),
}

impl From<Refusal> for StatementError {
    fn from(r: Refusal) -> Self {
        StatementError::Refused(r)
    }
}
