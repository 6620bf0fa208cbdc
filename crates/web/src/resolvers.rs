//! The resolvers most services need: a header accepted only from trusted proxies, and the
//! subdomain.

use std::net::IpAddr;

use tenantry_rewrite::TenantId;

use crate::request::{Request, TenantResolver};
use crate::tenancy::Rejection;

/// The tenant from a header (`X-Tenant-ID`) that only the application's own proxies may
/// set: from any other peer, a request carrying it is refused ([`Rejection::Untrusted`]),
/// so a client cannot choose its tenant by sending the header itself.
///
/// ```
/// use tenantry_web::{Rejection, Request, TenantResolver, TrustedHeader};
/// let resolver = TrustedHeader::new("x-tenant-id", [[10, 0, 0, 1].into()]);
/// let proxied = Request::new(Some([10, 0, 0, 1].into())).with_header("X-Tenant-ID", b"store-2");
/// assert_eq!(resolver.resolve(&proxied).unwrap().as_str(), "store-2");
/// let spoofed = Request::new(Some([203, 0, 113, 9].into())).with_header("X-Tenant-ID", b"store-2");
/// assert!(matches!(resolver.resolve(&spoofed), Err(Rejection::Untrusted { .. })));
/// ```
#[derive(Clone, Debug)]
pub struct TrustedHeader {
    name: String,
    proxies: Vec<IpAddr>,
}

impl TrustedHeader {
    /// The header `name`, accepted from the peers `proxies` only. An IPv4 address and
    /// its IPv4-mapped IPv6 form (`::ffff:127.0.0.1`, how a server listening on `[::]`
    /// sees an IPv4 peer) are the same peer.
    pub fn new(name: impl Into<String>, proxies: impl IntoIterator<Item = IpAddr>) -> Self {
        TrustedHeader {
            name: name.into(),
            proxies: proxies.into_iter().map(|p| p.to_canonical()).collect(),
        }
    }
}

impl TenantResolver for TrustedHeader {
    fn resolve(&self, request: &Request<'_>) -> Result<TenantId, Rejection> {
        let mut values = request.headers(&self.name);
        let Some(value) = values.next() else {
            return Err(Rejection::Missing);
        };
        let peer = request.peer();
        if !peer.is_some_and(|p| self.proxies.contains(&p.to_canonical())) {
            return Err(Rejection::Untrusted {
                header: self.name.clone(),
                peer,
            });
        }
        if values.next().is_some() {
            return Err(Rejection::Invalid(format!(
                "the request has more than one {} header",
                self.name
            )));
        }
        TenantId::new(value).map_err(|e| Rejection::Invalid(e.to_string()))
    }
}

/// The tenant as the first label of the host under the application's domain:
/// `store-2.pos.example` under `pos.example` is `store-2`.
///
/// ```
/// use tenantry_web::{Request, Subdomain, TenantResolver};
/// let resolver = Subdomain::new("pos.example");
/// let request = Request::new(None).with_header("host", b"store-2.pos.example:8080");
/// assert_eq!(resolver.resolve(&request).unwrap().as_str(), "store-2");
/// assert!(resolver.resolve(&Request::new(None).with_header("host", b"pos.example")).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Subdomain {
    suffix: String,
}

impl Subdomain {
    /// Tenants are the subdomains of `domain`.
    pub fn new(domain: &str) -> Self {
        Subdomain {
            suffix: format!(".{}", domain.trim_start_matches('.').to_ascii_lowercase()),
        }
    }
}

impl TenantResolver for Subdomain {
    fn resolve(&self, request: &Request<'_>) -> Result<TenantId, Rejection> {
        // Two Host headers name two hosts: which one a proxy or the framework routed by is
        // not known here, so neither is taken (as TrustedHeader refuses a repeated header).
        if request.headers("host").nth(1).is_some() {
            return Err(Rejection::Invalid(
                "the request has more than one Host header".to_owned(),
            ));
        }
        let host = request
            .host()
            .ok_or(Rejection::Missing)?
            .to_ascii_lowercase();
        let label = host.strip_suffix(&self.suffix).ok_or(Rejection::Missing)?;
        if label.is_empty() || label.contains('.') {
            return Err(Rejection::Missing);
        }
        TenantId::new(label).map_err(|e| Rejection::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request with two Host headers is refused, whichever comes first. (The first was
    /// taken, though a proxy may have routed by the other.)
    #[test]
    fn two_host_headers_are_refused() {
        let resolver = Subdomain::new("pos.example");
        let request = Request::new(None)
            .with_header("Host", b"store-1.pos.example")
            .with_header("host", b"store-2.pos.example");
        assert!(matches!(
            resolver.resolve(&request),
            Err(Rejection::Invalid(_))
        ));
        let one = Request::new(None).with_header("Host", b"store-1.pos.example");
        assert_eq!(resolver.resolve(&one).unwrap().as_str(), "store-1");
    }

    /// A server listening on `[::]` sees an IPv4 proxy as `::ffff:a.b.c.d`: the same proxy,
    /// trusted either way round. (Every proxied request was refused as untrusted.)
    #[test]
    fn an_ipv4_proxy_is_trusted_in_its_ipv6_mapped_form_too() {
        let v4: IpAddr = [127, 0, 0, 1].into();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let other: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        for (trusted, peer) in [(v4, mapped), (mapped, v4), (v4, v4)] {
            let resolver = TrustedHeader::new("X-Tenant-ID", [trusted]);
            let request = Request::new(Some(peer)).with_header("X-Tenant-ID", b"store-1");
            assert_eq!(resolver.resolve(&request).unwrap().as_str(), "store-1");
        }
        let resolver = TrustedHeader::new("X-Tenant-ID", [v4]);
        let request = Request::new(Some(other)).with_header("X-Tenant-ID", b"store-1");
        assert!(matches!(
            resolver.resolve(&request),
            Err(Rejection::Untrusted { .. })
        ));
    }
}
