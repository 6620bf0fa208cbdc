use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};
use tenantry_migrate::{Layout, MigrateOptions, Outcome, TenantIndex, migrate, verify};

use crate::support::{Errors, on_the_oracle, snapshot, tiny_fixture};

const DEFAULT: &str = "caps-automotive";

fn tenant_first() -> MigrateOptions {
    MigrateOptions {
        layout: Layout::TenantFirst,
        ..MigrateOptions::default()
    }
}

fn migrated(dir: &Path) -> Connection {
    let db = tiny_fixture(dir, "pos.db");
    migrate(&db, &tenant_first(), &mut |_| {}).expect("tenant-first migration");
    let check = verify(&db, &Default::default()).expect("verify runs");
    assert!(
        check.verification.passed(),
        "{:?}",
        check.verification.problems
    );
    Connection::open(&db).unwrap()
}

/// `schema` (tables and rows) as a legacy file and as a copy migrated tenant-first, in `dir`.
fn legacy_and_tenant_first(dir: &Path, schema: &str) -> (PathBuf, PathBuf) {
    let legacy = crate::support::db_from_sql(dir, "legacy.db", schema);
    let db = crate::support::db_from_sql(dir, "shared.db", schema);
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    (legacy, db)
}

/// Copies the rows of `table` that match `filter` from the default tenant to `tenant`,
/// keys and all.
fn copy_rows(
    conn: &Connection,
    table: &str,
    filter: &str,
    tenant: &str,
) -> rusqlite::Result<usize> {
    let cols: Vec<String> = conn
        .prepare(&format!("SELECT name FROM pragma_table_xinfo('{table}') WHERE hidden = 0 AND name <> 'tenant_id'"))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let list = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(
        &format!(
            "INSERT INTO {table} ({list}, tenant_id) SELECT {list}, ?1 FROM {table} WHERE tenant_id = '{DEFAULT}' AND {filter}"
        ),
        [tenant],
    )
}

fn failure(result: rusqlite::Result<usize>) -> (ErrorCode, i32, String) {
    match result {
        Err(rusqlite::Error::SqliteFailure(e, message)) => {
            (e.code, e.extended_code, message.unwrap_or_default())
        }
        other => panic!("expected a constraint failure, got {other:?}"),
    }
}

#[test]
fn two_tenants_hold_the_same_keys_and_collide_only_with_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let conn = migrated(dir.path());
    // Keys only: the rows copied reference the default tenant's (foreign keys are another test).
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    // Username, SKU, gift-card code, work-order number, the settings singleton (CHECK (id = 1)),
    // and the integer keys (rowids before the migration) that come with them.
    let keys = [
        ("users", "username"),
        ("products", "sku"),
        ("gift_cards", "card_number"),
        ("work_orders", "order_number"),
        ("backup_settings", "id"),
    ];
    for (table, key) in keys {
        let value: rusqlite::types::Value = conn
            .query_row(
                &format!("SELECT {key} FROM {table} WHERE tenant_id = ?1 LIMIT 1"),
                [DEFAULT],
                |r| r.get(0),
            )
            .unwrap();
        let filter = format!(
            "{key} = {}",
            match &value {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
                other => panic!("{other:?}"),
            }
        );
        // store-2 takes the same row, keys and all, beside the default tenant's.
        assert_eq!(
            copy_rows(&conn, table, &filter, "store-2").unwrap(),
            1,
            "{table}"
        );
        // A second time it collides, with its own row only.
        let held_by_others = failure(copy_rows(&conn, table, &filter, "store-2"));
        assert_eq!(held_by_others.0, ErrorCode::ConstraintViolation, "{table}");
        // Each tenant holds exactly one row with that value.
        for tenant in [DEFAULT, "store-2"] {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE tenant_id = ?1 AND {filter}"),
                    [tenant],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "{table} {tenant}");
        }
        // The error a tenant gets is the same whether or not another tenant holds the key:
        // store-3 collides with itself on a database where two others hold it, store-4 on
        // one where only it does (the others' rows are moved aside first).
        assert_eq!(copy_rows(&conn, table, &filter, "store-3").unwrap(), 1);
        let crowded = failure(copy_rows(&conn, table, &filter, "store-3"));
        conn.execute_batch("SAVEPOINT alone").unwrap();
        conn.execute(
            &format!("UPDATE {table} SET tenant_id = 'store-4' WHERE tenant_id = ?1 AND {filter}"),
            [DEFAULT],
        )
        .unwrap();
        conn.execute(
            &format!("DELETE FROM {table} WHERE tenant_id <> 'store-4' AND {filter}"),
            [],
        )
        .unwrap();
        let alone = failure(conn.execute(
            &format!(
                "INSERT INTO {table} SELECT * FROM {table} WHERE tenant_id = 'store-4' AND {filter}"
            ),
            [],
        ));
        conn.execute_batch("ROLLBACK TO alone; RELEASE alone")
            .unwrap();
        assert_eq!(crowded, alone, "{table}");
        assert_eq!(crowded, held_by_others, "{table}");
    }
}

#[test]
fn a_foreign_key_to_another_tenants_row_is_rejected_by_sqlite_itself() {
    let dir = tempfile::tempdir().unwrap();
    let conn = migrated(dir.path());
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let user: i64 = conn
        .query_row(
            "SELECT id FROM users WHERE tenant_id = ?1 LIMIT 1",
            [DEFAULT],
            |r| r.get(0),
        )
        .unwrap();
    let session = |tenant: &str, token: &str| {
        conn.execute(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, tenant_id) VALUES (?1, ?2, 0, 1, ?3)",
            (token, user, tenant),
        )
    };
    let (code, extended, message) = failure(session("store-2", "tok-1"));
    assert_eq!(code, ErrorCode::ConstraintViolation);
    assert_eq!(
        extended,
        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
        "{message}"
    );
    assert_eq!(message, "FOREIGN KEY constraint failed");
    // Once store-2 has a user with that id, the same row is fine.
    copy_rows(&conn, "users", &format!("id = {user}"), "store-2").unwrap();
    session("store-2", "tok-1").unwrap();
}

