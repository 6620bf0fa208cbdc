//! A point-of-sale service on axum, scoped per store by Tenantry.
//!
//! Run: `cargo run -p tenantry-web --example axum_pos` (after `cargo run --release -- demo`;
//! or pass a migrated database). The store of each request is its `X-Tenant-ID` header,
//! trusted from this machine only.

mod pos;

use std::net::SocketAddr;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use tenantry_sqlx::TenantPool;

fn reply(result: Result<serde_json::Value, pos::Failure>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(failure) => (
            StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            failure.message,
        )
            .into_response(),
    }
}

async fn customers(State(pool): State<TenantPool>) -> Response {
    reply(pos::customers(&pool).await)
}

async fn add_product(State(pool): State<TenantPool>, Query(p): Query<pos::NewProduct>) -> Response {
    reply(pos::add_product(&pool, &p.sku, &p.name, p.price).await)
}

async fn sell(State(pool): State<TenantPool>, Query(s): Query<pos::Sale>) -> Response {
    reply(pos::sell(&pool, &s.sku, s.qty).await)
}

async fn report(State(pool): State<TenantPool>) -> Response {
    reply(pos::category_report(&pool).await)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = pos::database()?;
    let pool = TenantPool::connect(&format!("sqlite://{}", db.display())).await?;
    let app = Router::new()
        .route("/customers", get(customers))
        .route("/products", post(add_product))
        .route("/sales", post(sell))
        .route("/reports/categories", get(report))
        .with_state(pool)
        .layer(middleware::from_fn_with_state(
            pos::tenancy(),
            tenantry_web::axum::resolve_tenant,
        ));
    let listener = tokio::net::TcpListener::bind(pos::ADDR).await?;
    eprintln!("{}", pos::usage("axum", &db));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
