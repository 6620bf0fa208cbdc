//! Defence in depth: SQLite's authorizer on a tenant connection.
//!
//! The rewriter is the first line; this is the second. While the connection is scoped
//! (always, except inside [`crate::Connection::unscoped`]), SQLite asks the authorizer about
//! every action of every statement it prepares, and the guard denies:
//! - schema changes (CREATE, DROP, ALTER), ATTACH and DETACH, REINDEX and ANALYZE;
//! - PRAGMAs that set a value, except the rewriter's allowlist of connection settings;
//! - a write to the tenant column of a tenant table;
//! - reads and writes of tenant tables made by a view or a trigger whose SQL is not scoped
//!   (views are inlined and scoped by the rewriter, so none reaches here; a trigger passes
//!   only when `tenantry migrate` scoped its body, see [`tenantry_rewrite::SCOPED_TRIGGER_MARK`]);
//! - `load_extension` and `fts3_tokenizer`.
//!
//! So a bug in the rewriter cannot change the schema or move a row to another tenant, and a
//! view or trigger cannot read or write other tenants' rows behind the rewriter's back: the
//! statement fails with SQLite's "not authorized" instead.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use tenantry_rewrite::{ALLOWED_PRAGMAS, FORBIDDEN_FUNCTIONS, ObjectKind, Schema, TABLE_FUNCTIONS};

/// What the authorizer knows; shared with the connection, which updates it.
#[derive(Default)]
pub(crate) struct Guard {
    /// Off only while `unscoped` runs.
    pub scoped: AtomicBool,
    known: RwLock<Known>,
    /// CTE names of the statements this connection has planned (lower case). SQLite names a
    /// CTE as the accessor of the tables its query reads, as it names a view; the rewriter
    /// scoped those queries like any other.
    ctes: RwLock<HashSet<String>>,
    /// The statement being prepared is an upsert whose `DO UPDATE` sets the tenant column
    /// to a value checked when it runs (`StatementInfo::assigns_tenant`): the statement
    /// itself (no view, no trigger) may write the column.
    tenant_assignment: AtomicBool,
    /// A held statement of another tenant than the connection's has started (set and
    /// cleared by `crate::held`'s trace): SQLite may be preparing it anew for a schema
    /// change, so `tenantry_current`, which only held statements call, is refused once:
    /// until that refusal, a held statement of the current tenant starts, the tenant
    /// changes, the connection scopes a statement or unscoped work ends. Never set on a
    /// pool's handles, which hold no statements for the application.
    pub held_foreign: Arc<AtomicBool>,
}

/// More CTE names than any application writes; past it the set starts again (a CTE then
/// planned before is denied until its statement is planned again, never the reverse).
const MAX_CTE_NAMES: usize = 4096;

/// The schema facts the guard decides by, all names in lower case.
#[derive(Default)]
struct Known {
    /// Tenant tables, the shadow tables of tenant virtual tables, and the tables the rewriter
    /// could not read.
    tables: HashSet<String>,
    /// The tenant column.
    column: String,
    /// Triggers whose bodies are scoped to the firing row's tenant (and whose names no
    /// view shares, so a view cannot pass for one).
    scoped_triggers: HashSet<String>,
    /// Every view and every trigger not marked scoped: names a CTE may not pass for.
    unscoped_objects: HashSet<String>,
}

impl Guard {
    pub fn new(schema: &Schema) -> Arc<Guard> {
        let guard = Arc::new(Guard {
            scoped: AtomicBool::new(true),
            known: RwLock::default(),
            ctes: RwLock::default(),
            tenant_assignment: AtomicBool::new(false),
            held_foreign: Arc::new(AtomicBool::new(false)),
        });
        guard.learn(schema);
        guard
    }

