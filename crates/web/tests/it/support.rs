//! What both frameworks' tests share: the migrated shop, the handlers' SQL (run through the
//! tenant pool, the tenant from the request's scope), and the HTTP load with its checks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tenantry_migrate::Layout;
use tenantry_sqlx::TenantPool;
use tenantry_testkit::shop::TENANTS;
use tenantry_web::{Registry, Tenancy, TrustedHeader};

/// Concurrent requests per tenant.
pub const PER_TENANT: usize = 50;

/// The proxy the tenant header is trusted from.
pub const PROXY: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Another loopback address: a client connecting from it is not the proxy.
pub const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The migrated shop (tenant-first: each store its own SKUs), a tenant pool on it, and the
/// gate every write waits at until all the load's writes are in flight.
#[derive(Clone)]
pub struct Shop {
    _dir: Arc<tempfile::TempDir>,
    pub path: PathBuf,
    pub pool: TenantPool,
    gate: Arc<tokio::sync::Barrier>,
}

impl Shop {
    pub async fn new() -> Shop {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = tenantry_testkit::shop::migrated(dir.path(), Layout::TenantFirst);
        let connect = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .expect("url")
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(30));
        let pool = TenantPool::connect_with(SqlitePoolOptions::new().max_connections(8), connect)
            .await
            .expect("tenant pool");
        Shop {
            _dir: Arc::new(dir),
            path,
            pool,
            gate: Arc::new(tokio::sync::Barrier::new(TENANTS.len() * PER_TENANT)),
        }
    }

    /// Requests admitted by the `x-tenant-id` header from [`PROXY`], tenants from the
    /// shop's registry table.
    pub fn tenancy(&self) -> Tenancy {
        Tenancy::new(
            TrustedHeader::new("x-tenant-id", [PROXY]),
            Registry::table(self.pool.clone(), "tenants", "id"),
        )
    }

    /// Each tenant's products, read with plain rusqlite (every tenant's rows).
    pub fn products_by_tenant(&self) -> Vec<(String, i64)> {
        let conn = rusqlite::Connection::open(&self.path).expect("open");
        let mut stmt = conn
            .prepare("SELECT tenant_id, count(*) FROM products GROUP BY tenant_id ORDER BY 1")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }
}

/// `GET /products`: the tenant's products, one `id sku name` line each.
pub async fn list_products(pool: &TenantPool) -> Result<String, sqlx::Error> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, sku, name FROM products ORDER BY id")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .iter()
        .map(|(id, sku, name)| format!("{id} {sku} {name}\n"))
        .collect())
}

/// `GET /products/streamed`: what `GET /products` returns, as a body that runs its
/// statement only when the server reads it, after the handler has returned.
pub fn streamed_products(
    pool: TenantPool,
) -> impl futures_util::Stream<Item = Result<String, sqlx::Error>> {
    futures_util::stream::once(async move { list_products(&pool).await })
}

/// Each tenant's `GET /products/streamed` against its `GET /products`: the same lines, read
/// in the request's tenant.
pub async fn check_streamed(addr: SocketAddr) {
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .local_address(PROXY)
        .build()
        .expect("client");
    for tenant in TENANTS {
        let get = |path: &str| {
            send(
                &client,
                reqwest::Method::GET,
                format!("{base}{path}"),
                Some(tenant),
            )
        };
        let listed = get("/products").await;
        let streamed = get("/products/streamed").await;
        assert_eq!(listed.status, 200, "{tenant}: {}", listed.body);
        assert_eq!(streamed.status, 200, "{tenant}: {}", streamed.body);
        assert!(!listed.body.is_empty(), "{tenant}: no products");
        assert_eq!(streamed.body, listed.body, "{tenant}");
    }
}

