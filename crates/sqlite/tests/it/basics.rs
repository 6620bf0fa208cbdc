//! The tenant connection: tenant context, scoping of every method, refusals, caches that
//! never cross tenants, schema reloads, transactions.

use rusqlite::OptionalExtension;
use tenantry_rewrite::{Refusal, RewriteError};
use tenantry_sqlite::{Connection, Error, TenantId};

use crate::support::{self, Db, column};

const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                        tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
CREATE INDEX idx_customers_tenant ON customers (tenant_id);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO customers (id, name, tenant_id) VALUES
  (1, 'Ada', 'a'), (2, 'Bo', 'a'), (3, 'Cy', 'b'), (4, 'Di', 'c');
INSERT INTO settings VALUES ('currency', 'USD');
";

fn db() -> Db {
    support::db(SCHEMA)
}

/// Every row of every tenant, straight from SQLite.
fn all_rows(db: &Db) -> Vec<(i64, String, String)> {
    let conn = rusqlite::Connection::open(&db.path).expect("open");
    let mut stmt = conn
        .prepare("SELECT id, name, tenant_id FROM customers ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

fn names(conn: &Connection) -> Vec<String> {
    column(conn, "SELECT name FROM customers ORDER BY id")
}

#[test]
fn a_database_that_was_not_migrated_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("legacy.db");
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);")
        })
        .expect("schema");
    let err = Connection::open(&path).expect_err("refused");
    assert!(
        matches!(Error::of(&err), Some(Error::NotMigrated { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("tenantry migrate"), "{err}");
}

#[test]
fn with_no_tenant_set_every_statement_is_refused() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    let no_tenant = |e: rusqlite::Error| matches!(Error::of(&e), Some(Error::NoTenant));
    assert!(no_tenant(
        conn.execute("DELETE FROM customers", []).unwrap_err()
    ));
    assert!(no_tenant(
        conn.prepare("SELECT * FROM customers")
            .expect_err("refused")
    ));
    assert!(no_tenant(
        conn.query_row("SELECT count(*) FROM customers", [], |r| r.get::<_, i64>(0))
            .unwrap_err()
    ));
    assert!(no_tenant(conn.execute_batch("SELECT 1").unwrap_err()));
    assert_eq!(all_rows(&db).len(), 4);
}

#[test]
fn reads_and_writes_touch_only_the_current_tenant() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("tenant");
    assert_eq!(names(&conn), ["Ada", "Bo"]);
    assert_eq!(
        conn.execute("UPDATE customers SET name = upper(name)", [])
            .expect("update"),
        2
    );
    conn.execute("INSERT INTO customers (name) VALUES (?1)", ["Eve"])
        .expect("insert");
    assert_eq!(
        conn.execute("DELETE FROM customers WHERE name = 'BO'", [])
            .expect("delete"),
        1
    );
    let rows = all_rows(&db);
    let others: Vec<_> = rows.iter().filter(|r| r.2 != "a").cloned().collect();
    assert_eq!(
        others,
        [
            (3, "Cy".to_owned(), "b".to_owned()),
            (4, "Di".to_owned(), "c".to_owned())
        ]
    );
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.2 == "a")
        .map(|r| r.1.clone())
        .collect();
    assert_eq!(mine, ["ADA", "Eve"]);
    // Another tenant's row is invisible, by key too.
    let found: Option<String> = conn
        .query_row("SELECT name FROM customers WHERE id = 3", [], |r| r.get(0))
        .optional()
        .expect("query");
    assert_eq!(found, None);
}

#[test]
fn switching_tenants_never_reuses_another_tenants_statement() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    let count = |conn: &Connection| -> i64 {
        conn.prepare_cached("SELECT count(*) FROM customers")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .expect("count")
    };
    conn.set_tenant("a").expect("tenant");
    assert_eq!(count(&conn), 2);
    conn.set_tenant("b").expect("tenant");
    assert_eq!(count(&conn), 1);
    conn.set_tenant("a").expect("tenant");
    assert_eq!(count(&conn), 2);
    conn.set_tenant("nobody").expect("tenant");
    assert_eq!(count(&conn), 0);
}

