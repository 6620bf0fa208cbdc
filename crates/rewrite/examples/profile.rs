//! Development aid: rewrites a fixed set of statements in a loop, for a profiler.
use tenantry_rewrite::{Rewriter, Schema, TenantId};

fn main() {
    let schema = Schema::from_sql(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, tenant_id TEXT NOT NULL);
         CREATE TABLE work_orders (id TEXT PRIMARY KEY, order_number TEXT, customer_id INTEGER, status TEXT, total_cents INTEGER, created_at TEXT, tenant_id TEXT NOT NULL);
         CREATE TABLE lines (id INTEGER PRIMARY KEY, work_order_id TEXT, line_no INTEGER, description TEXT, tenant_id TEXT NOT NULL);",
        "tenant_id",
    )
    .expect("schema");
    let rewriter = Rewriter::new(schema);
    let tenant = TenantId::new("caps-automotive").expect("tenant");
    let statements = [
        "SELECT id, first_name, last_name, email, phone FROM customers WHERE id = ?1",
        "SELECT wo.order_number, wo.status, c.first_name, c.last_name, l.line_no, l.description FROM work_orders wo JOIN customers c ON c.id = wo.customer_id LEFT JOIN lines l ON l.work_order_id = wo.id WHERE wo.id = ?1 ORDER BY l.line_no",
        "SELECT substr(created_at, 1, 10) AS day, count(*) AS orders, sum(total_cents) AS revenue_cents FROM work_orders WHERE created_at >= ?1 GROUP BY day ORDER BY day",
        "UPDATE work_orders SET status = ?2 WHERE id = ?1",
        "DELETE FROM work_orders WHERE id = ?1",
        "INSERT INTO lines (work_order_id, line_no, description) VALUES (?1, ?2, ?3)",
    ];
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let parse_only = std::env::args().nth(2).is_some_and(|a| a == "parse");
    let started = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        for sql in statements {
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
