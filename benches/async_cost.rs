//! What isolation costs an async service (issue 15), in one run on one machine:
//!
//! 1. **sqlx**: the point-of-sale catalogue through `tenantry_sqlx::TenantPool` (task
//!    scoped to the migration's tenant) on the migrated typical fixture, against plain
//!    sqlx's `SqlitePool` on the pre-migration file, per query class (one iteration runs
//!    every statement of the class once; writes inside a transaction rolled back). A third
//!    side, plain sqlx running the rewriter's text on the migrated file, splits the ratio:
//!    what the scoped SQL costs on the migrated schema, and what the tenant pool adds to
//!    it. All pools: 8 connections, WAL, sqlx's statement cache, and the query planner
//!    stability guarantee, which the tenant pool turns on (given to plain too, so a setting
//!    does not hide the cost of isolation).
//! 2. **HTTP**: requests per second through axum and through actix-web, each serving one
//!    catalogue point lookup per request (round-robin over the class's statements): plain
//!    (no middleware, plain sqlx) against Tenantry (the tenant middleware, `X-Tenant-ID`
//!    from a trusted loopback proxy, checked against a listed registry, and the tenant
//!    pool), at 1, 32 and 128 concurrent clients on loopback (the client runs in the same
//!    process, so both sides share the 2 cores with it).
//!
//! Timing: sides alternate in rounds (default 15 for sqlx, 3 for HTTP), each round a batch
//! of at least 20 ms (sqlx) or a fixed number of requests (HTTP, default 4,000); figures are
//! medians, ratios are tenant ÷ plain in time (goal ≤ 1.10).
//!
//! Run: `cargo bench --bench async_cost` (the first run generates the typical fixture).
//! `TENANTRY_BENCH_LAYOUT=tenant-first` migrates tenant-first; `TENANTRY_BENCH_ROUNDS`,
//! `TENANTRY_BENCH_REQUESTS` change the effort; `TENANTRY_BENCH_PARTS=sqlx` or `http`
//! runs one part.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tenantry_migrate::Layout;
use tenantry_rewrite::TenantId;
use tenantry_sqlx::TenantPool;
use tenantry_testkit::sqlx_values::bind;

// The shared modules' rusqlite runners are not used here: their fixtures, statistics and
// statement grouping are.
#[allow(dead_code, reason = "this bench runs statements through sqlx")]
mod catalogue;
mod fixture;
#[allow(dead_code, reason = "this bench times async runs itself")]
mod load;
mod support;
#[allow(
    dead_code,
    reason = "this bench opens sqlx pools, not rusqlite connections"
)]
mod typical;

use catalogue::{Case, by_class};
use load::{env_or, median};
use typical::TENANT;

/// The shortest batch of iterations timed per side and round (sqlx part).
const BATCH: Duration = Duration::from_millis(20);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let layout = fixture::layout_from_env(Layout::Column);
    let pair = typical::pair("async_cost", layout);
    let parts = std::env::var("TENANTRY_BENCH_PARTS").unwrap_or_else(|_| "sqlx,http".into());
    println!(
        "Machine: {}; typical fixture, {layout:?} layout.\n",
        support::machine()
    );
    runtime.block_on(async {
        let plain = plain_pool(&pair.plain).await;
        let scoped = TenantPool::connect_with(pool_options(), connect_options(&pair.migrated))
            .await
            .expect("tenant pool");
        let legacy = rusqlite::Connection::open(&pair.plain).expect("open plain");
        let cases: Vec<Case> = tenantry_fixtures::catalogue()
            .iter()
            .map(|query| Case {
                query,
                params: tenantry_fixtures::sample_params(&legacy, query).expect("params"),
            })
            .collect();
        let tenant = TenantId::new(TENANT).expect("tenant");
        if parts.contains("sqlx") {
            let migrated = plain_pool(&pair.migrated).await;
            let view = rusqlite::Connection::open(&pair.migrated).expect("open migrated");
            let rewriter = tenantry_sqlite::PoolScope::load(&view, "tenant_id").expect("scoping");
            let rewritten: Vec<Case> = cases
                .iter()
                .map(|c| Case {
                    query: Box::leak(Box::new(tenantry_fixtures::Query {
                        sql: Box::leak(
                            rewriter
                                .render(c.query.sql, &tenant)
                                .expect("rewrite")
                                .into_boxed_str(),
                        ),
                        ..*c.query
                    })),
                    params: c.params.clone(),
                })
                .collect();
            sqlx_part(&plain, (&migrated, &rewritten), &scoped, &tenant, &cases).await;
        }
        if parts.contains("http") {
            let point: Vec<Case> = cases
                .iter()
                .filter(|c| c.query.class == tenantry_fixtures::QueryClass::PointLookup)
                .map(|c| Case {
                    query: c.query,
                    params: c.params.clone(),
                })
                .collect();
            http_part(&plain, &scoped, Arc::new(point)).await;
        }
    });
}

fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().max_connections(8)
}

fn connect_options(path: &std::path::Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("url")
        .busy_timeout(Duration::from_secs(5))
}

/// Plain sqlx with the query planner stability guarantee the tenant pool turns on.
async fn plain_pool(path: &std::path::Path) -> SqlitePool {
    pool_options()
        .after_connect(|conn, _| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                let raw = handle.as_raw_handle();
                // SAFETY: the handle is open and locked away from sqlx's worker while the
                // view, which does not own it, lives; rusqlite and sqlx share one
                // libsqlite3-sys.
                let view = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                view.set_db_config(
                    rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                    true,
                )
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                Ok(())
            })
        })
        .connect_with(connect_options(path))
        .await
        .expect("plain pool")
}

/// One iteration of a class on `$pool` (an executor for reads; `begin` for writes, rolled
/// back); the rows read.
macro_rules! iteration {
    ($pool:expr, $cases:expr, $writes:expr) => {{
        let mut rows = 0;
        if $writes {
            let mut tx = $pool.begin().await.expect("BEGIN");
            for case in $cases {
                rows += bind(sqlx::query(case.query.sql), &case.params)
                    .fetch_all(&mut *tx)
                    .await
                    .expect(case.query.name)
                    .len();
            }
            tx.rollback().await.expect("ROLLBACK");
        } else {
            for case in $cases {
                rows += bind(sqlx::query(case.query.sql), &case.params)
                    .fetch_all($pool)
                    .await
                    .expect(case.query.name)
                    .len();
            }
        }
        rows
    }};
}

async fn plain_iteration(pool: &SqlitePool, cases: &[&Case], writes: bool) -> usize {
    iteration!(pool, cases, writes)
}

async fn scoped_iteration(
    pool: &TenantPool,
    tenant: &TenantId,
    cases: &[&Case],
    writes: bool,
) -> usize {
    tenantry_sqlx::scope(tenant.clone(), async { iteration!(pool, cases, writes) }).await
}

/// Runs `f` for at least [`BATCH`]; nanoseconds per run.
async fn batch<F, Fut>(mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed() < BATCH || runs == 0 {
        f().await;
        runs += 1;
    }
    started.elapsed().as_nanos() as f64 / f64::from(runs)
}

async fn sqlx_part(
    plain: &SqlitePool,
    (migrated, rewritten): (&SqlitePool, &[Case]),
    scoped: &TenantPool,
    tenant: &TenantId,
    cases: &[Case],
) {
    let rounds: usize = env_or("TENANTRY_BENCH_ROUNDS", 15);
    println!("## sqlx: tenant pool ÷ plain sqlx, per query class\n");
    println!(
        "| class | statements | plain | rewritten text, plain sqlx on the migrated file | \
         tenant pool | ratio (schema and SQL × pool) |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    let by_rewritten = by_class(rewritten);
    for (class, (writes, class_cases)) in by_class(cases) {
        let rewritten_cases = &by_rewritten[class].1;
        // The same rows all three ways before anything is timed.
        let a = plain_iteration(plain, &class_cases, writes).await;
        let b = scoped_iteration(scoped, tenant, &class_cases, writes).await;
        let c = plain_iteration(migrated, rewritten_cases, writes).await;
        assert_eq!(
            (a, c),
            (b, b),
            "{class}: rows read plain, rewritten, tenant pool"
        );
        let (mut p, mut r, mut s) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let plain_ns = || plain_iteration(plain, &class_cases, writes);
            let rewritten_ns = || plain_iteration(migrated, rewritten_cases, writes);
            let scoped_ns = || scoped_iteration(scoped, tenant, &class_cases, writes);
            if round % 2 == 0 {
                p.push(batch(plain_ns).await);
                r.push(batch(rewritten_ns).await);
                s.push(batch(scoped_ns).await);
            } else {
                s.push(batch(scoped_ns).await);
                r.push(batch(rewritten_ns).await);
                p.push(batch(plain_ns).await);
            }
        }
        let (p, r, s) = (median(&mut p), median(&mut r), median(&mut s));
        println!(
            "| {class} | {} | {} | {} | {} | {:.2} ({:.2} × {:.2}) |",
            class_cases.len(),
            support::human(p),
            support::human(r),
            support::human(s),
            s / p,
            r / p,
            s / r
        );
    }
    println!();
}

/// What a server's handler runs on.
#[derive(Clone)]
enum Db {
    Plain(SqlitePool),
    Scoped(TenantPool),
}

/// The handler's work: case `i` of the point lookups on `db`; the rows, as text.
async fn lookup(db: &Db, cases: &[Case], i: usize) -> Result<String, String> {
    let case = &cases[i % cases.len()];
    let query = bind(sqlx::query(case.query.sql), &case.params);
    let rows = match db {
        Db::Plain(pool) => query.fetch_all(pool).await,
        Db::Scoped(pool) => query.fetch_all(pool).await,
    }
    .map_err(|e| e.to_string())?;
    Ok(rows.len().to_string())
}

