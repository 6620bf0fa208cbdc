//! The command-line definition: subcommands, flags and their help.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::{ArgGroup, Args, Parser, Subcommand};
use tenantry::rewrite::TenantId;

/// Make a single-tenant SQLite database multi-tenant, without losing a row.
///
/// Typical use: stop the application, `tenantry migrate app.db --dry-run` to read the
/// plan, `tenantry migrate app.db` to apply it, `tenantry verify app.db` to check it.
/// If anything goes wrong the migration rolls itself back; `tenantry rollback app.db`
/// restores the backup it took. `tenantry rewrite --db app.db --tenant ID 'SQL'` shows
/// what a statement becomes once scoped to a tenant, or why it is refused;
/// `tenantry sql app.db --tenant ID 'SQL'` runs it as that tenant.
///
/// Exit status: 0 success; 1 the operation failed (and was rolled back) or verification
/// found problems; 2 bad usage or bad input (missing file, not a database, invalid tenant id).
#[derive(Debug, Parser)]
#[command(name = "tenantry", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a tenant column (NOT NULL, indexed) to every table, in one transaction.
    ///
    /// Steps: preflight (the file exists, is SQLite, is writable, no other process holds
    /// it), plan, row counts, an online backup checked beside the change (quick_check, row
    /// counts; a corrupt file is refused and nothing changes), ALTER TABLE and CREATE INDEX
    /// per table (or each table rebuilt, with --layout tenant-first), verification with
    /// foreign_key_check, COMMIT. Any failure rolls everything back and prints how to
    /// restore. Re-running is a no-op; a half-migrated database is completed.
    ///
    /// Tables left global: SQLite's own, migration-bookkeeping tables (_migrations,
    /// schema_migrations, …), tenantry's _tenantry_migrations, the tenant registry
    /// (`tenants`), and any --exclude.
    Migrate(MigrateArgs),
    /// Check a migrated database without changing it.
    ///
    /// Every scoped table has a NOT NULL text tenant column (compared with BINARY) that leads
    /// an index; no NULL, empty or invalid tenant id; quick_check clean; no foreign-key
    /// violation beyond those recorded before the migration. Column layout: every guard
    /// trigger there, and no row referencing another tenant's row. Tenant-first layout:
    /// every key, index and foreign key tenant-first. Exit 1 if any check fails.
    Verify(VerifyArgs),
    /// Restore a database from the backup taken by `migrate`.
    ///
    /// Uses the backup recorded in the database unless --backup is given; the recorded one
    /// must still hold the rows the migration copied into it (a copy changed since, or
    /// another file in its place, is refused: name it with --backup to restore it anyway).
    /// The current state is saved beside the database first, so nothing written since is
    /// lost. Safe in WAL mode. The result is checked against the backup.
    Rollback(RollbackArgs),
    /// Generate the point-of-sale fixture database (deterministic).
    Fixture(FixtureArgs),
    /// Generate the typical fixture, migrate it with progress, verify it and print the report.
    Demo(DemoArgs),
    /// Show what SQL becomes when scoped to one tenant, or why it is refused.
    ///
    /// The rewrite is what the tenant-scoping connection runs instead of the application's
    /// SQL. Against the schema of a migrated database (tables with the tenant column are the
    /// tenant's; the others are global):
    ///
    /// - every tenant table in a FROM or JOIN (in subqueries, CTEs and UPDATE ... FROM too)
    ///   reads only the tenant's rows: the tenant test goes into its SELECT's WHERE where
    ///   nothing can tell the difference, otherwise the table becomes a derived table
    ///   holding only the tenant's rows and the table's pre-migration columns (under a `*`,
    ///   a NATURAL join, an outer join's nullable side, a rowid read), so joins keep their
    ///   meaning and `*` never shows the tenant column;
    ///
    /// - UPDATE and DELETE get the tenant predicate ANDed to their WHERE;
    ///
    /// - INSERT gets the tenant column and the tenant as its value; an upsert cannot touch
    ///   another tenant's row.
    ///
    /// Two functions the tenant connection registers appear in it: `tenantry_tenant(v, …)`
    /// around a tenant value known only when the statement runs (a bound parameter), which
    /// fails the statement unless `v` is the tenant, and `tenantry_key(k)` around the key an
    /// INSERT gives a tenant-first table's row, which reports it as `last_insert_rowid()`.
    /// The sqlite3 shell does not have them.
    ///
    /// What cannot be proven to touch only the tenant's rows is refused with the reason:
    /// schema changes, ATTACH, most PRAGMAs, REPLACE, tables the schema does not know.
    /// Parameters, literals and comments are kept exactly as written. Nothing is run: the
    /// database is opened read-only, only to read its schema.
    ///
    /// Exit status: 0 rewritten (printed on standard output); 1 refused or not parseable
    /// (the reason on standard error); 2 bad usage or input (invalid tenant id, unreadable
    /// schema or database).
    #[command(after_help = REWRITE_EXAMPLES)]
    Rewrite(RewriteArgs),
    /// Run SQL as one tenant, like the sqlite3 shell: every statement scoped to the tenant.
    ///
    /// Each statement goes through the tenant-scoping connection, exactly as the
    /// application's would: it reads and writes only the tenant's rows (tenant tables look
    /// as they did before the migration, without the tenant column), or it is refused with
    /// the reason and nothing of it runs. SQLite's authorizer guard stands behind the
    /// rewriter. Statements are split by a SQL tokenizer, so a ';' inside a string or a
    /// comment does not end one. They run one by one, each committed on its own unless
    /// the input opens a transaction (BEGIN ... COMMIT); a transaction left open at the
    /// end is rolled back. Values must be written as literals: no parameter is bound.
    ///
    /// Output: for each statement, a table of its rows (NULL shown as NULL) and "(N rows)",
    /// or "(N rows changed)" for a write. Errors go to standard error with the statement.
    ///
    /// With --json, exactly one JSON object per statement, one per line:
    ///
    ///   {"sql": "<statement>", "columns": ["a", "b"], "rows": [[1, "x"], [null, 2.5]], "changes": 0}
    ///
    ///   {"sql": "<statement>", "error": {"kind": "refused", "message": "..."}}
    ///
    /// Integers are JSON integers, reals JSON numbers (an infinite one {"real": "inf"}),
    /// text strings, NULL null, blobs {"blob_hex": "..."}. `changes` counts the rows the
    /// statement inserted, updated or deleted; it is 0 for a statement that returns rows
    /// (a read, and also INSERT ... RETURNING, whose rows are in `rows`). Error kinds: refused (the
    /// rewriter will not scope it), parse (not SQL it can read), sqlite (SQLite's own error,
    /// including the guard's "not authorized"), parameters (the statement has parameters),
    /// tenant.
    ///
    /// Without --keep-going the first failing statement stops the run; later statements
    /// are not run.
    ///
    /// Exit status: 0 every statement ran; 1 a statement failed; 2 bad usage or input
    /// (invalid tenant id, missing database file, not a SQLite database, not migrated, no
    /// SQL), with nothing run and nothing on standard output. The database file is never
    /// created.
    #[command(after_help = SQL_EXAMPLES)]
    Sql(SqlArgs),
    /// Declare tables global (shared by every tenant), list or remove declarations.
    ///
    /// A tenant connection reads and writes a table without the tenant column only when
    /// the last migration left it global or it is declared global here; it refuses any
    /// other (a table created after the migration would otherwise be shared by every
    /// tenant). Declarations are stored in the database (`_tenantry_globals`), so every
    /// tool agrees, and a later `tenantry migrate` leaves declared tables global. A
    /// declaration is a table name or a SQLite GLOB pattern (`cache_*`), ASCII
    /// case-insensitive (a name with GLOB characters, `[` `*` `?`, matches as a pattern:
    /// write `stats[[]1]` for the table `stats[1]`); one that matches a table holding the
    /// tenant column is refused. A change is a schema change: every tenant connection,
    /// open or pooled, sees it (it looks at the schema version again before a statement
    /// once 10 ms have passed since its last look).
    ///
    /// Exit status: 0 done; 2 bad input (missing file, not a database, a tenant table
    /// named), with nothing changed.
    #[command(after_help = GLOBAL_EXAMPLES)]
    Global(GlobalArgs),
    /// Tell, before deploying, which SQL of a Rust code base a tenant connection would
    /// scope, refuse, or cannot check.
    ///
    /// Reads every .rs file under PATH (skipping target/ and hidden directories) with a
    /// Rust parser and finds the SQL handed to rusqlite (execute, execute_batch, prepare,
    /// prepare_cached, query_row, query_row_and_then, query_one) and to sqlx (query,
    /// query_as, query_scalar, query_with, and the query!, query_as!, query_scalar!
    /// macros): string literals, raw strings, concat!, and const or static strings
    /// declared anywhere under PATH. Each statement is rewritten for a tenant against the
    /// schema of DB, a migrated database, exactly as a tenant connection would (tables
    /// without the tenant column are refused unless DB declares them global). SQL built
    /// at run time (format!, +, a variable) is listed as not checkable.
    ///
    /// Output: one line per call (file:line, how the SQL was handed over, scoped /
    /// unchanged / REFUSED / run time, and the tables or the reason), then the counts.
    /// With --json, one object: {"findings": [...], "unreadable": [...], "summary": {...}}.
    ///
    /// Exit status: 0 nothing would be refused; 1 a statement would be refused or a file
    /// is not valid Rust; 2 bad input (PATH or DB missing, DB not migrated).
    Audit(AuditArgs),
}

