//! `migrate`: preflight, plan, backup, change, verify and commit, all under one write lock
//! and one transaction; any failure rolls the transaction back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::{Error, Result, Step};
use crate::inspect::{self, TableKind};
use crate::options::{Layout, MigrateOptions};
use crate::plan::{self, Plan, ScopedTable};
use crate::record::{self, Record};
use crate::report::{Outcome, Progress, Report, Timer};
use crate::tenant::{self, TenantId};
use crate::verify::{self, Expected, FkBaseline};
use crate::{apply, backup, checks, preflight, rebuild, triggers};

/// Fails on purpose where a test asked (feature `fault-injection`); nothing otherwise.
macro_rules! inject {
    ($options:expr, $step:expr, $done:expr) => {{
        #[cfg(any(test, feature = "fault-injection"))]
        crate::fault::check($options.fault, $step, $done)?;
        #[cfg(not(any(test, feature = "fault-injection")))]
        let _ = (&$options, &$done);
    }};
}

/// Adds the tenant column to every table of the database at `path` that is not global.
///
/// In order, under one write lock (`BEGIN IMMEDIATE`) and one transaction:
/// 1. preflight: the file exists, is a SQLite database, is writable and not busy;
/// 2. plan: which tables to scope, which stay global, and the risks;
/// 3. count the rows of every table;
/// 4. back up with SQLite's online backup, and check the copy (`quick_check`, row counts)
///    while the change runs: a corrupt copy means a corrupt file, refused;
/// 5. add the column and its index to each scoped table and write planner statistics
///    (layout `column`), or rebuild each tenant-first (layout `tenant-first`: rows copied
///    and compared row by row, indexes led by the tenant column); scope the bodies of
///    triggers on tenant tables to the firing row's tenant, and write a record in
///    `_tenantry_migrations`;
/// 6. verify, then `COMMIT`.
///
/// A database whose tables all have the column already is left untouched
/// ([`Outcome::AlreadyMigrated`]); one where some have it is completed ([`Outcome::Completed`]).
/// With `options.dry_run`, steps 1 to 3 run on a read-only connection, with `quick_check`
/// and `foreign_key_check` on the file, and nothing changes.
///
/// # Errors
/// A refusal ([`Error::is_bad_input`]) before anything was changed, or
/// [`Error::RolledBack`] when a step after the backup failed: the transaction was rolled
/// back and the database is as it was.
///
/// # Example
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = dir.path().join("shop.db");
/// let conn = rusqlite::Connection::open(&db)?;
/// conn.execute_batch("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);
///                     INSERT INTO customers(name) VALUES ('Ada'), ('Grace');")?;
/// drop(conn);
///
/// let report = tenantry_migrate::migrate(&db, &Default::default(), &mut |_| {})?;
/// assert_eq!(report.outcome, tenantry_migrate::Outcome::Migrated);
///
/// let conn = rusqlite::Connection::open(&db)?;
/// let tenant: String = conn.query_row("SELECT tenant_id FROM customers WHERE name = 'Ada'", [], |r| r.get(0))?;
/// assert_eq!(tenant, "caps-automotive");
/// # Ok(()) }
/// ```
pub fn migrate(
    path: &Path,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report> {
    migrate_inner(path, options, progress, None)
}

/// The application's own schema code, run by [`migrate_with_schema`].
pub type SchemaCode<'a> = &'a mut dyn FnMut(&Connection) -> rusqlite::Result<()>;

/// [`migrate`], with the application's own schema code (`CREATE TABLE IF NOT EXISTS …`,
/// its migration framework) run first inside the migration's transaction: on the
/// migrator's connection, under its write lock, after the backup's snapshot is fixed and
/// before the plan, so every table, index, view and trigger it creates or changes is
/// brought under tenancy by the same transaction, with the same checks. If the schema code
/// or any step after it fails, both are rolled back together: the database is as it was.
/// The backup holds the database before the schema code.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = dir.path().join("app.db");
/// rusqlite::Connection::open(&db)?.execute_batch(
///     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")?;
/// tenantry_migrate::migrate(&db, &Default::default(), &mut |_| {})?;
/// // The next version of the application adds a table at start-up.
/// tenantry_migrate::migrate_with_schema(&db, &Default::default(), &mut |_| {}, &mut |conn| {
///     conn.execute_batch("CREATE TABLE IF NOT EXISTS tags (name TEXT)")
/// })?;
/// let conn = rusqlite::Connection::open(&db)?;
/// let scoped: bool = conn.query_row(
///     "SELECT count(*) > 0 FROM pragma_table_info('tags') WHERE name = 'tenant_id'", [], |r| r.get(0))?;
/// assert!(scoped);
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`migrate`]; [`Error::Sqlite`] at [`Step::Schema`] when the schema code fails
/// (everything rolled back).
pub fn migrate_with_schema(
    path: &Path,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    schema: SchemaCode<'_>,
) -> Result<Report> {
    migrate_inner(path, options, progress, Some(schema))
}