/// `POST /products/{sku}/{name}`: once every write of the load is in flight (so 150
/// requests are inside the middleware at once), a product and its stock in one
/// transaction; its key. A name that does not start with the request's tenant means the
/// scope did not follow the request: an error.
pub async fn add_product(shop: &Shop, sku: &str, name: &str) -> Result<i64, String> {
    shop.gate.wait().await;
    let tenant = tenantry_sqlx::current_tenant().ok_or("no tenant in the handler")?;
    if !name.starts_with(&format!("{tenant}-")) {
        return Err(format!("{name} written as {tenant}"));
    }
    let failed = |e: sqlx::Error| e.to_string();
    let mut tx = shop.pool.begin().await.map_err(failed)?;
    let id = sqlx::query("INSERT INTO products (sku, name, price) VALUES (?, ?, 10)")
        .bind(sku)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(failed)?
        .last_insert_rowid();
    sqlx::query("INSERT INTO stock (product_id, qty) VALUES (?, 1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(id)
}

/// What one request got.
struct Reply {
    status: u16,
    body: String,
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    tenant: Option<&str>,
) -> Reply {
    let mut request = client.request(method, url);
    if let Some(tenant) = tenant {
        request = request.header("x-tenant-id", tenant);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    Reply {
        status,
        body: response.text().await.expect("body"),
    }
}

/// The load and the refusals, against the server at `addr`; panics on any response that
/// shows another tenant's row, any lost write, and any refusal that let a request through.
pub async fn check_server(shop: &Shop, addr: SocketAddr) {
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .local_address(PROXY)
        .build()
        .expect("client");
    let before = shop.products_by_tenant();

    // 3 tenants x 50 requests, all sent at once: each writes a product named after its
    // tenant in a transaction, then lists the tenant's products.
    let start = Arc::new(tokio::sync::Barrier::new(TENANTS.len() * PER_TENANT));
    let mut tasks = Vec::new();
    for tenant in TENANTS {
        for n in 0..PER_TENANT {
            let (client, base, start) = (client.clone(), base.clone(), Arc::clone(&start));
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let wrote = send(
                    &client,
                    reqwest::Method::POST,
                    format!("{base}/products/SKU-{n}/{tenant}-{n}"),
                    Some(tenant),
                )
                .await;
                let read = send(
                    &client,
                    reqwest::Method::GET,
                    format!("{base}/products"),
                    Some(tenant),
                )
                .await;
                (tenant, wrote, read)
            }));
        }
    }
    let mut foreign = 0;
    for task in tasks {
        let (tenant, wrote, read) = task.await.expect("request task");
        assert_eq!(wrote.status, 201, "{tenant}: {}", wrote.body);
        assert_eq!(read.status, 200, "{tenant}: {}", read.body);
        for line in read.body.lines() {
            let name = line.splitn(3, ' ').nth(2).unwrap_or_default();
            let own = name.starts_with(&format!("{tenant}-"))
                || (tenant == TENANTS[0] && name == "Motor oil");
            if !own {
                foreign += 1;
            }
        }
    }
    assert_eq!(foreign, 0, "lines of another tenant's products");
    let after = shop.products_by_tenant();
    let expected: Vec<(String, i64)> = TENANTS
        .iter()
        .map(|t| {
            let had = before.iter().find(|(b, _)| b == t).map_or(0, |(_, n)| *n);
            ((*t).to_owned(), had + PER_TENANT as i64)
        })
        .collect();
    assert_eq!(after, expected, "every write kept, each in its own tenant");

    // Refused, and nothing written: no tenant, an unknown tenant, and the header from a
    // peer that is not the proxy.
    // A refused request that reached the handler would wait at its gate: time it out.
    let post = |tenant: Option<&'static str>, client: reqwest::Client| {
        let url = format!("{base}/products/REFUSED/refused");
        async move {
            let sent = send(&client, reqwest::Method::POST, url, tenant);
            tokio::time::timeout(std::time::Duration::from_secs(10), sent)
                .await
                .expect("a refused request reached the handler")
        }
    };
    let missing = post(None, client.clone()).await;
    assert_eq!(missing.status, 401, "{}", missing.body);
    let unknown = post(Some("store-z"), client.clone()).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let stranger = reqwest::Client::builder()
        .local_address(STRANGER)
        .build()
        .expect("client");
    let spoofed = post(Some(TENANTS[1]), stranger).await;
    assert_eq!(spoofed.status, 403, "{}", spoofed.body);
    assert_eq!(
        shop.products_by_tenant(),
        expected,
        "refused requests wrote nothing"
    );
}
