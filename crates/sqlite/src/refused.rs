//! Methods of rusqlite's `Connection` that a tenant connection keeps, with rusqlite's
//! signatures, but does not run: each would reach every tenant's rows or switch the
//! connection's guard off. Legacy code that calls one still compiles, and gets
//! [`Error::NotOnTenantConnection`] saying what to do instead (mostly: the same call in
//! [`Connection::unscoped`], which is administrative work and logged).

use std::path::Path;

use rusqlite::Name;
use rusqlite::backup::Progress;
use rusqlite::config::DbConfig;
use rusqlite::hooks::{Action, AuthContext, Authorization};

use crate::connection::Connection;
use crate::error::Error;

fn refuse<T>(method: &'static str, reason: &'static str) -> rusqlite::Result<T> {
    Err(Error::NotOnTenantConnection { method, reason }.into())
}

impl Connection {
    /// Refused: a new in-memory database is empty, so nothing in it can be scoped. Build
    /// it with the application's schema code and migrate it in one call:
    /// `tenantry::open_in_memory(|db| create_schema(db))`.
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn open_in_memory() -> rusqlite::Result<Connection> {
        refuse(
            "open_in_memory",
            "a new in-memory database has no tenant table to scope; use \
             tenantry::open_in_memory(|db| your_schema_code(db)), which builds and migrates it",
        )
    }

    /// Refused, as [`Connection::open_in_memory`].
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn open_in_memory_with_flags(_flags: rusqlite::OpenFlags) -> rusqlite::Result<Connection> {
        refuse(
            "open_in_memory_with_flags",
            "a new in-memory database has no tenant table to scope; use \
             tenantry::open_in_memory(|db| your_schema_code(db)), which builds and migrates it",
        )
    }

    /// Refused: a backup copies every tenant's rows. Take it with
    /// `conn.unscoped(|db| db.backup(name, path, progress))`, or `tenantry migrate`'s.
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn backup<N: Name, P: AsRef<Path>, F: Fn(Progress)>(
        &self,
        _name: N,
        _dst_path: P,
        _progress: Option<F>,
    ) -> rusqlite::Result<()> {
        refuse(
            "backup",
            "a backup copies every tenant's rows; run it in conn.unscoped(|db| db.backup(…))",
        )
    }

    /// Refused: a restore replaces every tenant's rows. Use `tenantry rollback`, or
    /// `conn.unscoped_mut(|db| db.restore(…))`.
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn restore<N: Name, P: AsRef<Path>, F: Fn(Progress)>(
        &mut self,
        _name: N,
        _src_path: P,
        _progress: Option<F>,
    ) -> rusqlite::Result<()> {
        refuse(
            "restore",
            "a restore replaces every tenant's rows; use `tenantry rollback`, or \
             conn.unscoped_mut(|db| db.restore(…))",
        )
    }

    /// Refused: the tenant connection's guard is SQLite's authorizer; another would
    /// replace it.
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn authorizer<F>(&mut self, _hook: Option<F>) -> rusqlite::Result<()>
    where
        F: for<'r> FnMut(AuthContext<'r>) -> Authorization + Send + 'static,
    {
        refuse(
            "authorizer",
            "the tenant connection's guard is SQLite's authorizer, and a connection has one",
        )
    }

    /// Refused: the tenant connection watches its own commits with the commit hook (to
    /// know when the schema may have changed); another would replace it.
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn commit_hook<F>(&mut self, _hook: Option<F>) -> rusqlite::Result<()>
    where
        F: FnMut() -> bool + Send + 'static,
    {
        refuse(
            "commit_hook",
            "the tenant connection's schema watch is the commit hook, and a connection has one; \
             use set_audit_hook for what each statement does",
        )
    }

    /// Refused, with the commit hook: a rollback hook that a later version of the
    /// connection may need; use [`Connection::set_audit_hook`].
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn rollback_hook<F>(&mut self, _hook: Option<F>) -> rusqlite::Result<()>
    where
        F: FnMut() + Send + 'static,
    {
        refuse(
            "rollback_hook",
            "hooks on a tenant connection are its own; use set_audit_hook",
        )
    }

    /// Refused: the update hook reports rowids, which on a tenant-first table are not
    /// the legacy keys, and it fires for the rows triggers change; use
    /// [`Connection::set_audit_hook`].
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn update_hook<F>(&mut self, _hook: Option<F>) -> rusqlite::Result<()>
    where
        F: FnMut(Action, &str, &str, i64) + Send + 'static,
    {
        refuse(
            "update_hook",
            "it reports rowids, which tenant-first tables do not keep; use set_audit_hook",
        )
    }

    /// Refused: the tenant connection's settings (defensive mode, plans that ignore bound
    /// values) are part of its guarantees. Read them with [`Connection::db_config`].
    ///
    /// # Errors
    /// Always [`Error::NotOnTenantConnection`].
    pub fn set_db_config(&self, _config: DbConfig, _new_val: bool) -> rusqlite::Result<bool> {
        refuse(
            "set_db_config",
            "the tenant connection's settings are part of its guarantees; change them in \
             conn.unscoped(|db| db.set_db_config(…)) if you must",
        )
    }
}
