//! `sqlx::Executor` for the tenant pool, its connections and its transactions: each
//! statement's SQL is rewritten for the tenant, its arguments are handed over untouched,
//! and it runs on a connection of the pool underneath (which carries the guard).

use std::ops::DerefMut;
use std::sync::LazyLock;

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::TryStreamExt;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnection, SqliteQueryResult, SqliteRow, SqliteStatement,
    SqliteTypeInfo,
};
use sqlx::{AssertSqlSafe, Execute, Executor, SqlSafeStr, SqlStr, Sqlite};
use tenantry_rewrite::{StatementKind, TenantId};
use tenantry_sqlite::HAND_OVER_FUNCTION;

use crate::connection::ScopedConnection;
use crate::error::Error;
use crate::pool::TenantPool;

/// The tenant pool with a tenant given explicitly ([`TenantPool::with_tenant`]); an
/// executor like `&TenantPool`.
#[derive(Clone, Debug)]
pub struct TenantExecutor<'p> {
    pub(crate) pool: &'p TenantPool,
    pub(crate) tenant: TenantId,
}

impl TenantExecutor<'_> {
    /// Begins a transaction for this executor's tenant (see [`TenantPool::begin`]).
    ///
    /// # Errors
    /// sqlx's.
    pub async fn begin(&self) -> Result<crate::Transaction<'static>, sqlx::Error> {
        self.pool.begin_for(self.tenant.clone()).await
    }

    /// Takes a connection from the pool for this executor's tenant (see
    /// [`TenantPool::acquire`]).
    ///
    /// # Errors
    /// sqlx's.
    pub async fn acquire(&self) -> Result<crate::PoolConnection, sqlx::Error> {
        self.pool.acquire_for(self.tenant.clone()).await
    }
}

type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// A statement that returns no row and makes the connection forget its previous user
/// (`last_insert_rowid()` 0, `changes()` and `total_changes()` counting from 0).
static FORGET_PREVIOUS_USER: LazyLock<String> =
    LazyLock::new(|| format!("SELECT 0 WHERE {HAND_OVER_FUNCTION}() <> 0;"));

/// A statement taken apart: its SQL, its arguments, whether sqlx should cache it.
pub(crate) struct Taken {
    sql: SqlStr,
    arguments: SqliteArguments,
    persistent: bool,
}

/// `query`'s parts.
fn take<'q, E: Execute<'q, Sqlite>>(mut query: E) -> Result<Taken, sqlx::Error> {
    let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
    let persistent = query.persistent();
    Ok(Taken {
        sql: query.sql(),
        arguments: arguments.unwrap_or_default(),
        persistent,
    })
}

/// Runs a taken statement for the tenant on `conn`, as a stream (`fetch_many`).
fn stream_on<'e, C>(
    pool: &'e TenantPool,
    conn: C,
    tenant: Option<TenantId>,
    taken: Result<Taken, sqlx::Error>,
) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
where
    C: Connect<'e>,
{
    Box::pin(sqlx_core::try_stream! {
        let (mut conn, query) = ready_query(pool, conn, tenant, taken).await?;
        let mut rows = conn.fetch_many(query);
        while let Some(row) = rows.try_next().await? {
            r#yield!(row);
        }
        Ok(())
    })
}

/// Runs a taken statement for the tenant on `conn` (`fetch_optional`).
fn optional_on<'e, C>(
    pool: &'e TenantPool,
    conn: C,
    tenant: Option<TenantId>,
    taken: Result<Taken, sqlx::Error>,
) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
where
    C: Connect<'e>,
{
    Box::pin(async move {
        let (mut conn, query) = ready_query(pool, conn, tenant, taken).await?;
        conn.fetch_optional(query).await
    })
}

/// The connection to run a taken statement on, and the statement rewritten for the
/// tenant with its own arguments. No tenant is refused before anything else.
async fn ready_query<'e, C: Connect<'e>>(
    pool: &'e TenantPool,
    conn: C,
    tenant: Option<TenantId>,
    taken: Result<Taken, sqlx::Error>,
) -> Result<(C::Conn, Query), sqlx::Error> {
    let tenant = tenant.ok_or(Error::NoTenant)?;
    let taken = taken?;
    let (conn, text) = ready(pool, conn, Some(tenant), taken.sql).await?;
    // A connection given for this one statement last served another request, maybe
    // another tenant's: the key it inserted last is not this statement's to report (sqlx
    // reports `last_insert_rowid()` after every statement) or to read, nor the rows it
    // changed this statement's to count. A statement of no row, before the caller's,
    // forgets them (`tenantry_key` sets the key again as the caller's runs).
    let text = if C::PER_STATEMENT {
        AssertSqlSafe(format!("{}\n{}", *FORGET_PREVIOUS_USER, text.as_str())).into_sql_str()
    } else {
        text
    };
    let query = sqlx::query_with(text, taken.arguments).persistent(taken.persistent);
    Ok((conn, query))
}

