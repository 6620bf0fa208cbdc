//! Tables whose tenant column the application declared itself, before any migration: a
//! legacy column like any other. Legacy statements read it (`SELECT tenant_id ...`, and
//! `SELECT *` returned it), so derived tables, `*` and RETURNING `*` keep it visible on
//! those tables, whatever [`crate::Policy::expose_tenant_column`] says. Writing it is
//! checked as on every tenant table (see [`crate::Policy::check_tenant_values`]).

use crate::schema::Schema;

impl Schema {
    /// Declares that `table`'s tenant column is the application's own (it declared the
    /// column before migration), so it stays visible to the statements the rewriter scopes.
    /// A name that is not (yet) a tenant table has no effect until it is one.
    ///
    /// ```
    /// use tenantry_rewrite::{Rewriter, Schema, TenantId};
    /// let mut schema = Schema::from_sql(
    ///     "CREATE TABLE vendors (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);",
    ///     "tenant_id",
    /// )?;
    /// schema.set_own_tenant_column("Vendors");
    /// assert!(schema.has_own_tenant_column("vendors"));
    /// let out = Rewriter::new(schema).rewrite("SELECT * FROM vendors", &TenantId::new("A")?)?;
    /// assert_eq!(
    ///     out.sql(),
    ///     "SELECT * FROM (SELECT \"id\", \"name\", \"tenant_id\" FROM main.\"vendors\" \
    ///      WHERE +\"tenant_id\" = 'A') AS vendors"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_own_tenant_column(&mut self, table: &str) {
        self.own_tenant_columns.insert(table.to_ascii_lowercase());
    }

    /// Whether `table` (ASCII case-insensitive) was declared with
    /// [`Schema::set_own_tenant_column`].
    pub fn has_own_tenant_column(&self, table: &str) -> bool {
        self.own_tenant_columns
            .contains(&table.to_ascii_lowercase())
    }
}