#[test]
fn with_tenant_restores_the_previous_tenant() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("tenant");
    let inner = conn
        .with_tenant("b", |c| Ok(names(c)))
        .expect("with_tenant");
    assert_eq!(inner, ["Cy"]);
    assert_eq!(conn.tenant().map(|t| t.to_string()).as_deref(), Some("a"));
    let failed: rusqlite::Result<()> =
        conn.with_tenant("c", |c| c.execute_batch("DROP TABLE customers"));
    assert!(failed.is_err());
    assert_eq!(conn.tenant().map(|t| t.to_string()).as_deref(), Some("a"));
    // A panic in `f` that the caller catches (a server's per-request catch) leaves the
    // previous tenant too, never `b`.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: rusqlite::Result<()> = conn.with_tenant("b", |_| panic!("in the request"));
    }));
    assert!(caught.is_err());
    assert_eq!(conn.tenant().map(|t| t.to_string()).as_deref(), Some("a"));
    // An invalid id is refused and changes nothing.
    let err = conn.set_tenant("x' OR '1'='1").unwrap_err();
    assert!(matches!(Error::of(&err), Some(Error::InvalidTenantId(_))));
    assert_eq!(conn.tenant().map(|t| t.to_string()).as_deref(), Some("a"));
}

#[test]
fn the_tenant_is_text_or_a_tenant_id() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    let current = |conn: &Connection| conn.tenant().map(|t| t.to_string());
    let owned = String::from("b");
    conn.set_tenant(&owned).expect("&String");
    assert_eq!(current(&conn).as_deref(), Some("b"));
    conn.set_tenant(String::from("a")).expect("String");
    assert_eq!(names(&conn), ["Ada", "Bo"]);
    let b = TenantId::new("b").expect("valid");
    conn.set_tenant(&b).expect("&TenantId");
    assert_eq!(names(&conn), ["Cy"]);
    let inner = conn
        .with_tenant(TenantId::new("a").expect("valid"), |c| Ok(names(c)))
        .expect("with_tenant");
    assert_eq!(inner, ["Ada", "Bo"]);
    assert_eq!(conn.tenant(), Some(b));
    // Text is checked as before, whatever its type; nothing changes when it is refused.
    let empty = String::new();
    for refused in [
        conn.set_tenant(String::from("x' OR '1'='1")),
        conn.set_tenant(&empty),
        conn.with_tenant("a b", |_| Ok(())),
    ] {
        let err = refused.expect_err("invalid");
        assert!(matches!(Error::of(&err), Some(Error::InvalidTenantId(_))));
    }
    assert_eq!(
        current(&conn).as_deref(),
        Some("b"),
        "{empty:?} changed nothing"
    );
}

