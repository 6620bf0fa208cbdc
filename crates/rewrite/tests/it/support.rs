//! A two-database oracle for rewritten statements, over a fixed schema: the test kit's
//! oracle (`tenantry_testkit::oracle`) configured with a shop's tables and rows.
//!
//! `single` is the legacy database: the schema without a tenant column, holding only tenant
//! A's rows. `multi` is the migrated database: the same tables with `tenant_id`, holding A's
//! rows and the rows of B and C, which reuse A's names and text (so a leak shows up as a
//! duplicate) with other numbers (so a leak changes a sum), and one of B's orders points at
//! A's customer. A statement checked here must, through the rewriter, return on `multi`
//! exactly what it returns on `single` (same column names, same values) and leave `multi`
//! so that A's rows equal `single`'s and B's and C's rows are untouched, byte for byte.
//!
//! The expected results come from SQLite running the original statement on `single`, never
//! from the rewriter.

use rusqlite::Connection;
use rusqlite::types::Value;
use tenantry_rewrite::{Plan, RewriteError, Rewriter, TenantId};
use tenantry_testkit::oracle::build::{Migration, Rows, Setup};
use tenantry_testkit::oracle::tenancy::Tenancy;
use tenantry_testkit::oracle::{Oracle, Scoped, comparable};
use tenantry_testkit::sql::quote;

pub use tenantry_testkit::db::{Outcome, query, schema_of};

