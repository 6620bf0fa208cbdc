//! Connections held across statements, for one tenant: a transaction
//! ([`TenantPool::begin`]) and a connection taken from the pool ([`TenantPool::acquire`]).
//! Legacy code passes them as sqlx's own, `&mut *tx` or `&mut *conn`, and each statement
//! runs for the tenant they were taken for.

use std::ops::{Deref, DerefMut};

use sqlx::Sqlite;
use sqlx::sqlite::SqliteConnection;
use tenantry_rewrite::TenantId;

use crate::pool::TenantPool;

/// A connection of the tenant pool held for one tenant: `&mut ScopedConnection` is a
/// `sqlx::Executor`. What `&mut *tx` of a [`Transaction`] and `&mut *conn` of a
/// [`PoolConnection`] both give, so a legacy helper that takes `&mut SqliteConnection`
/// takes either once its import names [`crate::SqliteConnection`] (this type for a
/// transaction begun on the pool and a held connection).
///
/// ```
/// use tenantry_sqlx::SqliteConnection; // was: use sqlx::SqliteConnection;
///
/// async fn stock(conn: &mut SqliteConnection, sku: &str) -> Result<i64, sqlx::Error> {
///     sqlx::query_scalar("SELECT qty FROM stock WHERE sku = ?").bind(sku).fetch_one(conn).await
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("shop.db");
/// # rusqlite::Connection::open(&path)?.execute_batch(
/// #     "CREATE TABLE stock (sku TEXT, qty INTEGER, tenant_id TEXT NOT NULL);
/// #      INSERT INTO stock VALUES ('BRK-1', 5, 'store-1'), ('BRK-1', 9, 'store-2');")?;
/// # let pool = tenantry_sqlx::TenantPool::connect(&format!("sqlite://{}", path.display())).await?;
/// let store = pool.with_tenant("store-1".parse()?);
/// let mut tx = store.begin().await?;
/// assert_eq!(stock(&mut *tx, "BRK-1").await?, 5);
/// tx.commit().await?;
/// let mut conn = store.acquire().await?;
/// assert_eq!(stock(&mut *conn, "BRK-1").await?, 5);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ScopedConnection<'c> {
    inner: Holder<'c>,
    pool: TenantPool,
    tenant: TenantId,
}

/// What a [`ScopedConnection`] holds its connection by.
#[derive(Debug)]
enum Holder<'c> {
    /// Taken from the pool ([`TenantPool::acquire`]).
    Pooled(sqlx::pool::PoolConnection<Sqlite>),
    /// A transaction, or a savepoint in one.
    Transaction(sqlx::Transaction<'c, Sqlite>),
}

impl Deref for Holder<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            Holder::Pooled(conn) => conn,
            Holder::Transaction(tx) => tx,
        }
    }
}

impl DerefMut for Holder<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Holder::Pooled(conn) => conn,
            Holder::Transaction(tx) => tx,
        }
    }
}

impl ScopedConnection<'_> {
    /// The tenant every statement on this connection runs for.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Begins a transaction on this connection for its tenant, as sqlx's
    /// `Connection::begin` does: on a held connection a transaction, within a transaction
    /// a savepoint (committed, its work joins the outer transaction's; rolled back or
    /// dropped, it is undone alone). `conn.begin()` of a [`PoolConnection`] and
    /// `tx.begin()` of a [`Transaction`] are this method, through `Deref`.
    ///
    /// # Errors
    /// sqlx's.
    pub async fn begin(&mut self) -> Result<Transaction<'_>, sqlx::Error> {
        if let Holder::Pooled(conn) = &mut self.inner {
            // The schema is looked at before a transaction begins (its statements cannot).
            self.pool.refresh_on(conn).await?;
        }
        let tx = sqlx::Connection::begin(&mut *self.inner).await?;
        Ok(Transaction::new(tx, self.pool.clone(), self.tenant.clone()))
    }

    pub(crate) fn parts(&mut self) -> (&TenantPool, &mut SqliteConnection, &TenantId) {
        (&self.pool, &mut self.inner, &self.tenant)
    }
}

/// A transaction on the tenant pool, for the tenant it was begun for: the statements run
/// through `&mut *tx` are scoped to that tenant. Dropped without [`Transaction::commit`],
/// it rolls back (as sqlx's).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("shop.db");
/// # rusqlite::Connection::open(&path)?.execute_batch(
/// #     "CREATE TABLE stock (sku TEXT, qty INTEGER, tenant_id TEXT NOT NULL);
/// #      INSERT INTO stock VALUES ('BRK-1', 5, 'store-1'), ('BRK-1', 9, 'store-2');")?;
/// # let url = format!("sqlite://{}", path.display());
/// let pool = tenantry_sqlx::TenantPool::connect(&url).await?;
/// let store: tenantry_rewrite::TenantId = "store-1".parse()?;
/// let mut tx = pool.with_tenant(store).begin().await?;
/// sqlx::query("UPDATE stock SET qty = qty - 1 WHERE sku = ?").bind("BRK-1").execute(&mut *tx).await?;
/// let qty: i64 = sqlx::query_scalar("SELECT qty FROM stock").fetch_one(&mut *tx).await?;
/// tx.commit().await?;
/// assert_eq!(qty, 4); // store-2's row, same SKU, untouched
/// # Ok(()) }
/// ```
///
/// A transaction begun on the pool is a `Transaction<'static>`; one begun on a held
/// [`PoolConnection`] borrows it.
#[derive(Debug)]
pub struct Transaction<'c> {
    conn: ScopedConnection<'c>,
}

impl<'c> Transaction<'c> {
    pub(crate) fn new(
        inner: sqlx::Transaction<'c, Sqlite>,
        pool: TenantPool,
        tenant: TenantId,
    ) -> Self {
        Transaction {
            conn: ScopedConnection {
                inner: Holder::Transaction(inner),
                pool,
                tenant,
            },
        }
    }

    /// Commits the transaction.
    ///
    /// # Errors
    /// sqlx's.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.conn.inner {
            Holder::Transaction(tx) => tx.commit().await,
            Holder::Pooled(_) => Err(not_a_transaction()),
        }
    }

    /// Rolls the transaction back.
    ///
    /// # Errors
    /// sqlx's.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.conn.inner {
            Holder::Transaction(tx) => tx.rollback().await,
            Holder::Pooled(_) => Err(not_a_transaction()),
        }
    }
}

/// A [`Transaction`] is only ever made over a transaction; this says so should that change.
fn not_a_transaction() -> sqlx::Error {
    sqlx::Error::Protocol("tenantry: a Transaction that holds no transaction".into())
}

impl<'c> Deref for Transaction<'c> {
    type Target = ScopedConnection<'c>;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

/// A connection taken from the tenant pool for one tenant ([`TenantPool::acquire`]);
/// statements run through `&mut *conn` are scoped to it. It goes back to the pool when
/// dropped, keeping no tenant.
#[derive(Debug)]
pub struct PoolConnection {
    conn: ScopedConnection<'static>,
}

impl PoolConnection {
    pub(crate) fn new(
        inner: sqlx::pool::PoolConnection<Sqlite>,
        pool: TenantPool,
        tenant: TenantId,
    ) -> Self {
        PoolConnection {
            conn: ScopedConnection {
                inner: Holder::Pooled(inner),
                pool,
                tenant,
            },
        }
    }
}

impl Deref for PoolConnection {
    type Target = ScopedConnection<'static>;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}