/// `tenantry audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A directory of Rust sources (a crate, a workspace) or one .rs file.
    pub path: PathBuf,
    /// The migrated database whose schema the statements are checked against.
    #[arg(long, value_name = "DB")]
    pub db: PathBuf,
    /// The tenant column's name.
    #[arg(long, value_name = "NAME", default_value = "tenant_id")]
    pub column: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The examples at the end of `tenantry global --help`.
const GLOBAL_EXAMPLES: &str = "\
Examples:
  tenantry global add app.db currencies 'cache_*'
  tenantry global list app.db
      currencies    currencies
      cache_*       cache_pages, cache_users
  tenantry global remove app.db 'cache_*'";

/// `tenantry global`.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: GlobalAction,
}

/// `tenantry global add | remove | list`.
#[derive(Debug, Subcommand)]
pub enum GlobalAction {
    /// Declare tables global: names or GLOB patterns.
    Add {
        /// The SQLite database file.
        db: PathBuf,
        /// Table names or GLOB patterns.
        #[arg(required = true)]
        patterns: Vec<String>,
    },
    /// Remove declarations, as they were written.
    Remove {
        /// The SQLite database file.
        db: PathBuf,
        /// The declarations to remove.
        #[arg(required = true)]
        patterns: Vec<String>,
    },
    /// List the declarations and the tables each matches.
    List {
        /// The SQLite database file.
        db: PathBuf,
        /// Print JSON: `[{"pattern": "...", "tables": ["..."]}]`.
        #[arg(long)]
        json: bool,
    },
}