fn migrate_inner(
    path: &Path,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    schema: Option<SchemaCode<'_>>,
) -> Result<Report> {
    let started = Instant::now();
    let tenant = tenant::tenant_id(&options.default_tenant)?;
    tenant::check_column_name(&options.column)?;
    let mut timer = Timer::new(progress);

    timer.start(Step::Preflight);
    preflight::check_file(path)?;
    if !options.dry_run {
        preflight::check_writable(path)?;
    }
    let mut conn = preflight::open(path, !options.dry_run, options.busy_wait)?;
    // While the application's schema code runs, BEGIN / COMMIT / ROLLBACK are denied: one
    // would end the migration's transaction under it.
    let schema_running = Arc::new(AtomicBool::new(false));
    if schema.is_some() {
        let running = Arc::clone(&schema_running);
        conn.authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
            let control = matches!(ctx.action, rusqlite::hooks::AuthAction::Transaction { .. });
            if control && running.load(Ordering::Acquire) {
                rusqlite::hooks::Authorization::Deny
            } else {
                rusqlite::hooks::Authorization::Allow
            }
        }))
        .map_err(Error::sqlite(Step::Preflight, None))?;
    }
    let mut conn = conn;
    tune(&conn)?;
    if options.dry_run {
        // A read transaction: every count and check sees the same snapshot.
        conn.execute_batch("BEGIN")
            .map_err(Error::sqlite(Step::Preflight, None))?;
    } else {
        preflight::begin_immediate(&conn, path, options.busy_wait)?;
    }
    inject!(options, Step::Preflight, 0);

    let mut state = State {
        backup: None,
        failed_at: None,
        changing: false,
    };
    let schema = schema.map(|code| (code, &*schema_running));
    match run_locked(
        &mut conn, path, options, &tenant, &mut timer, &mut state, schema,
    ) {
        Ok(mut report) => {
            timer.finish();
            report.timings = std::mem::take(&mut timer.timings);
            report.total_ms = started.elapsed().as_secs_f64() * 1e3;
            tracing::info!(outcome = ?report.outcome, total_ms = report.total_ms, "migration finished");
            Ok(report)
        }
        Err(error) => {
            let step = state.failed_at.unwrap_or_else(|| timer.step());
            timer.finish();
            if conn.is_autocommit() {
                // Rolled back already (a corrupt file found by the copy's check).
            } else if let Err(e) = conn.execute_batch("ROLLBACK") {
                // Only possible when SQLite already rolled back on its own (it does so
                // after some I/O errors); either way, nothing was committed.
                tracing::warn!(error = %e, "ROLLBACK reported an error; the transaction was not committed");
            }
            tracing::error!(step = step.name(), error = %error, backup = ?state.backup, "migration failed; rolled back");
            if state.changing {
                Err(Error::RolledBack {
                    step,
                    backup: state.backup,
                    source: Box::new(error),
                })
            } else {
                Err(error)
            }
        }
    }
}

/// What the error path needs to know about how far the migration got.
struct State {
    backup: Option<PathBuf>,
    /// The step that failed, when the failure came from another thread than the timer's.
    failed_at: Option<Step>,
    /// True from the backup on: a failure then is a failed operation, not a refusal.
    changing: bool,
}

/// The largest file the migration maps into memory (see [`tune`]).
const MAP_UP_TO_BYTES: i64 = 512 << 20;

