//! What the benchmarks share: where they keep their files, and reading criterion's medians
//! back for the summary tables they print.

use std::path::PathBuf;
use std::time::SystemTime;

/// Cargo's target folder (`CARGO_TARGET_DIR` when set).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from)
}

/// The folder a bench keeps its databases in, `target/tenantry-bench/<name>` (the folder
/// itself for an empty name), created if missing.
pub fn bench_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("tenantry-bench").join(name);
    std::fs::create_dir_all(&dir).expect("create the bench folder");
    dir
}

/// Where criterion writes its estimates.
#[allow(dead_code, reason = "the cost bench times without criterion")]
pub fn criterion_dir() -> PathBuf {
    target_dir().join("criterion")
}

/// Criterion's median estimate for `group/function`, in nanoseconds, when it was measured
/// by this run (not left by an earlier one).
#[allow(dead_code, reason = "the cost bench times without criterion")]
pub fn median_ns(group: &str, function: &str, since: SystemTime) -> Option<f64> {
    // Criterion's folder for a benchmark id turns its `/` into `_`.
    let path = criterion_dir()
        .join(group)
        .join(function.replace('/', "_"))
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"].as_f64()
}

/// A duration in nanoseconds, for people: ns, µs or ms.
pub fn human(ns: f64) -> String {
    if ns.abs() >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns.abs() >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// This machine, for the tables: CPUs, their model (Linux), SQLite's version.
#[allow(dead_code, reason = "not every bench prints the machine")]
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "CPU model unknown".to_owned());
    format!("{cpus} CPUs ({model}), SQLite {}", rusqlite::version())
}

/// Plain rusqlite with the settings the tenant connection turns on (the query planner
/// stability guarantee, its statement-cache capacity) and a busy timeout of 5 s: what
/// differs from the tenant connection is then the isolation alone.
#[allow(dead_code, reason = "not every bench compares with plain rusqlite")]
pub fn open_plain(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open plain");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    conn.set_prepared_statement_cache_capacity(tenantry_sqlite::STATEMENT_CACHE_CAPACITY);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .expect("QPSG");
    conn
}
