//! The axum middleware on loopback.

use std::net::SocketAddr;

use crate::support::{
    Shop, add_product, check_server, check_streamed, list_products, streamed_products,
};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Router, middleware};

async fn products(State(shop): State<Shop>) -> Result<String, (StatusCode, String)> {
    list_products(&shop.pool)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn streamed(State(shop): State<Shop>) -> Body {
    Body::from_stream(streamed_products(shop.pool.clone()))
}

async fn add(
    State(shop): State<Shop>,
    Path((sku, name)): Path<(String, String)>,
) -> Result<(StatusCode, String), (StatusCode, String)> {
    let id = add_product(&shop, &sku, &name)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok((StatusCode::CREATED, id.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tenants_at_once_through_axum() {
    let shop = Shop::new().await;
    let app = Router::new()
        .route("/products", get(products))
        .route("/products/streamed", get(streamed))
        .route("/products/{sku}/{name}", post(add))
        .with_state(shop.clone())
        .layer(middleware::from_fn_with_state(
            shop.tenancy(),
            tenantry_web::axum::resolve_tenant,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    check_server(&shop, addr).await;
    check_streamed(addr).await;
    server.abort();
}