/// Connection settings for the migration only: a bigger page cache, temporary data (the
/// index sorts) in memory, and, for a file of up to [`MAP_UP_TO_BYTES`], the file mapped
/// into memory, so reading the old tables does not copy each of their pages into the
/// cache. A bigger file is not mapped: its change does not fit in the cache, and a change
/// that spills out of it was measured much slower mapped (2.8 GB, tenant-first:
/// verification 62 s against 17 s). No sorter worker threads (`PRAGMA threads`): SQLite gives the sorter none while
/// temporary data is in memory, and with it in files an index sort uses them only once it
/// spills past the cache. Nothing here is stored in the database.
fn tune(conn: &Connection) -> Result<()> {
    let err = || Error::sqlite(Step::Preflight, None);
    conn.execute_batch(
        "PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF;",
    )
    .map_err(err())?;
    let bytes: i64 = conn
        .query_row(
            "SELECT p.page_count * s.page_size FROM pragma_page_count AS p, pragma_page_size AS s",
            [],
            |r| r.get(0),
        )
        .map_err(err())?;
    if bytes <= MAP_UP_TO_BYTES {
        conn.execute_batch("PRAGMA mmap_size = 1073741824")
            .map_err(err())?;
    }
    Ok(())
}

fn run_locked(
    conn: &mut Connection,
    path: &Path,
    options: &MigrateOptions,
    tenant: &TenantId,
    timer: &mut Timer<'_>,
    state: &mut State,
    schema: Option<(SchemaCode<'_>, &AtomicBool)>,
) -> Result<Report> {
    // The application's schema code, inside the transaction. The backup is read by a
    // second connection, which sees the committed database: the one before this code. Its
    // row counts are taken first, to check the backup against.
    let committed_rows = match schema {
        None => None,
        Some((code, running)) => {
            timer.start(Step::Schema);
            let catalog = inspect::read_catalog(conn)?;
            let mut counts = BTreeMap::new();
            for table in catalog
                .tables
                .iter()
                .filter(|t| t.kind != TableKind::Virtual)
            {
                let rows = checks::count_rows(conn, &table.name)
                    .map_err(|e| preflight::classify(path, e, options.busy_wait))?;
                counts.insert(table.name.clone(), rows);
            }
            state.changing = true;
            running.store(true, Ordering::Release);
            let ran = code(conn);
            running.store(false, Ordering::Release);
            ran.map_err(Error::sqlite(Step::Schema, None))?;
            if conn.is_autocommit() {
                return Err(Error::Unsupported {
                    table: String::new(),
                    reason: "the application's schema code ended the migration's transaction; \
                             it must not run BEGIN, COMMIT or ROLLBACK"
                        .to_owned(),
                });
            }
            // A tenant table that the code rebuilt without the tenant column would hand its
            // rows to the default tenant: refused.
            let after = inspect::read_catalog(conn)?;
            for table in catalog
                .tables
                .iter()
                .filter(|t| t.column(&options.column).is_some())
            {
                if after
                    .table(&table.name)
                    .is_some_and(|t| t.column(&options.column).is_none())
                {
                    return Err(Error::Unsupported {
                        table: table.name.clone(),
                        reason: format!(
                            "the application's schema code left it without the tenant column \
                             {:?}, which would give every tenant's rows to the default tenant; \
                             keep the column when it rebuilds the table",
                            options.column
                        ),
                    });
                }
            }
            inject!(options, Step::Schema, 0);
            Some(counts)
        }
    };
    timer.start(Step::Plan);
    let catalog = inspect::read_catalog(conn)?;
    let previous = record::last(conn)?;
    // A database made tenant-first stays so: the column layout asks for nothing it lacks
    // (its guard triggers would only repeat what the composite keys enforce).
    let kept_layout;
    let options = match &previous {
        Some(p) if p.layout == Layout::TenantFirst && options.layout == Layout::Column => {
            tracing::info!("the database is tenant-first already; it stays tenant-first");
            kept_layout = MigrateOptions {
                layout: Layout::TenantFirst,
                tenant_index: p.tenant_index,
                ..options.clone()
            };
            &kept_layout
        }
        _ => options,
    };
    let mut plan = plan::build(conn, &catalog, options, tenant)?;
    // Views the tenant column would break: listed in the plan, refused below.
    let gaining: Vec<&str> = plan
        .scoped
        .iter()
        .filter(|t| {
            !t.virtual_table
                && catalog
                    .table(&t.name)
                    .is_some_and(|info| info.column(&plan.column).is_none())
        })
        .map(|t| t.name.as_str())
        .collect();
    for broken in crate::views::broken_by_column(conn, &gaining, &plan.column) {
        plan.risks.push(plan::Risk::ViewWouldBreak {
            name: broken.view,
            error: broken.error,
        });
    }
    inject!(options, Step::Plan, 0);
    tracing::info!(
        scoped = plan.scoped.len(),
        global = plan.global.len(),
        risks = plan.risks.len(),
        "plan ready"
    );
    if !options.dry_run
        && let Some((view, detail)) = plan.risks.iter().find_map(|r| match r {
            plan::Risk::ViewWouldBreak { name, error } => Some((name.clone(), error.clone())),
            _ => None,
        })
    {
        return Err(Error::ViewWouldBreak { view, detail });
    }
    if let Some(exp) = &plan.expectation
        && !options.dry_run
        && (!exp.missing.is_empty() || !exp.extra.is_empty())
    {
        return Err(Error::ExpectedTablesMismatch {
            file: exp.file.clone(),
            missing: exp.missing.clone(),
            extra: exp.extra.clone(),
        });
    }
    // A scoped virtual table is always complete (it declares its own column): not a sign
    // of an earlier run.
    let half_done = plan
        .scoped
        .iter()
        .any(|t| t.is_complete() && !t.virtual_table);
    // Nothing to migrate. After the application's schema code the whole path still runs
    // (backup, checks, verification), so that its changes are kept only with them.
    if plan.is_complete() && !options.dry_run && committed_rows.is_none() {
        conn.execute_batch("ROLLBACK")
            .map_err(Error::sqlite(Step::Plan, None))?;
        tracing::info!("every table already has the tenant column and index; nothing to do");
        return Ok(report(
            path,
            Outcome::AlreadyMigrated,
            plan,
            None,
            Vec::new(),
            None,
        ));
    }

    timer.start(Step::Count);
    let mut rows_before = BTreeMap::new();
    let countable: Vec<String> = catalog
        .tables
        .iter()
        // A virtual table whose module is missing cannot be read; a scoped one can.
        .filter(|t| {
            t.kind != TableKind::Virtual
                || plan
                    .scoped
                    .iter()
                    .any(|s| s.virtual_table && s.name == t.name)
        })
        .map(|t| t.name.clone())
        .collect();
    for (i, name) in countable.iter().enumerate() {
        timer.emit(Progress::Table {
            step: Step::Count,
            table: name,
            done: i,
            total: countable.len(),
        });
        inject!(options, Step::Count, i);
        let rows = checks::count_rows(conn, name)
            .map_err(|e| preflight::classify(path, e, options.busy_wait))?;
        rows_before.insert(name.clone(), rows);
    }
    for table in &mut plan.scoped {
        table.rows = rows_before.get(&table.name).copied();
    }

    let backup_path = if options.dry_run {
        None
    } else {
        let p = match &options.backup {
            Some(p) => p.clone(),
            None => backup::default_path(path, conn)?,
        };
        if p.exists() {
            return Err(Error::BackupExists { path: p });
        }
        Some(p)
    };

    let Some(backup_path) = backup_path else {
        // Dry run: the checks a migration makes, on the file itself (there is no copy).
        timer.start(Step::Check);
        inject!(options, Step::Check, 0);
        let complaints = checks::quick_check(conn)
            .map_err(|e| preflight::classify(path, e, options.busy_wait))?;
        if !complaints.is_empty() {
            return Err(Error::Corrupt {
                path: path.to_owned(),
                detail: complaints,
            });
        }
        let fk_before =
            checks::baseline_violations(conn).map_err(Error::sqlite(Step::Check, None))?;
        timer.finish();
        return Ok(report(path, Outcome::DryRun, plan, None, fk_before, None));
    };

    // The backup: a second, read-only connection copies the file page by page while the
    // write lock held here keeps it still. The copy is then checked (`quick_check`, row
    // counts) on another thread while the change runs; being the file page for page, its
    // `quick_check` is the file's. In WAL mode the reader sees the committed database
    // whatever this connection writes, so the change runs beside the copy too; otherwise
    // the copy comes first (a page the change spilled into the file would stop it).
    state.changing = true;
    let beside = journal_mode(conn)? == "wal";
    let copy = |progress: &mut dyn FnMut(u64, u64)| -> Result<Duration> {
        let started = Instant::now();
        let pages = backup::create(path, &backup_path, progress, |_steps| {
            inject!(options, Step::Backup, _steps);
            Ok(())
        })?;
        tracing::info!(backup = %backup_path.display(), pages, "backup written");
        Ok(started.elapsed())
    };
    if !beside {
        timer.start(Step::Backup);
        copy(&mut |done, total| timer.emit(Progress::Pages { done, total }))
            .inspect_err(|_| state.failed_at = Some(Step::Backup))?;
        timer.finish();
        state.backup = Some(backup_path.clone());
    }
    // Set when the copy fails: the change then stops at its next step.
    let copy_failed = Arc::new(AtomicBool::new(false));
    // Set when the copy is complete (what a wait for the checker waits for).
    let copy_done = AtomicBool::new(!beside);
    let rows = committed_rows.as_ref().unwrap_or(&rows_before);
    std::thread::scope(|scope| {
        let checker = scope.spawn(|| {
            let copied = beside.then(|| {
                copy(&mut |_, _| {}).inspect_err(|_| copy_failed.store(true, Ordering::Release))
            });
            if let Some(Err(error)) = copied {
                return (Some(Err(error)), None);
            }
            copy_done.store(true, Ordering::Release);
            let started = Instant::now();
            let checked = verify_backup(options, &backup_path, rows);
            (copied, Some((checked, started.elapsed())))
        });
        if beside {
            let stop = Arc::clone(&copy_failed);
            // Cannot fail; without it a failed copy would only be noticed after the change.
            let _ = conn.progress_handler(1000, Some(move || stop.load(Ordering::Acquire)));
        }
        // Foreign-key violations are told old from new on the file's committed state
        // where another connection can read it (WAL), else on the finished copy.
        let baseline = if beside { path } else { &backup_path };
        // The tables to rebuild are digested as they were on a thread of their own, from
        // the committed state (WAL) or the finished copy, for the rebuild to compare
        // with. Not after the application's schema code: the transaction has changed them.
        let (digests_tx, digests_rx) = mpsc::channel();
        let digester = (committed_rows.is_none() && !plan.rebuild.is_empty()).then(|| {
            let tables = &plan.rebuild;
            let (column, tenant) = (&plan.column, tenant.as_str());
            scope.spawn(move || {
                rebuild::digest_old_tables(baseline, tables, column, tenant, &digests_tx);
            })
        });
        let before = Before {
            rows: &rows_before,
            backup_rows: rows,
            fk_file: baseline,
            digests: digester.is_some().then_some(&digests_rx),
        };
        let changed = change(conn, &plan, tenant, &backup_path, &before, options, timer);
        // Closed: a digester still working stops at its next table.
        drop(digests_rx);
        if let Some(digester) = digester
            && digester.join().is_err()
        {
            tracing::warn!("the digest thread panicked");
        }
        if beside {
            let _ = conn.progress_handler(0, None::<fn() -> bool>);
        }
        if !checker.is_finished() {
            // The change is done before the copy or its check: say which one it waits for.
            let waiting = if copy_done.load(Ordering::Acquire) {
                Step::VerifyBackup
            } else {
                Step::Backup
            };
            timer.emit(Progress::Started(waiting));
        }
        let (copied, checked) = checker.join().map_err(|_| Error::Panicked {
            step: Step::VerifyBackup,
        })?;
        let copy_took = match copied {
            Some(Err(error)) => {
                state.failed_at = Some(Step::Backup);
                return Err(error);
            }
            Some(Ok(took)) => {
                state.backup = Some(backup_path.clone());
                Some(took)
            }
            None => None,
        };
        let (checked, took) = checked.ok_or(Error::Panicked {
            step: Step::VerifyBackup,
        })?;
        if let Ok(complaints) = &checked
            && !complaints.is_empty()
        {
            return Err(corrupt_or_bad_copy(
                conn,
                path,
                &backup_path,
                complaints,
                state,
            ));
        }
        let verification = changed?;
        if let Err(error) = checked {
            state.failed_at = Some(Step::VerifyBackup);
            return Err(error);
        }
        let mut parts: Vec<(Step, Duration)> =
            copy_took.map(|t| (Step::Backup, t)).into_iter().collect();
        parts.push((Step::VerifyBackup, took));
        timer.finish_with(&parts);

        timer.start(Step::Commit);
        inject!(options, Step::Commit, 0);
        conn.execute_batch("COMMIT").map_err(|e| {
            match preflight::classify(path, e, options.busy_wait) {
                busy @ Error::Busy { .. } => busy,
                Error::Sqlite { source, .. } => Error::Sqlite {
                    step: Step::Commit,
                    table: None,
                    source,
                },
                other => other,
            }
        })?;
        let outcome = if half_done || previous.is_some() {
            Outcome::Completed
        } else {
            Outcome::Migrated
        };
        let fk_before = verification.foreign_key_violations_before.clone();
        Ok(report(
            path,
            outcome,
            plan.clone(),
            Some(backup_path.clone()),
            fk_before,
            Some(verification),
        ))
    })
}

/// The journal mode of the main database (`wal`, `delete`, …).
fn journal_mode(conn: &Connection) -> Result<String> {
    conn.query_row("PRAGMA main.journal_mode", [], |r| r.get::<_, String>(0))
        .map(|m| m.to_ascii_lowercase())
        .map_err(Error::sqlite(Step::Backup, None))
}

/// The copy's `quick_check` complained. The copy is the file page for page, so the file is
/// corrupt, unless the copy was damaged in writing: rolled back, the file itself is asked.
/// A corrupt file is a refusal, like one found before the change: the copy is removed and
/// nothing was changed.
fn corrupt_or_bad_copy(
    conn: &Connection,
    path: &Path,
    backup_path: &Path,
    complaints: &[String],
    state: &mut State,
) -> Error {
    state.failed_at = Some(Step::VerifyBackup);
    let bad_copy = || Error::BadBackup {
        path: backup_path.to_owned(),
        detail: format!("quick_check reports {}", complaints.join("; ")),
    };
    if let Err(e) = conn.execute_batch("ROLLBACK") {
        tracing::warn!(error = %e, "ROLLBACK reported an error; the transaction was not committed");
        return bad_copy();
    }
    match checks::quick_check(conn) {
        Ok(found) if found.is_empty() => bad_copy(),
        found => {
            let detail = match found {
                Ok(lines) => lines,
                Err(e) => vec![e.to_string()],
            };
            if let Err(e) = std::fs::remove_file(backup_path) {
                tracing::warn!(backup = %backup_path.display(), error = %e, "could not remove the copy of a corrupt database");
            } else {
                state.backup = None;
            }
            state.changing = false;
            Error::Corrupt {
                path: path.to_owned(),
                detail,
            }
        }
    }
}

/// Checks the backup against the row counts it must hold (a point of failure injection
/// first).
fn verify_backup(
    options: &MigrateOptions,
    backup_path: &Path,
    rows: &BTreeMap<String, u64>,
) -> Result<Vec<String>> {
    inject!(options, Step::VerifyBackup, 0);
    backup::verify(backup_path, rows)
}

/// The database as it was, for the change to be checked against.
struct Before<'a> {
    /// Each table's row count.
    rows: &'a BTreeMap<String, u64>,
    /// Each table's row count in the backup (before the application's schema code).
    backup_rows: &'a BTreeMap<String, u64>,
    /// A file whose committed state is the database as it was (the database itself in WAL
    /// mode, else the backup), read for foreign-key violations only when the change's
    /// check finds some.
    fk_file: &'a Path,
    /// The digests of the tables to rebuild as they were, in the rebuild's order, taken on
    /// another thread (`None`: each is compared row by row with SQL).
    digests: Option<&'a mpsc::Receiver<(String, rusqlite::Result<rebuild::Digest>)>>,
}

