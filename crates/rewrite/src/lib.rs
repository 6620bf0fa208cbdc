//! Rewrites SQLite SQL written for a single-tenant application so that it reads and writes
//! only the current tenant's rows — or refuses it with a typed reason.
//!
//! Pure: no I/O, no database. A [`Rewriter`] is built once from a [`Schema`] (which tables
//! have the tenant column) and a [`Policy`]; [`Rewriter::rewrite`] takes SQL and a
//! validated [`TenantId`] and returns [`Rewritten`] SQL, or a [`RewriteError`].
//!
//! How it scopes:
//! - every tenant table in a FROM or JOIN — in subqueries, CTEs, compound selects, UPDATE
//!   ... FROM, INSERT ... SELECT — becomes a derived table holding only the tenant's rows and
//!   the table's pre-migration columns, so joins of every kind keep their meaning and `*`
//!   never shows the tenant column;
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

mod dml;
mod error;
mod lexcheck;
mod objects;
mod pragma;
mod rewriter;
mod rowid;
mod schema;
mod scope;
mod source;
mod template;
mod tenant;
mod trigger;
mod views;

pub use error::{Refusal, RewriteError, SchemaError};
pub use objects::{SCOPED_TRIGGER_MARK, Trigger, TriggerEvent, View};
pub use pragma::ALLOWED_PRAGMAS;
pub use rewriter::{
    Access, MAX_SQL_LEN, Plan, Policy, Rewriter, Rewritten, StatementInfo, StatementKind, TableUse,
    TenantFilter, split_statements,
};
pub use schema::{Column, ForeignKey, Schema, Table};
pub use scope::{FORBIDDEN_FUNCTIONS, TABLE_FUNCTIONS};
pub use tenant::{
    InvalidTenantId, MAX_TENANT_ID_LEN, TenantId, check_tenant_id, is_plain_column_name,
};
