//! Prints the rewrite of each argument against a small schema (a development aid).
use tenantry_rewrite::{Rewriter, Schema, TenantId};

fn main() {
    let schema = Schema::from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, tenant_id TEXT NOT NULL);
         CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, b TEXT, tenant_id TEXT NOT NULL);
         CREATE TABLE n (x TEXT, y INTEGER, tenant_id TEXT NOT NULL);
         CREATE TABLE g (k TEXT PRIMARY KEY, v TEXT);",
        "tenant_id",
    )
    .expect("schema");
    let rewriter = Rewriter::new(schema);
    let tenant = TenantId::new("A").expect("tenant");
    for sql in std::env::args().skip(1) {
        match rewriter.rewrite(&sql, &tenant) {
            Ok(out) => println!("{sql}\n  => {}\n", out.sql()),
            Err(e) => println!("{sql}\n  !! {e}\n"),
        }
    }
}
