//! Defence in depth: SQLite's authorizer on a tenant connection.
//!
//! The rewriter is the first line; this is the second. While the connection is scoped
//! (always, except inside [`crate::Connection::unscoped`]), SQLite asks the authorizer about
//! every action of every statement it prepares, and the guard denies:
//! - schema changes (CREATE, DROP, ALTER), ATTACH and DETACH, REINDEX and ANALYZE;
//! - PRAGMAs that set a value, except the rewriter's allowlist of connection settings;
//! - a write to the tenant column of a tenant table;
//! - reads and writes of tenant tables made by a view or a trigger, whose SQL the rewriter
//!   never saw;
//! - `load_extension` and `fts3_tokenizer`.
//!
//! So a bug in the rewriter cannot change the schema or move a row to another tenant, and a
//! view or trigger cannot read or write other tenants' rows behind the rewriter's back: the
//! statement fails with SQLite's "not authorized" instead.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use tenantry_rewrite::{ALLOWED_PRAGMAS, FORBIDDEN_FUNCTIONS, Schema, TABLE_FUNCTIONS};

/// What the authorizer knows; shared with the connection, which updates it.
#[derive(Default)]
pub(crate) struct Guard {
    /// Off only while `unscoped` runs.
    pub scoped: AtomicBool,
    /// Tenant tables (lower case) and the tenant column (lower case).
    tables: RwLock<(HashSet<String>, String)>,
}

impl Guard {
    pub fn new(schema: &Schema) -> Arc<Guard> {
        let guard = Arc::new(Guard {
            scoped: AtomicBool::new(true),
            tables: RwLock::default(),
        });
        guard.learn(schema);
        guard
    }

    /// Takes the tenant tables of a (re)loaded schema.
    pub fn learn(&self, schema: &Schema) {
        let column = schema.tenant_column().to_ascii_lowercase();
        let tables = schema
            .tables()
            .filter(|t| t.has_column(&column))
            .map(|t| t.name.to_ascii_lowercase())
            .collect();
        if let Ok(mut slot) = self.tables.write() {
            *slot = (tables, column);
        }
    }

    /// The authorizer's answer for one action.
    pub fn authorize(&self, ctx: &AuthContext<'_>) -> Authorization {
        if !self.scoped.load(Ordering::Acquire) {
            return Authorization::Allow;
        }
        let Ok(known) = self.tables.read() else {
            return Authorization::Deny;
        };
        let (tables, column) = &*known;
        let tenant_table = |name: &str| tables.contains(&name.to_ascii_lowercase());
        let allowed = match ctx.action {
            AuthAction::CreateIndex { .. }
            | AuthAction::CreateTable { .. }
            | AuthAction::CreateTempIndex { .. }
            | AuthAction::CreateTempTable { .. }
            | AuthAction::CreateTempTrigger { .. }
            | AuthAction::CreateTempView { .. }
            | AuthAction::CreateTrigger { .. }
            | AuthAction::CreateView { .. }
            | AuthAction::DropIndex { .. }
            | AuthAction::DropTable { .. }
            | AuthAction::DropTempIndex { .. }
            | AuthAction::DropTempTable { .. }
            | AuthAction::DropTempTrigger { .. }
            | AuthAction::DropTempView { .. }
            | AuthAction::DropTrigger { .. }
            | AuthAction::DropView { .. }
            | AuthAction::AlterTable { .. }
            | AuthAction::Reindex { .. }
            | AuthAction::Analyze { .. }
            | AuthAction::CreateVtable { .. }
            | AuthAction::DropVtable { .. }
            | AuthAction::Attach { .. }
            | AuthAction::Detach { .. } => false,
            AuthAction::Pragma {
                pragma_name,
                pragma_value,
            } => {
                let name = pragma_name.to_ascii_lowercase();
                let setting = ALLOWED_PRAGMAS.contains(&name.as_str());
                // The schema pragmas behind the allowed table-valued functions only read.
                let schema_read = pragma_value.is_none()
                    || TABLE_FUNCTIONS
                        .iter()
                        .any(|f| f.strip_prefix("pragma_") == Some(name.as_str()));
                setting || schema_read
            }
            AuthAction::Update {
                table_name,
                column_name,
            } => {
                let tenant_column = column_name.eq_ignore_ascii_case(column);
                !(tenant_table(table_name) && (tenant_column || ctx.accessor.is_some()))
            }
            AuthAction::Read { table_name, .. }
            | AuthAction::Insert { table_name }
            | AuthAction::Delete { table_name } => {
                !(ctx.accessor.is_some() && tenant_table(table_name))
            }
            AuthAction::Function { function_name } => !FORBIDDEN_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name)),
            _ => true,
        };
        if allowed {
            Authorization::Allow
        } else {
            tracing::warn!(action = ?ctx.action, accessor = ?ctx.accessor, "denied by the tenant guard");
            Authorization::Deny
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Arc<Guard> {
        let schema = Schema::from_sql(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);
             CREATE TABLE settings (k TEXT, v TEXT);",
            "tenant_id",
        )
        .expect("schema");
        Guard::new(&schema)
    }

    fn answer(guard: &Guard, action: AuthAction<'_>, accessor: Option<&str>) -> Authorization {
        guard.authorize(&AuthContext {
            action,
            database_name: Some("main"),
            accessor,
        })
    }

    #[test]
    fn denies_what_a_tenant_must_never_do() {
        let g = guard();
        let deny = |action, accessor| answer(&g, action, accessor) == Authorization::Deny;
        assert!(deny(AuthAction::CreateTable { table_name: "x" }, None));
        assert!(deny(
            AuthAction::DropTable {
                table_name: "customers"
            },
            None
        ));
        assert!(deny(
            AuthAction::Attach {
                filename: "other.db"
            },
            None
        ));
        assert!(deny(
            AuthAction::Update {
                table_name: "customers",
                column_name: "TENANT_ID"
            },
            None
        ));
        assert!(deny(
            AuthAction::Read {
                table_name: "customers",
                column_name: "name"
            },
            Some("a_view")
        ));
        assert!(deny(
            AuthAction::Delete {
                table_name: "Customers"
            },
            Some("a_trigger")
        ));
        assert!(deny(
            AuthAction::Pragma {
                pragma_name: "writable_schema",
                pragma_value: Some("ON")
            },
            None
        ));
        assert!(deny(
            AuthAction::Function {
                function_name: "load_extension"
            },
            None
        ));
    }

    #[test]
    fn allows_ordinary_work_and_everything_when_unscoped() {
        let g = guard();
        let allow = |action, accessor| answer(&g, action, accessor) == Authorization::Allow;
        assert!(allow(
            AuthAction::Update {
                table_name: "customers",
                column_name: "name"
            },
            None
        ));
        assert!(allow(
            AuthAction::Read {
                table_name: "customers",
                column_name: "name"
            },
            None
        ));
        // A trigger writing a global table is not a tenant matter.
        assert!(allow(
            AuthAction::Insert {
                table_name: "settings"
            },
            Some("t")
        ));
        assert!(allow(
            AuthAction::Pragma {
                pragma_name: "foreign_keys",
                pragma_value: Some("ON")
            },
            None
        ));
        assert!(allow(
            AuthAction::Pragma {
                pragma_name: "table_info",
                pragma_value: Some("customers")
            },
            None
        ));
        g.scoped.store(false, Ordering::Release);
        assert!(allow(
            AuthAction::DropTable {
                table_name: "customers"
            },
            None
        ));
    }
}