#[test]
fn foreign_key_actions_stay_within_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let conn = migrated(dir.path());
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let (user, audits, sessions): (i64, i64, i64) = conn
        .query_row(
            "SELECT u.id, (SELECT count(*) FROM audit_log a WHERE a.tenant_id = u.tenant_id AND a.user_id = u.id), \
                    (SELECT count(*) FROM sessions s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id) \
             FROM users u WHERE u.tenant_id = ?1 \
             ORDER BY (SELECT count(*) FROM audit_log a WHERE a.user_id = u.id) + (SELECT count(*) FROM sessions s WHERE s.user_id = u.id) DESC LIMIT 1",
            [DEFAULT],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(
        audits > 0 && sessions > 0,
        "the fixture's busiest user has audit rows and sessions"
    );
    // store-2 gets the same user, an audit row and a session that reference it.
    copy_rows(&conn, "users", &format!("id = {user}"), "store-2").unwrap();
    copy_rows(
        &conn,
        "audit_log",
        &format!(
            "user_id = {user} AND id = (SELECT min(id) FROM audit_log WHERE user_id = {user})"
        ),
        "store-2",
    )
    .unwrap();
    copy_rows(
        &conn,
        "sessions",
        &format!("user_id = {user} AND id = (SELECT min(id) FROM sessions WHERE user_id = {user})"),
        "store-2",
    )
    .unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    conn.execute(
        "DELETE FROM users WHERE tenant_id = 'store-2' AND id = ?1",
        [user],
    )
    .unwrap();
    let count = |sql: &str, tenant: &str| -> i64 {
        conn.query_row(sql, (tenant, user), |r| r.get(0)).unwrap()
    };
    let audit = "SELECT count(*) FROM audit_log WHERE tenant_id = ?1 AND user_id = ?2";
    let session = "SELECT count(*) FROM sessions WHERE tenant_id = ?1 AND user_id = ?2";
    // ON DELETE SET NULL (run by a trigger) and ON DELETE CASCADE (by SQLite) reached
    // store-2's rows only.
    assert_eq!(count(audit, "store-2"), 0);
    assert_eq!(
        count(
            "SELECT count(*) FROM audit_log WHERE tenant_id = ?1 AND user_id IS NULL AND ?2 IS NOT NULL",
            "store-2"
        ),
        1
    );
    assert_eq!(count(session, "store-2"), 0);
    assert_eq!(count(audit, DEFAULT), audits);
    assert_eq!(count(session, DEFAULT), sessions);
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
}

#[test]
fn autoincrement_counters_become_each_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before: Vec<(String, i64)> = {
        let conn = Connection::open(&db).unwrap();
        conn.prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(!before.is_empty());
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let after: Vec<(String, i64)> = conn
        .prepare("SELECT name, seq FROM _tenantry_sequence WHERE tenant_id = ?1 ORDER BY name")
        .unwrap()
        .query_map([DEFAULT], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(after, before);
    // A row inserted with a larger key raises its tenant's mark, and no one else's.
    conn.execute("INSERT INTO promotion_usage (id, promotion_id, discount_cents, used_at, tenant_id) SELECT 1000000, promotion_id, 1, 'now', 'store-2' FROM promotion_usage LIMIT 1", []).unwrap();
    let marks: Vec<(String, i64)> = conn
        .prepare("SELECT tenant_id, seq FROM _tenantry_sequence WHERE name = 'promotion_usage' ORDER BY tenant_id").unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
    let legacy = before
        .iter()
        .find(|(n, _)| n == "promotion_usage")
        .map(|(_, s)| *s)
        .unwrap();
    assert_eq!(
        marks,
        [
            (DEFAULT.to_owned(), legacy),
            ("store-2".to_owned(), 1_000_000)
        ]
    );
    // A tenant cannot set its mark back (nor read the marks), as it cannot touch
    // `sqlite_sequence` on one tenant's database: it would get a deleted key again.
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    for sql in [
        "UPDATE _tenantry_sequence SET seq = 0",
        "SELECT seq FROM _tenantry_sequence",
        "UPDATE sqlite_sequence SET seq = 0",
    ] {
        let refused = a.execute(sql, []);
        assert!(
            matches!(&refused, Err(e) if e.to_string().contains("refused")),
            "{sql}: {refused:?}"
        );
    }
    // Its inserts still take their keys from it.
    a.execute(
        "INSERT INTO promotion_usage (promotion_id, discount_cents, used_at) SELECT promotion_id, 1, 'now' FROM promotion_usage LIMIT 1",
        [],
    )
    .unwrap();
    assert_eq!(a.last_insert_rowid(), legacy + 1);
}

/// The column layout asked of a tenant-first database (an application's start-up code with
/// the defaults, say) changes nothing: no guard triggers, no record.
#[test]
fn the_column_layout_leaves_a_tenant_first_database_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let before = snapshot(&db);
    let report = migrate(&db, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.outcome, Outcome::AlreadyMigrated);
    assert_eq!(snapshot(&db), before);
}

/// A key given as integer-valued text or a real is stored as the integer (the column's
/// affinity), and `last_insert_rowid()` says so, as on the single-tenant database.
#[test]
fn a_key_given_as_text_or_real_is_reported_as_the_integer_stored() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'a');";
    let (legacy, db) = legacy_and_tenant_first(dir.path(), sql);
    let plain = Connection::open(&legacy).unwrap();
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    for key in [
        rusqlite::types::Value::Text("77".into()),
        rusqlite::types::Value::Real(13.0),
    ] {
        let insert = "INSERT INTO customers (id, name) VALUES (?1, 'x')";
        plain.execute(insert, [&key]).unwrap();
        a.execute(insert, [&key]).unwrap();
        assert_eq!(a.last_insert_rowid(), plain.last_insert_rowid(), "{key:?}");
    }
    assert_eq!(plain.last_insert_rowid(), 13);
}

