//! actix-web middleware: every request's tenant admitted by a [`Tenancy`], the handler run
//! in the tenant's scope.
//!
//! ```no_run
//! # async fn run(pool: tenantry_sqlx::TenantPool) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer, middleware::from_fn, web};
//! use tenantry_web::{Registry, Tenancy, TrustedHeader};
//! let tenancy = Tenancy::new(
//!     TrustedHeader::new("x-tenant-id", [[127, 0, 0, 1].into()]),
//!     Registry::table(pool.clone(), "tenants", "id"),
//! );
//! HttpServer::new(move || {
//!     App::new()
//!         .app_data(web::Data::new(tenancy.clone()))
//!         .wrap(from_fn(tenantry_web::actix::resolve_tenant))
//!         .route("/customers", web::get().to(|| async { "…" }))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse, web};
use tracing::Instrument;

use crate::{Tenancy, TenantId};

/// The middleware function (for `actix_web::middleware::from_fn`); the [`Tenancy`] is the
/// app's data (`App::app_data(web::Data::new(tenancy))`). Admitted, the request reaches
/// the handler inside [`tenantry_sqlx::scope`] with its tenant, within a `tenant` tracing
/// span, and with the [`crate::TenantId`] in its extensions (`ReqData<TenantId>`).
/// Refused, it gets the tenancy's status and the reason as text, and the handler does not
/// run. Without the app data, every request gets 500 (and an ERROR log saying what is
/// missing). The response body is read in the tenant's scope too ([`ScopedBody`]): a
/// streaming body that runs statements as the server reads it, after the handler has
/// returned, runs them for the request's tenant.
///
/// # Errors
/// The handler's.
pub async fn resolve_tenant<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<ScopedBody>>, actix_web::Error> {
    let Some(tenancy) = request.app_data::<web::Data<Tenancy>>().cloned() else {
        tracing::error!(
            "tenantry_web::actix::resolve_tenant needs the Tenancy as app data: \
             App::new().app_data(web::Data::new(tenancy))"
        );
        let response = HttpResponse::InternalServerError().body("tenancy is not configured");
        return Ok(request.into_response(response).map_into_right_body());
    };
    let admitted = {
        let peer = request.peer_addr().map(|a| a.ip());
        let mut view = crate::Request::new(peer);
        for (name, value) in request.headers() {
            view = view.with_header(name.as_str(), value.as_bytes());
        }
        tenancy.admit(&view).await
    };
    match admitted {
        Ok(tenant) => {
            request.extensions_mut().insert(tenant.clone());
            let span = tracing::info_span!("tenant", tenant = tenant.as_str());
            let response = tenantry_sqlx::scope(tenant.clone(), next.call(request))
                .instrument(span)
                .await?;
            let response = response
                .map_into_boxed_body()
                .map_body(|_, inner| ScopedBody { tenant, inner });
            Ok(response.map_into_left_body())
        }
        Err(rejection) => {
            let status =
                StatusCode::from_u16(tenancy.status(&rejection)).unwrap_or(StatusCode::FORBIDDEN);
            let response = HttpResponse::build(status).body(rejection.public_message());
            Ok(request.into_response(response).map_into_right_body())
        }
    }
}

/// An admitted request's response body, read in its tenant's scope poll by poll
/// ([`tenantry_sqlx::sync_scope`]).
pub struct ScopedBody {
    tenant: TenantId,
    inner: BoxBody,
}

impl MessageBody for ScopedBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        tenantry_sqlx::sync_scope(this.tenant.clone(), || {
            Pin::new(&mut this.inner).poll_next(cx)
        })
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let ScopedBody { tenant, inner } = self;
        inner
            .try_into_bytes()
            .map_err(|inner| ScopedBody { tenant, inner })
    }
}
