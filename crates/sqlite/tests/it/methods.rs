//! The rest of rusqlite's `Connection` (the README's method table): the PRAGMA helpers and
//! `query_one` scoped, the handlers, counters and caches passed through and compared with
//! rusqlite's own on the same database, user functions (not the connection's own names),
//! `close`, `unchecked_transaction`, and the methods refused with a reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::functions::FunctionFlags;
use tenantry_sqlite::{Connection, Error};

use crate::support::{self, Db};

const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tenant_id TEXT NOT NULL);
INSERT INTO customers (id, name, tenant_id) VALUES (1, 'Ada', 'a'), (2, 'Bo', 'b'), (3, 'Cy', 'a');
";

fn open(db: &Db, tenant: &str) -> Connection {
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant(tenant).expect("tenant");
    conn
}

fn not_on_tenant_connection(err: &rusqlite::Error, method: &str) -> bool {
    matches!(Error::of(err), Some(Error::NotOnTenantConnection { method: m, .. }) if *m == method)
}

#[test]
fn pragma_helpers_run_what_the_allowlist_allows_and_refuse_the_rest() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    let on: bool = conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert!(on);
    conn.pragma_update(Some("main"), "cache_size", -4000)
        .unwrap();
    let size: i64 = conn.pragma_query_one(Some("main"), "cache_size").unwrap();
    assert_eq!(size, -4000);
    let mut modes = Vec::new();
    conn.pragma_query(None, "journal_mode", |r| {
        modes.push(r.get::<_, String>(0)?);
        Ok(())
    })
    .unwrap();
    assert_eq!(modes, ["delete"]);
    let mut seen = 0;
    conn.pragma(None, "busy_timeout", 250, |r| {
        assert_eq!(r.get::<_, i64>(0)?, 250);
        seen += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 1);
    // A PRAGMA that reads rows or changes the schema is refused as its SQL would be.
    for refused in [
        conn.pragma_update(None, "writable_schema", true)
            .unwrap_err(),
        conn.pragma_query_value(None, "integrity_check", |r| r.get::<_, String>(0))
            .unwrap_err(),
        conn.pragma(None, "table_info", "customers", |_| Ok(()))
            .map(|()| 0)
            .unwrap_err(),
    ] {
        assert!(
            matches!(Error::of(&refused), Some(Error::Rewrite(e)) if e.refusal().is_some()),
            "{refused}"
        );
    }
}

#[test]
fn query_one_reads_the_tenants_only_row() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    let name: String = conn
        .query_one("SELECT name FROM customers WHERE id = ?1", [3], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(name, "Cy");
    let err = conn
        .query_one("SELECT name FROM customers WHERE id = ?1", [2], |r| {
            r.get::<_, String>(0)
        })
        .unwrap_err();
    assert!(matches!(err, rusqlite::Error::QueryReturnedNoRows), "{err}");
    let err = conn
        .query_one("SELECT name FROM customers", [], |r| r.get::<_, String>(0))
        .unwrap_err();
    assert!(
        matches!(err, rusqlite::Error::QueryReturnedMoreThanOneRow),
        "{err}"
    );
}

#[test]
fn counters_states_and_caches_are_rusqlites_own() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    let plain = rusqlite::Connection::open(&db.path).unwrap();
    assert_eq!(conn.total_changes(), 0);
    conn.execute("UPDATE customers SET name = name || '!'", [])
        .unwrap();
    assert_eq!(conn.total_changes(), 2, "a's two rows, not b's");
    assert!(!conn.is_busy());
    assert!(!conn.is_interrupted());
    assert_eq!(conn.db_name(0).unwrap(), plain.db_name(0).unwrap());
    assert_eq!(
        conn.is_readonly("main").unwrap(),
        plain.is_readonly("main").unwrap()
    );
    assert_eq!(
        conn.transaction_state(None::<&str>).unwrap(),
        rusqlite::TransactionState::None
    );
    let tx = conn.unchecked_transaction().unwrap();
    tx.execute("DELETE FROM customers WHERE id = 3", [])
        .unwrap();
    assert_eq!(
        conn.transaction_state(Some("main")).unwrap(),
        rusqlite::TransactionState::Write
    );
    conn.cache_flush().unwrap();
    tx.rollback().unwrap();
    assert_eq!(
        support::column::<String>(&conn, "SELECT name FROM customers ORDER BY id"),
        ["Ada!", "Cy!"]
    );
    assert!(
        conn.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
            .unwrap(),
        "the tenant connection's own setting, read back"
    );
    conn.set_prepared_statement_cache_capacity(4);
    conn.flush_prepared_statement_cache();
    conn.release_memory().unwrap();
    // An interrupt handle interrupts the connection's next statement.
    conn.get_interrupt_handle().interrupt();
    assert!(conn.is_interrupted());
}