/// `last_insert_rowid()` in an INSERT's RETURNING reads each row's own key, as SQLite read
/// each row's rowid right after writing it (red team 17, F6: every row read the last
/// row's key, which the rewrite reports before the first row is written). Another tenant
/// holds larger keys, so a key taken from the wrong tenant would show.
#[test]
fn returning_last_insert_rowid_reads_each_rows_own_key() {
    use tenantry_testkit::db::collect;

    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
         CREATE TABLE w (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
         INSERT INTO u VALUES (1, 'a'); INSERT INTO w VALUES (1, 'a');";
    let (legacy, db) = legacy_and_tenant_first(dir.path(), schema);
    let plain = Connection::open(&legacy).unwrap();
    let b = tenantry_sqlite::Connection::open(&db).unwrap();
    b.set_tenant("store-b").unwrap();
    b.execute_batch(
        "INSERT INTO u (id, name) VALUES (40, 'b'); INSERT INTO w (id, name) VALUES (50, 'b');",
    )
    .unwrap();
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    for sql in [
        "INSERT INTO u (name) VALUES ('d'), ('e') RETURNING id, last_insert_rowid()",
        "INSERT INTO u (id, name) VALUES (10, 'g'), (NULL, 'h') RETURNING LAST_INSERT_ROWID(), id",
        "INSERT INTO w (name) VALUES ('p'), ('q') RETURNING last_insert_rowid() + 0, last_insert_rowid() AS k",
        "INSERT OR REPLACE INTO u (name) VALUES ('a'), ('i') RETURNING id, last_insert_rowid()",
        "REPLACE INTO u (id, name) VALUES (2, 'j'), (NULL, 'k') RETURNING name, last_insert_rowid()",
        "INSERT INTO u (name) SELECT name || '2' FROM u WHERE id < 3 ORDER BY id RETURNING id, last_insert_rowid()",
        "INSERT INTO u (name) VALUES ('l') ON CONFLICT DO NOTHING RETURNING last_insert_rowid()",
    ] {
        let legacy_rows = collect(plain.prepare(sql).unwrap(), &[]).unwrap();
        let tenant_rows = collect(a.prepare(sql).unwrap(), &[]).unwrap();
        assert_eq!(tenant_rows, legacy_rows, "{sql}");
        assert_eq!(a.last_insert_rowid(), plain.last_insert_rowid(), "{sql}");
    }
    // Not vacuous: the legacy rows hold several distinct keys per statement.
    let last = collect(
        plain
            .prepare("INSERT INTO u (name) VALUES ('m'), ('n') RETURNING last_insert_rowid()")
            .unwrap(),
        &[],
    )
    .unwrap();
    assert_eq!(
        last.rows,
        [
            [rusqlite::types::Value::Integer(17)],
            [rusqlite::types::Value::Integer(18)]
        ]
    );
}

/// Each rebuilt table declares its key's columns first, in the key's order: SQLite 3.40's
/// `quick_check` (Debian 12's sqlite3) reports NULLs that are not there in every row of a
/// `WITHOUT ROWID` table whose key lists its columns in another order (README).
#[test]
fn every_rebuilt_table_declares_its_key_columns_first_in_the_keys_order() {
    let dir = tempfile::tempdir().unwrap();
    let conn = migrated(dir.path());
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND wr = 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables.len(), 33, "{tables:?}");
    for table in &tables {
        // (position in the key, position in the table) of each key column.
        let key: Vec<(i64, i64)> = conn
            .prepare("SELECT pk, cid FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
            .unwrap()
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let declared: Vec<i64> = key.iter().map(|&(_, cid)| cid).collect();
        let leading: Vec<i64> = (0..key.len() as i64).collect();
        assert_eq!(declared, leading, "{table}: key columns at {declared:?}");
    }
}

#[test]
fn a_database_migrated_by_the_column_layout_reaches_the_same_schema_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = tiny_fixture(dir.path(), "fresh.db");
    let upgraded = tiny_fixture(dir.path(), "upgraded.db");
    migrate(&fresh, &tenant_first(), &mut |_| {}).unwrap();
    migrate(&upgraded, &MigrateOptions::default(), &mut |_| {}).unwrap();
    let report = migrate(&upgraded, &tenant_first(), &mut |_| {}).unwrap();
    let rebuilt = report
        .plan
        .scoped
        .iter()
        .filter(|s| s.keying.is_some())
        .count();
    assert_eq!(rebuilt, 32);
    assert_eq!(
        without_records(&snapshot(&upgraded)),
        without_records(&snapshot(&fresh))
    );
    assert!(
        verify(&upgraded, &Default::default())
            .unwrap()
            .verification
            .passed()
    );
}

/// The tiny POS fixture plus a table without a primary key, as `name` in `dir`.
fn fixture_with_a_keyless_table(dir: &Path, name: &str) -> std::path::PathBuf {
    let db = tiny_fixture(dir, name);
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE notes (body TEXT NOT NULL); INSERT INTO notes VALUES ('first'), ('second');",
        )
        .unwrap();
    db
}

/// The tables that have an index named `idx_<table>_tenant_id`, sorted.
fn named_tenant_indexes(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT tbl_name FROM sqlite_schema WHERE type = 'index' \
             AND name = 'idx_' || tbl_name || '_tenant_id' ORDER BY 1",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn where_needed_the_tenant_index_is_only_on_tables_no_primary_key_leads() {
    let dir = tempfile::tempdir().unwrap();
    let where_needed = MigrateOptions {
        tenant_index: TenantIndex::WhereNeeded,
        ..tenant_first()
    };
    let fresh = fixture_with_a_keyless_table(dir.path(), "fresh.db");
    migrate(&fresh, &where_needed, &mut |_| {}).unwrap();
    // The 32 POS tables are keyed (tenant_id, key); only the keyless table needs one.
    assert_eq!(named_tenant_indexes(&fresh), ["notes"]);
    let conn = Connection::open(&fresh).unwrap();
    let keyed: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema s, pragma_index_list(s.name) l, \
             pragma_index_info(l.name) i WHERE s.type = 'table' AND l.origin = 'pk' \
             AND i.seqno = 0 AND i.name = 'tenant_id' AND s.name <> ?1",
            [tenantry_migrate::SEQUENCE_TABLE],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keyed, 32);
    let check = verify(&fresh, &Default::default()).unwrap();
    assert!(
        check.verification.passed(),
        "{:?}",
        check.verification.problems
    );
    let again = migrate(&fresh, &where_needed, &mut |_| {}).unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyMigrated);

    // A database the column layout migrated (a tenant index on every table) reaches the
    // same schema: its tenant indexes on keyed tables are not built again.
    let upgraded = fixture_with_a_keyless_table(dir.path(), "upgraded.db");
    migrate(&upgraded, &MigrateOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(named_tenant_indexes(&upgraded).len(), 33);
    migrate(&upgraded, &where_needed, &mut |_| {}).unwrap();
    assert_eq!(
        without_records(&snapshot(&upgraded)),
        without_records(&snapshot(&fresh))
    );

    // Asking for every tenant index afterwards rebuilds the tables without one, and the
    // record then requires them.
    migrate(&fresh, &tenant_first(), &mut |_| {}).unwrap();
    assert_eq!(named_tenant_indexes(&fresh).len(), 33);
    assert!(
        verify(&fresh, &Default::default())
            .unwrap()
            .verification
            .passed()
    );
    conn.execute_batch("DROP INDEX idx_products_tenant_id")
        .unwrap();
    let problems = verify(&fresh, &Default::default())
        .unwrap()
        .verification
        .problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        format!("{problems:?}").contains("idx_products_tenant_id"),
        "{problems:?}"
    );
}

