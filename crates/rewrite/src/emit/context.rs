//! What every emitter writes against: the schema, the policy, the statement's text, and
//! the column lists computed once per rewriter.

use std::collections::HashMap;

use crate::analysis::Model;
use crate::policy::{Policy, TenantFilter};
use crate::schema::{Schema, Table};
use crate::source::Source;
use crate::sql::quote_ident;

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
    /// can use those keys. Nor does a table read through its tenant index
    /// (`through_index`): the test is that index's equality.
    pub(super) fn tenant_test(&self, column: &str, table: &Table, through_index: bool) -> String {
        if table.tenant_keys || through_index {
            TenantFilter::UseTenantIndex.prefix(column)
        } else {
            self.policy.tenant_filter.prefix(column)
        }
    }

    /// ` INDEXED BY "<its tenant index>"` for a table the statement reads through its
    /// tenant index ([`Model::through_tenant_index`]), else `otherwise` (the statement's own
    /// clause). The analysis made sure the index exists.
    pub(super) fn index_clause(&self, model: &Model<'_>, table: &Table, otherwise: &str) -> String {
        match self.schema.tenant_index(&table.name) {
            Some(index) if model.through_tenant_index(table) => {
                format!(" INDEXED BY {}", quote_ident(index))
            }
            _ => otherwise.to_owned(),
        }
    }
}
