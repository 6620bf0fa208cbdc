//! Concurrent load: a fixed number of operations run by N threads, a pool of plain
//! rusqlite connections to compare the tenant pool with, and the small statistics the
//! benches print.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, mpsc};
use std::time::Instant;

use crate::support::open_plain;

/// The environment variable `name` parsed, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `TENANTRY_BENCH_THREADS`, or 1, 8, 32 and 128.
pub fn thread_counts() -> Vec<usize> {
    std::env::var("TENANTRY_BENCH_THREADS")
        .unwrap_or_else(|_| "1,8,32,128".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect()
}

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Runs `ops` operations on `threads` threads, each operation through `op`; returns
/// operations per second (thread start-up not timed).
pub fn timed_run(threads: usize, ops: usize, op: &(dyn Fn(usize) + Sync)) -> f64 {
    let next = AtomicUsize::new(0);
    let barrier = Barrier::new(threads + 1);
    let started = std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                barrier.wait();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= ops {
                        break;
                    }
                    op(i);
                }
            });
        }
        barrier.wait();
        // The scope joins every thread before returning; time that.
        Instant::now()
    });
    ops as f64 / started.elapsed().as_secs_f64()
}

/// A pool of plain rusqlite connections ([`open_plain`], WAL): a channel holding the idle
/// ones, as small as the tenant pool it is compared with.
pub struct PlainPool {
    idle: Mutex<mpsc::Receiver<rusqlite::Connection>>,
    give_back: mpsc::SyncSender<rusqlite::Connection>,
}

impl PlainPool {
    pub fn new(path: &Path, size: u32) -> PlainPool {
        let (give_back, idle) = mpsc::sync_channel(size as usize);
        for _ in 0..size {
            let conn = open_plain(path);
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .expect("journal_mode");
            assert!(mode.eq_ignore_ascii_case("wal"));
            give_back.send(conn).expect("fill pool");
        }
        PlainPool {
            idle: Mutex::new(idle),
            give_back,
        }
    }

    /// Runs `f` on an idle connection, waiting for one.
    pub fn with<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
        let conn = self
            .idle
            .lock()
            .expect("pool lock")
            .recv()
            .expect("a connection");
        let out = f(&conn);
        self.give_back.send(conn).expect("give back");
        out
    }
}
