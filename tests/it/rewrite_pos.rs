//! The rewriter on the first user's point-of-sale schema: every statement of the
//! application's catalogue, rewritten for the default tenant, returns on the migrated
//! database exactly what the original returns on the database before migration; for a
//! tenant that owns nothing, reads return no rows and writes change nothing.

use rusqlite::Connection;
use rusqlite::types::Value;
use tenantry_migrate::{DEFAULT_TENANT, MigrateOptions, migrate};
use tenantry_rewrite::{Rewriter, Schema, TenantId};

use crate::support::{snapshot, tiny_fixture};

struct Pos {
    _dir: tempfile::TempDir,
    legacy: Connection,
    migrated: Connection,
    rewriter: Rewriter,
}

fn pos() -> Pos {
    let dir = tempfile::tempdir().expect("temp dir");
    let legacy_path = tiny_fixture(dir.path(), "legacy.db");
    let migrated_path = dir.path().join("migrated.db");
    std::fs::copy(&legacy_path, &migrated_path).expect("copy fixture");
    migrate(&migrated_path, &MigrateOptions::default(), &mut |_| {}).expect("migrate");
    let migrated = Connection::open(&migrated_path).expect("open migrated");
    let rewriter = Rewriter::new(schema_of(&migrated));
    Pos {
        legacy: Connection::open(&legacy_path).expect("open legacy"),
        migrated,
        rewriter,
        _dir: dir,
    }
}

fn schema_of(conn: &Connection) -> Schema {
    tenantry_sqlite::schema::load(conn, "tenant_id").expect("schema")
}

/// Column names and rows, rows sorted.
fn run(conn: &Connection, sql: &str, params: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut stmt = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("prepare {sql}: {e}"));
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let n = columns.len();
    let mut rows: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(params), |row| {
            let values: Vec<Value> = (0..n).map(|i| row.get(i)).collect::<Result<_, _>>()?;
            Ok(format!("{values:?}"))
        })
        .unwrap_or_else(|e| panic!("run {sql}: {e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("rows of {sql}: {e}"));
    rows.sort();
    (columns, rows)
}

/// Every table's rows without the tenant column, as text.
fn legacy_view(conn: &Connection, tables: &[String]) -> String {
    let mut out = String::new();
    for table in tables {
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE name <> 'tenant_id'")
            .and_then(|mut s| s.query_map([table], |r| r.get(0))?.collect())
            .expect("columns");
        let list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let (_, rows) = run(conn, &format!("SELECT {list} FROM \"{table}\""), &[]);
        out.push_str(&format!("{table}: {rows:?}\n"));
    }
    out
}

fn user_tables(conn: &Connection) -> Vec<String> {
    conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('_tenantry_migrations') ORDER BY name",
    )
    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
    .expect("tables")
}

#[test]
fn every_catalogue_statement_returns_what_it_returned_before_migration() {
    let p = pos();
    let tenant = TenantId::new(DEFAULT_TENANT).expect("tenant");
    let tables = user_tables(&p.legacy);
    let mut checked = 0;
    for query in tenantry_fixtures::catalogue() {
        let params = tenantry_fixtures::sample_params(&p.legacy, query).expect("params");
        let rewritten = match p.rewriter.rewrite(query.sql, &tenant) {
            Ok(r) => r.into_sql(),
            Err(e) => panic!("{}: {e}", query.name),
        };
        let before = run(&p.legacy, query.sql, &params);
        let after = run(&p.migrated, &rewritten, &params);
        assert_eq!(
            before, after,
            "{}\n  {}\n  {rewritten}",
            query.name, query.sql
        );
        assert_eq!(
            legacy_view(&p.legacy, &tables),
            legacy_view(&p.migrated, &tables),
            "{} left the databases different",
            query.name
        );
        checked += 1;
    }
    assert_eq!(checked, tenantry_fixtures::catalogue().len());
}

#[test]
fn a_tenant_that_owns_nothing_reads_nothing_and_changes_nothing() {
    let p = pos();
    let other = TenantId::new("store-2").expect("tenant");
    let path = p._dir.path().join("migrated.db");
    let before = snapshot(&path);
    for query in tenantry_fixtures::catalogue() {
        let params = tenantry_fixtures::sample_params(&p.legacy, query).expect("params");
        let rewritten = p
            .rewriter
            .rewrite(query.sql, &other)
            .unwrap_or_else(|e| panic!("{}: {e}", query.name));
        if query.class.is_read_only() {
            let (_, rows) = run(&p.migrated, rewritten.sql(), &params);
            // A report over no rows may still return one row of NULLs and zeros.
            let from_data = rows
                .iter()
                .any(|r| r.contains("Text(") || r.contains("Blob("));
            assert!(!from_data, "{} returned {rows:?} to store-2", query.name);
        } else if !query.sql.trim_start().starts_with("INSERT") {
            let changed = p
                .migrated
                .execute(rewritten.sql(), rusqlite::params_from_iter(&params))
                .expect("write");
            assert_eq!(changed, 0, "{} changed rows as store-2", query.name);
        }
    }
    assert_eq!(
        before,
        snapshot(&path),
        "store-2 changed the default tenant's data"
    );
}
