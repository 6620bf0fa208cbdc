//! A point-of-sale service on actix-web, scoped per store by Tenantry.
//!
//! Run: `cargo run -p tenantry-web --example actix_pos` (after `cargo run --release --
//! demo`; or pass a migrated database). The store of each request is its `X-Tenant-ID`
//! header, trusted from this machine only.

mod pos;

use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use tenantry_sqlx::TenantPool;

fn reply(result: Result<serde_json::Value, pos::Failure>) -> HttpResponse {
    match result {
        Ok(value) => HttpResponse::Ok()
            .content_type("application/json")
            .body(value.to_string()),
        Err(failure) => HttpResponse::build(
            StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .body(failure.message),
    }
}

async fn customers(pool: web::Data<TenantPool>) -> HttpResponse {
    reply(pos::customers(&pool).await)
}

async fn add_product(pool: web::Data<TenantPool>, p: web::Query<pos::NewProduct>) -> HttpResponse {
    reply(pos::add_product(&pool, &p.sku, &p.name, p.price).await)
}

async fn sell(pool: web::Data<TenantPool>, s: web::Query<pos::Sale>) -> HttpResponse {
    reply(pos::sell(&pool, &s.sku, s.qty).await)
}

async fn report(pool: web::Data<TenantPool>) -> HttpResponse {
    reply(pos::category_report(&pool).await)
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = pos::database()?;
    let pool = TenantPool::connect(&format!("sqlite://{}", db.display())).await?;
    let tenancy = pos::tenancy();
    eprintln!("{}", pos::usage("actix-web", &db));
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(pool.clone()))
            .app_data(web::Data::new(tenancy.clone()))
            .wrap(from_fn(tenantry_web::actix::resolve_tenant))
            .route("/customers", web::get().to(customers))
            .route("/products", web::post().to(add_product))
            .route("/sales", web::post().to(sell))
            .route("/reports/categories", web::get().to(report))
    })
    .bind(pos::ADDR)?
    .run()
    .await?;
    Ok(())
}