#[test]
fn refusals_are_typed_and_a_refused_batch_runs_nothing() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("tenant");
    let err = conn.execute("DROP TABLE customers", []).unwrap_err();
    match Error::of(&err) {
        Some(Error::Rewrite(e)) => {
            assert!(
                matches!(e.refusal(), Some(Refusal::SchemaChange { .. })),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    let err = conn
        .execute_batch("DELETE FROM customers; DROP TABLE settings;")
        .unwrap_err();
    assert!(Error::of(&err).is_some());
    assert_eq!(
        all_rows(&db).len(),
        4,
        "the DELETE before the refused DROP did not run"
    );
}

#[test]
fn a_schema_change_is_picked_up() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("tenant");
    assert!(conn.prepare("SELECT * FROM notes").is_err());
    conn.unscoped(|admin| {
        admin.execute_batch(
            "CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);
             INSERT INTO notes VALUES ('mine', 'a'), ('theirs', 'b');",
        )
    })
    .expect("admin");
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM notes")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(bodies, ["mine"]);
}

#[test]
fn transactions_are_scoped_and_roll_back_when_dropped() {
    let db = db();
    let mut conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("tenant");
    {
        let tx = conn.transaction().expect("begin");
        tx.execute("DELETE FROM customers", []).expect("delete");
        // Dropped without commit: rolled back.
    }
    assert_eq!(all_rows(&db).len(), 4);
    let tx = conn.transaction().expect("begin");
    assert_eq!(tx.execute("DELETE FROM customers", []).expect("delete"), 2);
    tx.commit().expect("commit");
    let tenants: Vec<String> = all_rows(&db).into_iter().map(|r| r.2).collect();
    assert_eq!(tenants, ["b", "c"]);
}

#[test]
fn an_unscoped_trigger_is_refused_and_a_scoped_one_runs_for_the_tenant() {
    // The trigger's SQL never went through the rewriter: it would copy every tenant's
    // customers. The rewriter refuses the INSERT that would fire it.
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    let trigger = "CREATE TRIGGER leak AFTER INSERT ON customers BEGIN
               INSERT INTO copies (name) SELECT name FROM customers;
             END";
    conn.unscoped(|admin| {
        admin.execute_batch(&format!(
            "CREATE TABLE copies (name TEXT, tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
             {trigger};"
        ))
    })
    .expect("admin");
    conn.set_tenant("a").expect("tenant");
    let err = conn
        .execute("INSERT INTO customers (name) VALUES ('Zed')", [])
        .unwrap_err();
    assert!(
        matches!(
            Error::of(&err),
            Some(Error::Rewrite(RewriteError::Refused {
                reason: Refusal::UnscopedTrigger { .. },
                ..
            }))
        ),
        "{err}"
    );
    assert_eq!(all_rows(&db).len(), 4);
    let copies = |conn: &Connection| -> Vec<(String, String)> {
        conn.unscoped(|admin| {
            admin
                .prepare("SELECT name, tenant_id FROM copies ORDER BY 1")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .expect("copies")
    };
    assert!(copies(&conn).is_empty());

    // Scoped (as `tenantry migrate` does), the trigger copies only the tenant's names.
    let scoped = tenantry_rewrite::Rewriter::new(
        tenantry_rewrite::Schema::from_sql(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL);
             CREATE TABLE copies (name TEXT, tenant_id TEXT NOT NULL);",
            "tenant_id",
        )
        .expect("schema"),
    )
    .scope_trigger(trigger)
    .expect("scope the trigger");
    conn.unscoped(|admin| admin.execute_batch(&format!("DROP TRIGGER leak; {scoped};")))
        .expect("admin");
    conn.execute("INSERT INTO customers (name) VALUES ('Zed')", [])
        .expect("insert fires the scoped trigger");
    let a_names: Vec<(String, String)> = all_rows(&db)
        .into_iter()
        .filter(|r| r.2 == "a")
        .map(|r| (r.1, "a".to_owned()))
        .collect();
    let mut expected = a_names;
    expected.sort();
    assert_eq!(copies(&conn), expected);
}

#[test]
fn a_trigger_the_rewriter_cannot_see_is_stopped_by_the_guard() {
    // A TEMP trigger is not in the main schema the rewriter reads: an INSERT into a global
    // table passes the rewriter, fires it, and the authorizer denies the trigger's access
    // to a tenant table, so the statement fails as a whole.
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    support::add_hidden_trigger(&conn, "customers");
    conn.set_tenant("a").expect("tenant");
    let err = conn.execute(support::FIRES_HIDDEN_TRIGGER, []).unwrap_err();
    assert!(err.to_string().contains("not authorized"), "{err}");
    assert_eq!(all_rows(&db).len(), 4);
    // Without the trigger the same INSERT runs.
    conn.unscoped(|admin| admin.execute_batch("DROP TRIGGER temp.wipe"))
        .expect("admin");
    conn.execute("INSERT INTO log (msg) VALUES ('hi')", [])
        .expect("insert");
}

#[test]
fn unscoped_work_is_not_guarded_and_the_guard_comes_back() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    let total: i64 = conn
        .unscoped(|admin| admin.query_row("SELECT count(*) FROM customers", [], |r| r.get(0)))
        .expect("admin count");
    assert_eq!(total, 4);
    // Scoped again afterwards: no tenant, nothing runs.
    assert!(conn.execute("DELETE FROM customers", []).is_err());
    assert_eq!(all_rows(&db).len(), 4);
}

#[test]
fn the_audit_hook_sees_every_statement_with_its_tenant() {
    use std::sync::{Arc, Mutex};
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    /// (tenant, SQL, tables) of one statement.
    type Seen = (String, String, Vec<String>);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    conn.set_audit_hook(move |event| {
        if let Ok(mut log) = log.lock() {
            log.push((
                event.tenant.to_string(),
                event.sql.to_owned(),
                event.statements[0]
                    .tables
                    .iter()
                    .map(|t| t.name.clone())
                    .collect(),
            ));
        }
    });
    conn.set_tenant("a").expect("tenant");
    conn.execute("UPDATE customers SET name = name WHERE id = 1", [])
        .expect("update");
    conn.set_tenant("b").expect("tenant");
    let _: i64 = conn
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen,
        [
            (
                "a".to_owned(),
                "UPDATE customers SET name = name WHERE id = 1".to_owned(),
                vec!["customers".to_owned()]
            ),
            (
                "b".to_owned(),
                "SELECT count(*) FROM customers".to_owned(),
                vec!["customers".to_owned()]
            ),
        ]
    );
}

