//! The two-database tenant oracle: a statement runs as it is on the legacy (single-tenant)
//! database and scoped for one tenant on the migrated (multi-tenant) one, which holds other
//! tenants' rows too. The scoped run must return what the legacy run returns, leave the
//! tenant's rows equal to the legacy database's, and leave every other tenant's rows as
//! they were; a run on a database whose other tenants' rows hold markers must return none
//! of them. The expected results come from SQLite running the original statement, never
//! from the rewriter.
//!
//! - [`build`]: the databases, from a legacy schema and rows per tenant;
//! - [`tenancy`]: the other tenants' rows, the tenant's slice, the leak markers;
//! - here: how the scoped side runs ([`Scoped`]) and one run on both sides ([`Oracle`]).

pub mod build;
pub mod tenancy;

use rusqlite::Connection;
use rusqlite::types::Value;
use tenantry_rewrite::{RewriteError, Rewriter, TenantId};

use crate::db::{Outcome, query};
use tenancy::Tenancy;

/// The tenant column of every migrated database here.
pub const TENANT_COLUMN: &str = "tenant_id";

/// How a statement runs scoped on the migrated database.
#[derive(Clone, Copy)]
pub enum Scoped<'a> {
    /// Rewritten by `rewriter` for `tenant`, then run on a plain connection.
    Rewritten {
        /// The migrated database.
        conn: &'a Connection,
        /// The rewriter for its schema.
        rewriter: &'a Rewriter,
        /// The tenant the statement is rewritten for.
        tenant: &'a TenantId,
    },
    /// Prepared on a tenant connection (its tenant set), which scopes it or refuses it.
    #[cfg(feature = "sqlite")]
    Connection(&'a tenantry_sqlite::Connection),
}

/// What the scoped side did with a statement.
#[derive(Clone, Debug)]
pub struct ScopedRun {
    /// The SQL that ran: the rewrite, or (on a tenant connection) the statement as given.
    pub sql: String,
    /// What it returned, or SQLite's error.
    pub outcome: Result<Outcome, String>,
}

impl Scoped<'_> {
    /// Runs `sql` with `params` scoped.
    ///
    /// # Errors
    /// The rewriter's refusal.
    pub fn run(&self, sql: &str, params: &[Value]) -> Result<ScopedRun, RewriteError> {
        match *self {
            Scoped::Rewritten {
                conn,
                rewriter,
                tenant,
            } => {
                let rewritten = rewriter.rewrite(sql, tenant)?.sql().to_owned();
                let outcome = query(conn, &rewritten, params);
                Ok(ScopedRun {
                    sql: rewritten,
                    outcome,
                })
            }
            #[cfg(feature = "sqlite")]
            Scoped::Connection(conn) => {
                let outcome = match conn.prepare(sql) {
                    Ok(stmt) => crate::db::collect(stmt, params),
                    Err(e) => match tenantry_sqlite::Error::of(&e) {
                        Some(tenantry_sqlite::Error::Rewrite(refusal)) => {
                            return Err(refusal.clone());
                        }
                        _ => Err(e.to_string()),
                    },
                };
                Ok(ScopedRun {
                    sql: sql.to_owned(),
                    outcome,
                })
            }
        }
    }

    /// Calls `f` with a plain connection to the migrated database (in the tenant
    /// connection's transaction, if it has one open).
    pub fn unscoped<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        match *self {
            Scoped::Rewritten { conn, .. } => f(conn),
            #[cfg(feature = "sqlite")]
            Scoped::Connection(conn) => conn.unscoped(f),
        }
    }
}

/// The two sides of the oracle.
#[derive(Clone, Copy)]
pub struct Oracle<'a> {
    /// The legacy database, holding the acting tenant's rows (and the global ones).
    pub single: &'a Connection,
    /// The migrated database, as the acting tenant sees it.
    pub scoped: Scoped<'a>,
    /// Its tables, and the acting tenant.
    pub tenancy: &'a Tenancy,
}

/// What one statement did on both sides, and what it left.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The statement's outcome on the legacy database.
    pub expected: Result<Outcome, String>,
    /// The scoped side's, or the rewriter's refusal.
    pub got: Result<ScopedRun, RewriteError>,
    /// The other tenants' rows before the statement ([`Tenancy::others`]).
    pub others_before: String,
    /// The same after it.
    pub others_after: String,
    /// The legacy database's tables after the statement ([`Tenancy::slice`]).
    pub single_after: Vec<(String, Outcome)>,
    /// The acting tenant's slice of the migrated database after it.
    pub scoped_after: Vec<(String, Outcome)>,
}

impl Oracle<'_> {
    /// Runs `sql` with `params` on both sides and reads what they left.
    pub fn run(&self, sql: &str, params: &[Value]) -> Verdict {
        let others = |c: &Connection| self.tenancy.others(c, false).expect("other tenants");
        let others_before = self.scoped.unscoped(others);
        let expected = query(self.single, sql, params);
        let got = self.scoped.run(sql, params);
        let single_after = self.tenancy.slice(self.single, false);
        let (scoped_after, others_after) = self
            .scoped
            .unscoped(|c| (self.tenancy.slice(c, true), others(c)));
        Verdict {
            expected,
            got,
            others_before,
            others_after,
            single_after,
            scoped_after,
        }
    }
}

/// `outcome` ready to compare: sorted unless the statement orders every column.
pub fn comparable(outcome: &Result<Outcome, String>, ordered: bool) -> Result<Outcome, String> {
    match outcome {
        Ok(o) if !ordered => Ok(o.clone().sorted()),
        other => other.clone(),
    }
}
