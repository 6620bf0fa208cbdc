//! Tenant ids and column names: the rules they must follow before they touch SQL.

use crate::error::{Error, Result};

/// The longest tenant id accepted, in bytes (the column is `VARCHAR(255)`).
pub const MAX_TENANT_ID_LEN: usize = 255;

/// A validated tenant id.
///
/// The rules: 1 to 255 bytes of ASCII letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit. Nothing else is accepted, so a tenant id can never carry a quote, a
/// space, a comment marker or a character that compares differently under another
/// collation. The migrator still binds or escapes it wherever it enters SQL.
///
/// ```
/// use tenantry_migrate::TenantId;
/// assert_eq!(TenantId::new("caps-automotive").unwrap().as_str(), "caps-automotive");
/// assert!(TenantId::new("acme' or '1'='1").is_err());
/// assert!(TenantId::new("").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Checks `id` against the rules above.
    ///
    /// # Errors
    /// [`Error::InvalidTenantId`] naming the rule that `id` breaks.
    pub fn new(id: &str) -> Result<Self> {
        match check_tenant_id(id) {
            None => Ok(TenantId(id.to_owned())),
            Some(reason) => Err(Error::InvalidTenantId {
                id: id.to_owned(),
                reason,
            }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Returns the rule `id` breaks, or `None` when it is a valid tenant id.
pub fn check_tenant_id(id: &str) -> Option<&'static str> {
    let bytes = id.as_bytes();
    let Some(first) = bytes.first() else {
        return Some("it is empty");
    };
    if bytes.len() > MAX_TENANT_ID_LEN {
        return Some("it is longer than 255 bytes");
    }
    if !first.is_ascii_alphanumeric() {
        return Some("it must start with an ASCII letter or digit");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Some("it may hold only ASCII letters, digits, '-', '_' and '.'");
    }
    None
}

/// Checks a tenant column name: a plain identifier of at most 64 characters.
///
/// # Errors
/// [`Error::InvalidColumnName`].
pub fn check_column_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            name.len() <= 64 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if ok {
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
    fn accepts_ordinary_ids() {
        for id in ["caps-automotive", "store_2", "a", "A.b-c_d", "9lives"] {
            assert!(TenantId::new(id).is_ok(), "{id}");
        }
        assert!(TenantId::new(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn refuses_ids_that_could_reach_sql() {
        let cases = [
            ("", "it is empty"),
            ("-lead", "it must start with an ASCII letter or digit"),
            (".hidden", "it must start with an ASCII letter or digit"),
            (
                "acme' or '1'='1",
                "it may hold only ASCII letters, digits, '-', '_' and '.'",
            ),
            (
                "a b",
                "it may hold only ASCII letters, digits, '-', '_' and '.'",
            ),
            (
                "a;--",
                "it may hold only ASCII letters, digits, '-', '_' and '.'",
            ),
            (
                "café",
                "it may hold only ASCII letters, digits, '-', '_' and '.'",
            ),
            (
                "a\0b",
                "it may hold only ASCII letters, digits, '-', '_' and '.'",
            ),
        ];
        for (id, reason) in cases {
            assert_eq!(check_tenant_id(id), Some(reason), "{id:?}");
        }
        assert_eq!(
            check_tenant_id(&"x".repeat(256)),
            Some("it is longer than 255 bytes")
        );
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
