//! [`TenantPool`]: a `sqlx::SqlitePool` and the rewriter of its database's schema.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::SqlitePool;
use tenantry_rewrite::{GlobalTables, Plan, Policy, Rewriter, Schema, TenantId};

use crate::error::Error;
use crate::executor::TenantExecutor;

/// The tenant column tenantry's migration adds.
const TENANT_COLUMN: &str = "tenant_id";

/// Plans kept (SQL text → plan, any tenant); cleared whole when full.
const PLANS_KEPT: usize = 4096;

/// A pool of connections to a migrated SQLite database on which every statement is scoped
/// to the current tenant. `&TenantPool` is a `sqlx::Executor` (see the crate docs).
///
/// The schema is read once, when the pool is made; after a schema change (a migration)
/// make a new pool.
#[derive(Clone, Debug)]
pub struct TenantPool {
    pool: SqlitePool,
    scoping: Arc<Scoping>,
}

/// The rewriter of one schema and the plans it made.
pub(crate) struct Scoping {
    rewriter: Rewriter,
    plans: Mutex<HashMap<String, Arc<Plan>>>,
}

impl std::fmt::Debug for Scoping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoping").finish_non_exhaustive()
    }
}

impl TenantPool {
    /// Opens a pool to the database at `url` (`sqlite://path`) and reads its schema.
    ///
    /// # Errors
    /// sqlx's errors; [`Error::NotMigrated`] (inside `sqlx::Error::Database`) when no table
    /// has the tenant column.
    pub async fn connect(url: &str) -> Result<TenantPool, sqlx::Error> {
        TenantPool::from_pool(SqlitePool::connect(url).await?).await
    }

    /// Scopes an existing pool (built with the application's own options).
    ///
    /// # Errors
    /// As [`TenantPool::connect`].
    pub async fn from_pool(pool: SqlitePool) -> Result<TenantPool, sqlx::Error> {
        let objects: Vec<String> = sqlx::query_scalar::<_, String>(tenantry_sqlite_queries::SCHEMA)
            .fetch_all(&pool)
            .await?;
        let exists = |name: &'static str| {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, bool>(tenantry_sqlite_queries::TABLE_EXISTS)
                    .bind(name)
                    .fetch_one(&pool)
                    .await
            }
        };
        let mut own: Vec<String> = Vec::new();
        let mut globals: Vec<String> = Vec::new();
        if exists("_tenantry_migrations").await? {
            own = sqlx::query_scalar::<_, String>(tenantry_sqlite_queries::OWN_COLUMNS)
                .fetch_all(&pool)
                .await?;
            globals.extend(
                sqlx::query_scalar::<_, String>(tenantry_sqlite_queries::RECORDED_GLOBALS)
                    .fetch_all(&pool)
                    .await?,
            );
        }
        if exists("_tenantry_globals").await? {
            globals.extend(
                sqlx::query_scalar::<_, String>(tenantry_sqlite_queries::DECLARED_GLOBALS)
                    .fetch_all(&pool)
                    .await?,
            );
        }
        let mut schema = Schema::from_objects(&objects, TENANT_COLUMN)
            .map_err(|e| Error::Schema(e.to_string()))?;
        if !schema.tables().any(|t| t.has_column(TENANT_COLUMN)) {
            return Err(Error::NotMigrated {
                column: TENANT_COLUMN.to_owned(),
            }
            .into());
        }
        for table in &own {
            schema.set_own_tenant_column(table);
        }
        let mut policy = Policy::default();
        policy.global_tables =
            GlobalTables::Declared(globals.iter().map(|g| g.to_ascii_lowercase()).collect());
        Ok(TenantPool {
            pool,
            scoping: Arc::new(Scoping {
                rewriter: Rewriter::with_policy(schema, policy),
                plans: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// An executor for `tenant`, whatever the task's tenant: the explicit form, for code
    /// that passes the tenant rather than scoping the task.
    pub fn with_tenant(&self, tenant: TenantId) -> TenantExecutor<'_> {
        TenantExecutor::new(self, tenant)
    }

    /// The pool underneath, unscoped: every tenant's rows. For administrative work only;
    /// each use is logged at WARN with the caller's location.
    #[track_caller]
    pub fn unscoped(&self) -> &SqlitePool {
        let caller = std::panic::Location::caller();
        tracing::warn!(
            file = caller.file(),
            line = caller.line(),
            "unscoped access to the pool"
        );
        &self.pool
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// `sql` rewritten for `tenant`.
    pub(crate) fn render(&self, sql: &str, tenant: &TenantId) -> Result<String, Error> {
        let plan = {
            let plans = self
                .scoping
                .plans
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            plans.get(sql).cloned()
        };
        let plan = match plan {
            Some(plan) => plan,
            None => {
                let plan = Arc::new(self.scoping.rewriter.plan(sql)?);
                let mut plans = self
                    .scoping
                    .plans
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if plans.len() >= PLANS_KEPT {
                    plans.clear();
                }
                plans.insert(sql.to_owned(), Arc::clone(&plan));
                plan
            }
        };
        Ok(plan.render(tenant)?.sql().to_owned())
    }
}

/// The schema queries a tenant connection runs, for sqlx.
mod tenantry_sqlite_queries {
    pub const SCHEMA: &str = tenantry_sqlite::schema::SCHEMA_QUERY;
    pub const TABLE_EXISTS: &str = tenantry_sqlite::schema::TABLE_EXISTS_QUERY;
    pub const OWN_COLUMNS: &str = tenantry_sqlite::schema::OWN_COLUMNS_QUERY;
    pub const RECORDED_GLOBALS: &str = tenantry_sqlite::schema::RECORDED_GLOBALS_QUERY;
    pub const DECLARED_GLOBALS: &str = tenantry_sqlite::schema::DECLARED_GLOBALS_QUERY;
}