#[test]
fn busy_and_progress_handlers_are_called() {
    let db = support::db(SCHEMA);
    let mut conn = open(&db, "a");
    let progress = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&progress);
    conn.progress_handler(
        1,
        Some(move || {
            seen.fetch_add(1, Ordering::Relaxed);
            false
        }),
    )
    .unwrap();
    let _: i64 = conn
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .unwrap();
    assert!(progress.load(Ordering::Relaxed) > 0);
    conn.progress_handler(0, None::<fn() -> bool>).unwrap();

    let retries = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&retries);
    conn.busy_handler(Some(move |_n: i32| {
        counted.fetch_add(1, Ordering::Relaxed);
        false
    }))
    .unwrap();
    let holder = rusqlite::Connection::open(&db.path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = conn
        .execute("UPDATE customers SET name = 'x' WHERE id = 1", [])
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy)
    );
    assert_eq!(
        retries.load(Ordering::Relaxed),
        1,
        "asked once, told to stop"
    );
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn user_functions_run_in_scoped_sql_but_not_under_the_connections_own_names() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    conn.create_scalar_function("shout", 1, FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(ctx.get::<String>(0)?.to_uppercase())
    })
    .unwrap();
    assert_eq!(
        support::column::<String>(&conn, "SELECT shout(name) FROM customers ORDER BY id"),
        ["ADA", "CY"]
    );
    conn.remove_function("shout", 1).unwrap();
    assert!(conn.execute("SELECT shout('x')", []).is_err());
    // The connection's own, and the total it keeps per tenant (SQLite's own would count
    // the previous tenants' changes).
    for name in [
        tenantry_rewrite::TENANT_FUNCTION,
        tenantry_rewrite::KEY_FUNCTION,
        tenantry_sqlite::HAND_OVER_FUNCTION,
        "TOTAL_CHANGES",
    ] {
        let err = conn
            .create_scalar_function(name, 4, FunctionFlags::empty(), |_| Ok(1))
            .unwrap_err();
        assert!(
            not_on_tenant_connection(&err, "create_scalar_function"),
            "{err}"
        );
        let err = conn.remove_function(name, 4).unwrap_err();
        assert!(not_on_tenant_connection(&err, "remove_function"), "{err}");
    }
}

#[test]
fn close_closes_the_connection_and_a_new_one_reads_the_same_rows() {
    let db = support::db(SCHEMA);
    let conn = open(&db, "a");
    conn.close().map_err(|(_, e)| e).unwrap();
    let conn = open(&db, "a");
    assert_eq!(
        support::column::<String>(&conn, "SELECT name FROM customers ORDER BY id"),
        ["Ada", "Cy"]
    );
    conn.close().map_err(|(_, e)| e).unwrap();
}

#[test]
fn methods_that_reach_every_tenant_or_switch_the_guard_off_are_refused_with_a_reason() {
    let db = support::db(SCHEMA);
    let mut conn = open(&db, "a");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let refusals = [
        (
            "backup",
            conn.backup("main", &copy, None::<fn(rusqlite::backup::Progress)>),
        ),
        (
            "restore",
            conn.restore("main", &db.path, None::<fn(rusqlite::backup::Progress)>),
        ),
        (
            "authorizer",
            conn.authorizer(Some(|_: rusqlite::hooks::AuthContext<'_>| {
                rusqlite::hooks::Authorization::Allow
            })),
        ),
        ("commit_hook", conn.commit_hook(Some(|| false))),
        ("rollback_hook", conn.rollback_hook(Some(|| {}))),
        (
            "update_hook",
            conn.update_hook(Some(
                |_: rusqlite::hooks::Action, _: &str, _: &str, _: i64| {},
            )),
        ),
        (
            "set_db_config",
            conn.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                false,
            )
            .map(|_| ()),
        ),
    ];
    for (method, result) in refusals {
        let err = result.expect_err(method);
        assert!(not_on_tenant_connection(&err, method), "{method}: {err}");
        assert!(
            err.to_string()
                .contains("not available on a tenant connection"),
            "{err}"
        );
    }
    assert!(!copy.exists(), "no backup was written");
    // Nothing changed: the guard is still there, b's row still hidden.
    assert_eq!(
        support::column::<String>(&conn, "SELECT name FROM customers ORDER BY id"),
        ["Ada", "Cy"]
    );
    assert!(conn.execute("DROP TABLE customers", []).is_err());
}

