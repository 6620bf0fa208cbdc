//! A statement's rewrite before and after the tenant is known: a [`Plan`] holds no tenant
//! and can be cached and shared by every tenant; [`Plan::render`] fills in one tenant's id
//! and gives the [`Rewritten`] SQL.

use std::sync::Arc;

use crate::error::RewriteError;
use crate::refusal::Refusal;
use crate::statement::StatementInfo;
use crate::template::Template;
use crate::tenant::TenantId;

/// A tenant value written explicitly in an INSERT, checked when the tenant is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TenantCheck {
    pub table: String,
    pub value: String,
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
    /// Per explicit tenant value: the statement's position (from 1), its snippet, the check.
    checks: Vec<(usize, String, TenantCheck)>,
}

impl Plan {
    pub(crate) fn new(
        template: Template,
        statements: Vec<StatementInfo>,
        checks: Vec<(usize, String, TenantCheck)>,
    ) -> Plan {
        Plan {
            template,
            statements: statements.into(),
            checks,
        }
    }

    /// The SQL for `tenant`.
    ///
    /// # Errors
    /// [`RewriteError::Refused`] with [`Refusal::ForeignTenant`] when an INSERT writes an
    /// explicit tenant value that is not `tenant`.
    pub fn render(&self, tenant: &TenantId) -> Result<Rewritten, RewriteError> {
        self.check_values(tenant)?;
        Ok(Rewritten {
            sql: self.template.render(tenant),
            statements: Arc::clone(&self.statements),
        })
    }

    /// [`Refusal::ForeignTenant`] when an INSERT writes an explicit tenant value that is
    /// not `tenant`.
    fn check_values(&self, tenant: &TenantId) -> Result<(), RewriteError> {
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
        Ok(())
    }

    /// As [`Plan::render`], with each tenant literal written as a call of `function` on
    /// it (`function('A')`): for a statement the application holds and may run after its
    /// connection changed tenant, where the connection's `function` checks, each time the
    /// statement runs, that `'A'` is still its tenant, and fails the statement otherwise.
    /// (SQLite evaluates such a call once per run, when the run first reaches it, which may
    /// be after a row matched: the tenant connection checks a held statement's tenant
    /// before its first row by other means first, `held.rs`.)
    ///
    /// ```
    /// use tenantry_rewrite::{Rewriter, Schema, TenantId};
    /// let schema = Schema::from_sql(
    ///     "CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL)",
    ///     "tenant_id",
    /// )?;
    /// let plan = Rewriter::new(schema).plan("SELECT body FROM notes")?;
    /// let held = plan.render_checked(&TenantId::new("a")?, "check")?;
    /// assert!(held.sql().contains("check('a')"), "{}", held.sql());
    /// assert!(!held.sql().contains("= 'a'"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Plan::render`].
    pub fn render_checked(
        &self,
        tenant: &TenantId,
        function: &str,
    ) -> Result<Rewritten, RewriteError> {
        self.check_values(tenant)?;
        Ok(Rewritten {
            sql: self
                .template
                .render_expr(&format!("{function}('{}')", tenant.as_str())),
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
