//! What every emitter writes against: the schema, the policy, the statement's text, and
//! the column lists computed once per rewriter.

use std::collections::HashMap;

use crate::policy::{Policy, TenantFilter};
use crate::schema::{Schema, Table};
use crate::source::Source;

/// What the emitters write against.
pub(crate) struct Emit<'x, 'a> {
    pub schema: &'x Schema,
    pub policy: &'x Policy,
    pub src: &'x Source<'a>,
    /// Per tenant table (lower-case name): every column its derived table may select,
    /// quoted and joined, computed once per rewriter.
    pub derived: &'x HashMap<String, String>,
}

impl Emit<'_, '_> {
    /// `+"tenant_id" = ` for `column` (quoted and qualified as needed) of `table`, or
    /// without the `+` (see [`crate::TenantFilter`]). A table with per-tenant keys is
    /// clustered by tenant (every key leads with it): its test never has the `+`, so SQLite
    /// can use those keys.
    pub(super) fn tenant_test(&self, column: &str, table: &Table) -> String {
        if table.tenant_keys {
            TenantFilter::UseTenantIndex.prefix(column)
        } else {
            self.policy.tenant_filter.prefix(column)
        }
    }
}