/// A snapshot without the rows of `_tenantry_migrations` (times, backup names).
fn without_records(snapshot: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in snapshot.lines() {
        if line.starts_with("rows of ") {
            skipping = line.starts_with("rows of _tenantry_migrations ");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn rowids_of_tables_without_a_primary_key_are_kept_and_null_keys_keep_their_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::db_from_sql(
        dir.path(),
        "odd.db",
        "CREATE TABLE notes (body TEXT UNIQUE);
         INSERT INTO notes(rowid, body) VALUES (7, 'a'), (3, 'b'), (100, NULL);
         CREATE TABLE tags (name TEXT PRIMARY KEY, n INT);
         INSERT INTO tags VALUES ('x', 1), (NULL, 2);",
    );
    let report = migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let keying = |t: &str| {
        report
            .plan
            .scoped
            .iter()
            .find(|s| s.name == t)
            .and_then(|s| s.keying.clone())
    };
    assert_eq!(keying("notes"), Some(tenantry_migrate::Keying::RowidKept));
    assert_eq!(keying("tags"), Some(tenantry_migrate::Keying::RowidKept));
    // Their rowids stay one sequence for all tenants: a risk of the plan (red team 17).
    let shared: Vec<String> = report
        .plan
        .risks
        .iter()
        .filter_map(|r| match r {
            tenantry_migrate::Risk::SharedRowids { table } => Some(table.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(shared, ["notes", "tags"]);
    let conn = Connection::open(&db).unwrap();
    let rows: Vec<(i64, Option<String>)> = conn
        .prepare("SELECT rowid, body FROM notes ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [(3, Some("b".into())), (7, Some("a".into())), (100, None)]
    );
    conn.execute(
        "INSERT INTO notes(body, tenant_id) VALUES ('a', 'other')",
        [],
    )
    .unwrap();
    assert!(
        conn.execute(
            "INSERT INTO notes(body, tenant_id) VALUES ('a', 'other')",
            []
        )
        .is_err()
    );
    // No default: an INSERT that names no tenant fails.
    let (_, _, message) = failure(conn.execute("INSERT INTO notes(body) VALUES ('z')", []));
    assert_eq!(message, "NOT NULL constraint failed: notes.tenant_id");
}

/// A table the rebuild kept a rowid table (no primary key, or one that held a NULL) has its
/// keys per tenant too; a legacy upsert naming one (`ON CONFLICT (k)`) works on it as before
/// migration, for each tenant (red team 17: it failed with "does not match any PRIMARY KEY
/// or UNIQUE constraint").
#[test]
fn upserts_on_the_keys_of_a_kept_rowid_table_work_for_each_tenant() {
    use tenantry_sqlite::Connection as TenantConnection;

    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE settings (k TEXT UNIQUE, v TEXT);
         INSERT INTO settings VALUES ('theme', 'dark');
         CREATE TABLE tags (name TEXT PRIMARY KEY, n INT);
         INSERT INTO tags VALUES ('x', 1), (NULL, 2);";
    let (legacy, db) = legacy_and_tenant_first(dir.path(), schema);
    let upserts = [
        "INSERT INTO settings (k, v) VALUES ('theme', 'light') \
         ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        "INSERT INTO settings (k, v) VALUES ('lang', 'en') ON CONFLICT (K) DO NOTHING",
        "INSERT INTO settings (k, v) VALUES ('theme', 'blue') ON CONFLICT (k) DO NOTHING",
        "INSERT INTO tags VALUES ('x', 5) ON CONFLICT (name) DO UPDATE SET n = n + excluded.n",
        "INSERT INTO tags VALUES ('y', 7) ON CONFLICT (name) DO UPDATE SET n = 0",
    ];
    let plain = Connection::open(&legacy).unwrap();
    let expected: Vec<usize> = upserts
        .iter()
        .map(|sql| plain.execute(sql, []).unwrap())
        .collect();
    assert_eq!(expected, [1, 1, 0, 1, 1]);
    const READ: &str = "SELECT k, v FROM settings UNION ALL \
         SELECT coalesce(name, 'NULL'), n FROM tags ORDER BY 1, 2";
    let read = |conn: &TenantConnection| -> Vec<(String, String)> {
        conn.prepare(READ)
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get::<_, rusqlite::types::Value>(1)?))
            })
            .unwrap()
            .map(|r| r.map(|(k, v)| (k, format!("{v:?}"))))
            .collect::<Result<_, _>>()
            .unwrap()
    };
    // store-2 holds none of the keys; the default tenant all of them. Each runs the same
    // upserts and ends as the legacy file did from its own start.
    let other = TenantConnection::open(&db).unwrap();
    other.set_tenant("store-2").unwrap();
    for sql in upserts {
        other.execute(sql, []).unwrap();
    }
    let own = TenantConnection::open(&db).unwrap();
    own.set_tenant(DEFAULT).unwrap();
    let counts: Vec<usize> = upserts
        .iter()
        .map(|sql| own.execute(sql, []).unwrap())
        .collect();
    assert_eq!(counts, expected);
    let legacy_rows: Vec<(String, String)> = plain
        .prepare(READ)
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get::<_, rusqlite::types::Value>(1)?))
        })
        .unwrap()
        .map(|r| r.map(|(k, v): (String, _)| (k, format!("{v:?}"))))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read(&own), legacy_rows);
    assert_eq!(
        read(&other),
        [
            ("lang".to_owned(), "Text(\"en\")".to_owned()),
            ("theme".to_owned(), "Text(\"light\")".to_owned()),
            ("x".to_owned(), "Integer(5)".to_owned()),
            ("y".to_owned(), "Integer(7)".to_owned()),
        ]
    );
}

