//! Building the oracle's databases: the legacy (single-tenant) one, and a migrated one with
//! the tenant column, rows of several tenants and the triggers scoped as the migrator scopes
//! them.

use rusqlite::Connection;
use tenantry_rewrite::Rewriter;

use super::TENANT_COLUMN;
use crate::db::schema_of;
use crate::sql::quote;

/// A legacy schema.
#[derive(Clone, Copy, Debug)]
pub struct Setup<'a> {
    /// The legacy schema's tables and views.
    pub legacy: &'a str,
    /// The legacy schema's triggers, created after the rows (so that inserting the rows
    /// fires none); scoped by the rewriter in a migrated database.
    pub triggers: &'a [&'a str],
}

/// How the migrated schema is made from the legacy one.
#[derive(Clone, Copy, Debug)]
pub enum Migration<'a> {
    /// The legacy schema, then on each of `tables`, as the migrator does: `ALTER TABLE …
    /// ADD COLUMN tenant_id VARCHAR(255) NOT NULL DEFAULT '<default>'` and an index
    /// `idx_<table>_tenant` on it.
    AddColumn {
        /// The tenant tables, in order.
        tables: &'a [&'a str],
        /// The tenant the column's default names.
        default: &'a str,
    },
    /// The migrated schema, declared in full.
    Declared(&'a str),
}

/// Rows for the migrated database.
#[derive(Clone, Copy, Debug)]
pub enum Rows<'a> {
    /// Rows written for the legacy schema: inserted (the tenant column's default tags them
    /// with the default tenant), then every row of the default tenant is tagged with
    /// `tenant`; so the default tenant's rows come last.
    Legacy {
        /// The tenant the rows are given.
        tenant: &'a str,
        /// The INSERTs.
        sql: &'a str,
    },
    /// Rows that name their tenant, or of global tables: inserted as they are.
    Migrated(&'a str),
}

impl Setup<'_> {
    /// Fills `conn` (empty) with the legacy schema, `rows` (each a batch of SQL, in order)
    /// and the triggers, and turns foreign keys on.
    pub fn legacy(&self, conn: Connection, rows: &[&str]) -> Connection {
        conn.execute_batch(self.legacy).expect("legacy schema");
        for sql in rows {
            conn.execute_batch(sql).expect("legacy rows");
        }
        for trigger in self.triggers {
            conn.execute_batch(trigger).expect("legacy trigger");
        }
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .expect("foreign keys");
        conn
    }

    /// Fills `conn` (empty) with the schema `migration` makes, `rows` in order (foreign
    /// keys off meanwhile: one tenant's row may point at another's), and the triggers
    /// scoped by a rewriter of the schema without them; turns foreign keys on. (A database
    /// migrated by the migrator itself is built by its test, with [`Setup::legacy`].)
    pub fn migrated(
        &self,
        conn: Connection,
        migration: Migration<'_>,
        rows: &[Rows<'_>],
    ) -> Connection {
        let default = match migration {
            Migration::AddColumn { tables, default } => {
                conn.execute_batch(self.legacy).expect("legacy schema");
                for table in tables {
                    let q = quote(table);
                    conn.execute_batch(&format!(
                        "ALTER TABLE {q} ADD COLUMN {TENANT_COLUMN} VARCHAR(255) NOT NULL \
                         DEFAULT '{default}';
                         CREATE INDEX {} ON {q} ({TENANT_COLUMN});",
                        quote(&format!("idx_{table}_tenant")),
                    ))
                    .expect("add the tenant column");
                }
                Some((tables, default))
            }
            Migration::Declared(ddl) => {
                conn.execute_batch(ddl).expect("migrated schema");
                None
            }
        };
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .expect("foreign keys");
        for rows in rows {
            match *rows {
                Rows::Legacy { tenant, sql } => {
                    let (tables, default) = default.expect("legacy rows need a column default");
                    conn.execute_batch(sql).expect("rows");
                    for table in tables {
                        conn.execute(
                            &format!(
                                "UPDATE {} SET {TENANT_COLUMN} = ?1 WHERE {TENANT_COLUMN} = ?2",
                                quote(table)
                            ),
                            [tenant, default],
                        )
                        .expect("tag rows");
                    }
                }
                Rows::Migrated(sql) => conn.execute_batch(sql).expect("rows"),
            }
        }
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .expect("foreign keys");
        let unscoped = Rewriter::new(schema_of(&conn));
        for trigger in self.triggers {
            let scoped = unscoped.scope_trigger(trigger).expect("scope trigger");
            conn.execute_batch(&scoped).expect("scoped trigger");
        }
        conn
    }
}
