//! Development aid: rewrites a fixed set of statements in a loop, for a profiler.
use tenantry_rewrite::{Rewriter, Schema, TenantId};

fn main() {
    let pos = std::env::var("POS").is_ok();
    let schema = if pos {
        pos_schema()
    } else {
        Schema::from_sql(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, tenant_id TEXT NOT NULL);
         CREATE TABLE work_orders (id TEXT PRIMARY KEY, order_number TEXT, customer_id INTEGER, status TEXT, total_cents INTEGER, created_at TEXT, tenant_id TEXT NOT NULL);
         CREATE TABLE lines (id INTEGER PRIMARY KEY, work_order_id TEXT, line_no INTEGER, description TEXT, tenant_id TEXT NOT NULL);",
        "tenant_id",
    )
    .expect("schema")
    };
    let rewriter = Rewriter::new(schema);
    let tenant = TenantId::new("caps-automotive").expect("tenant");
    let pos_statements = [
        "SELECT wo.order_number, wo.status, c.first_name, c.last_name, l.line_no, l.description, l.quantity, l.unit_price_cents, p.sku, u.full_name AS technician FROM work_orders wo LEFT JOIN customers c ON c.id = wo.customer_id JOIN work_order_lines l ON l.work_order_id = wo.id LEFT JOIN products p ON p.id = l.product_id LEFT JOIN users u ON u.id = wo.technician_id WHERE wo.id = ?1 ORDER BY l.line_no",
        "SELECT category_id, sku, name, revenue_cents, rnk FROM ( SELECT p.category_id, p.sku, p.name, sum(l.quantity * l.unit_price_cents - l.discount_cents) AS revenue_cents, rank() OVER (PARTITION BY p.category_id ORDER BY sum(l.quantity * l.unit_price_cents - l.discount_cents) DESC) AS rnk FROM work_order_lines l JOIN products p ON p.id = l.product_id WHERE l.created_at >= ?1 AND l.created_at < ?2 GROUP BY p.id) WHERE rnk <= 5 ORDER BY category_id, rnk",
        "SELECT v.id, v.year, v.make, v.model, v.license_plate, (SELECT max(w.created_at) FROM work_orders w WHERE w.vehicle_id = v.id) AS last_visit FROM customer_vehicles v JOIN customers c ON c.id = v.customer_id WHERE c.id = ?1 ORDER BY last_visit DESC",
    ];
    let small_statements = [
        "SELECT id, first_name, last_name, email, phone FROM customers WHERE id = ?1",
        "SELECT wo.order_number, wo.status, c.first_name, c.last_name, l.line_no, l.description FROM work_orders wo JOIN customers c ON c.id = wo.customer_id LEFT JOIN lines l ON l.work_order_id = wo.id WHERE wo.id = ?1 ORDER BY l.line_no",
        "SELECT substr(created_at, 1, 10) AS day, count(*) AS orders, sum(total_cents) AS revenue_cents FROM work_orders WHERE created_at >= ?1 GROUP BY day ORDER BY day",
        "UPDATE work_orders SET status = ?2 WHERE id = ?1",
        "DELETE FROM work_orders WHERE id = ?1",
        "INSERT INTO lines (work_order_id, line_no, description) VALUES (?1, ?2, ?3)",
    ];
    let statements: Vec<&str> = if pos {
        pos_statements.to_vec()
    } else {
        small_statements.to_vec()
    };
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let parse_only = std::env::args().nth(2).is_some_and(|a| a == "parse");
    let started = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        for &sql in &statements {
            if parse_only {
                let parsed = sqlparser::parser::Parser::parse_sql(
                    &sqlparser::dialect::SQLiteDialect {},
                    sql,
                )
                .expect("parse");
                bytes += parsed.len();
            } else {
                bytes += rewriter.rewrite(sql, &tenant).expect("rewrite").sql().len();
            }
        }
    }
    let per = started.elapsed() / (n * statements.len()) as u32;
    println!("{bytes} bytes; {per:?} per statement");
}

/// The POS schema files, every table given the tenant column.
fn pos_schema() -> Schema {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/pos");
    let mut ddl = String::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures/pos")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        if f.extension().is_some_and(|e| e == "sql") {
            ddl.push_str(&std::fs::read_to_string(f).expect("read"));
            ddl.push('\n');
        }
    }
    let plain = Schema::from_sql(&ddl, "tenant_id").expect("pos schema");
    let mut schema = Schema::new("tenant_id").expect("schema");
    for t in plain.tables() {
        let mut t = t.clone();
        t.columns.push(tenantry_rewrite::Column::new("tenant_id"));
        schema.add_table(t).expect("table");
    }
    schema
}