/// A table whose constraint says `ON CONFLICT IGNORE` skips rows of a plain INSERT as
/// INSERT OR IGNORE does; SQLite gave a skipped row's rowid to the next row, so an INSERT
/// of several rows that lets the key be allocated is refused there too (red team 17: the
/// next row got key 4 where SQLite gave 3), and one row matches the legacy file.
#[test]
fn a_table_that_ignores_conflicts_gets_its_keys_as_sqlite_gave_them_or_a_refusal() {
    use tenantry_rewrite::{Refusal, WriteForm};
    use tenantry_sqlite::Connection as TenantConnection;

    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE ON CONFLICT IGNORE);
         INSERT INTO t VALUES (1, 'a'), (2, 'b');";
    let (legacy, db) = legacy_and_tenant_first(dir.path(), schema);
    let conn = TenantConnection::open(&db).unwrap();
    conn.set_tenant(DEFAULT).unwrap();
    let refused = conn
        .execute("INSERT INTO t (name) VALUES ('a'), ('c')", [])
        .unwrap_err();
    assert!(
        matches!(
            tenantry_sqlite::Error::refusal(&refused),
            Some(Refusal::WriteForm {
                form: WriteForm::SkippingKeyedRows
            })
        ),
        "{refused}"
    );
    let plain = Connection::open(&legacy).unwrap();
    // Skipped: no row (its key is still reported, as documented for skipped rows).
    let sql = "INSERT INTO t (name) VALUES ('a')";
    assert_eq!(
        conn.execute(sql, []).unwrap(),
        plain.execute(sql, []).unwrap()
    );
    for sql in [
        "INSERT INTO t (name) VALUES ('c')",
        "INSERT OR ABORT INTO t (name) VALUES ('d'), ('e')",
    ] {
        assert_eq!(
            conn.execute(sql, []).unwrap(),
            plain.execute(sql, []).unwrap(),
            "{sql}"
        );
        assert_eq!(conn.last_insert_rowid(), plain.last_insert_rowid(), "{sql}");
    }
    assert_eq!(plain.last_insert_rowid(), 5);
}

/// An application's own tenant column that looks like the one the column layout adds
/// (last, `TEXT NOT NULL DEFAULT …`) stays where the application declared it when no
/// earlier migration recorded adding it: `SELECT *` keeps its columns' order (red team 18:
/// it moved first).
#[test]
fn an_own_tenant_column_declared_last_with_a_default_stays_last() {
    use tenantry_sqlite::Connection as TenantConnection;

    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::db_from_sql(
        dir.path(),
        "own.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tenant_id TEXT NOT NULL DEFAULT 'A');
         INSERT INTO notes (body) VALUES ('x'), ('y');",
    );
    let report = migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    assert_eq!(report.outcome, Outcome::Migrated);
    let conn = TenantConnection::open(&db).unwrap();
    conn.set_tenant("A").unwrap();
    let mut stmt = conn.prepare("SELECT * FROM notes ORDER BY id").unwrap();
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    assert_eq!(names, ["id", "body", "tenant_id"]);
    let rows: Vec<(i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (1, "x".to_owned(), "A".to_owned()),
            (2, "y".to_owned(), "A".to_owned())
        ]
    );
}

