//! `tenantry global`: declare tables global, list or remove declarations.

use std::path::Path;

use rusqlite::OpenFlags;
use tenantry::migrate::{declare_global, declared_global, undeclare_global};

use super::{Status, print_json, report_error};
use crate::cli::{GlobalAction, GlobalArgs};
use crate::logging;

/// Runs one `tenantry global` action.
pub fn run(args: GlobalArgs) -> anyhow::Result<Status> {
    logging::init(None, None)?;
    let db = match &args.action {
        GlobalAction::Add { db, .. }
        | GlobalAction::Remove { db, .. }
        | GlobalAction::List { db, .. } => db,
    };
    let conn = match open(db) {
        Ok(conn) => conn,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Status::BadInput);
        }
    };
    let json = matches!(args.action, GlobalAction::List { json: true, .. });
    let done = match &args.action {
        GlobalAction::Add { patterns, .. } => {
            let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
            declare_global(&conn, &patterns).map(|()| {
                println!("declared global: {}", patterns.join(", "));
            })
        }
        GlobalAction::Remove { patterns, .. } => {
            let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
            undeclare_global(&conn, &patterns).map(|n| println!("removed {n} declaration(s)"))
        }
        GlobalAction::List { json, .. } => declared_global(&conn).map(|declared| {
            if *json {
                let _ = print_json(&declared);
            } else if declared.is_empty() {
                println!("no table is declared global");
            } else {
                let width = declared.iter().map(|d| d.pattern.len()).max().unwrap_or(0);
                for d in &declared {
                    let tables = if d.tables.is_empty() {
                        "(no table yet)".to_owned()
                    } else {
                        d.tables.join(", ")
                    };
                    println!("{:<width$}  {tables}", d.pattern);
                }
            }
        }),
    };
    Ok(match done {
        Ok(()) => Status::Ok,
        Err(error) => report_error(&error, json, ""),
    })
}

/// Opens an existing SQLite database for writing, never creating one.
fn open(db: &Path) -> Result<rusqlite::Connection, String> {
    if !db.is_file() {
        return Err(format!("{}: no such database file", db.display()));
    }
    let conn = rusqlite::Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("{}: {e}", db.display()))?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| format!("{}: not a SQLite database ({e})", db.display()))?;
    Ok(conn)
}
