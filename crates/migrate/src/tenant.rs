//! Tenant ids and column names. The id rules live in `tenantry-rewrite` (where the id
//! enters SQL); this module turns their errors into this crate's.

use crate::error::{Error, Result};

pub use tenantry_rewrite::{MAX_TENANT_ID_LEN, TenantId, check_tenant_id};

/// Checks a tenant id, as an error of this crate.
///
/// # Errors
/// [`Error::InvalidTenantId`] naming the rule that `id` breaks.
pub fn tenant_id(id: &str) -> Result<TenantId> {
    TenantId::new(id).map_err(|e| Error::InvalidTenantId {
        id: e.id,
        reason: e.reason,
    })
}

/// Serializes a tenant id as its text.
pub(crate) fn serialize_tenant<S: serde::Serializer>(
    tenant: &TenantId,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(tenant.as_str())
}

/// Checks a tenant column name: a plain identifier of at most 64 characters.
///
/// # Errors
/// [`Error::InvalidColumnName`].
pub fn check_column_name(name: &str) -> Result<()> {
    if tenantry_rewrite::is_plain_column_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidColumnName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_ids_become_this_crates_error() {
        assert!(tenant_id("caps-automotive").is_ok());
        match tenant_id("acme' or '1'='1") {
            Err(Error::InvalidTenantId { id, reason }) => {
                assert_eq!(id, "acme' or '1'='1");
                assert!(reason.contains("ASCII letters"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn column_names_are_plain_identifiers() {
        assert!(check_column_name("tenant_id").is_ok());
        assert!(check_column_name("_t1").is_ok());
        for bad in ["", "1abc", "tenant id", "t\"x", "t;x", &"a".repeat(65)] {
            assert!(check_column_name(bad).is_err(), "{bad:?}");
        }
    }
}
