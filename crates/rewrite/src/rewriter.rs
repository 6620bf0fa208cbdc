//! The rewriter: built once from a schema and a policy, then asked to scope SQL strings.
//! It splits the input into statements and drives each through the classifier
//! (`crate::classify`), the analysis (`crate::analysis`) and the emitters (`crate::emit`),
//! then puts the views' scoped queries in place (`crate::views`) and builds the [`Plan`].

use std::collections::HashMap;
use std::ops::Range;

use sqlparser::tokenizer::TokenWithSpan;

use crate::analysis::raising::RaisingColumns;
use crate::analysis::{self, Context, TenantValues};
use crate::classify::{self, Leading};
use crate::emit::{self, Emit};
use crate::error::RewriteError;
use crate::parse::{self, Unreadable};
use crate::plan::{Plan, Rewritten, TenantCheck};
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::schema::Schema;
use crate::source::{Source, snippet};
use crate::sql::{column_list, quote_ident};
use crate::statement::{StatementInfo, StatementKind};
use crate::template::{Edit, Template};
use crate::tenant::TenantId;
use crate::views::{self, ViewPlans};

/// The longest input accepted, in bytes.
pub const MAX_SQL_LEN: usize = 1 << 20;

/// Statements of more tokens than this are analysed on a thread with a large stack.
const SMALL_STATEMENT_TOKENS: usize = 1_000;

/// That thread's stack: enough to drop the deepest tree a 1 MiB statement can produce.
/// Reserved, not committed: pages are touched only as deep as the tree goes.
const LARGE_STATEMENT_STACK: usize = 512 << 20;

/// One statement, planned: what was found, its edits, and its explicit tenant values.
type Planned = (StatementInfo, Vec<Edit>, Vec<TenantCheck>);

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
///     "SELECT name FROM customers WHERE +customers.\"tenant_id\" = 'store-2' AND (id = ?1)"
/// );
///
/// // A `*` would show the tenant column: the table becomes a derived table.
/// let out = rewriter.rewrite("SELECT * FROM customers WHERE id = ?1", &tenant)?;
/// assert_eq!(
///     out.sql(),
///     "SELECT * FROM (SELECT \"id\", \"name\" FROM main.\"customers\" \
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
    views: HashMap<String, ViewPlans>,
    /// The views' result columns that may raise an error (`views::raising_columns`).
    raising_columns: RaisingColumns,
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
                // A virtual table's columns are all the application's own, its tenant
                // column too (`Table::shows_tenant_column`).
                let list = if t.shows_tenant_column() {
                    t.columns
                        .iter()
                        .map(|c| quote_ident(&c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    column_list(t, &schema, &policy)
                };
                (t.name.to_ascii_lowercase(), list)
            })
            .collect();
        let raising_columns = views::raising_columns(&schema);
        let views = views::plan_all(&schema, &policy, &derived, &raising_columns);
        Rewriter {
            schema,
            policy,
            derived,
            views,
            raising_columns,
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
        let tenant_values = if self.policy.check_tenant_values {
            TenantValues::Checked
        } else {
            TenantValues::Literal
        };
        self.plan_with(
            sql,
            Options {
                report_keys: self.policy.report_keys,
                tenant_values,
            },
        )
    }

    /// As [`Rewriter::plan`], with `options` in place of the policy's (a trigger body's
    /// plan never reports keys: only the caller's statement sets `last_insert_rowid()`; and
    /// it takes only the firing row's tenant as a tenant value).
    pub(crate) fn plan_with(&self, sql: &str, options: Options) -> Result<Plan, RewriteError> {
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
            let (info, seg_edits, seg_checks) = self
                .plan_statement_guarded(&src, seg.clone(), parser_tokens.take(seg), options)
                .map_err(|e| match e {
                    StatementError::Refused(reason) => RewriteError::Refused {
                        index,
                        statement: snippet(text),
                        reason,
                    },
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
        Ok(Plan::new(template, statements, checks))
    }

    /// Plans a statement; a long one on a thread with a large stack. `sqlparser` builds a
    /// left-deep tree for a chain such as `a OR b OR c ...`, and dropping a tree tens of
    /// thousands deep recurses as deep: on an ordinary thread stack that aborts the process.
    fn plan_statement_guarded(
        &self,
        src: &Source<'_>,
        seg: Range<usize>,
        tokens: Vec<TokenWithSpan>,
        options: Options,
    ) -> Result<Planned, StatementError> {
        if seg.len() <= SMALL_STATEMENT_TOKENS {
            return self.plan_statement(src, seg, tokens, options);
        }
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("tenantry-rewrite".to_owned())
                .stack_size(LARGE_STATEMENT_STACK)
                .spawn_scoped(scope, || self.plan_statement(src, seg, tokens, options));
            let too_complex = |detail: &str| {
                StatementError::Refused(Refusal::TooComplex {
                    detail: detail.to_owned(),
                })
            };
            match worker {
                Ok(handle) => match handle.join() {
                    Ok(planned) => planned,
                    Err(_) => Err(too_complex("the analysis of the statement failed")),
                },
                Err(_) => Err(too_complex("no thread could be started to analyse it")),
            }
        })
    }

    /// Classifies, parses, analyses and emits one statement.
    fn plan_statement(
        &self,
        src: &Source<'_>,
        seg: Range<usize>,
        tokens: Vec<TokenWithSpan>,
        options: Options,
    ) -> Result<Planned, StatementError> {
        let explain = match classify::leading(src, seg.clone())? {
            Leading::Pragma => {
                let info = StatementInfo {
                    kind: StatementKind::Pragma,
                    explain: false,
                    tables: Vec::new(),
                    ctes: Vec::new(),
                    assigns_tenant: false,
                };
                return Ok((info, Vec::new(), Vec::new()));
            }
            Leading::Parse { explain } => explain,
        };

        let statement = parse::statement(tokens).map_err(|e| {
            StatementError::Parse(match e {
                Unreadable::Parser(message) => message,
                Unreadable::Stopped {
                    token,
                    line,
                    column,
                } => format!(
                    "the parser stopped before the end of the statement, at {token} (line \
                     {line}, column {column}); the rest cannot be scoped"
                ),
            })
        })?;
        let kind = classify::kind(&statement)?;
        let cx = Context {
            schema: &self.schema,
            policy: &self.policy,
            src,
            seg,
            in_view: false,
            report_keys: options.report_keys,
            tenant_values: options.tenant_values,
            bounded: false,
            raising_columns: &self.raising_columns,
        };
        let model = analysis::analyze(&cx, &statement)?;
        let mut edits = emit::emit(
            &model,
            &Emit {
                schema: &self.schema,
                policy: &self.policy,
                src,
                derived: &self.derived,
            },
        );
        let mut tables = model.tables;
        let mut ctes = model.ctes;
        for edit in &mut edits {
            views::fill(
                &mut edit.pieces,
                &self.views,
                &mut tables,
                &mut ctes,
                model.bounded,
            )?;
        }
        let info = StatementInfo {
            kind,
            explain,
            tables,
            ctes,
            assigns_tenant: model.assigns_tenant,
        };
        Ok((info, edits, model.checks))
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

/// How a string is planned, where it differs between a caller's statements and a
/// trigger's body.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    /// As [`Policy::report_keys`].
    pub report_keys: bool,
    /// Which tenant values a statement may give itself.
    pub tenant_values: TenantValues,
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
