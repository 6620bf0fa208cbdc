//! [`Tenancy`]: how a service admits a request for a tenant, or refuses it.

use std::net::IpAddr;
use std::sync::Arc;

use tenantry_rewrite::TenantId;

use crate::registry::Registry;
use crate::request::{Request, TenantResolver};

/// Why a request was refused.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The request names no tenant.
    #[error("the request names no tenant")]
    Missing,
    /// The tenant header came from a peer that is not a trusted proxy.
    #[error("the {header} header came from {peer:?}, which is not a trusted proxy")]
    Untrusted {
        /// The header.
        header: String,
        /// The peer that sent it.
        peer: Option<IpAddr>,
    },
    /// The application's resolver did not accept the request's credentials.
    #[error("the request's credentials were not accepted: {0}")]
    Unauthenticated(String),
    /// The tenant named is not a valid tenant id, or is named twice.
    #[error("invalid tenant: {0}")]
    Invalid(String),
    /// The tenant is not in the registry.
    #[error("tenant {0:?} is not registered")]
    Unknown(String),
    /// The registry could not be read.
    #[error("the tenant registry could not be read: {0}")]
    Registry(String),
}

impl Rejection {
    /// What the response's body says: the reason, except the registry's own error, which
    /// goes to the log only.
    pub fn public_message(&self) -> String {
        match self {
            Rejection::Registry(_) => "the tenant registry is unavailable".to_owned(),
            Rejection::Missing
            | Rejection::Untrusted { .. }
            | Rejection::Unauthenticated(_)
            | Rejection::Invalid(_)
            | Rejection::Unknown(_) => self.to_string(),
        }
    }
}

/// The HTTP status of each kind of refusal: the application's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statuses {
    /// No tenant named (default 401).
    pub missing: u16,
    /// A tenant header from an untrusted peer (default 403).
    pub untrusted: u16,
    /// Credentials not accepted (default 401).
    pub unauthenticated: u16,
    /// Not a valid tenant id (default 400).
    pub invalid: u16,
    /// Not in the registry (default 404).
    pub unknown: u16,
    /// The registry could not be read (default 503).
    pub registry: u16,
}

impl Default for Statuses {
    fn default() -> Self {
        Statuses {
            missing: 401,
            untrusted: 403,
            unauthenticated: 401,
            invalid: 400,
            unknown: 404,
            registry: 503,
        }
    }
}

impl Statuses {
    /// The status for `rejection`.
    pub fn of(&self, rejection: &Rejection) -> u16 {
        match rejection {
            Rejection::Missing => self.missing,
            Rejection::Untrusted { .. } => self.untrusted,
            Rejection::Unauthenticated(_) => self.unauthenticated,
            Rejection::Invalid(_) => self.invalid,
            Rejection::Unknown(_) => self.unknown,
            Rejection::Registry(_) => self.registry,
        }
    }
}

/// How a service admits requests: the application's [`TenantResolver`], the
/// [`Registry`] the tenant must be in, and the status of each refusal. Cheap to clone
/// (shared); the middleware of [`crate::actix`] and [`crate::axum`] take one.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use tenantry_web::{Registry, Rejection, Request, Tenancy, TrustedHeader};
/// let tenancy = Tenancy::new(
///     TrustedHeader::new("x-tenant-id", [[127, 0, 0, 1].into()]),
///     Registry::listed(["store-1", "store-2"]),
/// );
/// let from_proxy = |tenant: &'static str| {
///     Request::new(Some([127, 0, 0, 1].into())).with_header("x-tenant-id", tenant.as_bytes())
/// };
/// assert_eq!(tenancy.admit(&from_proxy("store-2")).await.unwrap().as_str(), "store-2");
/// let unknown = tenancy.admit(&from_proxy("store-9")).await.unwrap_err();
/// assert!(matches!(unknown, Rejection::Unknown(_)));
/// assert_eq!(tenancy.status(&unknown), 404);
/// // The application's own statuses: a missing tenant is 403 here.
/// let strict = Tenancy::with_statuses(
///     TrustedHeader::new("x-tenant-id", [[127, 0, 0, 1].into()]),
///     Registry::listed(["store-1"]),
///     tenantry_web::Statuses { missing: 403, ..Default::default() },
/// );
/// let missing = strict.admit(&Request::new(Some([127, 0, 0, 1].into()))).await.unwrap_err();
/// assert_eq!(strict.status(&missing), 403);
/// # }
/// ```
#[derive(Clone)]
pub struct Tenancy {
    inner: Arc<Inner>,
}

/// What a [`Tenancy`] shares between its clones (axum clones its state for each request).
struct Inner {
    resolver: Box<dyn TenantResolver>,
    registry: Registry,
    statuses: Statuses,
}

impl std::fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenancy")
            .field("registry", &self.inner.registry)
            .field("statuses", &self.inner.statuses)
            .finish_non_exhaustive()
    }
}

impl Tenancy {
    /// Requests resolved by `resolver`, admitted when the tenant is in `registry`.
    pub fn new(resolver: impl TenantResolver, registry: Registry) -> Self {
        Tenancy {
            inner: Arc::new(Inner {
                resolver: Box::new(resolver),
                registry,
                statuses: Statuses::default(),
            }),
        }
    }

    /// Requests resolved by `resolver`, admitted when the tenant is in `registry`, refused
    /// with `statuses`.
    pub fn with_statuses(
        resolver: impl TenantResolver,
        registry: Registry,
        statuses: Statuses,
    ) -> Self {
        Tenancy {
            inner: Arc::new(Inner {
                resolver: Box::new(resolver),
                registry,
                statuses,
            }),
        }
    }

    /// The request's tenant, resolved and registered; or why the request is refused. Each
    /// refusal is logged (WARN, target `tenantry_web::audit`) with the peer and the reason.
    ///
    /// # Errors
    /// The [`Rejection`].
    pub async fn admit(&self, request: &Request<'_>) -> Result<TenantId, Rejection> {
        let admitted = self.check(request).await;
        match &admitted {
            Ok(tenant) => tracing::debug!(
                target: "tenantry_web::audit",
                tenant = tenant.as_str(),
                peer = ?request.peer(),
                "request admitted"
            ),
            Err(rejection) => tracing::warn!(
                target: "tenantry_web::audit",
                peer = ?request.peer(),
                reason = %rejection,
                "request refused"
            ),
        }
        admitted
    }

    async fn check(&self, request: &Request<'_>) -> Result<TenantId, Rejection> {
        let tenant = self.inner.resolver.resolve(request)?;
        match self.inner.registry.contains(&tenant).await {
            Ok(true) => Ok(tenant),
            Ok(false) => Err(Rejection::Unknown(tenant.as_str().to_owned())),
            Err(e) => Err(Rejection::Registry(e.to_string())),
        }
    }

    /// The HTTP status `rejection` gets.
    pub fn status(&self, rejection: &Rejection) -> u16 {
        self.inner.statuses.of(rejection)
    }
}
