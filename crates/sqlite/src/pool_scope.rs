//! Scoping for connections another library owns: the rewriter, plans and guard a pool of
//! SQLite handles shares (sqlx's pool, in `tenantry-sqlx`), given to each handle through a
//! rusqlite view of it (`rusqlite::Connection::from_handle`).
//!
//! A tenant [`crate::Connection`] owns its handle and keeps all of this per connection. A
//! foreign pool prepares statements on handles the caller never holds while they are
//! prepared, so what is per connection there is per pool here:
//! - the guard ([`crate::guard`]) is one for the pool, installed on every handle. The CTE
//!   names it allows are those of every statement the pool planned (a CTE name never
//!   shadows a view or an unscoped trigger, so the union is as safe as each part);
//!   no statement may write the tenant column itself, so an upsert that assigns it is
//!   refused before it runs ([`PoolScope::render`]);
//! - a value that fails `tenantry_tenant` reaches the caller as SQLite's error text, not as
//!   [`crate::Error::TenantMismatch`].

use std::sync::{Arc, RwLock};

use rusqlite::hooks::AuthContext;
use tenantry_rewrite::{Refusal, RewriteError, StatementKind, TenantId};

use crate::guard::Guard;
use crate::scoping::{self, Scoping};
use crate::tenant_value::Mismatches;

/// How much of a refused statement's text its error quotes.
const STATEMENT_START: usize = 80;

/// The scoping a pool of foreign handles shares: one schema's rewriter and plans, read
/// again when the schema changes ([`PoolScope::refresh`]), and the guard every handle
/// carries.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);")?;
/// let scope = tenantry_sqlite::PoolScope::load(&conn, "tenant_id")?;
/// scope.install(&mut conn)?; // what a pool does for each handle it opens
/// let store: tenantry_sqlite::TenantId = "store-1".parse()?;
/// let sql = scope.render("SELECT body FROM notes", &store)?;
/// assert!(sql.contains("'store-1'"));
/// // The guard denies schema changes on the handle, whatever runs them.
/// assert!(conn.execute_batch("DROP TABLE notes").is_err());
/// # Ok(()) }
/// ```
pub struct PoolScope {
    column: String,
    current: RwLock<Current>,
    guard: Arc<Guard>,
}

/// The schema version the scoping was read at, and the scoping.
struct Current {
    version: i64,
    scoping: Arc<Scoping>,
}

