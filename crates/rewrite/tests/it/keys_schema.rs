//! The schema reads a tenant-first table's keys: the PRIMARY KEY markers, UNIQUE
//! constraints and unique indexes, and whether every key is per tenant.

use tenantry_rewrite::{RowKey, Schema};

use crate::tenant_first::TENANT_FIRST;

fn schema(sql: &str) -> Schema {
    match Schema::from_sql(sql, "tenant_id") {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn table<'s>(schema: &'s Schema, name: &str) -> &'s tenantry_rewrite::Table {
    schema
        .table(name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

#[test]
fn markers_say_what_became_of_the_legacy_rowid() {
    let s = schema(TENANT_FIRST);
    assert_eq!(
        table(&s, "users").key,
        Some(RowKey::Column {
            name: "id".into(),
            autoincrement: true
        })
    );
    assert_eq!(
        table(&s, "vehicles").key,
        Some(RowKey::Column {
            name: "id".into(),
            autoincrement: false
        })
    );
    assert_eq!(table(&s, "customers").key, Some(RowKey::Gone));
    assert_eq!(table(&s, "price_levels").key, None);
    assert_eq!(table(&s, "notes").key, None);
    assert_eq!(table(&s, "users").rowid_column(), Some("id"));
    assert!(table(&s, "customers").had_rowid());
    assert!(!table(&s, "price_levels").had_rowid());
}

#[test]
fn keys_are_per_tenant_when_every_key_includes_the_tenant_column() {
    let s = schema(TENANT_FIRST);
    for name in ["users", "customers", "vehicles", "price_levels"] {
        assert!(table(&s, name).tenant_keys, "{name}");
    }
    // A rowid table: its rowid is a key every tenant shares.
    assert!(!table(&s, "notes").tenant_keys);
    assert_eq!(table(&s, "users").unique_keys.len(), 3);
}

#[test]
fn a_global_key_anywhere_makes_the_keys_global() {
    let base = "CREATE TABLE p (sku TEXT, tenant_id TEXT NOT NULL, \
                PRIMARY KEY (tenant_id, sku)) WITHOUT ROWID;";
    assert!(table(&schema(base), "p").tenant_keys);
    for extra in [
        "CREATE UNIQUE INDEX u ON p (sku);",
        "CREATE UNIQUE INDEX u ON p (lower(tenant_id), sku);",
    ] {
        // The index may come before or after its table.
        for sql in [format!("{base}{extra}"), format!("{extra}{base}")] {
            assert!(!table(&schema(&sql), "p").tenant_keys, "{sql}");
        }
    }
    let column_unique = "CREATE TABLE p (sku TEXT UNIQUE, tenant_id TEXT NOT NULL, \
                         PRIMARY KEY (tenant_id, sku)) WITHOUT ROWID;";
    assert!(!table(&schema(column_unique), "p").tenant_keys);
    // A plain index says nothing about keys.
    let plain = format!("{base} CREATE INDEX i ON p (sku);");
    assert!(table(&schema(&plain), "p").tenant_keys);
}

#[test]
fn the_old_layout_has_no_markers_and_global_keys() {
    let s = schema(
        "CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT UNIQUE, tenant_id TEXT NOT NULL);
         CREATE TABLE w (k TEXT PRIMARY KEY, tenant_id TEXT NOT NULL) WITHOUT ROWID;
         CREATE INDEX c_tenant ON c (tenant_id);",
    );
    let c = table(&s, "c");
    assert_eq!((c.key.clone(), c.tenant_keys), (None, false));
    assert_eq!(c.rowid_column(), Some("id"));
    assert!(!table(&s, "w").tenant_keys);
}

#[test]
fn a_marker_not_on_the_migrators_key_shape_means_the_rowid_is_gone() {
    let s = schema(
        "CREATE TABLE t (a INTEGER, b INTEGER, tenant_id TEXT NOT NULL, \
         CONSTRAINT tenantry_rowid PRIMARY KEY (a, b)) WITHOUT ROWID;",
    );
    assert_eq!(table(&s, "t").key, Some(RowKey::Gone));
}

#[test]
fn a_table_constraints_conflict_clause_is_read() {
    let s = schema(
        "CREATE TABLE t (a TEXT, b TEXT, tenant_id TEXT NOT NULL, \
         PRIMARY KEY (tenant_id, a) ON CONFLICT REPLACE, \
         UNIQUE (tenant_id, b) ON CONFLICT IGNORE) WITHOUT ROWID;",
    );
    let t = table(&s, "t");
    assert!(t.replaces_on_conflict && t.tenant_keys);
    assert_eq!(t.unique_keys.len(), 2);
}
