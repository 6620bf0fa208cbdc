//! The tenants that exist: a request naming any other is refused.

use std::collections::HashSet;

use tenantry_rewrite::TenantId;
use tenantry_sqlx::TenantPool;

/// The tenant registry a request's tenant is checked against.
#[derive(Clone, Debug)]
pub struct Registry {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Listed(HashSet<String>),
    Table { pool: TenantPool, query: String },
}

impl Registry {
    /// The tenants `ids`, fixed.
    pub fn listed<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        Registry {
            kind: Kind::Listed(ids.into_iter().map(Into::into).collect()),
        }
    }

    /// The tenants in `column` of `table` (the registry `tenantry migrate` keeps global),
    /// read through `pool` for each request, so a tenant added or removed counts at once.
    pub fn table(pool: TenantPool, table: &str, column: &str) -> Self {
        let query = format!(
            "SELECT count(*) > 0 FROM {} WHERE {} = ?1",
            quote(table),
            quote(column)
        );
        Registry {
            kind: Kind::Table { pool, query },
        }
    }

    /// Whether `tenant` is registered.
    ///
    /// # Errors
    /// sqlx's, when the registry table cannot be read.
    pub async fn contains(&self, tenant: &TenantId) -> Result<bool, sqlx::Error> {
        match &self.kind {
            Kind::Listed(ids) => Ok(ids.contains(tenant.as_str())),
            Kind::Table { pool, query } => {
                // The registry is global: the rewriter leaves it unscoped, whichever
                // tenant asks.
                sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
                    .bind(tenant.as_str())
                    .fetch_one(&pool.with_tenant(tenant.clone()))
                    .await
            }
        }
    }
}

/// `name` as a SQL identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