impl std::fmt::Debug for PoolScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolScope")
            .field("column", &self.column)
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl PoolScope {
    /// Reads the schema of `conn`'s database (tenant column `column`), with the tables the
    /// last migration recorded as global or as having their own tenant column, and the
    /// tables declared global.
    ///
    /// # Errors
    /// SQLite's errors; [`crate::Error::NotMigrated`] when no table has `column`;
    /// [`crate::Error::Schema`] when a table cannot be read.
    pub fn load(conn: &rusqlite::Connection, column: &str) -> rusqlite::Result<PoolScope> {
        let version = crate::schema::version(conn)?;
        let scoping = scoping::for_schema(conn, column, &[])?;
        let guard = Guard::new(scoping.rewriter.schema());
        Ok(PoolScope {
            column: column.to_owned(),
            current: RwLock::new(Current { version, scoping }),
            guard,
        })
    }

    /// Installs on `conn`'s handle what a tenant connection installs on its own: the query
    /// planner stability guarantee, the guard (SQLite's authorizer), `tenantry_key` (a
    /// tenant-first row's key reported as `last_insert_rowid()`), `tenantry_tenant` (a
    /// tenant value checked when the statement runs), `total_changes()` counting since the
    /// handle's last [`PoolScope::hand_over`], and the temporary table by which a hand-over
    /// sets `changes()` to 0. They stay with the handle, whoever holds it, until it is closed;
    /// `conn` itself may be a view of the handle that is dropped right after.
    ///
    /// # Errors
    /// SQLite's, when a function or the authorizer cannot be registered.
    pub fn install(&self, conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
        // Plans that ignore bound values, as on a tenant connection (see its
        // `wrap_shared`): a cached scoped statement is not prepared again on every run.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        crate::key::register(conn)?;
        crate::counts::register(conn)?;
        crate::hand_over::register(conn)?;
        crate::hand_over::prepare(conn)?;
        crate::tenant_value::register(conn, Arc::new(Mismatches::default()))?;
        let hook = Arc::clone(&self.guard);
        // rusqlite keeps the closure in the handle's client data, freed when the handle
        // closes: a view made by `from_handle` may be dropped right after.
        conn.authorizer(Some(move |ctx: AuthContext<'_>| hook.authorize(&ctx)))
    }

    /// Makes `conn`'s handle forget its previous user (another request, maybe another
    /// tenant) before the next one: `last_insert_rowid()` and `changes()` back to 0, and
    /// `total_changes()` counting from 0, as on a handle opened for the next request. A
    /// pool that hands the handle to a statement without holding it runs
    /// [`crate::HAND_OVER_FUNCTION`] first instead.
    ///
    /// # Errors
    /// SQLite's, when the handle cannot set its change count to 0 (`PRAGMA query_only` on
    /// after a write): the handle must not serve the next request.
    pub fn hand_over(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        crate::hand_over::hand_over(conn)
    }

    /// The schema version the current scoping was read at.
    pub fn version(&self) -> i64 {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .version
    }

    /// Reads the schema again when `conn`'s schema version differs from the one the
    /// scoping was read at; whether it did.
    ///
    /// # Errors
    /// As [`PoolScope::load`]; the current scoping is kept.
    pub fn refresh(&self, conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
        let version = crate::schema::version(conn)?;
        if version == self.version() {
            return Ok(false);
        }
        tracing::debug!(version, "schema changed; reloading the pool's scoping");
        let scoping = scoping::for_schema(conn, &self.column, &[])?;
        self.guard.learn(scoping.rewriter.schema());
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Current { version, scoping };
        Ok(true)
    }

    /// `sql` rewritten for `tenant`: the pool's plan of it (made on first use), rendered.
    ///
    /// # Errors
    /// The rewriter's refusal, or [`Refusal::TenantColumnWrite`] for an upsert that assigns
    /// the tenant column itself (checked on a tenant connection, refused on a pool).
    pub fn render(&self, sql: &str, tenant: &TenantId) -> Result<String, RewriteError> {
        self.render_with_kinds(sql, tenant).map(|(text, _)| text)
    }

    /// As [`PoolScope::render`], with the kind of each statement of `sql` (a pool keeps
    /// no connection whose settings or transaction a statement changed).
    ///
    /// # Errors
    /// As [`PoolScope::render`].
    pub fn render_with_kinds(
        &self,
        sql: &str,
        tenant: &TenantId,
    ) -> Result<(String, Vec<StatementKind>), RewriteError> {
        let scoping = self.scoping();
        let plan = match scoping.plans.get(sql) {
            Some(plan) => plan,
            None => {
                let plan = Arc::new(scoping.rewriter.plan(sql)?);
                scoping.plans.insert(sql.to_owned(), Arc::clone(&plan));
                plan
            }
        };
        let assigning = plan.statements().iter().position(|s| s.assigns_tenant);
        if let Some(at) = assigning {
            let table = plan.statements()[at]
                .tables
                .first()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            return Err(RewriteError::Refused {
                index: at + 1,
                statement: sql.chars().take(STATEMENT_START).collect(),
                reason: Refusal::TenantColumnWrite {
                    table,
                    column: self.column.clone(),
                },
            });
        }
        self.guard.allow_ctes(
            plan.statements()
                .iter()
                .flat_map(|s| s.ctes.iter().map(String::as_str)),
        );
        let kinds = plan.statements().iter().map(|s| s.kind).collect();
        Ok((plan.render(tenant)?.sql().to_owned(), kinds))
    }

    fn scoping(&self) -> Arc<Scoping> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .scoping,
        )
    }
}
