//! A two-database oracle for rewritten statements.
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

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use tenantry_rewrite::{Plan, RewriteError, Rewriter, Schema, TenantId};

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
CREATE TRIGGER customers_tier AFTER UPDATE OF tier ON customers
BEGIN
    UPDATE orders SET placed = 'tier ' || NEW.tier WHERE customer_id = NEW.id;
    INSERT INTO vip (customer_id) SELECT NEW.id WHERE NEW.tier = 'platinum';
END;
"#;

/// Tables that get the tenant column.
pub const TENANT_TABLES: &[&str] = &["customers", "orders", "items", "Mixed Case", "codes", "vip"];

/// All tables.
pub const ALL_TABLES: &[&str] = &[
    "customers",
    "orders",
    "items",
    "Mixed Case",
    "codes",
    "vip",
    "settings",
];

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

/// The result of running SQL: column names and rows, or SQLite's error.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Both databases and a rewriter for `multi`.
pub struct World {
    pub single: Connection,
    pub multi: Connection,
    pub rewriter: Rewriter,
    pub tenant: TenantId,
}

impl World {
    pub fn new() -> World {
        let single = Connection::open_in_memory().expect("open single");
        single.execute_batch(LEGACY_DDL).expect("legacy schema");
        single
            .execute_batch(&rows_sql(100, 1, "a", 100))
            .expect("A rows");
        single.execute_batch(GLOBAL_ROWS).expect("global rows");

        let multi = Connection::open_in_memory().expect("open multi");
        multi.execute_batch(LEGACY_DDL).expect("legacy schema");
        for table in TENANT_TABLES {
            let q = quote(table);
            multi
                .execute_batch(&format!(
                    "ALTER TABLE {q} ADD COLUMN tenant_id VARCHAR(255) NOT NULL DEFAULT 'A';
                     CREATE INDEX {} ON {q} (tenant_id);",
                    quote(&format!("idx_{table}_tenant")),
                ))
                .expect("add tenant column");
        }
        // B's order 4 points at A's customer, which does not exist yet.
        multi
            .execute_batch("PRAGMA foreign_keys = OFF")
            .expect("fk off");
        for &(tenant, o, m, s, x) in TENANTS {
            multi.execute_batch(&rows_sql(o, m, s, x)).expect("rows");
            for table in TENANT_TABLES {
                multi
                    .execute(
                        &format!(
                            "UPDATE {} SET tenant_id = ?1 WHERE tenant_id = 'A'",
                            quote(table)
                        ),
                        [tenant],
                    )
                    .expect("tag rows");
            }
        }
        multi.execute_batch(GLOBAL_ROWS).expect("global rows");
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
        multi
            .execute_batch("PRAGMA foreign_keys = ON")
            .expect("fk on");
        single
            .execute_batch("PRAGMA foreign_keys = ON")
            .expect("fk on");
        // Scope the triggers as the migrator does, then read the schema again.
        let triggers: Vec<(String, String)> = multi
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .expect("triggers");
        let unscoped = Rewriter::new(schema_of(&multi));
        for (name, sql) in triggers {
            let scoped = unscoped.scope_trigger(&sql).expect("scope trigger");
            multi
                .execute_batch(&format!("DROP TRIGGER {}; {scoped};", quote(&name)))
                .expect("replace trigger");
        }
        let rewriter = Rewriter::new(schema_of(&multi));
        World {
            single,
            multi,
            rewriter,
            tenant: TenantId::new("A").expect("tenant"),
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

    /// Rows of the other tenants, every column, in a fixed order.
    pub fn others(&self) -> Vec<(String, Vec<Vec<Value>>)> {
        TENANT_TABLES
            .iter()
            .map(|t| {
                let sql = format!(
                    "SELECT * FROM {} WHERE tenant_id <> 'A' ORDER BY 1, 2",
                    quote(t)
                );
                (
                    t.to_string(),
                    query(&self.multi, &sql, &[]).expect("others").rows,
                )
            })
            .collect()
    }

    /// Runs `sql` on `single` and its rewrite on `multi` with the same parameters, and
    /// asserts the oracle's three properties. Returns the single-tenant outcome.
    pub fn check_with(&self, sql: &str, params: &[Value], ordered: bool) -> Outcome {
        let rewritten = self
            .rewrite(sql)
            .unwrap_or_else(|e| panic!("rewrite refused {sql}: {e}"));
        let before = self.others();
        let expected = query(&self.single, sql, params);
        let got = query(&self.multi, &rewritten, params);
        let (expected, mut got) = match (expected, got) {
            (Ok(e), Ok(g)) => (e, g),
            (Err(e), Err(_)) => panic!("the original fails on the legacy database: {sql}: {e}"),
            (Ok(_), Err(g)) => {
                panic!("the rewrite fails where the original runs:\n  {sql}\n  {rewritten}\n  {g}")
            }
            (Err(e), Ok(_)) => {
                panic!("the rewrite runs where the original fails:\n  {sql}\n  {rewritten}\n  {e}")
            }
        };
        let mut expected_sorted = expected.clone();
        if !ordered {
            expected_sorted.rows.sort_by(cmp_row);
            got.rows.sort_by(cmp_row);
        }
        assert_eq!(
            expected_sorted, got,
            "results differ\n  original:  {sql}\n  rewritten: {rewritten}"
        );
        assert_eq!(
            before,
            self.others(),
            "other tenants' rows changed\n  rewritten: {rewritten}"
        );
        self.assert_slices_equal(&rewritten);
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
        for table in ALL_TABLES {
            let columns = legacy_columns(&self.single, table);
            let list = columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", ");
            let order = (1..=columns.len())
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let filter = if TENANT_TABLES.contains(table) {
                "WHERE tenant_id = 'A'"
            } else {
                ""
            };
            let q = quote(table);
            let single = query(
                &self.single,
                &format!("SELECT {list} FROM {q} ORDER BY {order}"),
                &[],
            )
            .expect("single slice");
            let multi = query(
                &self.multi,
                &format!("SELECT {list} FROM {q} {filter} ORDER BY {order}"),
                &[],
            )
            .expect("multi slice");
            assert_eq!(single, multi, "table {table} differs after: {context}");
        }
    }
}

/// The schema of a database, read the way `tenantry rewrite --db` reads it.
pub fn schema_of(conn: &Connection) -> Schema {
    let mut stmt = conn
        .prepare(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') \
             AND sql IS NOT NULL",
        )
        .expect("schema query");
    let ddl: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("schema rows")
        .collect::<Result<_, _>>()
        .expect("schema text");
    Schema::from_objects(&ddl, "tenant_id").expect("schema")
}

fn legacy_columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden IN (0, 2, 3)")
        .expect("columns");
    stmt.query_map([table], |r| r.get(0))
        .expect("columns")
        .collect::<Result<_, _>>()
        .expect("columns")
}

/// Runs one statement and collects its columns and rows.
pub fn query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Outcome, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let n = columns.len();
    let mut rows = stmt
        .query(params_from_iter(params.iter()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let values = (0..n)
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        out.push(values);
    }
    Ok(Outcome { columns, rows: out })
}

pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn cmp_row(a: &Vec<Value>, b: &Vec<Value>) -> std::cmp::Ordering {
    format!("{a:?}").cmp(&format!("{b:?}"))
}