/// The examples at the end of `tenantry sql --help`.
const SQL_EXAMPLES: &str = "\
Examples:
  tenantry sql app.db --tenant store-2 'SELECT id, name FROM customers ORDER BY id'
      id  name
      --  -----
       2  Grace
       3  Edsger
      (2 rows)

  tenantry sql app.db --tenant store-2 --json \"UPDATE orders SET total = 0 WHERE note = 'a;b'\"
      {\"sql\":\"UPDATE orders SET total = 0 WHERE note = 'a;b'\",\"columns\":[],\"rows\":[],\"changes\":1}

  tenantry sql app.db --tenant store-2 --keep-going < statements.sql";

/// The examples at the end of `tenantry rewrite --help`.
const REWRITE_EXAMPLES: &str = "\
Examples:
  tenantry rewrite --db app.db --tenant store-2 'SELECT name FROM customers WHERE id = ?1'
      SELECT name FROM customers WHERE +customers.\"tenant_id\" = 'store-2' AND (id = ?1)

  tenantry rewrite --db app.db --tenant store-2 'SELECT * FROM customers WHERE id = ?1'
      SELECT * FROM (SELECT \"id\", \"name\" FROM main.\"customers\" WHERE +\"tenant_id\" = 'store-2') AS customers WHERE id = ?1

  echo 'DELETE FROM orders WHERE id = 1' | tenantry rewrite --schema schema.sql --tenant store-2
      DELETE FROM orders WHERE +orders.\"tenant_id\" = 'store-2' AND (id = 1)

  tenantry rewrite --db app.db --tenant store-2 --json 'DELETE FROM customers'";

/// Checks a tenant id given with `flag`: the id, or the message that refuses it, naming
/// the rule it breaks and stating the rules ([`TenantId::RULES`]). Every tenant-id argument
/// of the command line is checked here: by clap through [`TenantIdParser`], or by a command
/// that reports the refusal in its own form (`tenantry rewrite --json`).
pub fn tenant_id(flag: &str, id: &str) -> Result<TenantId, String> {
    TenantId::new(id).map_err(|error| {
        format!(
            "{error}; pass {flag} with {rules} (e.g. {flag} caps-automotive)",
            rules = TenantId::RULES
        )
    })
}

/// clap's parser for a tenant-id argument: [`tenant_id`], with the argument's flag in the
/// message. A refused id is a usage error (exit status 2), printed as `error: <message>`.
#[derive(Clone, Copy, Debug)]
pub struct TenantIdParser;

impl TypedValueParser for TenantIdParser {
    type Value = TenantId;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<TenantId, clap::Error> {
        let flag = arg
            .and_then(clap::Arg::get_long)
            .map_or_else(|| "--tenant".to_owned(), |long| format!("--{long}"));
        // Text that is not UTF-8 is refused all the same: U+FFFD is not ASCII.
        tenant_id(&flag, &value.to_string_lossy()).map_err(|message| {
            clap::Error::raw(ErrorKind::ValueValidation, format!("{message}\n")).with_cmd(cmd)
        })
    }
}

/// `tenantry migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite database file.
    pub db: PathBuf,
    /// The tenant every existing row belongs to (letters, digits, '-', '_', '.'; at most 255 bytes).
    #[arg(long, value_name = "ID", default_value = tenantry::migrate::DEFAULT_TENANT)]
    pub default_tenant: String,
    /// The tenant column's name.
    #[arg(long, value_name = "NAME", default_value = tenantry::migrate::DEFAULT_COLUMN)]
    pub column: String,
    /// Leave this table global (repeatable).
    #[arg(long, value_name = "TABLE")]
    pub exclude: Vec<String>,
    /// What each tenant table becomes.
    #[arg(long, value_enum, default_value_t = LayoutArg::Column)]
    pub layout: LayoutArg,
    /// With `--layout tenant-first`: which tables get the tenant index
    /// `idx_<table>_<column>`.
    #[arg(long, value_enum, default_value_t = TenantIndexArg::Every)]
    pub tenant_index: TenantIndexArg,
    /// The tenant registry table (default: `tenants`, when it exists); it stays global,
    /// must hold the default tenant, and every tenant id must be in it.
    #[arg(long, value_name = "NAME")]
    pub tenants_table: Option<String>,
    /// A file listing the tables expected to be scoped, one per line (# comments);
    /// the migration is refused when the tables found differ.
    #[arg(long, value_name = "FILE")]
    pub expect_tables: Option<PathBuf>,
    /// Where to write the backup (default: beside the database, timestamped). Never overwritten.
    #[arg(long, value_name = "PATH")]
    pub backup: Option<PathBuf>,
    /// Print the plan and the checks; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print a machine-readable JSON report on standard output.
    #[arg(long)]
    pub json: bool,
    /// The detailed log (default: beside the database, `<db>.tenantry.log`, appended).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// How long to wait for another process's lock before giving up, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub busy_timeout: u64,
}

/// `--layout`: what each tenant table becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LayoutArg {
    /// Rebuilt so tenants truly share the database: every key and unique constraint
    /// includes the tenant column (two tenants can hold the same username, SKU or id),
    /// foreign keys between tenant tables are composite, rows with a primary key are stored
    /// in tenant order, every index leads with the tenant column, and the column has no
    /// default. Rewrites every row (a few seconds for a typical database).
    TenantFirst,
    /// The column added in place with a DEFAULT of the default tenant, and an index on it:
    /// no row is rewritten, but keys stay global across tenants and tenants share every index.
    Column,
}