/// A key SQLite takes for the rowid whatever quotes its type (`"INTEGER"`) becomes a key per
/// tenant the connection allocates, as `INTEGER` does (red team 18: it became a clustered
/// table, and an INSERT that left the key out failed on NOT NULL).
#[test]
fn a_quoted_integer_primary_key_is_keyed_as_the_rowid() {
    use tenantry_sqlite::Connection as TenantConnection;

    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE t (id \"INTEGER\" PRIMARY KEY, a TEXT);
         INSERT INTO t (a) VALUES ('x'), ('y');";
    let (legacy, db) = legacy_and_tenant_first(dir.path(), schema);
    let plain = Connection::open(&legacy).unwrap();
    for store in [DEFAULT, "store-2"] {
        let conn = TenantConnection::open(&db).unwrap();
        conn.set_tenant(store).unwrap();
        if store == DEFAULT {
            plain.execute("INSERT INTO t (a) VALUES ('z')", []).unwrap();
        }
        conn.execute("INSERT INTO t (a) VALUES ('z')", []).unwrap();
        let expected = if store == DEFAULT { 3 } else { 1 };
        assert_eq!(conn.last_insert_rowid(), expected, "{store}");
        let ids: Vec<(i64, i64)> = conn
            .prepare("SELECT rowid, id FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids.last(), Some(&(expected, expected)), "{store}");
    }
    assert_eq!(plain.last_insert_rowid(), 3);
}

/// An application that writes its own tenant column, with rows from a SELECT that leave
/// the INTEGER PRIMARY KEY out, gets the keys SQLite gave (red team 17: "2 values for 3
/// columns", the key named in the column list and given by no row).
#[test]
fn an_own_tenant_column_written_from_a_select_gets_its_keys() {
    use tenantry_sqlite::Connection as TenantConnection;

    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE p (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, code TEXT);
         INSERT INTO p (tenant_id, code) VALUES ('A', 'a');";
    let (legacy, db) = legacy_and_tenant_first(dir.path(), schema);
    let plain = Connection::open(&legacy).unwrap();
    let conn = TenantConnection::open(&db).unwrap();
    conn.set_tenant("A").unwrap();
    for sql in [
        "INSERT INTO p (tenant_id, code) SELECT 'A', 'q'",
        "INSERT INTO p (tenant_id, code) SELECT tenant_id, code || '2' FROM p ORDER BY id",
    ] {
        assert_eq!(
            conn.execute(sql, []).unwrap(),
            plain.execute(sql, []).unwrap(),
            "{sql}"
        );
        assert_eq!(conn.last_insert_rowid(), plain.last_insert_rowid(), "{sql}");
    }
    let read = "SELECT id, code FROM p ORDER BY id";
    let rows = |stmt: &mut rusqlite::Statement<'_>| -> Vec<(i64, String)> {
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let expected = rows(&mut plain.prepare(read).unwrap());
    assert_eq!(rows(&mut conn.prepare(read).unwrap()), expected);
    assert_eq!(expected.len(), 4);
}

/// Through tenant connections, as the application writes: no tenant id, no key in the
/// INSERTs that let SQLite choose one.
#[test]
fn through_tenant_connections_two_stores_create_the_same_keys_and_see_only_their_own() {
    use tenantry_sqlite::Connection as TenantConnection;

    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let open = |tenant: &str| {
        let conn = TenantConnection::open(&db).unwrap();
        conn.set_tenant(tenant).unwrap();
        conn
    };
    let caps = open(DEFAULT);
    let store2 = open("store-2");
    let store3 = open("store-3");
    // The legacy statements, as the application sends them.
    let writes = [
        "INSERT INTO users (username, password_hash, full_name, role) VALUES ('admin', 'x', 'Admin', 'admin')",
        "INSERT INTO products (sku, name, price) VALUES ('BRK-001', 'Brake pads', 49.99)",
        "INSERT INTO gift_cards (id, card_number, initial_balance_cents, balance_cents, issued_at) VALUES ('g-1', 'GC-100', 5000, 5000, 'now')",
        "INSERT INTO work_orders (id, order_number, created_at) VALUES ('w-1', 'WO-1', 'now')",
        "INSERT INTO backup_settings (id, updated_at) VALUES (1, 'now')",
    ];
    // The default tenant holds its own settings row already; the others create theirs.
    let failure = |e: rusqlite::Error| match e {
        rusqlite::Error::SqliteFailure(e, message) => (e.code, e.extended_code, message),
        other => panic!("expected a constraint failure, got {other:?}"),
    };
    for sql in writes {
        assert_eq!(store2.execute(sql, []).unwrap(), 1, "{sql}");
        // A second time store-2 collides with its own row; store-3, alone with the value,
        // inserts it, then collides with its own the same way.
        let crowded = failure(store2.execute(sql, []).unwrap_err());
        assert_eq!(store3.execute(sql, []).unwrap(), 1, "{sql}");
        let again = failure(store3.execute(sql, []).unwrap_err());
        assert_eq!(crowded, again, "{sql}");
        assert_eq!(crowded.0, ErrorCode::ConstraintViolation, "{sql}");
    }
    // Each sees its own rows only: one admin, one BRK-001, one GC-100, one WO-1, one
    // settings row; the default tenant's fixture rows are not among them.
    for conn in [&store2, &store3] {
        for (sql, want) in [
            ("SELECT count(*) FROM users", 1),
            ("SELECT count(*) FROM users WHERE username = 'admin'", 1),
            ("SELECT count(*) FROM products WHERE sku = 'BRK-001'", 1),
            (
                "SELECT count(*) FROM gift_cards WHERE card_number = 'GC-100'",
                1,
            ),
            ("SELECT count(*) FROM work_orders", 1),
            ("SELECT count(*) FROM backup_settings WHERE id = 1", 1),
        ] {
            let n: i64 = conn.query_row(sql, [], |r| r.get(0)).unwrap();
            assert_eq!(n, want, "{sql}");
        }
        // Its user got id 1, its first key, and last_insert_rowid said so.
        let id: i64 = conn
            .query_row("SELECT id FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, 1);
    }
    let caps_users: i64 = caps
        .query_row(
            "SELECT count(*) FROM users WHERE username = 'admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let fixture_users: i64 = caps
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert!(fixture_users > 1 && caps_users <= 1);
    // A new user of the default tenant gets the next of its own keys (above its largest and
    // its AUTOINCREMENT mark, which it kept from before the migration), and
    // last_insert_rowid() names it.
    let plain = Connection::open(&db).unwrap();
    let largest: i64 = plain
        .query_row(
            "SELECT max(id) FROM users WHERE tenant_id = ?1",
            [DEFAULT],
            |r| r.get(0),
        )
        .unwrap();
    let mark: i64 = plain
        .query_row(
            "SELECT seq FROM _tenantry_sequence WHERE tenant_id = ?1 AND name = 'users'",
            [DEFAULT],
            |r| r.get(0),
        )
        .unwrap();
    caps.execute(
        "INSERT INTO users (username, password_hash, full_name) VALUES ('new-hire', 'x', 'New Hire')",
        [],
    )
    .unwrap();
    let id: i64 = caps
        .query_row(
            "SELECT id FROM users WHERE username = 'new-hire'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(id, largest.max(mark) + 1);
    assert_eq!(caps.last_insert_rowid(), id);
}

/// Legacy upserts, `INSERT OR IGNORE` and `REPLACE` on every key of the POS fixture: through
/// the default tenant's connection on the tenant-first database, where two more stores hold
/// exactly its keys, each behaves as on the single-tenant database (the tenant oracle: same
/// outcome, same rows of the tenant after, the others' rows untouched).
#[test]
fn upserts_or_ignore_and_replace_on_every_pos_key_behave_as_on_one_tenant() {
    use tenantry_fixtures::{Interleave, TenantCopy, copy_tenant};
    use tenantry_testkit::oracle::tenancy::Tenancy;

    let dir = tempfile::tempdir().unwrap();
    let single_path = tiny_fixture(dir.path(), "single.db");
    let multi_path = tiny_fixture(dir.path(), "multi.db");
    migrate(&multi_path, &tenant_first(), &mut |_| {}).unwrap();
    let raw = Connection::open(&multi_path).unwrap();
    for store in ["store-2", "store-3"] {
        let mut copy = TenantCopy::pos(DEFAULT, store);
        // Per-tenant keys: the copies keep every key as it is.
        copy.interleave = Some(Interleave {
            stride: 1,
            slot: 0,
            base: 0,
        });
        copy_tenant(&raw, &copy).unwrap();
    }
    let single = Connection::open(&single_path).unwrap();
    let tenancy = Tenancy::read(&single, &raw, DEFAULT);
    let a = tenantry_sqlite::Connection::open(&multi_path).unwrap();
    a.set_tenant(DEFAULT).unwrap();

    // Every key of every table: the primary key and each unique index, by its columns.
    let tables: Vec<String> = single
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> '_migrations'")
        .unwrap()
        .query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    let (mut statements, mut refused, mut checked) = (0, Vec::new(), 0);
    for table in &tables {
        let columns: Vec<(String, i64)> = single
            .prepare(&format!(
                "SELECT name, pk FROM pragma_table_info('{table}')"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut keys: Vec<Vec<String>> = Vec::new();
        let mut pk: Vec<(i64, String)> = columns
            .iter()
            .filter(|c| c.1 > 0)
            .map(|c| (c.1, c.0.clone()))
            .collect();
        pk.sort();
        if !pk.is_empty() {
            keys.push(pk.into_iter().map(|(_, c)| c).collect());
        }
        let uniques: Vec<String> = single
            .prepare(&format!(
                "SELECT name FROM pragma_index_list('{table}') WHERE \"unique\" AND origin <> 'pk'"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for index in uniques {
            let cols: Vec<String> = single
                .prepare(&format!(
                    "SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            keys.push(cols);
        }
        let all: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.0)).collect();
        let list = all.join(", ");
        let other = columns
            .iter()
            .map(|c| &c.0)
            .find(|c| !keys.iter().flatten().any(|k| k == *c));
        for key in keys {
            let target = key
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ");
            // The row with the smallest key, as a legacy statement would write it: its
            // values as literals, so it collides with itself on every key.
            let quoted = all
                .iter()
                .map(|c| format!("quote({c})"))
                .collect::<Vec<_>>()
                .join(" || ', ' || ");
            let values: String = single
                .query_row(
                    &format!("SELECT {quoted} FROM \"{table}\" ORDER BY {target} LIMIT 1"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let mut forms = vec![
                format!("INSERT OR IGNORE INTO \"{table}\" ({list}) VALUES ({values})"),
                format!(
                    "INSERT INTO \"{table}\" ({list}) VALUES ({values}) ON CONFLICT ({target}) DO NOTHING"
                ),
                format!("REPLACE INTO \"{table}\" ({list}) VALUES ({values})"),
                format!("INSERT OR REPLACE INTO \"{table}\" ({list}) VALUES ({values})"),
            ];
            if let Some(other) = other {
                forms.push(format!(
                    "INSERT INTO \"{table}\" ({list}) VALUES ({values}) ON CONFLICT ({target}) DO UPDATE SET \"{other}\" = excluded.\"{other}\" RETURNING {target}"
                ));
            }
            for sql in forms {
                statements += 1;
                match on_the_oracle(&single, &a, &tenancy, &sql, Errors::BothFail) {
                    Err(e) => refused.push(format!("{sql}: {e}")),
                    Ok(()) => checked += 1,
                }
            }
        }
    }
    eprintln!(
        "POS keys: {statements} statements, {checked} as on one tenant, {} refused: {refused:#?}",
        refused.len()
    );
    // The only refusals: REPLACE where a delete runs a foreign-key action by trigger, which
    // SQLite does not fire for the rows a REPLACE deletes (ARCHITECTURE.md).
    let unexpected: Vec<&String> = refused
        .iter()
        .filter(|r| !r.contains("without the foreign-key action"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert_eq!(checked + refused.len(), statements);
    assert!(
        checked * 10 >= statements * 8,
        "{} of {statements} refused",
        refused.len()
    );
}

/// `tenantry rollback` restores a tenant-first migration as it restores the column layout's:
/// the database is the one from before, schema and rows.
#[test]
fn rollback_restores_the_database_from_before_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_fixture(dir.path(), "pos.db");
    let before = snapshot(&db);
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    assert_ne!(snapshot(&db), before);
    tenantry_migrate::rollback(
        &db,
        &tenantry_migrate::RollbackOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(snapshot(&db), before);
}

/// Schemas a red-team review of the rebuild found (each fixed): a comment before a moved
/// constraint, a global table referencing a tenant table, a CHECK or a trigger reading the
/// rowid of a table that becomes WITHOUT ROWID, ON UPDATE CASCADE through a tenant
/// connection, a REPLACE in a trigger where a delete runs a key's action, a text key.
#[test]
fn an_application_keyed_per_tenant_keeps_its_own_tenant_column_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::db_from_sql(
        dir.path(),
        "own.db",
        "CREATE TABLE tenants(id TEXT PRIMARY KEY);
         INSERT INTO tenants VALUES ('caps-automotive');
         CREATE TABLE shop_settings(id INTEGER PRIMARY KEY, TENANT_ID TEXT NOT NULL DEFAULT 'caps-automotive'
             UNIQUE REFERENCES tenants(id) CHECK (length(TENANT_ID) > 0), theme TEXT);
         CREATE TABLE profile(tenant_id TEXT PRIMARY KEY, name TEXT);
         CREATE TABLE customers(id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT, UNIQUE (tenant_id, id));
         CREATE TABLE orders(id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, customer_id INTEGER,
             FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id));
         INSERT INTO shop_settings(id, theme) VALUES (1, 'dark');
         INSERT INTO profile VALUES ('caps-automotive', 'Caps');
         INSERT INTO customers VALUES (1, 'caps-automotive', 'Ada');
         INSERT INTO orders VALUES (1, 'caps-automotive', 1);",
    );
    // A primary key on the tenant column and a foreign key holding it migrate.
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let check = verify(&db, &Default::default()).unwrap();
    assert!(
        check.verification.passed(),
        "{:?}",
        check.verification.problems
    );

    // Through the tenant connection: one settings row per tenant, as before.
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    let second = a.execute(
        "INSERT INTO shop_settings(id, theme) VALUES (2, 'light')",
        [],
    );
    assert!(
        matches!(&second, Err(e) if e.to_string().contains("UNIQUE")),
        "{second:?}"
    );
    // The column keeps its spelling where legacy statements read it.
    let names: Vec<String> = a
        .prepare("SELECT * FROM shop_settings")
        .unwrap()
        .column_names()
        .map(str::to_owned)
        .collect();
    assert_eq!(names, ["id", "TENANT_ID", "theme"]);

    // On a plain connection, the column's own CHECK and REFERENCES still hold, the primary
    // key on it still allows one row per tenant, and the composite key still binds.
    let plain = Connection::open(&db).unwrap();
    let fails = |sql: &str, words: &str| {
        let result = plain.execute(sql, []);
        assert!(
            matches!(&result, Err(e) if e.to_string().contains(words)),
            "{sql}: {result:?}"
        );
    };
    fails(
        "INSERT INTO shop_settings(id, TENANT_ID, theme) VALUES (3, '', 'x')",
        "CHECK",
    );
    plain.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    fails(
        "INSERT INTO shop_settings(id, TENANT_ID, theme) VALUES (4, 'nope', 'x')",
        "FOREIGN KEY",
    );
    fails(
        "INSERT INTO profile VALUES ('caps-automotive', 'again')",
        "UNIQUE",
    );
    fails(
        "INSERT INTO orders VALUES (2, 'caps-automotive', 99)",
        "FOREIGN KEY",
    );
    plain
        .execute("INSERT INTO orders VALUES (3, 'caps-automotive', 1)", [])
        .unwrap();
}

#[test]
fn awkward_schemas_rebuild_or_are_refused_before_anything_changes() {
    use tenantry_migrate::Error;
    let dir = tempfile::tempdir().unwrap();
    let case = |name: &str, sql: &str| crate::support::db_from_sql(dir.path(), name, sql);

    // A comment between a column and its UNIQUE: the next column stays a column.
    let db = case(
        "comment.db",
        "CREATE TABLE t(id INTEGER PRIMARY KEY,\n  a TEXT -- the code\n     UNIQUE,\n  b TEXT);\nINSERT INTO t VALUES(1,'x','y');",
    );
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let b: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT b FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(b, "y");

    // Refusals (exit 2, nothing changed): each names what to do.
    for (name, sql, options, words) in [
        (
            "global.db",
            "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE g(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id)); INSERT INTO p VALUES(1); INSERT INTO g VALUES(1,1);",
            MigrateOptions {
                exclude: vec!["g".into()],
                ..tenant_first()
            },
            "references tenant table \"p\"",
        ),
        (
            "check.db",
            "CREATE TABLE t(k TEXT PRIMARY KEY, name TEXT CHECK (rowid > 0)); INSERT INTO t VALUES('x','a');",
            tenant_first(),
            "its CREATE TABLE reads its rowid",
        ),
        (
            "trigger.db",
            "CREATE TABLE t(id INTEGER PRIMARY KEY, n TEXT); CREATE TABLE log(id INTEGER PRIMARY KEY, r INTEGER); CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log(r) VALUES(NEW.rowid); END;",
            tenant_first(),
            "trigger \"t_ins\" reads its rowid",
        ),
        // Red team 18: a trigger on another table (or a bare rowid in one on the table)
        // that reads the rebuilt table's rowid; it failed at every INSERT after migrating.
        (
            "other_trigger.db",
            "CREATE TABLE t(id INT PRIMARY KEY, x); CREATE TABLE u(a); CREATE TRIGGER tr AFTER INSERT ON u BEGIN UPDATE t SET x = 1 WHERE rowid = NEW.a; END;",
            tenant_first(),
            "trigger \"tr\" reads its rowid",
        ),
        (
            "bare_rowid.db",
            "CREATE TABLE t(id INTEGER PRIMARY KEY, x); CREATE TABLE u(a); CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES ((SELECT max(rowid) FROM t)); END;",
            tenant_first(),
            "trigger \"tr\" reads its rowid",
        ),
    ] {
        let db = case(name, sql);
        let before = snapshot(&db);
        let error = migrate(&db, &options, &mut |_| {}).expect_err(name);
        assert!(
            error.is_bad_input() && matches!(error, Error::Unsupported { .. }),
            "{name}: {error}"
        );
        assert!(
            error.to_string().contains(words) && error.to_string().contains("--layout column"),
            "{name}: {error}"
        );
        assert_eq!(snapshot(&db), before, "{name}");
    }

    // ON UPDATE CASCADE reaches the tenant's rows through its connection, as before.
    let db = case(
        "cascade.db",
        "CREATE TABLE p(a TEXT PRIMARY KEY, n TEXT); CREATE TABLE c(id INTEGER PRIMARY KEY, pa TEXT REFERENCES p ON UPDATE CASCADE); INSERT INTO p VALUES('k','n'); INSERT INTO c VALUES(1,'k');",
    );
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    a.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    a.execute("UPDATE p SET a = 'z' WHERE a = 'k'", []).unwrap();
    let pa: String = a.query_row("SELECT pa FROM c", [], |r| r.get(0)).unwrap();
    assert_eq!(pa, "z");

    // A trigger whose REPLACE would skip an emulated SET NULL is left unscoped (a risk),
    // and the statements that fire it are refused.
    let db = case(
        "replace.db",
        "CREATE TABLE p(id INTEGER PRIMARY KEY, n TEXT); CREATE TABLE c(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) ON DELETE SET NULL); CREATE TABLE x(id INTEGER PRIMARY KEY, pid INTEGER); CREATE TRIGGER x_ins AFTER INSERT ON x BEGIN INSERT OR REPLACE INTO p VALUES(NEW.pid,'t'); END; INSERT INTO p VALUES(1,'a'); INSERT INTO c VALUES(1,1);",
    );
    let report = migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    assert!(
        report
            .plan
            .risks
            .iter()
            .any(|r| r.to_string().contains("x_ins")),
        "{:?}",
        report.plan.risks
    );
    // The SET NULL its trigger runs, whatever PRAGMA foreign_keys says, is a risk too.
    assert!(
        report.plan.risks.iter().any(|r| matches!(
            r,
            tenantry_migrate::Risk::ActionsByTrigger { keys }
                if keys == &[("c".to_owned(), "p".to_owned(), vec!["ON DELETE SET NULL".to_owned()])]
        )),
        "{:?}",
        report.plan.risks
    );
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    assert!(a.execute("INSERT INTO x(pid) VALUES(1)", []).is_err());

    // An emulated ON DELETE SET NULL matches as SQLite matches a key: with the parent
    // key's collation (a NOCASE parent key, a child value in other case).
    let db = case(
        "collate.db",
        "CREATE TABLE p(code TEXT COLLATE NOCASE PRIMARY KEY, n TEXT); CREATE TABLE c(id INTEGER PRIMARY KEY, pcode TEXT REFERENCES p(code) ON DELETE SET NULL); INSERT INTO p VALUES('abc','a'); INSERT INTO c VALUES(1,'ABC');",
    );
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    a.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    a.execute("DELETE FROM p WHERE code = 'abc'", []).unwrap();
    let pcode: Option<String> = a
        .query_row("SELECT pcode FROM c", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pcode, None);

    // A key is an integer, as a rowid was: text is refused, so the next allocation works.
    let db = case(
        "text-key.db",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, n TEXT); INSERT INTO t VALUES(1,'a');",
    );
    migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let a = tenantry_sqlite::Connection::open(&db).unwrap();
    a.set_tenant(DEFAULT).unwrap();
    assert!(a.execute("INSERT INTO t VALUES('abc','x')", []).is_err());
    assert!(a.execute("INSERT INTO t VALUES(2.5,'y')", []).is_err());
    a.execute("INSERT INTO t VALUES('7','text seven')", [])
        .unwrap();
    a.execute("INSERT INTO t(n) VALUES('z')", []).unwrap();
    assert_eq!(a.last_insert_rowid(), 8);
}

/// What the plan says of a table stored in tenant order holds: a read without ORDER BY
/// comes in key order where it came in insertion order (so a LIMIT without ORDER BY
/// returns another row), and an insert into it leaves `last_insert_rowid()` as it was.
#[test]
fn a_clustered_tables_risk_says_what_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::db_from_sql(
        dir.path(),
        "codes.db",
        "CREATE TABLE codes(k TEXT PRIMARY KEY, n TEXT); INSERT INTO codes VALUES ('b', 'second'), ('a', 'first');",
    );
    let first = "SELECT n FROM codes LIMIT 1";
    let before: String = Connection::open(&db)
        .unwrap()
        .query_row(first, [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, "second");
    let report = migrate(&db, &tenant_first(), &mut |_| {}).unwrap();
    let risk = report
        .plan
        .risks
        .iter()
        .map(ToString::to_string)
        .find(|r| r.contains("\"codes\""))
        .expect("a risk for codes");
    for said in ["rowid values are gone", "ORDER BY", "last_insert_rowid()"] {
        assert!(risk.contains(said), "{said}: {risk}");
    }
    let conn = tenantry_sqlite::Connection::open(&db).unwrap();
    conn.set_tenant(DEFAULT).unwrap();
    let after: String = conn.query_row(first, [], |r| r.get(0)).unwrap();
    assert_eq!(after, "first");
    conn.execute("INSERT INTO codes VALUES ('c', 'third')", [])
        .unwrap();
    assert_eq!(conn.last_insert_rowid(), 0);
}
