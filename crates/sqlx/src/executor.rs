//! `sqlx::Executor` for the tenant pool: each statement's SQL is rewritten for the tenant,
//! its arguments are handed over untouched, and it runs on the pool underneath.

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use sqlx::sqlite::{
    SqliteArguments, SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo,
};
use sqlx::{AssertSqlSafe, Execute, Executor, SqlSafeStr, SqlStr, Sqlite};
use tenantry_rewrite::TenantId;

use crate::error::Error;
use crate::pool::TenantPool;

/// The tenant pool with a tenant given explicitly ([`TenantPool::with_tenant`]); an
/// executor like `&TenantPool`.
#[derive(Clone, Debug)]
pub struct TenantExecutor<'p> {
    pool: &'p TenantPool,
    tenant: TenantId,
}

impl<'p> TenantExecutor<'p> {
    pub(crate) fn new(pool: &'p TenantPool, tenant: TenantId) -> Self {
        TenantExecutor { pool, tenant }
    }
}

type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// `query` rewritten for `tenant`, with its arguments.
fn scoped<'q, E: Execute<'q, Sqlite>>(
    pool: &TenantPool,
    tenant: Option<TenantId>,
    mut query: E,
) -> Result<Query, sqlx::Error> {
    let tenant = tenant.ok_or(Error::NoTenant)?;
    let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
    let persistent = query.persistent();
    let sql = query.sql();
    let text = pool.render(sql.as_str(), &tenant)?;
    tracing::debug!(tenant = tenant.as_str(), sql = sql.as_str(), scoped = %text, "scoped statement");
    Ok(sqlx::query_with(AssertSqlSafe(text), arguments.unwrap_or_default()).persistent(persistent))
}

fn scoped_sql(
    pool: &TenantPool,
    tenant: Option<TenantId>,
    sql: &SqlStr,
) -> Result<SqlStr, sqlx::Error> {
    let tenant = tenant.ok_or(Error::NoTenant)?;
    Ok(AssertSqlSafe(pool.render(sql.as_str(), &tenant)?).into_sql_str())
}

fn failed_stream<'e, T: Send + 'e>(error: sqlx::Error) -> BoxStream<'e, Result<T, sqlx::Error>> {
    Box::pin(futures_util::stream::once(async move { Err(error) }))
}

/// The executor methods, for a pool and the tenant a call gives (or none).
macro_rules! scoped_executor {
    ($target:path) => {
        type Database = Sqlite;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            let (pool, tenant) = $target(self);
            match scoped(pool, tenant, query) {
                Ok(query) => pool.pool().fetch_many(query),
                Err(error) => failed_stream(error),
            }
        }

        fn fetch_optional<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            let (pool, tenant) = $target(self);
            match scoped(pool, tenant, query) {
                Ok(query) => pool.pool().fetch_optional(query),
                Err(error) => Box::pin(async move { Err(error) }),
            }
        }

        fn prepare_with<'e>(
            self,
            sql: SqlStr,
            parameters: &'e [SqliteTypeInfo],
        ) -> BoxFuture<'e, Result<SqliteStatement, sqlx::Error>>
        where
            'c: 'e,
        {
            let (pool, tenant) = $target(self);
            match scoped_sql(pool, tenant, &sql) {
                Ok(sql) => pool.pool().prepare_with(sql, parameters),
                Err(error) => Box::pin(async move { Err(error) }),
            }
        }

        fn describe<'e>(
            self,
            sql: SqlStr,
        ) -> BoxFuture<'e, Result<sqlx::Describe<Sqlite>, sqlx::Error>>
        where
            'c: 'e,
        {
            let (pool, tenant) = $target(self);
            match scoped_sql(pool, tenant, &sql) {
                Ok(sql) => pool.pool().describe(sql),
                Err(error) => Box::pin(async move { Err(error) }),
            }
        }
    };
}

/// The pool and the task's tenant ([`crate::scope`]).
fn of_task(pool: &TenantPool) -> (&TenantPool, Option<TenantId>) {
    (pool, crate::current_tenant())
}

/// The pool and the tenant given ([`TenantPool::with_tenant`]).
fn of_call<'c>(executor: &'c TenantExecutor<'_>) -> (&'c TenantPool, Option<TenantId>) {
    (executor.pool, Some(executor.tenant.clone()))
}

/// The tenant of the task ([`crate::scope`]).
impl<'c> Executor<'c> for &'c TenantPool {
    scoped_executor!(of_task);
}

/// The tenant given ([`TenantPool::with_tenant`]).
impl<'c> Executor<'c> for &'c TenantExecutor<'_> {
    scoped_executor!(of_call);
}
