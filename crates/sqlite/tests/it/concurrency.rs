//! 128 threads over one pool, four tenants, reads and writes interleaved: every thread sees
//! only its own tenant's rows, and afterwards no write is lost or misfiled.

use std::sync::Arc;

use tenantry_sqlite::pool::{Manager, Pool};

const THREADS: usize = 128;
const TENANTS: [&str; 4] = ["north", "south", "east", "west"];
const ROUNDS: i64 = 12;

#[test]
fn many_threads_each_see_only_their_tenant_and_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shop.db");
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE events (id INTEGER PRIMARY KEY, thread INTEGER NOT NULL,
                                      seq INTEGER NOT NULL, tag TEXT NOT NULL,
                                      tenant_id TEXT NOT NULL DEFAULT 'caps-automotive');
                 CREATE INDEX idx_events_tenant ON events (tenant_id);",
            )
        })
        .expect("schema");
    let pool = Arc::new(Pool::new(Manager::new(&path), 16).expect("pool"));

    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || -> Result<(), String> {
                let tenant = TENANTS[thread % TENANTS.len()];
                let thread = i64::try_from(thread).map_err(|e| e.to_string())?;
                for seq in 0..ROUNDS {
                    let conn = pool.get().map_err(|e| e.to_string())?;
                    conn.set_tenant(tenant).map_err(|e| e.to_string())?;
                    conn.execute(
                        "INSERT INTO events (thread, seq, tag) VALUES (?1, ?2, ?3)",
                        (thread, seq, tenant),
                    )
                    .map_err(|e| e.to_string())?;
                    // Everything this connection can see is this tenant's.
                    let tags: Vec<String> = conn
                        .prepare_cached("SELECT DISTINCT tag FROM events")
                        .and_then(|mut s| {
                            s.query_map([], |r| r.get(0))?
                                .collect::<rusqlite::Result<_>>()
                        })
                        .map_err(|e| e.to_string())?;
                    if tags != [tenant] {
                        return Err(format!("{tenant} saw tags {tags:?}"));
                    }
                    let mine: i64 = conn
                        .query_row(
                            "SELECT count(*) FROM events WHERE thread = ?1",
                            [thread],
                            |r| r.get(0),
                        )
                        .map_err(|e| e.to_string())?;
                    if mine != seq + 1 {
                        return Err(format!(
                            "thread {thread} sees {mine} of its rows, wrote {}",
                            seq + 1
                        ));
                    }
                    if seq % 4 == 3 {
                        let changed = conn
                            .execute("UPDATE events SET tag = tag WHERE thread = ?1", [thread])
                            .map_err(|e| e.to_string())?;
                        if changed != usize::try_from(seq + 1).map_err(|e| e.to_string())? {
                            return Err(format!("thread {thread} updated {changed} rows"));
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .expect("thread did not panic")
            .expect("thread saw only its tenant");
    }

    // Afterwards, straight from SQLite: every row where it belongs.
    let conn = rusqlite::Connection::open(&path).expect("open");
    let per_tenant = THREADS as i64 / TENANTS.len() as i64 * ROUNDS;
    for tenant in TENANTS {
        let (rows, misfiled): (i64, i64) = conn
            .query_row(
                "SELECT count(*), sum(tag <> tenant_id) FROM events WHERE tenant_id = ?1",
                [tenant],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("count");
        assert_eq!((rows, misfiled), (per_tenant, 0), "{tenant}");
    }
    let total: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("total");
    assert_eq!(total, THREADS as i64 * ROUNDS);
}
