//! A small schema in its legacy form and in the tenant-first form of issue 12 (as the
//! migrator leaves it: every key led by the tenant column, rowid keys kept in marked
//! columns), with other tenants holding the same keys as tenant A. Statements are checked
//! on the oracle of `support.rs`: the legacy statement on the legacy database against the
//! rewritten one on the tenant-first database.

use rusqlite::Connection;
use tenantry_rewrite::{Rewriter, SCOPED_TRIGGER_MARK};
use tenantry_testkit::oracle::build::{Migration, Rows, Setup};

use crate::support::{World, schema_of};

/// The legacy schema.
pub const LEGACY: &str = r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    note TEXT
);
CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT);
CREATE TABLE vehicles (
    id INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    plate TEXT
);
CREATE TABLE price_levels (code TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
CREATE TABLE notes (body TEXT);
CREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT DEFAULT 'logged');
CREATE TABLE tags (name TEXT PRIMARY KEY ON CONFLICT REPLACE, color TEXT) WITHOUT ROWID;
"#;

/// The same schema after the tenant-first migration.
pub const TENANT_FIRST: &str = r#"
CREATE TABLE "users" (
    id INTEGER,
    username TEXT NOT NULL,
    email TEXT,
    note TEXT,
    "tenant_id" VARCHAR(255) NOT NULL,
    CONSTRAINT "tenantry_autoincrement" PRIMARY KEY ("tenant_id", "id"),
    UNIQUE ("tenant_id", "username"),
    UNIQUE ("tenant_id", "email")
) WITHOUT ROWID;
CREATE TABLE "customers" (id TEXT, name TEXT, "tenant_id" VARCHAR(255) NOT NULL,
    CONSTRAINT "tenantry_clustered" PRIMARY KEY ("tenant_id", "id")) WITHOUT ROWID;
CREATE TABLE "vehicles" (id INTEGER, customer_id TEXT NOT NULL, plate TEXT,
    "tenant_id" VARCHAR(255) NOT NULL,
    CONSTRAINT "tenantry_rowid" PRIMARY KEY ("tenant_id", "id"),
    FOREIGN KEY ("tenant_id", "customer_id") REFERENCES "customers" ("tenant_id", "id")
        ON DELETE CASCADE) WITHOUT ROWID;
CREATE TABLE "price_levels" (code TEXT, name TEXT, "tenant_id" VARCHAR(255) NOT NULL,
    PRIMARY KEY ("tenant_id", "code")) WITHOUT ROWID;
CREATE TABLE "notes" (body TEXT, "tenant_id" VARCHAR(255) NOT NULL);
CREATE TABLE "logs" (id INTEGER, msg TEXT DEFAULT 'logged', "tenant_id" VARCHAR(255) NOT NULL,
    CONSTRAINT "tenantry_rowid" PRIMARY KEY ("tenant_id", "id")) WITHOUT ROWID;
CREATE INDEX "notes_tenant" ON "notes" ("tenant_id");
CREATE TABLE "tags" (name TEXT, color TEXT, "tenant_id" VARCHAR(255) NOT NULL,
    PRIMARY KEY ("tenant_id", name) ON CONFLICT REPLACE) WITHOUT ROWID;
CREATE TABLE "_tenantry_sequence" (name TEXT NOT NULL, seq INTEGER NOT NULL,
    "tenant_id" VARCHAR(255) NOT NULL, PRIMARY KEY ("tenant_id", "name")) WITHOUT ROWID;
"#;

/// The trigger the migrator gives an AUTOINCREMENT table: the tenant's high-water mark.
fn sequence_trigger() -> String {
    format!(
        "CREATE TRIGGER users_sequence AFTER INSERT ON users BEGIN {SCOPED_TRIGGER_MARK}
           INSERT INTO _tenantry_sequence (tenant_id, name, seq)
             VALUES (NEW.tenant_id, 'users', NEW.id)
             ON CONFLICT (tenant_id, name) DO UPDATE SET seq = max(seq, excluded.seq);
         END"
    )
}