impl From<LayoutArg> for tenantry::migrate::Layout {
    fn from(arg: LayoutArg) -> Self {
        match arg {
            LayoutArg::TenantFirst => tenantry::migrate::Layout::TenantFirst,
            LayoutArg::Column => tenantry::migrate::Layout::Column,
        }
    }
}

/// `--tenant-index`: which tenant-first tables get `idx_<table>_<column>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TenantIndexArg {
    /// Every tenant table, as a verification query that counts the indexes by name
    /// expects; on a table keyed by (tenant, key) it repeats the key's leading column, and
    /// every insert writes it too.
    Every,
    /// Only tables without a primary key: a table keyed by (tenant, key) is stored in
    /// tenant order and its own tree serves the tenant test (inserts write one B-tree
    /// fewer; the migration builds fewer indexes).
    WhereNeeded,
}

impl From<TenantIndexArg> for tenantry::migrate::TenantIndex {
    fn from(arg: TenantIndexArg) -> Self {
        match arg {
            TenantIndexArg::Every => tenantry::migrate::TenantIndex::Every,
            TenantIndexArg::WhereNeeded => tenantry::migrate::TenantIndex::WhereNeeded,
        }
    }
}

/// `tenantry verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The SQLite database file.
    pub db: PathBuf,
    /// The tenant column's name (default: the one the migration recorded, else tenant_id).
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// Print a machine-readable JSON report on standard output.
    #[arg(long)]
    pub json: bool,
}