/// An aggregate of the application's: the total length of the names it is given.
struct NameLength;

impl rusqlite::functions::Aggregate<i64, i64> for NameLength {
    fn init(&self, _: &mut rusqlite::functions::Context<'_>) -> rusqlite::Result<i64> {
        Ok(0)
    }
    fn step(
        &self,
        ctx: &mut rusqlite::functions::Context<'_>,
        acc: &mut i64,
    ) -> rusqlite::Result<()> {
        *acc += ctx.get::<String>(0)?.len() as i64;
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
        acc: Option<i64>,
    ) -> rusqlite::Result<i64> {
        Ok(acc.unwrap_or(0))
    }
}

#[test]
fn the_less_common_methods_scope_or_pass_through_like_the_rest() {
    let db = support::db(SCHEMA);
    let mut conn =
        Connection::open_with_flags_and_vfs(&db.path, rusqlite::OpenFlags::default(), "unix")
            .unwrap();
    conn.set_tenant("a").unwrap();
    // prepare_with_flags: scoped.
    let names: Vec<String> = conn
        .prepare_with_flags(
            "SELECT name FROM customers ORDER BY id",
            rusqlite::PrepFlags::SQLITE_PREPARE_PERSISTENT,
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(names, ["Ada", "Cy"]);
    // An aggregate of the application's runs on the tenant's rows; the connection's own
    // names stay its own.
    conn.create_aggregate_function(
        "name_length",
        1,
        FunctionFlags::SQLITE_DETERMINISTIC,
        NameLength,
    )
    .unwrap();
    let total: i64 = conn
        .query_row("SELECT name_length(name) FROM customers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, 5, "Ada + Cy, not Bo");
    let err = conn
        .create_aggregate_function(
            tenantry_rewrite::TENANT_FUNCTION,
            4,
            FunctionFlags::empty(),
            NameLength,
        )
        .unwrap_err();
    assert!(
        not_on_tenant_connection(&err, "create_aggregate_function"),
        "{err}"
    );
    // The schema, not rows.
    assert!(conn.table_exists(None, "customers").unwrap());
    assert!(!conn.table_exists(None, "nothing").unwrap());
    assert!(conn.column_exists(None, "customers", "name").unwrap());
    // A named savepoint rolls back the tenant's write when dropped.
    {
        let sp = conn.savepoint_with_name("before \"edit\"").unwrap();
        sp.execute("DELETE FROM customers", []).unwrap();
    }
    assert_eq!(
        support::column::<String>(&conn, "SELECT name FROM customers ORDER BY id"),
        ["Ada", "Cy"]
    );
    // set_transaction_behavior: transaction() now takes the write lock at BEGIN.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    let tx = conn.transaction().unwrap();
    assert_eq!(
        tx.transaction_state(Some("main")).unwrap(),
        rusqlite::TransactionState::Write
    );
    drop(tx);
    // A new in-memory database cannot be scoped: refused with what to use instead.
    for err in [
        Connection::open_in_memory().unwrap_err(),
        Connection::open_in_memory_with_flags(rusqlite::OpenFlags::default()).unwrap_err(),
    ] {
        assert!(
            matches!(Error::of(&err), Some(Error::NotOnTenantConnection { .. })),
            "{err}"
        );
        assert!(
            err.to_string().contains("tenantry::open_in_memory"),
            "{err}"
        );
    }
}
