//! A statement the application holds runs only while the tenant it was prepared for is the
//! connection's: run after a change of tenant, it fails and reads and writes nothing.
//! (Before, it kept the first tenant's literal: b read and overwrote a's rows.)

use tenantry_sqlite::{Connection, Error};

use crate::support;

const SCHEMA: &str = "
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tenant_id TEXT NOT NULL);
CREATE INDEX idx_notes_tenant_id ON notes (tenant_id);
INSERT INTO notes VALUES (1, 'a1', 'a'), (2, 'a2', 'a'), (3, 'b1', 'b');
";

/// Every tenant's bodies, read around the tenant connection.
fn bodies(db: &support::Db) -> Vec<(String, String)> {
    let plain = rusqlite::Connection::open(&db.path).expect("plain");
    plain
        .prepare("SELECT tenant_id, body FROM notes ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("bodies")
}

/// The statement failed as one prepared for another tenant: interrupted by the trace
/// check before its first row, refused by the guard when SQLite prepared it anew after a
/// schema change, or stopped by `tenantry_current` (whose message arrives as SQLite's
/// error, the statement being rusqlite's).
fn of_another_tenant(err: &rusqlite::Error, current: Option<&str>) -> bool {
    let interrupted = matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::OperationInterrupted
    );
    let refused = matches!(
        err,
        rusqlite::Error::SqliteFailure(_, Some(m))
            if m == "not authorized to use function: tenantry_current"
    );
    let message = Error::StatementOfAnotherTenant {
        prepared: "a".to_owned(),
        current: current.map(str::to_owned),
    }
    .to_string();
    interrupted || refused || err.to_string().contains(&message)
}

#[test]
fn a_held_statement_runs_only_for_the_tenant_it_was_prepared_for() {
    let db = support::db(SCHEMA);
    let before = bodies(&db);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("a");
    let mut read = conn
        .prepare("SELECT body FROM notes ORDER BY id")
        .expect("read");
    let mut write = conn
        .prepare_cached("UPDATE notes SET body = body || '!'")
        .expect("write");
    let mut flagged = conn
        .prepare_with_flags(
            "DELETE FROM notes WHERE id = ?1",
            rusqlite::PrepFlags::SQLITE_PREPARE_PERSISTENT,
        )
        .expect("delete");
    let read_all = |s: &mut rusqlite::Statement<'_>| -> rusqlite::Result<Vec<String>> {
        s.query_map([], |r| r.get(0))?.collect()
    };

    conn.set_tenant("b").expect("b");
    let err = read_all(&mut read).expect_err("a's read as b");
    assert!(of_another_tenant(&err, Some("b")), "{err}");
    let err = write.execute([]).expect_err("a's update as b");
    assert!(of_another_tenant(&err, Some("b")), "{err}");
    let err = flagged.execute([3]).expect_err("a's delete as b");
    assert!(of_another_tenant(&err, Some("b")), "{err}");
    let inside = conn
        .with_tenant("c", |_| Ok(write.execute([])))
        .expect("with c");
    assert!(inside.is_err());
    conn.clear_tenant();
    let err = read_all(&mut read).expect_err("a's read with no tenant");
    assert!(of_another_tenant(&err, None), "{err}");
    assert_eq!(bodies(&db), before, "nothing read was written");

    // Back on a, they run as prepared.
    conn.set_tenant("a").expect("a again");
    assert_eq!(read_all(&mut read).expect("read"), ["a1", "a2"]);
    assert_eq!(write.execute([]).expect("update"), 2);
    assert_eq!(flagged.execute([3]).expect("b's id"), 0);
    assert_eq!(
        bodies(&db),
        [
            ("a".to_owned(), "a1!".to_owned()),
            ("a".to_owned(), "a2!".to_owned()),
            ("b".to_owned(), "b1".to_owned())
        ]
    );
}

/// A customer's phone number in an indexed column and a document in a full-text index, both
/// tenant a's: what another tenant must not learn about.
const LOOKUPS: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT, tenant_id TEXT NOT NULL);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX idx_customers_tenant_id ON customers (tenant_id);
CREATE VIRTUAL TABLE docs USING fts5(body, tenant_id UNINDEXED);
INSERT INTO customers VALUES (1, '555-0199', 'a');
INSERT INTO docs (body, tenant_id) VALUES ('merger plan', 'a');
";