fn tenancy() -> tenantry_web::Tenancy {
    tenantry_web::Tenancy::new(
        tenantry_web::TrustedHeader::new("x-tenant-id", [std::net::Ipv4Addr::LOCALHOST.into()]),
        tenantry_web::Registry::listed([TENANT]),
    )
}

async fn serve_axum(db: Db, cases: Arc<Vec<Case>>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    type St = (Db, Arc<Vec<Case>>);
    async fn handler(
        State((db, cases)): State<St>,
        Path(i): Path<usize>,
    ) -> Result<String, (StatusCode, String)> {
        lookup(&db, &cases, i)
            .await
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))
    }
    let scoped = matches!(db, Db::Scoped(_));
    let mut app = axum::Router::new()
        .route("/q/{i}", axum::routing::get(handler))
        .with_state((db, cases));
    if scoped {
        app = app.layer(axum::middleware::from_fn_with_state(
            tenancy(),
            tenantry_web::axum::resolve_tenant,
        ));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.expect("axum");
    });
    (addr, server)
}

async fn serve_actix(db: Db, cases: Arc<Vec<Case>>) -> (SocketAddr, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    async fn handler(state: web::Data<(Db, Arc<Vec<Case>>)>, i: web::Path<usize>) -> HttpResponse {
        match lookup(&state.0, &state.1, i.into_inner()).await {
            Ok(body) => HttpResponse::Ok().body(body),
            Err(e) => HttpResponse::InternalServerError().body(e),
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let scoped = matches!(db, Db::Scoped(_));
    let state = web::Data::new((db, cases));
    let tenancy = web::Data::new(tenancy());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(tenancy.clone())
            .wrap(actix_web::middleware::Condition::new(
                scoped,
                actix_web::middleware::from_fn(tenantry_web::actix::resolve_tenant),
            ))
            .route("/q/{i}", web::get().to(handler))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (addr, handle)
}

/// `requests` requests spread over `clients` concurrent clients; requests per second.
async fn load(addr: SocketAddr, clients: usize, requests: usize) -> f64 {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST))
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let per_client = requests.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..per_client {
                let response = client
                    .get(format!("http://{addr}/q/{}", c * per_client + n))
                    .header("x-tenant-id", TENANT)
                    .send()
                    .await
                    .expect("request");
                assert!(response.status().is_success(), "{}", response.status());
                response.bytes().await.expect("body");
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    (per_client * clients) as f64 / started.elapsed().as_secs_f64()
}

async fn http_part(plain: &SqlitePool, scoped: &TenantPool, cases: Arc<Vec<Case>>) {
    let rounds: usize = env_or("TENANTRY_BENCH_HTTP_ROUNDS", 3);
    let requests: usize = env_or("TENANTRY_BENCH_REQUESTS", 4000);
    println!("## HTTP: requests per second, one point lookup each ({requests} requests a run)\n");
    println!("| framework | clients | plain | Tenantry | time ratio |");
    println!("|---|---:|---:|---:|---:|");
    for framework in ["axum", "actix-web"] {
        let mut addrs = Vec::new();
        let mut stops = Vec::new();
        for db in [Db::Plain(plain.clone()), Db::Scoped(scoped.clone())] {
            if framework == "axum" {
                let (addr, server) = serve_axum(db, Arc::clone(&cases)).await;
                addrs.push(addr);
                stops.push(Stop::Axum(server));
            } else {
                let (addr, handle) = serve_actix(db, Arc::clone(&cases)).await;
                addrs.push(addr);
                stops.push(Stop::Actix(handle));
            }
        }
        for clients in [1, 32, 128] {
            // Warm both, then alternate.
            load(addrs[0], clients, requests / 10).await;
            load(addrs[1], clients, requests / 10).await;
            let (mut p, mut s) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                if round % 2 == 0 {
                    p.push(load(addrs[0], clients, requests).await);
                    s.push(load(addrs[1], clients, requests).await);
                } else {
                    s.push(load(addrs[1], clients, requests).await);
                    p.push(load(addrs[0], clients, requests).await);
                }
            }
            let (p, s) = (median(&mut p), median(&mut s));
            println!(
                "| {framework} | {clients} | {p:.0} | {s:.0} | {:.2} |",
                p / s
            );
        }
        for stop in stops {
            match stop {
                Stop::Axum(server) => server.abort(),
                Stop::Actix(handle) => handle.stop(true).await,
            }
        }
    }
    println!();
}

enum Stop {
    Axum(tokio::task::JoinHandle<()>),
    Actix(actix_web::dev::ServerHandle),
}