/// The connection to run `sql` on (after the pool's schema check), and `sql` rewritten
/// for the tenant.
fn ready<'e, C: Connect<'e>>(
    pool: &'e TenantPool,
    conn: C,
    tenant: Option<TenantId>,
    sql: SqlStr,
) -> BoxFuture<'e, Result<(C::Conn, SqlStr), sqlx::Error>> {
    Box::pin(async move {
        let tenant = tenant.ok_or(Error::NoTenant)?;
        let mut conn = conn.connect(pool).await?;
        pool.refresh_if_due(&mut conn).await?;
        // A statement the pool prepared runs the SQL it was prepared from.
        let source = pool.prepared_from(sql.as_str());
        let (text, kinds) = pool.render(source.as_deref().unwrap_or(sql.as_str()), &tenant)?;
        let transaction = kinds.contains(&StatementKind::Transaction);
        if transaction && C::PER_STATEMENT {
            return Err(Error::TransactionOnPool.into());
        }
        if transaction || kinds.contains(&StatementKind::Pragma) {
            pool.taint(&mut conn).await?;
        }
        tracing::debug!(tenant = tenant.as_str(), sql = sql.as_str(), scoped = %text, "scoped statement");
        Ok((conn, AssertSqlSafe(text).into_sql_str()))
    })
}

/// Where a statement runs: a connection the pool gives for this statement, or one the
/// caller holds (a connection acquired from the tenant pool, a transaction).
pub(crate) trait Connect<'e>: Send + 'e {
    /// The connection, ready.
    type Conn: DerefMut<Target = SqliteConnection> + Send;
    /// The pool gives a connection for this one statement (the caller holds none).
    const PER_STATEMENT: bool;
    fn connect(self, pool: &'e TenantPool) -> BoxFuture<'e, Result<Self::Conn, sqlx::Error>>;
}

/// A connection from the pool, for one statement.
pub(crate) struct FromPool;

impl<'e> Connect<'e> for FromPool {
    type Conn = sqlx::pool::PoolConnection<Sqlite>;
    const PER_STATEMENT: bool = true;
    fn connect(self, pool: &'e TenantPool) -> BoxFuture<'e, Result<Self::Conn, sqlx::Error>> {
        Box::pin(pool.pool().acquire())
    }
}

/// A connection the caller holds.
pub(crate) struct Held<'e>(pub &'e mut SqliteConnection);

impl<'e> Connect<'e> for Held<'e> {
    type Conn = &'e mut SqliteConnection;
    const PER_STATEMENT: bool = false;
    fn connect(self, _pool: &'e TenantPool) -> BoxFuture<'e, Result<Self::Conn, sqlx::Error>> {
        Box::pin(async move { Ok(self.0) })
    }
}

/// The executor methods, given how an executor finds its pool, connection and tenant.
macro_rules! scoped_executor {
    ($parts:path) => {
        type Database = Sqlite;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            let (pool, conn, tenant) = $parts(self);
            stream_on(pool, conn, tenant, take(query))
        }

        fn fetch_optional<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            let (pool, conn, tenant) = $parts(self);
            optional_on(pool, conn, tenant, take(query))
        }

        fn prepare_with<'e>(
            self,
            sql: SqlStr,
            parameters: &'e [SqliteTypeInfo],
        ) -> BoxFuture<'e, Result<SqliteStatement, sqlx::Error>>
        where
            'c: 'e,
        {
            let (pool, conn, tenant) = $parts(self);
            Box::pin(async move {
                let (mut conn, text) = ready(pool, conn, tenant, sql.clone()).await?;
                let source = pool.prepared_from(sql.as_str());
                pool.prepared(text.as_str(), source.as_deref().unwrap_or(sql.as_str()));
                let conn: &mut SqliteConnection = &mut conn;
                conn.prepare_with(text, parameters).await
            })
        }

        fn describe<'e>(
            self,
            sql: SqlStr,
        ) -> BoxFuture<'e, Result<sqlx::Describe<Sqlite>, sqlx::Error>>
        where
            'c: 'e,
        {
            let (pool, conn, tenant) = $parts(self);
            Box::pin(async move {
                let (mut conn, text) = ready(pool, conn, tenant, sql).await?;
                let conn: &mut SqliteConnection = &mut conn;
                conn.describe(text).await
            })
        }
    };
}

/// The pool, a connection from it, and the task's tenant ([`crate::scope`]).
fn of_task(pool: &TenantPool) -> (&TenantPool, FromPool, Option<TenantId>) {
    (pool, FromPool, crate::current_tenant())
}

/// The pool, a connection from it, and the tenant given ([`TenantPool::with_tenant`]).
fn of_call<'c>(executor: &'c TenantExecutor<'_>) -> (&'c TenantPool, FromPool, Option<TenantId>) {
    (executor.pool, FromPool, Some(executor.tenant.clone()))
}

/// The connection held, and its tenant.
fn of_connection<'c>(
    conn: &'c mut ScopedConnection<'_>,
) -> (&'c TenantPool, Held<'c>, Option<TenantId>) {
    let (pool, inner, tenant) = conn.parts();
    (pool, Held(inner), Some(tenant.clone()))
}

/// The tenant of the task ([`crate::scope`]).
impl<'c> Executor<'c> for &'c TenantPool {
    scoped_executor!(of_task);
}

/// The tenant given ([`TenantPool::with_tenant`]).
impl<'c> Executor<'c> for &'c TenantExecutor<'_> {
    scoped_executor!(of_call);
}

/// The tenant the connection or transaction was taken for.
impl<'c> Executor<'c> for &'c mut ScopedConnection<'_> {
    scoped_executor!(of_connection);
}
