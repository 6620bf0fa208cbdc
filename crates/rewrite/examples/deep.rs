//! Development aid: rewrites very long operator chains on a 2 MiB thread.
use tenantry_rewrite::{Rewriter, Schema, TenantId};

fn main() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let schema = Schema::from_sql(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, tenant_id TEXT NOT NULL);",
                "tenant_id",
            )
            .expect("schema");
            let rewriter = Rewriter::new(schema);
            let tenant = TenantId::new("A").expect("tenant");
            for n in [1_000usize, 20_000, 100_000, 170_000] {
                let sql = format!("SELECT id FROM t WHERE 1{}", " AND 1".repeat(n));
                let t = std::time::Instant::now();
                let r = rewriter.rewrite(&sql, &tenant);
                println!(
                    "{n} terms, {} bytes: ok={} in {:?}",
                    sql.len(),
                    r.is_ok(),
                    t.elapsed()
                );
                let sql = format!("SELECT 1{} FROM t", "+1".repeat(n * 3));
                let r = rewriter.rewrite(&sql, &tenant);
                println!(
                    "{} plus, {} bytes: {:?}",
                    n * 3,
                    sql.len(),
                    r.as_ref().map(|_| ()).map_err(|e| e.kind())
                );
            }
        })
        .expect("spawn");
    handle.join().expect("no panic");
}
