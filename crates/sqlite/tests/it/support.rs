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
