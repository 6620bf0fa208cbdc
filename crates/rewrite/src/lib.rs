//! Rewrites SQLite SQL written for a single-tenant application so that it reads and writes
//! only the current tenant's rows — or refuses it with a typed reason.
//!
//! Pure: no I/O, no database. A [`Rewriter`] is built once from a [`Schema`] (which tables
//! have the tenant column) and a [`Policy`]; [`Rewriter::rewrite`] takes SQL and a
//! validated [`TenantId`] and returns [`Rewritten`] SQL, or a [`RewriteError`].
//!
//! How it scopes:
//! - every tenant table in a FROM or JOIN — in subqueries, CTEs, compound selects, UPDATE
//!   ... FROM, INSERT ... SELECT — reads only the tenant's rows: by a tenant test in its
//!   SELECT's WHERE where nothing in the SELECT can tell the difference, otherwise as a
//!   derived table holding only the tenant's rows and the table's pre-migration columns; so
//!   joins of every kind keep their meaning and `*` never shows the tenant column;
//! - UPDATE and DELETE targets get `WHERE +t."tenant_id" = 'A' AND (original WHERE)`;
//! - INSERT gets the tenant column and value; upserts cannot touch another tenant's row;
//!   REPLACE is refused.
//!
//! The caller's text is kept byte for byte outside the spliced additions, so parameters
//! (`?`, `?3`, `:name`, `@name`, `$name`), literals such as `0x1F`, and the names SQLite
//! gives unaliased result columns are all unchanged.
//!
//! ```
//! use tenantry_rewrite::{Rewriter, Schema, TenantId};
//!
//! let schema = Schema::from_sql(
//!     "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL, tenant_id TEXT NOT NULL);",
//!     "tenant_id",
//! )?;
//! let rewriter = Rewriter::new(schema);
//! let out = rewriter.rewrite(
//!     "UPDATE orders SET total = 0 WHERE id = 1 OR id = 2",
//!     &TenantId::new("A")?,
//! )?;
//! assert_eq!(
//!     out.sql(),
//!     "UPDATE orders SET total = 0 WHERE +orders.\"tenant_id\" = 'A' AND (id = 1 OR id = 2)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod analysis;
mod classify;
mod dialect;
mod emit;
mod error;
mod keys;
mod lexcheck;
mod objects;
mod own_tenant;
mod parse;
mod plan;
mod policy;
mod pragma;
mod refusal;
mod rewriter;
mod rowid;
mod schema;
mod source;
mod sql;
mod statement;
mod template;
mod tenant;
mod trigger;
mod unreadable;
mod views;
mod vtab;

pub use analysis::{FORBIDDEN_FUNCTIONS, TABLE_FUNCTIONS};
pub use dialect::SqliteDialect;
pub use emit::{KEY_FUNCTION, SEQUENCE_TABLE, TENANT_FUNCTION};
pub use error::{RewriteError, SchemaError};
pub use keys::{AUTOINCREMENT_MARKER, CLUSTERED_MARKER, ROWID_MARKER, RowKey, UniqueKey};
pub use objects::{SCOPED_TRIGGER_MARK, Trigger, TriggerEvent, View};
pub use plan::{Plan, Rewritten};
pub use policy::{GLOBALS_TABLE, GlobalTables, Policy, TenantFilter};
pub use pragma::ALLOWED_PRAGMAS;
pub use refusal::{Refusal, SourceForm, TriggerForm, ViewForm, VirtualForm, WriteForm};
pub use rewriter::{MAX_SQL_LEN, Rewriter, split_statements};
pub use schema::{Column, FK_ACTION_TRIGGER_PREFIX, ForeignKey, Schema, Table};
pub use statement::{Access, StatementInfo, StatementKind, TableUse};
pub use tenant::{
    InvalidTenantId, MAX_TENANT_ID_LEN, TenantId, check_tenant_id, is_plain_column_name,
};
pub use unreadable::{ObjectKind, Unreadable};
pub use vtab::Module;