    /// Takes note of the CTEs a statement declares (see [`tenantry_rewrite::StatementInfo`]).
    pub fn allow_ctes<'a>(&self, names: impl Iterator<Item = &'a str>) {
        let mut names = names.peekable();
        if names.peek().is_none() {
            return;
        }
        if let Ok(mut known) = self.ctes.write() {
            if known.len() >= MAX_CTE_NAMES {
                known.clear();
            }
            known.extend(names.map(str::to_owned));
        }
    }

    /// Whether the statement the connection is about to prepare may write the tenant column
    /// itself (see [`Guard::tenant_assignment`]); set for every statement it prepares.
    pub fn allow_tenant_assignment(&self, allowed: bool) {
        self.tenant_assignment.store(allowed, Ordering::Release);
    }

    /// Takes the tenant tables and scoped triggers of a (re)loaded schema.
    ///
    /// Guarded like tenant tables: the shadow tables of a tenant virtual table (they hold
    /// every tenant's index data) and the tables the rewriter could not read (whose rows may
    /// be any tenant's). A view or an unscoped trigger cannot reach them. A statement's own
    /// access cannot be told from the module's: SQLite asks about the statements FTS and
    /// R*Tree prepare on their shadow tables (while the caller's statement is prepared, in
    /// `xConnect`, and while it steps) with no accessor, as for the caller's statement, so
    /// those are allowed; the rewriter refuses a statement that names a shadow table
    /// (`Refusal::ShadowTable`).
    pub fn learn(&self, schema: &Schema) {
        let column = schema.tenant_column().to_ascii_lowercase();
        let shadow = |t: &tenantry_rewrite::Table| {
            schema.shadow_owner(&t.name).is_some_and(|owner| {
                schema.is_scoped(owner)
                    || schema
                        .unreadable()
                        .iter()
                        .any(|u| u.name.eq_ignore_ascii_case(owner))
            })
        };
        let unreadable_tables = schema
            .unreadable()
            .iter()
            .filter(|u| matches!(u.kind, ObjectKind::Table | ObjectKind::VirtualTable))
            .map(|u| u.name.to_ascii_lowercase());
        let tables = schema
            .tables()
            .filter(|t| t.has_column(&column) || shadow(t))
            .map(|t| t.name.to_ascii_lowercase())
            .chain(unreadable_tables)
            .collect();
        let scoped_triggers = schema
            .triggers()
            .iter()
            .filter(|t| t.scoped && schema.view(&t.name).is_none())
            .map(|t| t.name.to_ascii_lowercase())
            .collect();
        let unscoped_objects = schema
            .views()
            .map(|v| v.name.to_ascii_lowercase())
            .chain(
                schema
                    .triggers()
                    .iter()
                    .filter(|t| !t.scoped)
                    .map(|t| t.name.to_ascii_lowercase()),
            )
            .collect();
        if let Ok(mut slot) = self.known.write() {
            *slot = Known {
                tables,
                column,
                scoped_triggers,
                unscoped_objects,
            };
        }
    }

    /// The authorizer's answer for one action.
    pub fn authorize(&self, ctx: &AuthContext<'_>) -> Authorization {
        if let AuthAction::Function { function_name } = ctx.action
            && function_name.eq_ignore_ascii_case(crate::held::CURRENT_FUNCTION)
            && self.held_foreign.swap(false, Ordering::AcqRel)
        {
            // Cleared: the prepare fails on this refusal, and a statement SQLite prepares
            // anew later (an expired one of the current tenant, say) is not refused for a
            // note left over. A held statement of another tenant prepared anew before its
            // first instruction is then interrupted by the trace.
            tracing::warn!(
                "a statement prepared for another tenant is being prepared anew after a schema \
                 change: refused before it reads any row"
            );
            return Authorization::Deny;
        }
        if !self.scoped.load(Ordering::Acquire) {
            return Authorization::Allow;
        }
        let Ok(known) = self.known.read() else {
            return Authorization::Deny;
        };
        let column = &known.column;
        let tenant_table = |name: &str| known.tables.contains(&name.to_ascii_lowercase());
        // Whether the action comes from SQL the rewriter did not scope. SQLite names the
        // innermost view, trigger or CTE behind an action: every view a scoped statement
        // reads is inlined and scoped, and so are its CTEs, so the accessors allowed near
        // tenant tables are a trigger carrying the scoped mark and a CTE of a statement
        // this connection planned that no view or unscoped trigger shares a name with.
        // Anything else (a view, an unmarked or unknown trigger, a TEMP trigger) is denied.
        let unscoped_accessor = ctx.accessor.is_some_and(|name| {
            let name = name.to_ascii_lowercase();
            let scoped_trigger = known.scoped_triggers.contains(&name);
            let cte = !known.unscoped_objects.contains(&name)
                && self.ctes.read().is_ok_and(|c| c.contains(&name));
            !(scoped_trigger || cte)
        });
        let allowed = match ctx.action {
            // `PRAGMA optimize`'s ANALYZE creates the statistics table on first use; no
            // statement can (SQLite reserves `sqlite_` names).
            AuthAction::CreateTable { table_name, .. }
                if table_name.to_ascii_lowercase().starts_with("sqlite_stat") =>
            {
                true
            }
            // Schema changes: creating an object, ...
            AuthAction::CreateIndex { .. }
            | AuthAction::CreateTable { .. }
            | AuthAction::CreateTrigger { .. }
            | AuthAction::CreateView { .. }
            | AuthAction::CreateVtable { .. } => false,
            // ... a TEMP one, ...
            AuthAction::CreateTempIndex { .. }
            | AuthAction::CreateTempTable { .. }
            | AuthAction::CreateTempTrigger { .. }
            | AuthAction::CreateTempView { .. } => false,
            // ... dropping one, ...
            AuthAction::DropIndex { .. }
            | AuthAction::DropTable { .. }
            | AuthAction::DropTrigger { .. }
            | AuthAction::DropView { .. }
            | AuthAction::DropVtable { .. } => false,
            // ... a TEMP one, ...
            AuthAction::DropTempIndex { .. }
            | AuthAction::DropTempTable { .. }
            | AuthAction::DropTempTrigger { .. }
            | AuthAction::DropTempView { .. } => false,
            // ... or changing one; and reaching another database.
            AuthAction::AlterTable { .. }
            | AuthAction::Reindex { .. }
            | AuthAction::Attach { .. }
            | AuthAction::Detach { .. } => false,
            // `PRAGMA optimize` (allowed) runs ANALYZE where statistics are stale; it
            // changes no row, and what it writes no tenant statement may read. An ANALYZE
            // statement itself never gets here: the rewriter refuses it, and no view or
            // trigger can hold one.
            AuthAction::Analyze { .. } => true,
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
                // A checked upsert writes the tenant's own value on the tenant's own row.
                let checked =
                    ctx.accessor.is_none() && self.tenant_assignment.load(Ordering::Acquire);
                !(tenant_table(table_name) && ((tenant_column && !checked) || unscoped_accessor))
            }
            AuthAction::Read { table_name, .. }
            | AuthAction::Insert { table_name }
            | AuthAction::Delete { table_name } => !(unscoped_accessor && tenant_table(table_name)),
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

    // Short constructors, so that a case fits on a line.
    fn read<'a>(table_name: &'a str, column_name: &'a str) -> AuthAction<'a> {
        AuthAction::Read {
            table_name,
            column_name,
        }
    }

    fn update<'a>(table_name: &'a str, column_name: &'a str) -> AuthAction<'a> {
        AuthAction::Update {
            table_name,
            column_name,
        }
    }

    fn pragma<'a>(pragma_name: &'a str, pragma_value: &'a str) -> AuthAction<'a> {
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(pragma_value),
        }
    }

    fn drop_table(table_name: &str) -> AuthAction<'_> {
        AuthAction::DropTable { table_name }
    }

    fn delete(table_name: &str) -> AuthAction<'_> {
        AuthAction::Delete { table_name }
    }

    fn function(function_name: &str) -> AuthAction<'_> {
        AuthAction::Function { function_name }
    }

    /// Asserts `expected` for every (action, accessor).
    fn expect(guard: &Guard, expected: Authorization, cases: &[(AuthAction<'_>, Option<&str>)]) {
        for &(action, accessor) in cases {
            let got = answer(guard, action, accessor);
            assert_eq!(got, expected, "{action:?} by {accessor:?}");
        }
    }

    #[test]
    fn denies_what_a_tenant_must_never_do() {
        let cases = [
            (AuthAction::CreateTable { table_name: "x" }, None),
            (drop_table("customers"), None),
            (
                AuthAction::Attach {
                    filename: "other.db",
                },
                None,
            ),
            (update("customers", "TENANT_ID"), None),
            (read("customers", "name"), Some("a_view")),
            (delete("Customers"), Some("a_trigger")),
            (pragma("writable_schema", "ON"), None),
            (function("load_extension"), None),
        ];
        expect(&guard(), Authorization::Deny, &cases);
    }

    #[test]
    fn a_scoped_trigger_may_touch_tenant_tables_and_an_unscoped_one_may_not() {
        let schema = Schema::from_sql(
            &format!(
                "CREATE TABLE a (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL);
                 CREATE TABLE b (id INTEGER PRIMARY KEY, n INT, tenant_id TEXT NOT NULL);
                 CREATE TRIGGER safe AFTER INSERT ON a BEGIN {}
                   UPDATE b SET n = 1 WHERE b.tenant_id = NEW.tenant_id; END;
                 CREATE TRIGGER raw AFTER INSERT ON a BEGIN UPDATE b SET n = 1; END;",
                tenantry_rewrite::SCOPED_TRIGGER_MARK
            ),
            "tenant_id",
        )
        .expect("schema");
        let g = Guard::new(&schema);
        let update = || AuthAction::Update {
            table_name: "b",
            column_name: "n",
        };
        assert_eq!(answer(&g, update(), Some("safe")), Authorization::Allow);
        assert_eq!(answer(&g, update(), Some("SAFE")), Authorization::Allow);
        assert_eq!(answer(&g, update(), Some("raw")), Authorization::Deny);
        // Even a scoped trigger may not move a row to another tenant.
        let move_row = AuthAction::Update {
            table_name: "b",
            column_name: "tenant_id",
        };
        assert_eq!(answer(&g, move_row, Some("safe")), Authorization::Deny);
        // A checked upsert may set it, itself only, and only while it is being prepared.
        g.allow_tenant_assignment(true);
        assert_eq!(answer(&g, move_row, None), Authorization::Allow);
        assert_eq!(answer(&g, move_row, Some("safe")), Authorization::Deny);
        assert_eq!(answer(&g, move_row, Some("raw")), Authorization::Deny);
        g.allow_tenant_assignment(false);
        assert_eq!(answer(&g, move_row, None), Authorization::Deny);
    }

    #[test]
    fn shadow_tables_and_unreadable_tables_are_kept_from_views_and_unscoped_triggers() {
        let schema = Schema::from_objects(
            [
                "CREATE VIRTUAL TABLE psi USING fts5(body, tenant_id UNINDEXED)",
                "CREATE TABLE 'psi_content'(id INTEGER PRIMARY KEY, c0, c1)",
                "CREATE VIRTUAL TABLE ext USING nosuchmodule(a)",
                "CREATE VIRTUAL TABLE plain USING fts5(body)",
                "CREATE TABLE 'plain_content'(id INTEGER PRIMARY KEY, c0)",
            ],
            "tenant_id",
        )
        .expect("schema");
        let g = Guard::new(&schema);
        let denied = [
            (read("psi_content", "c0"), Some("a_view")),
            (read("ext", "a"), Some("a_trigger")),
            (read("psi", "body"), Some("a_view")),
        ];
        expect(&g, Authorization::Deny, &denied);
        // FTS's own statements on its shadow tables come with no accessor, like the
        // caller's: allowed (the rewriter refuses a statement naming a shadow table).
        let allowed = [
            (read("psi_content", "c0"), None),
            (
                AuthAction::Insert {
                    table_name: "psi_content",
                },
                None,
            ),
            // A global virtual table's shadow tables stay global.
            (read("plain_content", "c0"), Some("a_view")),
        ];
        expect(&g, Authorization::Allow, &allowed);
    }

    #[test]
    fn allows_ordinary_work_and_everything_when_unscoped() {
        let g = guard();
        let cases = [
            (update("customers", "name"), None),
            (read("customers", "name"), None),
            // A trigger writing a global table is not a tenant matter.
            (
                AuthAction::Insert {
                    table_name: "settings",
                },
                Some("t"),
            ),
            (pragma("foreign_keys", "ON"), None),
            (pragma("table_info", "customers"), None),
        ];
        expect(&g, Authorization::Allow, &cases);
        g.scoped.store(false, Ordering::Release);
        expect(&g, Authorization::Allow, &[(drop_table("customers"), None)]);
    }

    #[test]
    fn refuses_the_held_check_once_while_a_held_statement_of_another_tenant_runs() {
        let g = guard();
        let noted = |scoped: bool| {
            g.scoped.store(scoped, Ordering::Release);
            g.held_foreign.store(true, Ordering::Release);
        };
        for name in ["tenantry_current", "TENANTRY_CURRENT"] {
            let check = [(function(name), None)];
            expect(&g, Authorization::Allow, &check);
            // Refused once, even while unscoped; the refusal clears the note.
            for scoped in [true, false] {
                noted(scoped);
                expect(&g, Authorization::Deny, &check);
                expect(&g, Authorization::Allow, &check);
            }
            // Only that function.
            noted(true);
            expect(
                &g,
                Authorization::Allow,
                &[(function("lower"), None), (read("customers", "name"), None)],
            );
            expect(&g, Authorization::Deny, &check);
        }
    }
}
