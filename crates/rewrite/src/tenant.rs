//! Tenant ids and tenant column names: the rules they follow before they may touch SQL.

/// The longest tenant id accepted, in bytes (the tenant column is `VARCHAR(255)`).
pub const MAX_TENANT_ID_LEN: usize = 255;

/// A validated tenant id.
///
/// The rules: 1 to 255 bytes of ASCII letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit. Nothing else is accepted, so a tenant id can never carry a quote, a
/// space, a comment marker, or a character that compares differently under another
/// collation. That is what lets the rewriter write it into SQL as a plain string literal.
///
/// ```
/// use tenantry_rewrite::TenantId;
/// assert_eq!(TenantId::new("caps-automotive").unwrap().as_str(), "caps-automotive");
/// assert!(TenantId::new("acme' or '1'='1").is_err());
/// assert!(TenantId::new("").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

/// A tenant id that breaks one of the rules of [`TenantId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant id {id:?}: {reason}")]
pub struct InvalidTenantId {
    /// The id given.
    pub id: String,
    /// The rule it breaks.
    pub reason: &'static str,
}

impl TenantId {
    /// Checks `id` against the rules above.
    ///
    /// # Errors
    /// [`InvalidTenantId`] naming the rule that `id` breaks.
    pub fn new(id: &str) -> Result<Self, InvalidTenantId> {
        match check_tenant_id(id) {
            None => Ok(TenantId(id.to_owned())),
            Some(reason) => Err(InvalidTenantId {
                id: id.to_owned(),
                reason,
            }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an SQL string literal. Safe because the rules admit no quote.
    pub fn sql_literal(&self) -> String {
        format!("'{}'", self.0)
    }

    /// The rules of a tenant id in one phrase, for a message that refuses one (the only
    /// place they are written out for users; [`InvalidTenantId`] names the rule broken).
    ///
    /// ```
    /// use tenantry_rewrite::TenantId;
    /// let advice = format!("pass --tenant with {}", TenantId::RULES);
    /// assert!(advice.contains("1 to 255 ASCII letters"));
    /// ```
    pub const RULES: &'static str =
        "1 to 255 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit";
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TenantId {
    type Err = InvalidTenantId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TenantId::new(s)
    }
}

/// Checks the id, as [`TenantId::new`] does.
///
/// ```
/// use tenantry_rewrite::TenantId;
/// let tenant = TenantId::try_from("store-1").unwrap();
/// assert_eq!(tenant.as_str(), "store-1");
/// assert!(TenantId::try_from("store 1").is_err());
/// ```
impl TryFrom<&str> for TenantId {
    type Error = InvalidTenantId;

    fn try_from(id: &str) -> Result<Self, Self::Error> {
        TenantId::new(id)
    }
}

/// Checks the id, as [`TenantId::new`] does.
impl TryFrom<&String> for TenantId {
    type Error = InvalidTenantId;

    fn try_from(id: &String) -> Result<Self, Self::Error> {
        TenantId::new(id)
    }
}

/// Checks the id, as [`TenantId::new`] does, and keeps the string when it is valid.
///
/// ```
/// use tenantry_rewrite::TenantId;
/// let tenant = TenantId::try_from(String::from("store-1")).unwrap();
/// assert_eq!(tenant.as_str(), "store-1");
/// ```
impl TryFrom<String> for TenantId {
    type Error = InvalidTenantId;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        match check_tenant_id(&id) {
            None => Ok(TenantId(id)),
            Some(reason) => Err(InvalidTenantId { id, reason }),
        }
    }
}

/// A copy of an id already checked: nothing is checked again. With the `TryFrom` impls
/// above, this lets an API take `impl TryInto<TenantId>` and accept a `TenantId`, a
/// `&TenantId` or text alike.
///
/// ```
/// use tenantry_rewrite::TenantId;
/// let tenant = TenantId::new("store-1").unwrap();
/// let copy = TenantId::from(&tenant);
/// assert_eq!(copy, tenant);
/// ```
impl From<&TenantId> for TenantId {
    fn from(tenant: &TenantId) -> Self {
        tenant.clone()
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

/// Whether `name` is a usable tenant column name: a plain identifier (ASCII letter or `_`,
/// then letters, digits or `_`) of at most 64 characters.
pub fn is_plain_column_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            name.len() <= 64 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
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
        let charset = "it may hold only ASCII letters, digits, '-', '_' and '.'";
        let cases = [
            ("", "it is empty"),
            ("-lead", "it must start with an ASCII letter or digit"),
            (".hidden", "it must start with an ASCII letter or digit"),
            ("acme' or '1'='1", charset),
            ("a b", charset),
            ("a;--", charset),
            ("café", charset),
            ("a\0b", charset),
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
    fn conversions_check_text_and_trust_ids() {
        assert_eq!(
            TenantId::try_from("store-2"),
            TenantId::new("store-2"),
            "&str"
        );
        assert_eq!(
            TenantId::try_from(&"store-2".to_owned()),
            TenantId::new("store-2")
        );
        assert_eq!(
            TenantId::try_from("a b".to_owned()),
            Err(InvalidTenantId {
                id: "a b".to_owned(),
                reason: "it may hold only ASCII letters, digits, '-', '_' and '.'",
            })
        );
        let tenant = TenantId::new("store-2").unwrap();
        assert_eq!(TenantId::from(&tenant), tenant);
    }

    #[test]
    fn the_rules_state_the_limit() {
        assert!(
            TenantId::RULES.starts_with(&format!("1 to {MAX_TENANT_ID_LEN} ")),
            "{}",
            TenantId::RULES
        );
    }

    #[test]
    fn literal_is_quoted_id() {
        let t = TenantId::new("store-2").unwrap();
        assert_eq!(t.sql_literal(), "'store-2'");
    }

    #[test]
    fn column_names_are_plain_identifiers() {
        assert!(is_plain_column_name("tenant_id"));
        assert!(is_plain_column_name("_t1"));
        for bad in ["", "1abc", "tenant id", "t\"x", "t;x", &"a".repeat(65)] {
            assert!(!is_plain_column_name(bad), "{bad:?}");
        }
    }
}