#[test]
fn savepoints_are_scoped_and_roll_back_when_dropped() {
    let db = db();
    let mut conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("b").expect("tenant");
    {
        let sp = conn.savepoint().expect("savepoint");
        assert_eq!(sp.execute("DELETE FROM customers", []).expect("delete"), 1);
    }
    assert_eq!(all_rows(&db).len(), 4);
    let sp = conn.savepoint().expect("savepoint");
    sp.execute("DELETE FROM customers", []).expect("delete");
    sp.commit().expect("release");
    let tenants: Vec<String> = all_rows(&db).into_iter().map(|r| r.2).collect();
    assert_eq!(tenants, ["a", "a", "c"]);
}

/// rusqlite's `Transaction` and `Savepoint` methods: a savepoint nested in either, the
/// drop behaviour, `finish`; the statements in them scoped as anywhere.
#[test]
fn transactions_and_savepoints_offer_rusqlites_methods() {
    use rusqlite::DropBehavior;
    let db = db();
    let mut conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("b").expect("tenant");
    {
        let mut tx = conn.transaction().expect("begin");
        assert_eq!(tx.drop_behavior(), DropBehavior::Rollback);
        {
            let mut sp = tx.savepoint().expect("savepoint");
            sp.execute("INSERT INTO customers (name) VALUES ('kept')", [])
                .expect("insert");
            let inner = sp.savepoint_with_name("inner").expect("nested");
            inner
                .execute("INSERT INTO customers (name) VALUES ('dropped')", [])
                .expect("insert");
            drop(inner);
            sp.commit().expect("release");
        }
        tx.set_drop_behavior(DropBehavior::Commit);
    }
    // Dropped with Commit: kept, and only tenant b's rows were written.
    assert_eq!(names(&conn), ["Cy", "kept"]);
    let tenants: Vec<String> = all_rows(&db).into_iter().map(|r| r.2).collect();
    assert_eq!(tenants.iter().filter(|t| *t == "b").count(), 2);

    let tx = conn.transaction().expect("begin");
    tx.execute("DELETE FROM customers", []).expect("delete");
    tx.finish().expect("finish rolls back");
    assert_eq!(names(&conn), ["Cy", "kept"]);
    let mut sp = conn.savepoint().expect("savepoint");
    sp.set_drop_behavior(DropBehavior::Commit);
    sp.execute("DELETE FROM customers WHERE name = 'kept'", [])
        .expect("delete");
    sp.finish().expect("finish releases");
    assert_eq!(names(&conn), ["Cy"]);
}