/// The legacy schema (before migration).
pub const LEGACY_DDL: &str = r#"
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    email TEXT UNIQUE,
    tier TEXT,
    city TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER REFERENCES customers(id),
    total REAL,
    status TEXT,
    placed TEXT
);
CREATE TABLE items (
    order_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    PRIMARY KEY (order_id, sku)
) WITHOUT ROWID;
CREATE TABLE "Mixed Case" ("Note Id" TEXT PRIMARY KEY, "Body Text" TEXT);
CREATE TABLE codes (
    code TEXT PRIMARY KEY,
    label TEXT,
    shout TEXT GENERATED ALWAYS AS (upper(label)) VIRTUAL
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE vip (customer_id INTEGER);
CREATE VIEW open_orders AS
SELECT o.*, (SELECT value FROM settings WHERE key = 'currency') AS currency
  FROM orders o WHERE o.status = 'open';
CREATE VIEW customer_totals AS
SELECT c.id, c.name, count(o.id) AS n, sum(o.total) AS spent
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
CREATE VIEW open_totals AS SELECT customer_id, sum(total) FROM open_orders GROUP BY customer_id;
CREATE VIEW gold AS SELECT id FROM customers WHERE tier = 'gold';
"#;

/// The legacy schema's trigger.
const TRIGGERS: &[&str] = &[
    "CREATE TRIGGER customers_tier AFTER UPDATE OF tier ON customers
BEGIN
    UPDATE orders SET placed = 'tier ' || NEW.tier WHERE customer_id = NEW.id;
    INSERT INTO vip (customer_id) SELECT NEW.id WHERE NEW.tier = 'platinum';
END",
];

/// Tables that get the tenant column.
const TENANT_TABLES: &[&str] = &["customers", "orders", "items", "Mixed Case", "codes", "vip"];

/// Rows of one tenant; `{o}` id offset, `{m}` multiplier, `{s}` suffix, `{x}` the id
/// offset of the customers that order 4 points at.
const TENANT_ROWS: &str = r#"
INSERT INTO customers (id, name, email, tier, city) VALUES
  ({o} + 1, 'Alice', 'alice@{s}.test', 'gold', 'Austin'),
  ({o} + 2, 'Bob', 'bob@{s}.test', NULL, 'Boston'),
  ({o} + 3, 'carol', 'carol@{s}.test', 'silver', 'Austin'),
  ({o} + 4, 'Dave', 'dave@{s}.test', 'gold', NULL),
  ({o} + 5, 'Erin', NULL, 'bronze', 'Chicago');
INSERT INTO orders (id, customer_id, total, status, placed) VALUES
  ({o} + 1, {o} + 1, 10.5 * {m}, 'open', '2026-01-01'),
  ({o} + 2, {o} + 1, 20 * {m}, 'paid', '2026-01-02'),
  ({o} + 3, {o} + 2, 5 * {m}, 'open', '2026-01-03'),
  ({o} + 4, {x} + 3, 7 * {m}, 'void', '2026-01-04'),
  ({o} + 5, NULL, 1 * {m}, 'open', '2026-01-05');
INSERT INTO items (order_id, sku, qty) VALUES
  ({o} + 1, 'BRK-100', {m}),
  ({o} + 1, 'OIL-5W30', 2),
  ({o} + 2, 'BRK-100', 1),
  ({o} + 3, 'FLT-9', 3 * {m});
INSERT INTO "Mixed Case" ("Note Id", "Body Text") VALUES
  ('{s}-1', 'first'), ('{s}-2', 'second');
INSERT INTO codes (code, label) VALUES ('{s}-x', 'express'), ('{s}-y', 'yard');
INSERT INTO vip (customer_id) VALUES ({o} + 1), ({o} + 3), (103);
"#;

const GLOBAL_ROWS: &str = "INSERT INTO settings VALUES ('currency', 'USD'), ('tax', '0.08');";

/// The tenants in `multi`: (id, offset, multiplier, suffix, order-4 target offset). A has the
/// highest ids so that new rowids are the same in both databases.
const TENANTS: &[(&str, i64, i64, &str, i64)] = &[
    ("B", 0, 3, "b", 100),
    ("C", 50, 7, "c", 50),
    ("A", 100, 1, "a", 100),
];

fn rows_sql(o: i64, m: i64, s: &str, x: i64) -> String {
    TENANT_ROWS
        .replace("{o}", &o.to_string())
        .replace("{m}", &m.to_string())
        .replace("{s}", s)
        .replace("{x}", &x.to_string())
}

/// Both databases and a rewriter for `multi`.
pub struct World {
    pub single: Connection,
    pub multi: Connection,
    pub rewriter: Rewriter,
    pub tenant: TenantId,
    tenancy: Tenancy,
}

impl World {
    pub fn new() -> World {
        let setup = Setup {
            legacy: LEGACY_DDL,
            triggers: TRIGGERS,
        };
        let migration = Migration::AddColumn {
            tables: TENANT_TABLES,
            default: "A",
        };
        let open = || Connection::open_in_memory().expect("open");
        let single = setup.legacy(open(), &[&rows_sql(100, 1, "a", 100), GLOBAL_ROWS]);
        let tenant_rows: Vec<(&str, String)> = TENANTS
            .iter()
            .map(|&(tenant, o, m, s, x)| (tenant, rows_sql(o, m, s, x)))
            .collect();
        let mut rows: Vec<Rows<'_>> = tenant_rows
            .iter()
            .map(|(tenant, sql)| Rows::Legacy { tenant, sql })
            .collect();
        rows.push(Rows::Migrated(GLOBAL_ROWS));
        let multi = setup.migrated(open(), migration, &rows);
        // Tables without an INTEGER PRIMARY KEY: give A's rows the rowids they have in the
        // single-tenant database, and the others negative ones, as a migration that keeps
        // rowids would (and so new rows get the same rowid in both).
        for table in ["Mixed Case", "codes", "vip"] {
            let q = quote(table);
            multi
                .execute_batch(&format!(
                    "UPDATE {q} SET rowid = -rowid WHERE tenant_id <> 'A';
                     UPDATE {q} SET rowid = rowid - (SELECT min(rowid) - 1 FROM {q} WHERE tenant_id = 'A')
                       WHERE tenant_id = 'A';"
                ))
                .expect("renumber rowids");
        }
        let tenancy = Tenancy::read(&single, &multi, "A");
        World {
            rewriter: Rewriter::new(schema_of(&multi)),
            single,
            multi,
            tenant: TenantId::new("A").expect("tenant"),
            tenancy,
        }
    }

    /// A world of two databases built elsewhere (another schema), checked the same way.
    pub fn from_parts(single: Connection, multi: Connection, rewriter: Rewriter) -> World {
        let tenancy = Tenancy::read(&single, &multi, "A");
        World {
            single,
            multi,
            rewriter,
            tenant: TenantId::new("A").expect("tenant"),
            tenancy,
        }
    }

    pub fn rewrite(&self, sql: &str) -> Result<String, RewriteError> {
        self.rewriter
            .rewrite(sql, &self.tenant)
            .map(|r| r.sql().to_owned())
    }

    pub fn plan(&self, sql: &str) -> Result<Plan, RewriteError> {
        self.rewriter.plan(sql)
    }

    /// Rows of the other tenants, every column and rowid.
    pub fn others(&self) -> String {
        self.tenancy.others(&self.multi, false).expect("others")
    }

    /// Runs `sql` on `single` and its rewrite on `multi` with the same parameters, and
    /// asserts the oracle's three properties. Returns the single-tenant outcome.
    pub fn check_with(&self, sql: &str, params: &[Value], ordered: bool) -> Outcome {
        let oracle = Oracle {
            single: &self.single,
            scoped: Scoped::Rewritten {
                conn: &self.multi,
                rewriter: &self.rewriter,
                tenant: &self.tenant,
            },
            tenancy: &self.tenancy,
        };
        let v = oracle.run(sql, params);
        let got = v
            .got
            .unwrap_or_else(|e| panic!("rewrite refused {sql}: {e}"));
        let rewritten = got.sql;
        let expected = match (v.expected, got.outcome) {
            (Ok(e), Ok(g)) => {
                assert_eq!(
                    comparable(&Ok(e.clone()), ordered),
                    comparable(&Ok(g), ordered),
                    "results differ\n  original:  {sql}\n  rewritten: {rewritten}"
                );
                e
            }
            (Err(e), Err(_)) => panic!("the original fails on the legacy database: {sql}: {e}"),
            (Ok(_), Err(g)) => {
                panic!("the rewrite fails where the original runs:\n  {sql}\n  {rewritten}\n  {g}")
            }
            (Err(e), Ok(_)) => {
                panic!("the rewrite runs where the original fails:\n  {sql}\n  {rewritten}\n  {e}")
            }
        };
        assert_eq!(
            v.others_before, v.others_after,
            "other tenants' rows changed\n  rewritten: {rewritten}"
        );
        assert_slices(&v.single_after, &v.scoped_after, &rewritten);
        expected
    }

    /// Unordered comparison, no parameters.
    pub fn check(&self, sql: &str) -> Outcome {
        self.check_with(sql, &[], false)
    }

    /// Ordered comparison, no parameters.
    pub fn check_ordered(&self, sql: &str) -> Outcome {
        self.check_with(sql, &[], true)
    }

    /// A's rows in `multi` equal `single`'s rows, table by table; global tables equal.
    pub fn assert_slices_equal(&self, context: &str) {
        assert_slices(
            &self.tenancy.slice(&self.single, false),
            &self.tenancy.slice(&self.multi, true),
            context,
        );
    }
}

fn assert_slices(single: &[(String, Outcome)], multi: &[(String, Outcome)], context: &str) {
    for ((table, single), (_, multi)) in single.iter().zip(multi) {
        assert_eq!(single, multi, "table {table} differs after: {context}");
    }
}
