//! What the tenant connection's tests share: a database in a temporary folder, and reading a
//! column of a statement's rows.

use std::path::PathBuf;

use tenantry_sqlite::Connection;

/// A database file in a folder removed when this is dropped.
pub struct Db {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// A database made by `sql` (run with plain rusqlite).
pub fn db(sql: &str) -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("app.db");
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch(sql))
        .expect("schema");
    Db { _dir: dir, path }
}

/// The first column of every row `sql` returns on `conn`.
pub fn column<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> Vec<T> {
    conn.prepare(sql)
        .expect(sql)
        .query_map([], |r| r.get(0))
        .expect(sql)
        .collect::<rusqlite::Result<_>>()
        .expect(sql)
}

/// Adds, through unscoped work, a global table `log` and a TEMP trigger (in no schema the
/// rewriter reads) that deletes every row of `tenant_table` when a row goes into `log`:
/// what only the guard (SQLite's authorizer) can stop.
pub fn add_hidden_trigger(conn: &Connection, tenant_table: &str) {
    conn.unscoped(|admin| {
        admin.execute_batch(&format!(
            "CREATE TABLE log (msg TEXT);
             CREATE TABLE _tenantry_globals (pattern TEXT PRIMARY KEY);
             INSERT INTO _tenantry_globals VALUES ('log');
             CREATE TEMP TRIGGER wipe AFTER INSERT ON main.log BEGIN DELETE FROM {tenant_table}; END;"
        ))
    })
    .expect("the hidden trigger");
}

/// The statement that fires [`add_hidden_trigger`]'s trigger.
pub const FIRES_HIDDEN_TRIGGER: &str = "INSERT INTO log (msg) VALUES ('hi')";
