//! `tenantry rewrite`: prints SQL scoped to one tenant, or why it is refused.
//!
//! Nothing is run and nothing is written: the schema comes from a file or from a database
//! opened read-only.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use tenantry::rewrite::{
    Access, GlobalTables, Policy, RewriteError, Rewriter, Rewritten, Schema, SchemaError,
};

use super::{Status, print_json};
use crate::cli::{self, RewriteArgs};
use crate::logging;

/// Reads the schema and the SQL, rewrites the SQL for the tenant and prints it.
pub fn run(args: RewriteArgs) -> anyhow::Result<Status> {
    logging::init(None, None)?;
    let json = args.json;
    let tenant = match cli::tenant_id("--tenant", &args.tenant) {
        Ok(tenant) => tenant,
        Err(message) => return bad_input("tenant", &message, json),
    };
    let (schema, policy) = match load_schema(&args) {
        Ok(schema) => schema,
        Err(message) => return bad_input("schema", &message, json),
    };
    let sql = match super::input::read_sql(args.sql.as_deref()) {
        Ok(sql) => sql,
        Err(message) => return bad_input("input", &message, json),
    };
    if !schema
        .tables()
        .any(|table| table.has_column(schema.tenant_column()))
    {
        eprintln!(
            "warning: no table of the schema has the tenant column {:?}, so nothing can be scoped; \
             has the database been migrated (`tenantry migrate`), or is the column named \
             otherwise (--column)?",
            schema.tenant_column()
        );
    }
    for object in schema.unreadable() {
        eprintln!(
            "warning: {} {:?} could not be read ({}); statements that may touch it are refused",
            object.kind, object.name, object.reason
        );
    }
    let rewriter = Rewriter::with_policy(schema, policy);
    match rewriter.rewrite(&sql, &tenant) {
        Ok(rewritten) if rewritten.statements().is_empty() => bad_input(
            "input",
            "no SQL statement to rewrite: pass one as the last argument, or on standard input",
            json,
        ),
        Ok(rewritten) => {
            if json {
                print_json(&success_json(&rewritten))?;
            } else {
                println!("{}", rewritten.sql());
            }
            Ok(Status::Ok)
        }
        Err(error) => {
            let status = match error {
                RewriteError::InvalidTenantId(_) => Status::BadInput,
                _ => Status::Failed,
            };
            report(error.kind(), &error.to_string(), json)?;
            Ok(status)
        }
    }
}

/// The schema named by `--db` or `--schema` and the policy to scope it with, or a message
/// that says what to do. With `--db`, as a tenant connection: only the tables the database
/// declares global are used unscoped; a schema file declares nothing, so there every table
/// without the tenant column is global.
fn load_schema(args: &RewriteArgs) -> Result<(Schema, Policy), String> {
    // As a tenant connection rewrites: keys reported, tenant values checked when they run.
    let mut policy = tenantry::sqlite::schema::connection_policy(GlobalTables::default());
    let (read, origin) = match (&args.db, &args.schema) {
        (Some(db), _) => {
            let found = schema_of_database(db)?;
            policy.global_tables = GlobalTables::Declared(found.globals);
            let read = Schema::from_objects(found.objects, &args.column).map(|mut schema| {
                for table in &found.own_columns {
                    schema.set_own_tenant_column(table);
                }
                schema
            });
            (read, db.as_path())
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                format!(
                    "cannot read the schema file {}: {e}; pass a file of CREATE TABLE \
                     statements (e.g. made with `sqlite3 app.db .schema > schema.sql`), or \
                     --db with the database",
                    file.display()
                )
            })?;
            (Schema::from_sql(&text, &args.column), file.as_path())
        }
        // The argument group makes one of the two required; clap enforces it.
        (None, None) => return Err("pass --db DB or --schema FILE.sql".to_owned()),
    };
    read.map(|schema| (schema, policy))
        .map_err(|error| match error {
            SchemaError::InvalidColumnName { .. } => {
                format!("{error}; pass --column with the tenant column's name (default tenant_id)")
            }
            _ => format!(
                "the schema of {} cannot be used: {error}; it must be CREATE TABLE statements \
             that SQLite accepts",
                origin.display()
            ),
        })
}

/// What a tenant connection reads of a database's schema.
struct DatabaseSchema {
    /// The `CREATE` statements of its tables, views, triggers and indexes.
    objects: Vec<String>,
    /// The tables it declares global.
    globals: Vec<String>,
    /// The tables whose tenant column is the application's own.
    own_columns: Vec<String>,
}

/// The schema of the database at `db`, read through a read-only connection.
fn schema_of_database(db: &Path) -> Result<DatabaseSchema, String> {
    let cannot = |detail: &dyn std::fmt::Display| {
        format!(
            "cannot read the schema of {}: {detail}; pass the application's SQLite database \
             (migrated with `tenantry migrate`), or --schema FILE.sql",
            db.display()
        )
    };
    // SQLite never creates a file opened read-only, but says only "unable to open".
    if !db.is_file() {
        let what = if db.exists() {
            "it is not a file"
        } else {
            "no such file"
        };
        return Err(cannot(&what));
    }
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| cannot(&e))?;
    let mut statement = conn
        .prepare(tenantry::sqlite::schema::SCHEMA_QUERY)
        .map_err(|e| cannot(&e))?;
    let tables = statement
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| cannot(&e))?;
    if tables.is_empty() {
        return Err(cannot(&"the database has no tables"));
    }
    let globals = tenantry::sqlite::schema::global_tables(&conn).map_err(|e| cannot(&e))?;
    let own_columns =
        tenantry::sqlite::schema::own_tenant_columns(&conn).map_err(|e| cannot(&e))?;
    Ok(DatabaseSchema {
        objects: tables,
        globals,
        own_columns,
    })
}

/// The JSON object printed on success.
fn success_json(rewritten: &Rewritten) -> serde_json::Value {
    let statements: Vec<serde_json::Value> = rewritten
        .statements()
        .iter()
        .map(|info| {
            let tables: Vec<serde_json::Value> = info
                .tables
                .iter()
                .map(|table| {
                    serde_json::json!({
                        "name": table.name,
                        "scoped": table.scoped,
                        "access": match table.access {
                            Access::Read => "read",
                            Access::Write => "write",
                        },
                    })
                })
                .collect();
            serde_json::json!({
                "kind": info.kind.as_str(),
                "explain": info.explain,
                "tables": tables,
            })
        })
        .collect();
    serde_json::json!({ "sql": rewritten.sql(), "statements": statements })
}

/// Reports bad input (exit 2).
fn bad_input(kind: &str, message: &str, json: bool) -> anyhow::Result<Status> {
    report(kind, message, json)?;
    Ok(Status::BadInput)
}

/// Prints an error on standard error and, with `json`, as one JSON object on standard output.
fn report(kind: &str, message: &str, json: bool) -> anyhow::Result<()> {
    eprintln!("error: {message}");
    if json {
        print_json(&serde_json::json!({ "error": { "kind": kind, "message": message } }))?;
    }
    Ok(())
}