/// The change itself, inside the transaction: columns, indexes, statistics, verification
/// and the record. Returns the verification that passed.
fn change(
    conn: &Connection,
    plan: &Plan,
    tenant: &TenantId,
    backup_path: &Path,
    before: &Before<'_>,
    options: &MigrateOptions,
    timer: &mut Timer<'_>,
) -> Result<verify::Verification> {
    // The views that work now must work after the change.
    let views_before = verify::working_views(conn).map_err(Error::sqlite(Step::Verify, None))?;
    match plan.layout {
        Layout::Column => add_columns(conn, plan, options, timer)?,
        Layout::TenantFirst => rebuild_tables(conn, plan, tenant, before, options, timer)?,
    }

    // Foreign-key violations found now are compared with the database as it was (the
    // file's committed state, or the backup): the change adds a column and indexes and
    // moves no row, so when there are none now there were none before, and the common
    // case checks once.
    timer.start(Step::Verify);
    let catalog_after = inspect::read_catalog(conn)?;
    let verification = verify::run(
        conn,
        &catalog_after,
        &Expected {
            scoped: plan.scoped.iter().map(|t| t.name.clone()).collect(),
            column: &plan.column,
            registry: plan.registry.as_ref(),
            rows_before: Some(before.rows),
            fk_before: FkBaseline::Copy(before.fk_file),
            integrity: false,
            layout: plan.layout,
            tenant_index: plan.tenant_index,
            views_before: Some(&views_before),
        },
    )?;
    inject!(options, Step::Verify, 0);
    if !verification.passed() {
        return Err(Error::Verification {
            problems: verification.problems,
        });
    }

    timer.start(Step::Record);
    let applied_at: String = conn
        .query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |r| {
            r.get(0)
        })
        .map_err(Error::sqlite(Step::Record, None))?;
    record::insert(
        conn,
        &Record {
            applied_at,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            column: plan.column.clone(),
            default_tenant: tenant.to_string(),
            // Absolute: `rollback` may run from another folder.
            backup: Some(
                std::path::absolute(backup_path).unwrap_or_else(|_| backup_path.to_owned()),
            ),
            backup_rows: before.backup_rows.clone(),
            scoped_tables: plan.scoped.iter().map(|t| t.name.clone()).collect(),
            own_column_tables: plan
                .scoped
                .iter()
                .filter(|t| t.own_column)
                .map(|t| t.name.clone())
                .collect(),
            // Declared tables are governed by their declarations, which can be removed.
            global_tables: plan
                .global
                .iter()
                .filter(|t| t.reason != crate::plan::GlobalReason::Declared)
                .map(|t| t.name.clone())
                .collect(),
            fk_violations_before: verification.foreign_key_violations_before.clone(),
            layout: plan.layout,
            tenant_index: plan.tenant_index,
        },
    )?;
    inject!(options, Step::Record, 0);
    timer.finish();
    Ok(verification)
}

