//! A tenant-first table whose legacy rowid is a key column: through the tenant connection
//! an INSERT gets its key per tenant, and `last_insert_rowid()` returns it, as it returned
//! the legacy table's rowid.

use tenantry_rewrite::SCOPED_TRIGGER_MARK;
use tenantry_sqlite::Connection;

/// Tenants a and b hold the same keys; a's largest is 3 (its AUTOINCREMENT mark 4), b's 7.
fn schema() -> String {
    format!(
        r#"
CREATE TABLE "users" (id INTEGER, username TEXT NOT NULL, "tenant_id" VARCHAR(255) NOT NULL,
    CONSTRAINT "tenantry_autoincrement" PRIMARY KEY ("tenant_id", "id"),
    UNIQUE ("tenant_id", "username")) WITHOUT ROWID;
CREATE TABLE "_tenantry_sequence" (name TEXT NOT NULL, seq INTEGER NOT NULL,
    "tenant_id" VARCHAR(255) NOT NULL, PRIMARY KEY ("tenant_id", "name")) WITHOUT ROWID;
CREATE TABLE "audit" (what TEXT, "tenant_id" VARCHAR(255) NOT NULL);
INSERT INTO users (id, username, tenant_id) VALUES (1, 'x', 'a'), (3, 'y', 'a'), (1, 'x', 'b'), (7, 'z', 'b');
INSERT INTO _tenantry_sequence VALUES ('users', 4, 'a'), ('users', 7, 'b');
CREATE TRIGGER users_sequence AFTER INSERT ON users BEGIN {SCOPED_TRIGGER_MARK}
    INSERT INTO _tenantry_sequence (tenant_id, name, seq) VALUES (NEW.tenant_id, 'users', NEW.id)
      ON CONFLICT (tenant_id, name) DO UPDATE SET seq = max(seq, excluded.seq);
    INSERT INTO audit (what, tenant_id) VALUES ('user ' || NEW.id, NEW.tenant_id);
END;
"#
    )
}

fn open() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("app.db");
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch(&schema()))
        .expect("schema");
    let conn = Connection::open(&path).expect("open");
    (dir, conn)
}

fn key_of(conn: &Connection, username: &str) -> i64 {
    conn.query_row(
        "SELECT id FROM users WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .expect("key")
}

#[test]
fn last_insert_rowid_is_the_key_the_row_got_in_each_tenant() {
    let (_dir, conn) = open();
    // (tenant, expected key): a's mark is 4, b's largest key 7.
    for (tenant, expected) in [("a", 5), ("b", 8), ("a", 6)] {
        conn.set_tenant(tenant).expect("tenant");
        let name = format!("new{expected}");
        conn.execute(
            &format!("INSERT INTO users(username) VALUES ('{name}')"),
            [],
        )
        .expect("insert");
        assert_eq!(key_of(&conn, &name), expected, "tenant {tenant}");
        assert_eq!(conn.last_insert_rowid(), expected, "tenant {tenant}");
        let sql: i64 = conn
            .query_row("SELECT last_insert_rowid()", [], |r| r.get(0))
            .expect("last_insert_rowid()");
        assert_eq!(sql, expected, "tenant {tenant}");
    }
}

#[test]
fn a_given_key_and_the_last_row_of_several_are_reported() {
    let (_dir, conn) = open();
    conn.set_tenant("b").expect("tenant");
    conn.execute("INSERT INTO users(id, username) VALUES (40, 'given')", [])
        .expect("insert");
    assert_eq!(conn.last_insert_rowid(), 40);
    conn.execute(
        "INSERT INTO users(username) VALUES ('m1'), ('m2'), ('m3')",
        [],
    )
    .expect("insert");
    assert_eq!((key_of(&conn, "m3"), conn.last_insert_rowid()), (43, 43));
    // The trigger's own INSERTs (a rowid table) do not change it once the trigger ends.
    let audits: i64 = conn
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .expect("audit");
    assert_eq!(audits, 4);
}

/// Another tenant's last key is not the next tenant's to read: a change of tenant
/// (`set_tenant`, `with_tenant` and its return, `clear_tenant`) sets `last_insert_rowid()`
/// back to 0, as on a connection that inserted nothing. (b read a's key 5, a's key
/// counter.) The same tenant set again keeps it.
#[test]
fn a_change_of_tenant_does_not_hand_on_the_last_key() {
    let (_dir, conn) = open();
    let sql_value = |conn: &Connection| -> i64 {
        conn.query_row("SELECT last_insert_rowid()", [], |r| r.get(0))
            .expect("last_insert_rowid()")
    };
    conn.set_tenant("a").expect("tenant");
    conn.execute("INSERT INTO users(username) VALUES ('new')", [])
        .expect("insert");
    assert_eq!(conn.last_insert_rowid(), 5);
    conn.set_tenant("a").expect("same tenant");
    assert_eq!(conn.last_insert_rowid(), 5);
    let seen = conn
        .with_tenant("b", |c| Ok((c.last_insert_rowid(), sql_value(c))))
        .expect("b");
    assert_eq!(seen, (0, 0));
    conn.execute("INSERT INTO users(username) VALUES ('newer')", [])
        .expect("insert");
    assert_eq!(conn.last_insert_rowid(), 6);
    conn.set_tenant("b").expect("tenant");
    assert_eq!((conn.last_insert_rowid(), sql_value(&conn)), (0, 0));
    conn.set_tenant("a").expect("tenant");
    conn.execute("INSERT INTO users(username) VALUES ('newest')", [])
        .expect("insert");
    conn.clear_tenant();
    assert_eq!(conn.last_insert_rowid(), 0);
}
