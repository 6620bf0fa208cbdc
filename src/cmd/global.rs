//! `tenantry global`: declare tables global, list or remove declarations.

use tenantry::migrate::{
    DEFAULT_BUSY_WAIT, declare_global, declared_global, open_existing, undeclare_global,
};

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
    let write = !matches!(args.action, GlobalAction::List { .. });
    let json = matches!(args.action, GlobalAction::List { json: true, .. });
    // Refused as `migrate` refuses it: missing, empty, not SQLite, read-only, busy.
    let conn = match open_existing(db, write, DEFAULT_BUSY_WAIT) {
        Ok(conn) => conn,
        Err(error) => return Ok(report_error(&error, json, "")),
    };
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
        // Another process holds the write lock past the wait: say so, as `migrate` does.
        Err(tenantry::migrate::Error::Sqlite { source, .. })
            if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
        {
            let busy = tenantry::migrate::Error::Busy {
                path: db.clone(),
                waited_ms: DEFAULT_BUSY_WAIT.as_millis() as u64,
            };
            report_error(&busy, json, "")
        }
        Err(error) => report_error(&error, json, ""),
    })
}