/// What a run of `stmt` (one integer column) with `value` gave: its rows or its error.
fn outcome(stmt: &mut rusqlite::Statement<'_>, value: &str) -> String {
    match stmt
        .query_map([value], |r| r.get::<_, i64>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
    {
        Ok(rows) => format!("rows {rows:?}"),
        Err(e) => format!("error {e}"),
    }
}

/// Held statements of a on [`LOOKUPS`], each with a value a holds and one nobody holds.
const PROBES: [(&str, &str, &str); 3] = [
    (
        "SELECT id FROM customers WHERE phone = ?1",
        "555-0199",
        "000-0000",
    ),
    (
        "SELECT rowid FROM docs WHERE docs MATCH ?1",
        "merger",
        "nothing",
    ),
    (
        "UPDATE customers SET phone = phone WHERE phone = ?1",
        "555-0199",
        "000-0000",
    ),
];

/// Runs `stmt`, held for another tenant than the current one, with `held` and then with
/// `nobody`; asserts that it failed, and alike for both; returns the failure.
fn fails_alike(stmt: &mut rusqlite::Statement<'_>, held: &str, nobody: &str) -> String {
    let with_held = outcome(stmt, held);
    assert!(with_held.starts_with("error"), "{with_held}");
    assert_eq!(with_held, outcome(stmt, nobody));
    with_held
}

/// Red team 16: a held statement's check must not depend on what the rows hold. Run as b,
/// a statement prepared for a that looks up a value a holds, and one nobody holds, fail
/// alike (before, `tenantry_current` ran only when a row matched: a lookup by another
/// index or a full-text search failed for a's value and returned nothing for the other,
/// telling b what a holds).
#[test]
fn a_held_statement_fails_alike_whatever_the_rows_hold() {
    let db = support::db(LOOKUPS);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("a");
    let mut held: Vec<_> = PROBES
        .iter()
        .map(|&(sql, ..)| conn.prepare(sql).expect(sql))
        .collect();
    conn.set_tenant("b").expect("b");
    for (stmt, &(_, value, nobody)) in held.iter_mut().zip(&PROBES) {
        fails_alike(stmt, value, nobody);
    }
}

/// Red team 16: SQLite runs a statement prepared anew after a schema change without its
/// statement trace (and clears the interrupt): a held statement of a, run as b after
/// another connection changed the schema, still returns none of a's rows.
#[test]
fn a_held_statement_of_another_tenant_fails_after_a_schema_change() {
    let db = support::db(SCHEMA);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("a");
    let mut read = conn
        .prepare("SELECT body FROM notes ORDER BY id")
        .expect("read");
    rusqlite::Connection::open(&db.path)
        .and_then(|admin| admin.execute_batch("CREATE INDEX notes_body ON notes (body)"))
        .expect("schema change");
    conn.set_tenant("b").expect("b");
    let rows: rusqlite::Result<Vec<String>> =
        read.query_map([], |r| r.get(0)).and_then(|m| m.collect());
    let err = rows.expect_err("a's rows as b");
    assert!(of_another_tenant(&err, Some("b")), "{err}");
    conn.set_tenant("a").expect("a again");
    let rows: Vec<String> = read
        .query_map([], |r| r.get(0))
        .and_then(|m| m.collect())
        .expect("as a");
    assert_eq!(rows, ["a1", "a2"]);
}

/// After a schema change, SQLite prepares a held statement anew and runs it without its
/// statement trace, and the in-text check then runs only when a row reaches it (a lookup by
/// another index, a full-text search): a held statement of a, run as b, failed for a value
/// a holds and returned nothing for one nobody holds. It now fails alike: the authorizer
/// refuses to prepare it anew while it runs for another tenant. Each statement is held
/// twice, one copy run with a's value and the other with a value nobody holds, so that
/// both copies have the same history at every comparison.
#[test]
fn a_held_statement_fails_alike_whatever_the_rows_hold_after_a_schema_change() {
    let db = support::db(LOOKUPS);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("a");
    let held_twice = |sql: &str| (conn.prepare(sql).expect(sql), conn.prepare(sql).expect(sql));
    let mut cases = [
        (
            held_twice("SELECT id FROM customers WHERE phone = ?1"),
            "555-0199",
            "000-0000",
        ),
        (
            held_twice("SELECT rowid FROM docs WHERE docs MATCH ?1"),
            "merger",
            "nothing",
        ),
        (
            held_twice("UPDATE customers SET phone = phone WHERE phone = ?1 RETURNING id"),
            "555-0199",
            "000-0000",
        ),
    ];
    let admin = rusqlite::Connection::open(&db.path).expect("admin");
    let changes = std::cell::Cell::new(0);
    // Another connection changes the schema before each run, so SQLite prepares the
    // statement anew every time.
    let change_schema = || {
        changes.set(changes.get() + 1);
        admin
            .execute_batch(&format!("CREATE TABLE scratch_{} (x)", changes.get()))
            .expect("schema change");
    };
    let outcome = |stmt: &mut rusqlite::Statement<'_>, value: &str| -> String {
        change_schema();
        outcome(stmt, value)
    };
    // One of b's own held statements, prepared and run (which clears the guard's note).
    let own_count = || -> i64 {
        let mut own = conn
            .prepare("SELECT count(*) FROM customers")
            .expect("b's statement");
        change_schema();
        own.query_row([], |r| r.get(0)).expect("b's count")
    };
    conn.set_tenant("b").expect("b");
    for round in 0..3 {
        for ((with_a, with_nobody), held, nobody) in &mut cases {
            if round > 0 {
                assert_eq!(own_count(), 0);
            }
            let a = outcome(with_a, held);
            assert!(a.starts_with("error"), "{a}");
            if round > 0 {
                assert_eq!(own_count(), 0);
            }
            assert_eq!(a, outcome(with_nobody, nobody), "round {round}");
        }
    }
    // Back on a, they run as prepared, after yet another schema change.
    conn.set_tenant("a").expect("a again");
    let [(lookup, ..), (search, ..), (update, ..)] = &mut cases;
    assert_eq!(outcome(&mut lookup.0, "555-0199"), "rows [1]");
    assert_eq!(outcome(&mut search.0, "merger"), "rows [1]");
    assert_eq!(outcome(&mut update.1, "555-0199"), "rows [1]");
}