#[test]
fn a_pools_connections_share_their_rewrites() {
    use tenantry_sqlite::pool::{Manager, Pool};
    let db = db();
    // A schema of its own: the process shares a schema's plans with every connection to a
    // database of the same schema (`same_schema.rs`), other tests' included.
    rusqlite::Connection::open(&db.path)
        .and_then(|c| c.execute_batch("CREATE TABLE pool_sharing_test (x)"))
        .expect("own schema");
    let pool = Pool::new(Manager::new(&db.path), 2).expect("pool");
    let first = pool.get().expect("first");
    let second = pool.get().expect("second");
    assert_eq!(second.cached_plans(), 0);
    first.set_tenant("a").expect("tenant");
    let _: i64 = first
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    // The other connection finds the statement already analysed.
    assert_eq!(second.cached_plans(), 1);
    second.set_tenant("b").expect("tenant");
    let n: i64 = second
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1, "the shared plan is rendered for b, not a");
    assert_eq!(second.cached_plans(), 1);
}

/// However a connection is taken from the pool (`Pool::get`, the `r2d2` pool under it, or
/// an `r2d2::Pool` built on the manager), it comes with no tenant: the previous request's
/// is cleared when the connection goes back.
#[test]
fn a_pooled_connection_never_comes_with_the_previous_requests_tenant() {
    use tenantry_sqlite::pool::{Manager, Pool};
    let db = db();
    let ours = Pool::new(Manager::new(&db.path), 1).expect("pool");
    let plain = r2d2::Pool::builder()
        .max_size(1)
        .build(Manager::new(&db.path))
        .expect("r2d2 pool");
    let takes: [(&str, &dyn Fn() -> r2d2::PooledConnection<Manager>); 2] = [
        ("Pool::r2d2", &|| ours.r2d2().get().expect("get")),
        ("r2d2::Pool", &|| plain.get().expect("get")),
    ];
    for (how, take) in takes {
        {
            let conn = take();
            conn.set_tenant("b").expect("tenant");
            assert_eq!(names(&conn), ["Cy"], "{how}");
        }
        let next = take();
        assert!(next.tenant().is_none(), "{how}");
        let refused = next.query_row("SELECT count(*) FROM customers", [], |r| r.get::<_, i64>(0));
        assert!(
            matches!(
                Error::of(refused.as_ref().unwrap_err()),
                Some(Error::NoTenant)
            ),
            "{how}: {refused:?}"
        );
    }
}

/// `execute` and `query_row` run one statement from the statement cache (legacy code calls
/// them again and again with the same SQL): each call still runs for the current tenant,
/// and several statements are refused as rusqlite refuses them.
#[test]
fn execute_and_query_row_reuse_statements_for_the_current_tenant_only() {
    let db = db();
    let conn = Connection::open(&db.path).expect("open");
    let insert = "INSERT INTO customers (name) VALUES (?1)";
    let count = "SELECT count(*) FROM customers WHERE name = ?1";
    for (tenant, name) in [("a", "Eve"), ("b", "Eve"), ("a", "Eve"), ("c", "Fay")] {
        conn.set_tenant(tenant).expect("tenant");
        assert_eq!(conn.execute(insert, [name]).expect("insert"), 1);
    }
    let seen = |tenant: &str, name: &str| -> i64 {
        conn.set_tenant(tenant).expect("tenant");
        conn.query_row(count, [name], |r| r.get(0)).expect("count")
    };
    assert_eq!(seen("a", "Eve"), 2);
    assert_eq!(seen("b", "Eve"), 1);
    assert_eq!(seen("c", "Eve"), 0);
    assert_eq!(seen("c", "Fay"), 1);
    let tenants: Vec<String> = all_rows(&db).into_iter().map(|r| r.2).collect();
    assert_eq!(tenants, ["a", "a", "b", "c", "a", "b", "a", "c"]);
    // Two statements: rusqlite's error, and nothing runs.
    let raw = rusqlite::Connection::open(&db.path).expect("raw");
    let two = "UPDATE customers SET name = 'x'; UPDATE customers SET name = 'y'";
    let expected = raw
        .execute(two, [])
        .expect_err("rusqlite refuses two statements");
    let got = conn
        .execute(two, [])
        .expect_err("so does the tenant connection");
    assert_eq!(
        std::mem::discriminant(&got),
        std::mem::discriminant(&expected),
        "{got} / {expected}"
    );
    assert_eq!(all_rows(&db).len(), 8);
}
