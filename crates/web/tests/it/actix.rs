//! The actix-web middleware on loopback.

use crate::support::{
    Shop, add_product, check_server, check_streamed, list_products, streamed_products,
};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};

async fn products(shop: web::Data<Shop>) -> HttpResponse {
    match list_products(&shop.pool).await {
        Ok(body) => HttpResponse::Ok().body(body),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

async fn streamed(shop: web::Data<Shop>) -> HttpResponse {
    let body = futures_util::StreamExt::map(streamed_products(shop.pool.clone()), |lines| {
        lines.map(web::Bytes::from)
    });
    HttpResponse::Ok().streaming(body)
}

async fn add(shop: web::Data<Shop>, path: web::Path<(String, String)>) -> HttpResponse {
    let (sku, name) = path.into_inner();
    match add_product(&shop, &sku, &name).await {
        Ok(id) => HttpResponse::Created().body(id.to_string()),
        Err(e) => HttpResponse::InternalServerError().body(e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tenants_at_once_through_actix_web() {
    let shop = Shop::new().await;
    let (state, tenancy) = (shop.clone(), shop.tenancy());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(tenancy.clone()))
            .wrap(from_fn(tenantry_web::actix::resolve_tenant))
            .route("/products", web::get().to(products))
            .route("/products/streamed", web::get().to(streamed))
            .route("/products/{sku}/{name}", web::post().to(add))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    let running = tokio::spawn(server);
    check_server(&shop, addr).await;
    check_streamed(addr).await;
    handle.stop(true).await;
    running.await.unwrap().unwrap();
}