thread_local! {
    /// A held statement an application function steps (it must be `'static` to be used in
    /// the function: its connection is leaked).
    static STEPPED_INSIDE: std::cell::RefCell<Option<rusqlite::Statement<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Red team 19: SQLite traces a statement started while another runs (here, stepped by an
/// application function) as `-- ` and its text; the marker was missed, and a held
/// statement of a run that way as b failed for a's value and returned nothing for one
/// nobody holds. It now fails alike.
#[test]
fn a_held_statement_stepped_inside_another_fails_alike_whatever_the_rows_hold() {
    let db = support::db(LOOKUPS);
    let conn: &'static Connection = Box::leak(Box::new(Connection::open(&db.path).expect("open")));
    conn.unscoped(|raw| {
        raw.create_scalar_function(
            "app_lookup",
            1,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            |ctx| {
                let value: String = ctx.get(0)?;
                Ok(STEPPED_INSIDE.with(|held| {
                    held.borrow_mut()
                        .as_mut()
                        .map_or_else(String::new, |stmt| outcome(stmt, &value))
                }))
            },
        )
    })
    .expect("function");
    let run = |value: &str| -> String {
        conn.query_row("SELECT app_lookup(?1)", [value], |r| r.get(0))
            .unwrap_or_else(|e| format!("error {e}"))
    };
    // The two reads of PROBES (the UPDATE is not stepped from inside a SELECT).
    for &(sql, held, nobody) in &PROBES[..2] {
        conn.set_tenant("a").expect("a");
        let stmt = conn.prepare(sql).expect(sql);
        STEPPED_INSIDE.with(|slot| *slot.borrow_mut() = Some(stmt));
        assert_eq!(run(held), "rows [1]", "as a");
        conn.set_tenant("b").expect("b");
        let with_a = run(held);
        assert!(with_a.starts_with("error"), "{with_a}");
        assert_eq!(with_a, run(nobody), "{sql}");
    }
    STEPPED_INSIDE.with(|slot| *slot.borrow_mut() = None);
}

/// Red team 19: after a held statement of a failed as b, SQLite expiring every statement
/// (`PRAGMA foreign_keys = ON`, which a tenant may run, unscoped work, and (red team 20) a
/// function registered or removed) made b's own held
/// statement fail ("not authorized to use function: tenantry_current") on every run: the
/// note the failure left behind refused its fresh prepare. It now runs.
#[test]
fn a_tenants_own_held_statements_run_after_another_tenants_failed() {
    let db = support::db(LOOKUPS);
    let conn = Connection::open(&db.path).expect("open");
    let expire: [&dyn Fn(); 4] = [
        &|| {
            conn.execute_batch("PRAGMA foreign_keys = ON")
                .expect("pragma")
        },
        &|| {
            conn.unscoped(|raw| raw.execute_batch("PRAGMA recursive_triggers = ON"))
                .expect("unscoped pragma");
        },
        // Red team 20: a function registered or removed (SQLite expires every statement).
        &|| {
            conn.create_scalar_function(
                "app_double",
                1,
                rusqlite::functions::FunctionFlags::SQLITE_UTF8,
                |ctx| Ok(ctx.get::<i64>(0)? * 2),
            )
            .expect("function");
        },
        &|| conn.remove_function("app_double", 1).expect("removed"),
    ];
    for expire in expire {
        conn.set_tenant("a").expect("a");
        let mut of_a = conn
            .prepare("SELECT id FROM customers WHERE phone = ?1")
            .expect("a's");
        conn.set_tenant("b").expect("b");
        let mut own = conn
            .prepare("SELECT count(*) FROM customers WHERE phone <> ?1")
            .expect("b's");
        assert_eq!(outcome(&mut own, "x"), "rows [0]");
        let err = outcome(&mut of_a, "555-0199");
        assert!(err.starts_with("error"), "{err}");
        expire();
        assert_eq!(outcome(&mut own, "x"), "rows [0]");
        assert_eq!(outcome(&mut own, "x"), "rows [0]");
    }
}

/// Red team 19: a statement of a whose rows were being read when the tenant changed went
/// on returning a's rows, to code running as b or with no tenant. The change of tenant is
/// now refused while it runs (`set_tenant`, `with_tenant`); clearing the tenant resets it,
/// and read on, it fails.
#[test]
fn the_tenant_does_not_change_under_a_statement_being_read() {
    let db = support::db(SCHEMA);
    let before = bodies(&db);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("a");
    let mut read = conn
        .prepare("SELECT body FROM notes ORDER BY id")
        .expect("read");
    let refused = |err: rusqlite::Error, requested: &str| {
        assert!(
            matches!(
                Error::of(&err),
                Some(Error::HeldStatementRunning { prepared, requested: r })
                    if prepared == "a" && r == requested
            ),
            "{err}"
        );
    };
    {
        let mut rows = read.query([]).expect("query");
        let first: String = rows
            .next()
            .expect("step")
            .expect("a row")
            .get(0)
            .expect("body");
        assert_eq!(first, "a1");
        refused(
            conn.set_tenant("b").expect_err("b while a's rows are read"),
            "b",
        );
        let ran = std::cell::Cell::new(false);
        let err = conn
            .with_tenant("b", |_| {
                ran.set(true);
                Ok(())
            })
            .expect_err("with b while a's rows are read");
        refused(err, "b");
        assert!(!ran.get(), "with_tenant ran its closure");
        assert_eq!(
            conn.tenant().map(|t| t.as_str().to_owned()).as_deref(),
            Some("a")
        );
        // Still a's: the read goes on.
        let second: String = rows
            .next()
            .expect("step")
            .expect("a row")
            .get(0)
            .expect("body");
        assert_eq!(second, "a2");
    }
    // Finished (rows dropped): the tenant changes.
    conn.set_tenant("b").expect("b once the read is done");
    conn.set_tenant("a").expect("a");
    {
        let mut rows = read.query([]).expect("query");
        assert!(rows.next().expect("step").is_some());
        conn.clear_tenant();
        let err = rows.next().expect_err("a's rows with no tenant");
        assert!(of_another_tenant(&err, None), "{err}");
    }
    assert_eq!(bodies(&db), before);
}

/// Red team 19: SQLite keeps one statement trace and one authorizer per handle, and an
/// application that set up its own in unscoped work (SQL logging through rusqlite's
/// `trace_v2`, a debugging authorizer) switched the held-statement checks or the guard off:
/// a held statement of a, run as b, failed for a's value and returned nothing for one
/// nobody holds. Both are installed again when the unscoped work ends.
#[test]
fn unscoped_work_cannot_switch_the_checks_off() {
    use rusqlite::trace::{TraceEvent, TraceEventCodes};
    let db = support::db(LOOKUPS);
    let mut conn = Connection::open(&db.path).expect("open");
    conn.unscoped_mut(|raw| {
        raw.trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(|_: TraceEvent<'_>| {}),
        )?;
        raw.authorizer(Some(|_: rusqlite::hooks::AuthContext<'_>| {
            rusqlite::hooks::Authorization::Allow
        }))
    })
    .expect("the application's own trace and authorizer");
    conn.set_tenant("a").expect("a");
    let mut held: Vec<_> = PROBES
        .iter()
        .map(|&(sql, ..)| conn.prepare(sql).expect(sql))
        .collect();
    conn.set_tenant("b").expect("b");
    for (stmt, &(_, value, nobody)) in held.iter_mut().zip(&PROBES) {
        let failure = fails_alike(stmt, value, nobody);
        assert!(failure.starts_with("error interrupted"), "{failure}");
    }
    // The guard is back: a trigger the rewriter cannot see may not reach a tenant table.
    support::add_hidden_trigger(&conn, "customers");
    let err = conn
        .execute(support::FIRES_HIDDEN_TRIGGER, [])
        .expect_err("the trigger's DELETE");
    assert!(err.to_string().contains("not authorized"), "{err}");
}

/// Red team 20: a held statement kept what its last run left, and code running as the next
/// tenant could read it without running the statement: `expanded_sql` showed a's bound
/// values, and the counters (`get_status`) grew with a's row count. A change of tenant
/// clears both for the statements of other tenants.
#[test]
fn a_held_statement_keeps_nothing_of_its_tenants_run_for_the_next() {
    use rusqlite::StatementStatus;
    let db = support::db(LOOKUPS);
    let conn = Connection::open(&db.path).expect("open");
    conn.set_tenant("a").expect("a");
    let mut lookup = conn
        .prepare("SELECT id FROM customers WHERE phone = ?1")
        .expect("lookup");
    assert_eq!(outcome(&mut lookup, "555-0199"), "rows [1]");
    let expanded = lookup.expanded_sql().expect("a's text");
    assert!(expanded.contains("'555-0199'"), "{expanded}");
    assert!(lookup.get_status(StatementStatus::VmStep) > 0);
    conn.set_tenant("b").expect("b");
    let expanded = lookup.expanded_sql().expect("the text as b");
    assert!(!expanded.contains("555-0199"), "{expanded}");
    for (name, counter) in [
        ("full-scan steps", StatementStatus::FullscanStep),
        ("sorts", StatementStatus::Sort),
        ("automatic indexes", StatementStatus::AutoIndex),
        ("VM steps", StatementStatus::VmStep),
        ("re-prepares", StatementStatus::RePrepare),
        ("runs", StatementStatus::Run),
        ("filter misses", StatementStatus::FilterMiss),
        ("filter hits", StatementStatus::FilterHit),
    ] {
        assert_eq!(lookup.get_status(counter), 0, "{name}");
    }
    // Back on a, it runs as before (rusqlite binds its values for each run).
    conn.set_tenant("a").expect("a again");
    assert_eq!(outcome(&mut lookup, "555-0199"), "rows [1]");
}