/// Tenant A's rows in the legacy database: user 4 was inserted and deleted (its key is not
/// reused), vehicle keys 1, 2 and 5.
const LEGACY_ROWS: &str = r#"
INSERT INTO users (id, username, email) VALUES (1, 'ann', 'ann@a'), (2, 'bo', NULL), (3, 'cy', 'cy@a'), (4, 'gone', NULL);
DELETE FROM users WHERE id = 4;
INSERT INTO customers (id, name) VALUES ('c1', 'Acme'), ('c2', 'Bolt');
INSERT INTO vehicles (id, customer_id, plate) VALUES (1, 'c1', 'A-1'), (2, 'c1', 'A-2'), (5, 'c2', 'A-5');
INSERT INTO price_levels (code, name) VALUES ('std', 'Standard'), ('vip', 'VIP');
INSERT INTO notes (body) VALUES ('first'), ('second');
INSERT INTO logs (id) VALUES (1);
INSERT INTO tags (name, color) VALUES ('red', 'r'), ('blue', 'b');
"#;

/// The tenant-first database's rows: A's as above, B and C holding the same keys (B's
/// higher than A's, C's lower).
const TENANT_FIRST_ROWS: &str = r#"
INSERT INTO users (id, username, email, tenant_id) VALUES
  (1, 'ann', 'ann@a', 'A'), (2, 'bo', NULL, 'A'), (3, 'cy', 'cy@a', 'A'),
  (1, 'ann', 'ann@b', 'B'), (2, 'bo', NULL, 'B'), (3, 'cy', 'cy@b', 'B'), (9, 'zed', NULL, 'B'),
  (1, 'ann', 'ann@c', 'C');
INSERT INTO _tenantry_sequence (tenant_id, name, seq) VALUES ('A', 'users', 4), ('B', 'users', 12), ('C', 'users', 1);
INSERT INTO customers (id, name, tenant_id) VALUES
  ('c1', 'Acme', 'A'), ('c2', 'Bolt', 'A'), ('c1', 'Bacme', 'B'), ('c2', 'Bbolt', 'B'), ('c1', 'Cacme', 'C');
INSERT INTO vehicles (id, customer_id, plate, tenant_id) VALUES
  (1, 'c1', 'A-1', 'A'), (2, 'c1', 'A-2', 'A'), (5, 'c2', 'A-5', 'A'),
  (1, 'c1', 'B-1', 'B'), (2, 'c2', 'B-2', 'B'), (9, 'c1', 'B-9', 'B'), (1, 'c1', 'C-1', 'C');
INSERT INTO price_levels (code, name, tenant_id) VALUES
  ('std', 'Standard', 'A'), ('vip', 'VIP', 'A'), ('std', 'Bstandard', 'B'), ('vip', 'Bvip', 'C');
INSERT INTO tags (name, color, tenant_id) VALUES ('red', 'r', 'A'), ('blue', 'b', 'A'), ('red', 'R', 'B'), ('blue', 'B', 'C');
INSERT INTO logs (id, tenant_id) VALUES (1, 'A'), (1, 'B'), (2, 'B');
INSERT INTO notes (rowid, body, tenant_id) VALUES (-1, 'first', 'B'), (1, 'first', 'A'), (2, 'second', 'A'), (-2, 'other', 'C');
"#;

/// The legacy database and its tenant-first twin with tenants A, B and C.
pub fn world() -> World {
    world_with(Rewriter::new)
}

/// As [`world`], with the rewriter made by `make` from the tenant-first schema.
pub fn world_with(make: impl FnOnce(tenantry_rewrite::Schema) -> Rewriter) -> World {
    let open = || Connection::open_in_memory().expect("open");
    let setup = Setup {
        legacy: LEGACY,
        triggers: &[],
    };
    let single = setup.legacy(open(), &[LEGACY_ROWS]);
    let multi = setup.migrated(
        open(),
        Migration::Declared(TENANT_FIRST),
        &[Rows::Migrated(TENANT_FIRST_ROWS)],
    );
    multi
        .execute_batch(&sequence_trigger())
        .expect("sequence trigger");
    let rewriter = make(schema_of(&multi));
    World::from_parts(single, multi, rewriter)
}

/// The statement's rewrite for tenant A, or the refusal's kind.
pub fn rewrite(w: &World, sql: &str) -> Result<String, &'static str> {
    w.rewrite(sql).map_err(|e| match e {
        tenantry_rewrite::RewriteError::Refused { reason, .. } => reason.name(),
        _ => "Parse",
    })
}