fn report(
    path: &Path,
    outcome: Outcome,
    plan: Plan,
    backup: Option<PathBuf>,
    fk_before: Vec<checks::FkViolations>,
    verification: Option<verify::Verification>,
) -> Report {
    Report {
        database: path.to_owned(),
        outcome,
        plan,
        backup,
        fk_violations_before: fk_before,
        verification,
        timings: Vec::new(),
        total_ms: 0.0,
    }
}

/// Layout `column`: the column added in place, its index, statistics, triggers scoped.
fn add_columns(
    conn: &Connection,
    plan: &Plan,
    options: &MigrateOptions,
    timer: &mut Timer<'_>,
) -> Result<()> {
    timer.start(Step::AddColumn);
    let to_alter: Vec<_> = plan.scoped.iter().filter(|t| t.add_column).collect();
    each_table(
        &to_alter,
        |t| &t.name,
        options,
        timer,
        Step::AddColumn,
        |table| apply::add_column(conn, plan, table),
    )?;

    timer.start(Step::CreateIndex);
    let to_index = tenant_indexes(plan);
    create_tenant_indexes(conn, plan, &to_index, options, timer)?;

    timer.start(Step::Statistics);
    apply::write_statistics(conn, &to_index)?;
    inject!(options, Step::Statistics, 0);

    timer.start(Step::ScopeTriggers);
    triggers::apply(conn, &plan.triggers)?;
    triggers::create(conn, &plan.fk_guards)?;
    inject!(options, Step::ScopeTriggers, 0);
    Ok(())
}

