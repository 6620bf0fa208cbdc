//! A digest of a table's rows, to compare a rebuilt table with the old one without
//! looking each row up: the wrapping sum of a keyed hash (SipHash, with a key drawn once
//! per process) of each row's values, their storage classes included. Two tables holding
//! the same rows, in any order, have the same digest; tables that differ have the same
//! one with a chance of about 2^-64, and the key being secret, no row can be written to
//! make that happen. Both sides are hashed in this process, so they share the key.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;

/// The aggregate's name: `tenantry_rows_digest(v1, v2, …)` over a table's rows.
pub(crate) const FUNCTION: &str = "tenantry_rows_digest";

/// One table's rows, digested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Digest {
    /// The wrapping sum of the rows' hashes.
    pub sum: i64,
    /// How many rows.
    pub rows: u64,
}

fn key() -> &'static RandomState {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new)
}

/// Registers [`FUNCTION`] on `conn`.
///
/// # Errors
/// SQLite's, if the function cannot be registered.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_aggregate_function(
        FUNCTION,
        -1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_DIRECTONLY,
        RowsDigest,
    )
}

/// The digest of `select_list` (comma-separated expressions) over `from` (a table with
/// its alias), as `SELECT` reads it on `conn`.
///
/// # Errors
/// SQLite's.
pub(crate) fn of(conn: &Connection, select_list: &str, from: &str) -> rusqlite::Result<Digest> {
    conn.query_row(
        &format!("SELECT {FUNCTION}({select_list}), count(*) FROM {from}"),
        [],
        |r| {
            Ok(Digest {
                sum: r.get::<_, Option<i64>>(0)?.unwrap_or(0),
                rows: r.get(1)?,
            })
        },
    )
}

struct RowsDigest;

impl Aggregate<u64, i64> for RowsDigest {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<u64> {
        Ok(0)
    }

    fn step(&self, ctx: &mut Context<'_>, sum: &mut u64) -> rusqlite::Result<()> {
        let mut h = key().build_hasher();
        for i in 0..ctx.len() {
            match ctx.get_raw(i) {
                ValueRef::Null => h.write_u8(0),
                ValueRef::Integer(v) => {
                    h.write_u8(1);
                    h.write_i64(v);
                }
                ValueRef::Real(v) => {
                    h.write_u8(2);
                    h.write_u64(v.to_bits());
                }
                ValueRef::Text(t) => {
                    h.write_u8(3);
                    h.write_usize(t.len());
                    h.write(t);
                }
                ValueRef::Blob(b) => {
                    h.write_u8(4);
                    h.write_usize(b.len());
                    h.write(b);
                }
            }
        }
        *sum = sum.wrapping_add(h.finish());
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, sum: Option<u64>) -> rusqlite::Result<i64> {
        // The bits as SQLite's integer.
        Ok(i64::from_ne_bytes(sum.unwrap_or(0).to_ne_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(conn: &Connection, table: &str) -> Digest {
        of(conn, "a, b", table).unwrap()
    }

    #[test]
    fn same_rows_in_any_order_agree_and_any_difference_shows() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, x'00');
             CREATE TABLE same (a, b); INSERT INTO same VALUES (3, x'00'), (1, 'x'), (2, NULL);
             CREATE TABLE value (a, b); INSERT INTO value VALUES (1, 'y'), (2, NULL), (3, x'00');
             CREATE TABLE class (a, b); INSERT INTO class VALUES (1.0, 'x'), (2, NULL), (3, x'00');
             CREATE TABLE blob (a, b); INSERT INTO blob VALUES (1, x'78'), (2, NULL), (3, x'00');
             CREATE TABLE moved (a, b); INSERT INTO moved VALUES ('x', 1), (2, NULL), (3, x'00');
             CREATE TABLE twice (a, b); INSERT INTO twice VALUES (1, 'x'), (1, 'x'), (3, x'00');
             CREATE TABLE empty (a, b);",
        )
        .unwrap();
        let t = digest(&conn, "t");
        assert_eq!(t.rows, 3);
        assert_eq!(digest(&conn, "same"), t);
        for other in ["value", "class", "blob", "moved", "twice"] {
            assert_ne!(digest(&conn, other).sum, t.sum, "{other}");
        }
        assert_eq!(digest(&conn, "empty"), Digest { sum: 0, rows: 0 });
    }
}
