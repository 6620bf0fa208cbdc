//! axum middleware: every request's tenant admitted by a [`Tenancy`], the handler run in
//! the tenant's scope.
//!
//! ```no_run
//! # async fn run(pool: tenantry_sqlx::TenantPool) -> std::io::Result<()> {
//! use axum::{Router, middleware, routing::get};
//! use tenantry_web::{Registry, Tenancy, TrustedHeader};
//! let tenancy = Tenancy::new(
//!     TrustedHeader::new("x-tenant-id", [[127, 0, 0, 1].into()]),
//!     Registry::table(pool.clone(), "tenants", "id"),
//! );
//! let app = Router::new()
//!     .route("/customers", get(|| async { "…" }))
//!     .layer(middleware::from_fn_with_state(tenancy, tenantry_web::axum::resolve_tenant));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // The peer's address, which TrustedHeader checks: serve with connect info.
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
//! # }
//! ```

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tracing::Instrument;

use crate::{Tenancy, TenantId};

/// The middleware function (for `axum::middleware::from_fn_with_state`, with the
/// [`Tenancy`] as its state). Admitted, the request reaches the handler inside
/// [`tenantry_sqlx::scope`] with its tenant, within a `tenant` tracing span, and with the
/// [`crate::TenantId`] in its extensions (`Extension<TenantId>`). Refused, it gets the
/// tenancy's status and the reason as text, and the handler does not run.
///
/// The response body is read in the tenant's scope too: a body that runs statements as
/// the server reads it (`Body::from_stream` of a query made inside the stream), after the
/// handler has returned, runs them for the request's tenant.
///
/// The peer is the address of `ConnectInfo<SocketAddr>`
/// (`into_make_service_with_connect_info`); without it, no proxy is trusted.
pub async fn resolve_tenant(
    State(tenancy): State<Tenancy>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let admitted = {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let mut view = crate::Request::new(peer);
        for (name, value) in &parts.headers {
            view = view.with_header(name.as_str(), value.as_bytes());
        }
        tenancy.admit(&view).await
    };
    match admitted {
        Ok(tenant) => {
            parts.extensions.insert(tenant.clone());
            let span = tracing::info_span!("tenant", tenant = tenant.as_str());
            let request = Request::from_parts(parts, body);
            let response = tenantry_sqlx::scope(tenant.clone(), next.run(request))
                .instrument(span)
                .await;
            response.map(|inner| Body::new(Scoped { tenant, inner }))
        }
        Err(rejection) => {
            let status =
                StatusCode::from_u16(tenancy.status(&rejection)).unwrap_or(StatusCode::FORBIDDEN);
            (status, rejection.public_message()).into_response()
        }
    }
}

/// A response body read in its request's tenant scope, poll by poll.
struct Scoped {
    tenant: TenantId,
    inner: Body,
}

impl HttpBody for Scoped {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        tenantry_sqlx::sync_scope(this.tenant.clone(), || {
            Pin::new(&mut this.inner).poll_frame(cx)
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
