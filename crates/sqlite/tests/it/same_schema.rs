//! Connections opened one by one (one per request, as many applications do) to databases
//! of the same schema share the rewriter and its plans: opening one does not read the
//! schema into a rewriter again. Each still reads only its own database's rows, and a
//! different schema, tenant column or set of the application's own tenant columns gets a
//! rewriter of its own.

use tenantry_sqlite::{Connection, SharedPlans};

/// A schema no other test uses (the process shares plans by schema text).
const SCHEMA: &str = "
CREATE TABLE same_schema_orders (id INTEGER PRIMARY KEY, total INT, tenant_id TEXT NOT NULL);
CREATE INDEX idx_same_schema_orders_tenant_id ON same_schema_orders (tenant_id);";

fn database(dir: &std::path::Path, name: &str, extra: &str, rows: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch(&format!("{SCHEMA}{extra}{rows}")))
        .expect("database");
    path
}

fn total(conn: &Connection) -> i64 {
    conn.query_row("SELECT sum(total) FROM same_schema_orders", [], |r| {
        r.get(0)
    })
    .expect("sum")
}

#[test]
fn a_connection_per_request_reuses_the_schemas_plans_and_reads_its_own_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows_one = "INSERT INTO same_schema_orders VALUES (1, 10, 'a'), (2, 20, 'b');";
    let rows_two = "INSERT INTO same_schema_orders VALUES (1, 100, 'a'), (2, 200, 'a');";
    let one = database(dir.path(), "one.db", "", rows_one);
    let two = database(dir.path(), "two.db", "", rows_two);
    let first = Connection::open(&one).expect("open one");
    first.set_tenant("a").expect("tenant");
    assert_eq!(first.cached_plans(), 0);
    assert_eq!(total(&first), 10);
    drop(first);
    // A later request, another connection: the plan is there already.
    let again = Connection::open(&one).expect("open one again");
    assert_eq!(again.cached_plans(), 1);
    // Another database of the same schema: the same plans, its own rows.
    let other = Connection::open(&two).expect("open two");
    assert_eq!(other.cached_plans(), 1);
    other.set_tenant("a").expect("tenant");
    assert_eq!(total(&other), 300);
    other.set_tenant("b").expect("tenant");
    assert_eq!(
        other
            .query_row("SELECT count(*) FROM same_schema_orders", [], |r| r
                .get::<_, i64>(0))
            .expect("count"),
        0
    );

    // Another schema, another rewriter.
    let three = database(
        dir.path(),
        "three.db",
        "CREATE TABLE same_schema_notes (body TEXT);",
        rows_one,
    );
    let changed = Connection::open(&three).expect("open three");
    assert_eq!(changed.cached_plans(), 0);
    // The same schema with a tenant column declared the application's own: its statements
    // see the column, so it cannot share plans that hide it.
    let plans = SharedPlans::default().with_own_tenant_columns(["same_schema_orders"]);
    let own = Connection::wrap_shared(
        rusqlite::Connection::open(&one).expect("open"),
        "tenant_id",
        plans,
    )
    .expect("wrap");
    assert_eq!(own.cached_plans(), 0);
    own.set_tenant("a").expect("tenant");
    let columns = own
        .prepare("SELECT * FROM same_schema_orders")
        .expect("prepare")
        .column_count();
    assert_eq!(columns, 3, "the application's own tenant column is shown");
    again.set_tenant("a").expect("tenant");
    let hidden = again
        .prepare("SELECT * FROM same_schema_orders")
        .expect("prepare")
        .column_count();
    assert_eq!(hidden, 2, "tenantry's column is not");
}

#[test]
fn a_schema_change_is_seen_by_a_connection_that_shares_plans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = database(
        dir.path(),
        "change.db",
        "CREATE TABLE same_schema_change_marker (x);",
        "INSERT INTO same_schema_orders VALUES (1, 10, 'a');",
    );
    let conn = Connection::open(&path).expect("open");
    conn.set_tenant("a").expect("tenant");
    assert_eq!(total(&conn), 10);
    // The schema changes under it: a new tenant table.
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch(
                "CREATE TABLE same_schema_refunds (amount INT, tenant_id TEXT NOT NULL);
                 INSERT INTO same_schema_refunds VALUES (5, 'a'), (7, 'b');",
            )
        })
        .expect("change");
    // The connection looks again once a transaction of its own has seen the change, or
    // after `SCHEMA_RECHECK_AFTER` (10 ms); until then the table is unknown to it, and
    // refused (ARCHITECTURE.md, the schema watch).
    std::thread::sleep(std::time::Duration::from_millis(50));
    let refunds: i64 = conn
        .query_row("SELECT sum(amount) FROM same_schema_refunds", [], |r| {
            r.get(0)
        })
        .expect("the new table, scoped");
    assert_eq!(refunds, 5);
}