/// Layout `tenant-first`: views and triggers dropped, every table to rebuild rebuilt (rows
/// copied and compared), its indexes created tenant-first, then views and triggers created
/// again (scoped ones in their scoped form, the guards of an earlier release left out) with
/// the triggers the rebuild adds.
fn rebuild_tables(
    conn: &Connection,
    plan: &Plan,
    tenant: &TenantId,
    before: &Before<'_>,
    options: &MigrateOptions,
    timer: &mut Timer<'_>,
) -> Result<()> {
    let catalog = inspect::read_catalog(conn)?;
    timer.start(Step::Rebuild);
    rebuild::digest::register(conn).map_err(Error::sqlite(Step::Rebuild, None))?;
    // Before any table is dropped: dropping a table drops its statistics.
    let statistics = rebuild::stats::read(conn, &catalog, &plan.rebuild)?;
    rebuild::drop_views_and_triggers(conn, &catalog)?;
    each_table(
        &plan.rebuild,
        |t| &t.name,
        options,
        timer,
        Step::Rebuild,
        |table| {
            // The old rows' digest, taken beside the change, when there is one.
            let old_digest = || {
                let (name, digest) = before.digests?.recv().ok()?;
                match digest {
                    Ok(d) if name == table.name => Some(d),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(table = %name, error = %e, "no digest of the old rows; comparing row by row");
                        None
                    }
                }
            };
            rebuild::rebuild(
                conn,
                table,
                &plan.column,
                tenant.as_str(),
                before.rows.get(&table.name).copied(),
                old_digest,
            )
        },
    )?;
    timer.start(Step::CreateIndex);
    each_table(
        &plan.rebuild,
        |t| &t.name,
        options,
        timer,
        Step::CreateIndex,
        |table| rebuild::create_indexes(conn, table),
    )?;
    // Tables tenant-first already that lack a tenant index now wanted.
    let to_index = tenant_indexes(plan);
    if !to_index.is_empty() {
        create_tenant_indexes(conn, plan, &to_index, options, timer)?;
    }
    timer.start(Step::Statistics);
    rebuild::stats::write(conn, &statistics, &plan.column)?;
    inject!(options, Step::Statistics, 0);

    timer.start(Step::ScopeTriggers);
    for view in &catalog.views {
        conn.execute_batch(&view.sql)
            .map_err(Error::sqlite(Step::ScopeTriggers, Some(&view.name)))?;
    }
    for trigger in &catalog.triggers {
        if triggers::is_guard_of_earlier_release(&trigger.name, &trigger.sql) {
            continue;
        }
        let sql = plan
            .triggers
            .iter()
            .find(|t| t.name == trigger.name)
            .map_or(trigger.sql.as_str(), |t| t.sql.as_str());
        conn.execute_batch(sql)
            .map_err(Error::sqlite(Step::ScopeTriggers, Some(&trigger.name)))?;
    }
    triggers::create(conn, &plan.added_triggers)?;
    inject!(options, Step::ScopeTriggers, 0);
    Ok(())
}

