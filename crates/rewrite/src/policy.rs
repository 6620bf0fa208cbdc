//! What a rewriter's owner decides: which global tables tenants may read or write, whether
//! `*` shows the tenant column, and how the tenant test is written for SQLite's planner.

/// Choices about what scoped statements see.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Policy {
    /// Let `*` and `t.*` include the tenant column (off by default: a legacy query returns
    /// the columns it returned before migration).
    pub expose_tenant_column: bool,
    /// Allow reads of `sqlite_master` / `sqlite_schema` (on by default: they describe
    /// tables, not any tenant's rows).
    pub allow_schema_reads: bool,
    /// Global tables no tenant may read or write. By default tenantry's own record of
    /// migrations, which names backup files, and its declarations of global tables
    /// ([`GLOBALS_TABLE`]).
    pub protected_tables: Vec<String>,
    /// Global tables a tenant may read but not write. By default the tenant registry,
    /// `tenants`.
    pub read_only_tables: Vec<String>,
    /// How the tenant test is written, which decides whether SQLite's planner may use the
    /// tenant index.
    pub tenant_filter: TenantFilter,
    /// Wrap the key an INSERT allocates (or is given) for a tenant-first table's legacy
    /// rowid in `tenantry_key(...)` ([`crate::KEY_FUNCTION`]), so a connection that
    /// registers that function sees it as `last_insert_rowid()`, as legacy code expects
    /// (SQLite does not set it for a WITHOUT ROWID table). Off by default: plain rewrites
    /// stay plain SQL. Never in a trigger body.
    pub report_keys: bool,
    /// Let a statement give the tenant column a value known only when it runs — a bound
    /// parameter or any expression in an INSERT's VALUES row or SELECT list, or the
    /// operand of `tenant_id = <value>` among the top-level AND terms of an UPDATE's or
    /// DELETE's WHERE — and wrap that value in `tenantry_tenant(<value>, 'A', '<table>',
    /// '<column>')` ([`crate::TENANT_FUNCTION`]), which a connection that registers it
    /// makes return the value when it is the tenant and fail the statement otherwise. Off
    /// by default: plain rewrites refuse such values
    /// ([`crate::Refusal::UncheckedTenantValue`]). Never in a trigger body, where only the
    /// firing row's tenant column may be given.
    pub check_tenant_values: bool,
    /// Which tables without the tenant column tenants may use, unscoped.
    pub global_tables: GlobalTables,
}

/// The table in which a database declares its global tables (one row per name or SQLite
/// `GLOB` pattern, column `pattern`), so that the migrator, tenant connections and
/// `tenantry verify` agree. Tenants may neither read nor write it.
pub const GLOBALS_TABLE: &str = "_tenantry_globals";

/// Which tables without the tenant column are global: shared by every tenant and read or
/// written unscoped.
///
/// A table created after the migration (an application version that runs `CREATE TABLE
/// IF NOT EXISTS invoices …` at start-up) has no tenant column; treating it as global would
/// let every tenant read and change every other tenant's rows in it. Tenant connections
/// therefore use [`GlobalTables::Declared`], read from the database, and refuse any other
/// table without the tenant column ([`crate::Refusal::UndeclaredTable`]).
///
/// ```
/// use tenantry_rewrite::{GlobalTables, Policy, Refusal, Rewriter, Schema, TenantId};
/// let schema = Schema::from_sql(
///     "CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL);
///      CREATE TABLE currencies (code TEXT PRIMARY KEY);
///      CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);",
///     "tenant_id",
/// ).unwrap();
/// let mut policy = Policy::default();
/// policy.global_tables = GlobalTables::Declared(vec!["currencies".to_owned()]);
/// let rewriter = Rewriter::with_policy(schema, policy);
/// let a = TenantId::new("A").unwrap();
/// assert!(rewriter.rewrite("SELECT * FROM currencies", &a).is_ok());
/// let refused = rewriter.rewrite("SELECT * FROM invoices", &a).unwrap_err();
/// assert!(matches!(refused.refusal(), Some(Refusal::UndeclaredTable { .. })));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GlobalTables {
    /// Every table without the tenant column is global: the rewriter scopes the schema it
    /// is given, as its owner described it. The default of a plain [`crate::Rewriter`].
    #[default]
    WithoutTenantColumn,
    /// Only the tables named here (ASCII case-insensitive) are global; a statement that
    /// reads or writes any other table without the tenant column is refused.
    Declared(Vec<String>),
}

impl GlobalTables {
    /// Whether `table`, which has no tenant column, may be used unscoped.
    pub fn allows(&self, table: &str) -> bool {
        match self {
            GlobalTables::WithoutTenantColumn => true,
            GlobalTables::Declared(names) => names.iter().any(|n| n.eq_ignore_ascii_case(table)),
        }
    }
}

/// How a scoped statement tests the tenant column.
///
/// The test is the same either way (`tenant_id = 'A'`); what differs is what SQLite's query
/// planner makes of it. A table with per-tenant keys ([`crate::Table::tenant_keys`]) always
/// gets [`TenantFilter::UseTenantIndex`]: its keys all lead with the tenant column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantFilter {
    /// `+"tenant_id" = 'A'`: the unary `+` keeps the planner from using the tenant index, so
    /// every statement gets the plan its legacy form had, with the tenant test applied to
    /// each row it reads. Right after a migration (one tenant holds every row) the tenant
    /// index cannot narrow anything, and the legacy plans are the ones the application was
    /// tuned for. The default.
    #[default]
    PlanAsBefore,
    /// `"tenant_id" = 'A'`: the planner may use the tenant index. Worth it once many tenants
    /// share the database and each holds a small part of it; run `ANALYZE` then, so the
    /// planner knows how selective the tenant index is.
    UseTenantIndex,
}

impl TenantFilter {
    /// The test's left side and operator for the tenant column `column` (already quoted and
    /// qualified as needed): the tenant literal follows.
    pub(crate) fn prefix(self, column: &str) -> String {
        match self {
            TenantFilter::PlanAsBefore => format!("+{column} = "),
            TenantFilter::UseTenantIndex => format!("{column} = "),
        }
    }
}

impl Policy {
    pub(crate) fn is_protected(&self, table: &str) -> bool {
        self.protected_tables
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
    }

    /// Whether `table`, which has no tenant column, may be used unscoped: declared global,
    /// or read-only for tenants (the tenant registry is global by nature).
    pub(crate) fn is_global(&self, table: &str) -> bool {
        self.global_tables.allows(table) || self.is_read_only(table)
    }

    pub(crate) fn is_read_only(&self, table: &str) -> bool {
        self.read_only_tables
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            expose_tenant_column: false,
            allow_schema_reads: true,
            // The migrator's record and declarations, and the tenants' AUTOINCREMENT marks
            // (the rewriter's own INSERTs and the marked triggers keep them; a statement
            // that set one back would hand out a deleted key again, as `sqlite_sequence`,
            // refused too, would).
            protected_tables: vec![
                "_tenantry_migrations".to_owned(),
                GLOBALS_TABLE.to_owned(),
                crate::SEQUENCE_TABLE.to_owned(),
            ],
            read_only_tables: vec!["tenants".to_owned()],
            tenant_filter: TenantFilter::default(),
            report_keys: false,
            check_tenant_values: false,
            global_tables: GlobalTables::default(),
        }
    }
}
