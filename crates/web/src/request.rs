//! What a resolver sees of a request: the peer's address and the headers, borrowed from
//! whichever framework received it.

use std::net::IpAddr;

use tenantry_rewrite::TenantId;

use crate::tenancy::Rejection;

/// A request as a [`TenantResolver`] sees it: the address of the peer that connected (not
/// a forwarded one) and the request's headers.
///
/// ```
/// use tenantry_web::Request;
/// let request = Request::new(Some([10, 0, 0, 2].into()))
///     .with_header("host", b"store-1.pos.example")
///     .with_header("authorization", b"Bearer abc.def.ghi");
/// assert_eq!(request.host(), Some("store-1.pos.example"));
/// assert_eq!(request.bearer_token(), Some("abc.def.ghi"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    peer: Option<IpAddr>,
    headers: Vec<(&'a str, &'a [u8])>,
}

impl<'a> Request<'a> {
    /// A request from `peer` (none when the server does not say, which no proxy list
    /// trusts), with no header yet.
    pub fn new(peer: Option<IpAddr>) -> Self {
        Request {
            peer,
            headers: Vec::new(),
        }
    }

    /// The same, with one more header (names compare without regard to ASCII case).
    #[must_use]
    pub fn with_header(mut self, name: &'a str, value: &'a [u8]) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The address of the peer that connected.
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    /// Every value of header `name` that is text, in order.
    pub fn headers<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers(name).next()
    }

    /// The `Host` header without its port.
    pub fn host(&self) -> Option<&'a str> {
        let host = self.header("host")?;
        Some(match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        })
    }

    /// The token of an `Authorization: Bearer …` header.
    pub fn bearer_token(&self) -> Option<&'a str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }
}

/// How the application finds a request's tenant: a verified token's claim, the subdomain,
/// or a header set by a trusted proxy ([`crate::TrustedHeader`], [`crate::Subdomain`]).
/// Any function from a [`Request`] to a tenant is one.
///
/// ```
/// use tenantry_web::{Rejection, Request, TenantId, TenantResolver};
/// // The application's own: here, the subject of a token its auth layer verified.
/// let from_token = |request: &Request<'_>| -> Result<TenantId, Rejection> {
///     let token = request.bearer_token().ok_or(Rejection::Missing)?;
///     let tenant = token.strip_prefix("verified:").ok_or_else(|| Rejection::Unauthenticated("bad token".into()))?;
///     TenantId::new(tenant).map_err(|e| Rejection::Invalid(e.to_string()))
/// };
/// let request = Request::new(None).with_header("authorization", b"Bearer verified:store-2");
/// assert_eq!(from_token.resolve(&request).unwrap().as_str(), "store-2");
/// ```
pub trait TenantResolver: Send + Sync + 'static {
    /// The request's tenant, or why it has none.
    ///
    /// # Errors
    /// The [`Rejection`] the request gets.
    fn resolve(&self, request: &Request<'_>) -> Result<TenantId, Rejection>;
}

impl<F> TenantResolver for F
where
    F: Fn(&Request<'_>) -> Result<TenantId, Rejection> + Send + Sync + 'static,
{
    fn resolve(&self, request: &Request<'_>) -> Result<TenantId, Rejection> {
        self(request)
    }
}
