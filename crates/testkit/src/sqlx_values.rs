//! rusqlite values bound to a sqlx query, for the tests and benches that run the same
//! statement with the same parameters through rusqlite and through sqlx.

use rusqlite::types::Value;
use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;

/// `query` with `params` bound in order, each as the SQLite storage class it holds.
pub fn bind<'q>(
    mut query: Query<'q, Sqlite, SqliteArguments>,
    params: &[Value],
) -> Query<'q, Sqlite, SqliteArguments> {
    for p in params {
        query = match p.clone() {
            Value::Null => query.bind(None::<i64>),
            Value::Integer(i) => query.bind(i),
            Value::Real(r) => query.bind(r),
            Value::Text(t) => query.bind(t),
            Value::Blob(b) => query.bind(b),
        };
    }
    query
}