/// `tenantry rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The SQLite database file.
    pub db: PathBuf,
    /// The backup to restore (default: the one recorded by the last migration).
    #[arg(long, value_name = "PATH")]
    pub backup: Option<PathBuf>,
    /// Print a machine-readable JSON report on standard output.
    #[arg(long)]
    pub json: bool,
    /// The detailed log (default: beside the database, `<db>.tenantry.log`, appended).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// `tenantry fixture`.
#[derive(Debug, Args)]
pub struct FixtureArgs {
    /// tiny (hundreds of rows), small (about 100,000: a tenth of typical), typical (about 1
    /// million rows) or large (about 10 million).
    #[arg(long, value_name = "SIZE")]
    pub size: tenantry::fixtures::Size,
    /// The database file to create.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// The random seed; the same seed gives the same rows.
    #[arg(long, value_name = "N", default_value_t = tenantry::fixtures::DEFAULT_SEED)]
    pub seed: u64,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `tenantry demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The fixture size to build.
    #[arg(long, value_name = "SIZE", default_value = "typical")]
    pub size: tenantry::fixtures::Size,
    /// The folder to work in (default: target/tenantry-demo, or the system temp folder).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print the migration report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `tenantry rewrite`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["db", "schema"])))]
pub struct RewriteArgs {
    /// The tenant to scope to (letters, digits, '-', '_', '.'; at most 255 bytes).
    // Text, checked by the command with `tenant_id`: with --json a refused id is reported
    // as a JSON object on standard output, which clap's own error cannot be.
    #[arg(long, value_name = "ID")]
    pub tenant: String,
    /// Read the schema from this SQLite database, usually after `tenantry migrate`
    /// (opened read-only; never created or changed).
    #[arg(long, value_name = "DB")]
    pub db: Option<PathBuf>,
    /// Read the schema from a file of CREATE TABLE statements (other statements are skipped),
    /// e.g. the output of `sqlite3 app.db .schema`.
    #[arg(long, value_name = "FILE.sql")]
    pub schema: Option<PathBuf>,
    /// The tenant column: tables that have it are the tenant's, the others are global.
    #[arg(long, value_name = "NAME", default_value = tenantry::migrate::DEFAULT_COLUMN)]
    pub column: String,
    /// Print one JSON object on standard output: the SQL and, per statement, its kind and
    /// the tables it reads and writes; or the error's kind and message.
    #[arg(long)]
    pub json: bool,
    /// The SQL to rewrite, one or more statements; `-` or nothing reads it from standard
    /// input (a final line break there is dropped).
    #[arg(value_name = "SQL")]
    pub sql: Option<String>,
}

/// `tenantry sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQLite database, migrated with `tenantry migrate` (must exist; never created).
    pub db: PathBuf,
    /// The tenant every statement is scoped to (letters, digits, '-', '_', '.'; at most 255 bytes).
    #[arg(long, value_name = "ID", value_parser = TenantIdParser)]
    pub tenant: TenantId,
    /// Print one JSON object per statement, one per line, on standard output.
    #[arg(long)]
    pub json: bool,
    /// Run the remaining statements after one fails (the exit status is still 1).
    #[arg(long)]
    pub keep_going: bool,
    /// The SQL to run, one or more statements; `-` or nothing reads it from standard input.
    #[arg(value_name = "SQL")]
    pub sql: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn clap_parses_a_tenant_id_once() {
        let cli = Cli::try_parse_from(["tenantry", "sql", "app.db", "--tenant", "store-1"])
            .expect("a valid id");
        match cli.command {
            Command::Sql(args) => assert_eq!(args.tenant.as_str(), "store-1"),
            other => panic!("{other:?}"),
        }
        let error = Cli::try_parse_from(["tenantry", "sql", "app.db", "--tenant", "a b"])
            .expect_err("an invalid id");
        assert_eq!(error.kind(), ErrorKind::ValueValidation);
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(
            text.starts_with("error: invalid tenant id \"a b\": it may hold only"),
            "{text}"
        );
        assert!(text.contains("; pass --tenant with "), "{text}");
        assert!(text.contains(TenantId::RULES), "{text}");
    }

    #[test]
    fn the_message_names_the_flag_and_states_the_rules() {
        assert_eq!(
            tenant_id("--tenant", "store-1").map(|t| t.to_string()),
            Ok("store-1".to_owned())
        );
        assert_eq!(
            tenant_id("--tenant", "").map_err(|m| m.replace(TenantId::RULES, "RULES")),
            Err(
                "invalid tenant id \"\": it is empty; pass --tenant with RULES \
                 (e.g. --tenant caps-automotive)"
                    .to_owned()
            )
        );
    }
}