/// The scoped tables that get their tenant index by `CREATE INDEX`, with its name: every
/// one that needs it in the column layout; in the tenant-first layout, a table tenant-first
/// already but for a tenant index now wanted.
fn tenant_indexes(plan: &Plan) -> Vec<(&ScopedTable, &str)> {
    plan.scoped
        .iter()
        .filter_map(|t| t.create_index.as_deref().map(|i| (t, i)))
        .collect()
}

/// Creates the tenant indexes of `to_index`, one table at a time (step `create_index`).
fn create_tenant_indexes(
    conn: &Connection,
    plan: &Plan,
    to_index: &[(&ScopedTable, &str)],
    options: &MigrateOptions,
    timer: &mut Timer<'_>,
) -> Result<()> {
    each_table(
        to_index,
        |(t, _)| &t.name,
        options,
        timer,
        Step::CreateIndex,
        |(table, index)| apply::create_index(conn, plan, table, index),
    )
}

/// Runs `f` on each of `tables` in order as `step`, one table's work at a time: a progress
/// event (the table named by `name`) and a point of failure injection before each, and one
/// after the last.
fn each_table<T>(
    tables: &[T],
    name: impl Fn(&T) -> &str,
    options: &MigrateOptions,
    timer: &mut Timer<'_>,
    step: Step,
    mut f: impl FnMut(&T) -> Result<()>,
) -> Result<()> {
    for (i, table) in tables.iter().enumerate() {
        timer.emit(Progress::Table {
            step,
            table: name(table),
            done: i,
            total: tables.len(),
        });
        inject!(options, step, i);
        f(table)?;
    }
    inject!(options, step, tables.len());
    Ok(())
}
