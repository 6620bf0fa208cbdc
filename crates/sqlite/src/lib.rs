//! A drop-in replacement for `rusqlite::Connection` that scopes every statement to the
//! current tenant with `tenantry-rewrite`, or refuses it.
//!
//! This is the first part of the interceptor: the connection, its tenant context, the
//! cache of rewrites, the schema read from the database (and re-read when it changes), an
//! authorizer guard behind the rewriter, and an explicit, logged escape hatch. See
//! [`Connection`].
//!
//! # Methods not offered
//!
//! A few methods of `rusqlite::Connection` have no counterpart here: they hand out the
//! unguarded connection or act on all of it, so they are reached through
//! [`Connection::unscoped`] (logged). The README's method table lists every method. Each
//! block below is a test: the first, that these calls compile on rusqlite's connection;
//! each of the others, that the same call does not compile on a tenant connection.
//!
//! ```no_run
//! # fn calls(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
//! let _ = rusqlite::Connection::open_in_memory_with_flags_and_vfs(rusqlite::OpenFlags::default(), "unix")?;
//! let _: i64 = conn.pragma_update_and_check(None, "user_version", 1, |r| r.get(0))?;
//! conn.wal_hook(Some(|_: &mut rusqlite::hooks::Wal, _: std::os::raw::c_int| Ok(())))?;
//! let _ = conn.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE)?;
//! let _ = unsafe { conn.handle() };
//! let _ = unsafe { conn.get_clientdata::<i32, _>("k") }?;
//! let _ = unsafe { conn.set_clientdata::<i32, _>("k", Some(1)) }?;
//! # Ok(()) }
//! ```
//! ```compile_fail
//! let _ = tenantry_sqlite::Connection::open_in_memory_with_flags_and_vfs(rusqlite::OpenFlags::default(), "unix");
//! ```
//! ```compile_fail
//! # fn calls(conn: &mut tenantry_sqlite::Connection) -> rusqlite::Result<()> {
//! let _: i64 = conn.pragma_update_and_check(None, "user_version", 1, |r| r.get(0))?;
//! # Ok(()) }
//! ```
//! ```compile_fail
//! # fn calls(conn: &mut tenantry_sqlite::Connection) -> rusqlite::Result<()> {
//! conn.wal_hook(Some(|_: &mut rusqlite::hooks::Wal, _: std::os::raw::c_int| Ok(())))?;
//! # Ok(()) }
//! ```
//! ```compile_fail
//! # fn calls(conn: &mut tenantry_sqlite::Connection) -> rusqlite::Result<()> {
//! let _ = conn.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE)?;
//! # Ok(()) }
//! ```
//! ```compile_fail
//! # fn calls(conn: &mut tenantry_sqlite::Connection) -> rusqlite::Result<()> {
//! let _ = unsafe { conn.handle() };
//! # Ok(()) }
//! ```
//! ```compile_fail
//! # fn calls(conn: &mut tenantry_sqlite::Connection) -> rusqlite::Result<()> {
//! let _ = unsafe { conn.get_clientdata::<i32, _>("k") }?;
//! # Ok(()) }
//! ```
//! ```compile_fail
//! # fn calls(conn: &mut tenantry_sqlite::Connection) -> rusqlite::Result<()> {
//! let _ = unsafe { conn.set_clientdata::<i32, _>("k", Some(1)) }?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod connection;
mod counts;
mod error;
mod guard;
mod hand_over;
mod held;
mod key;
mod passthrough;
pub mod pool;
mod pool_scope;
mod pragma;
mod refused;
pub mod schema;
mod scoping;
mod tenant_value;

pub use connection::{
    AuditEvent, Connection, DEFAULT_TENANT_COLUMN, STATEMENT_CACHE_CAPACITY, Savepoint,
    SharedPlans, Transaction,
};
pub use error::Error;
pub use hand_over::HAND_OVER_FUNCTION;
pub use held::CURRENT_FUNCTION;
pub use pool_scope::PoolScope;
pub use tenantry_rewrite::TenantId;
