//! Plain-text renderings of reports and failures, for people.

use std::fmt::Write as _;
use std::path::Path;

use tenantry::migrate::{Error, Outcome, Report, RollbackReport, VerifyReport, global_reason_text};

/// The migration report as text.
pub fn migrate_report(report: &Report) -> String {
    let mut out = String::new();
    let plan = &report.plan;
    let headline = match report.outcome {
        Outcome::Migrated => "Migrated",
        Outcome::Completed => "Completed a partly migrated database",
        Outcome::AlreadyMigrated => {
            "Already migrated: every table has the tenant column and its index; nothing was changed"
        }
        Outcome::DryRun => "Dry run: nothing was changed. The plan",
        _ => "Finished",
    };
    let _ = writeln!(out, "{headline}: {}", report.database.display());
    let _ = writeln!(
        out,
        "  tenant column   {} (default tenant {:?})",
        plan.column,
        plan.default_tenant.as_str()
    );
    let total_rows: u64 = plan.scoped.iter().filter_map(|t| t.rows).sum();
    let _ = writeln!(
        out,
        "  scoped tables   {} ({} rows)",
        plan.scoped.len(),
        total_rows
    );
    // One line per table, its columns as wide as their longest entry.
    let lines: Vec<[String; 5]> = plan
        .scoped
        .iter()
        .map(|t| {
            let action = match (&t.keying, t.add_column, &t.create_index) {
                _ if t.virtual_table => "virtual: scoped as is".to_owned(),
                (Some(keying), _, _) => rebuild_text(keying),
                (None, true, Some(_)) => "add column + index".to_owned(),
                (None, true, None) => "add column".to_owned(),
                (None, false, Some(_)) => "has column; add index".to_owned(),
                (None, false, None) => "already done".to_owned(),
            };
            let rows = t
                .rows
                .map_or_else(|| "-".to_owned(), |r| format!("{r} rows"));
            let mut notes = Vec::new();
            if t.without_rowid {
                notes.push("WITHOUT ROWID");
            }
            if t.strict {
                notes.push("STRICT");
            }
            if t.own_column && !t.virtual_table {
                notes.push("own tenant column");
            }
            [
                t.name.clone(),
                rows,
                action,
                t.index.clone(),
                notes.join(" "),
            ]
        })
        .collect();
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (name_w, rows_w, action_w, index_w) = (width(0), width(1), width(2), width(3));
    for [name, rows, action, index, notes] in &lines {
        let line = format!(
            "    {name:<name_w$}  {rows:>rows_w$}  {action:<action_w$}  {index:<index_w$}  {notes}"
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if plan.layout == tenantry::migrate::Layout::TenantFirst {
        let _ = writeln!(
            out,
            "  layout          tenant-first: each table rebuilt with keys per tenant, composite foreign keys, indexes led by {:?}, no default",
            plan.column
        );
        let tenant_index = match plan.tenant_index {
            tenantry::migrate::TenantIndex::Every => "on every table (--tenant-index every)",
            tenantry::migrate::TenantIndex::WhereNeeded => {
                "only where no primary key leads with the column (--tenant-index where-needed)"
            }
        };
        let _ = writeln!(
            out,
            "  tenant index    idx_<table>_{} {tenant_index}",
            plan.column
        );
    }
    let _ = writeln!(out, "  global tables   {}", plan.global.len());
    for g in &plan.global {
        let _ = writeln!(out, "    {:<28} {}", g.name, global_reason_text(&g.reason));
    }
    if let Some(r) = &plan.registry {
        let _ = writeln!(out, "  tenant registry {}.{}", r.table, r.column);
    }
    if let Some(e) = &plan.expectation {
        if e.missing.is_empty() && e.extra.is_empty() {
            let _ = writeln!(out, "  expected tables match {}", e.file.display());
        } else {
            let _ = writeln!(out, "  expected tables DIFFER from {}:", e.file.display());
            for m in &e.missing {
                let _ = writeln!(out, "    missing   {m}");
            }
            for x in &e.extra {
                let _ = writeln!(out, "    extra     {x}");
            }
        }
    }
    if !plan.triggers.is_empty() {
        let _ = writeln!(
            out,
            "  triggers scoped to the firing row's tenant ({})",
            plan.triggers.len()
        );
        for t in &plan.triggers {
            let _ = writeln!(out, "    {:<28} on {}", t.name, t.on);
        }
    }
    if !plan.fk_guards.is_empty() {
        let _ = writeln!(
            out,
            "  foreign-key guards ({}): no row may reference another tenant's row",
            plan.fk_guards.len()
        );
    }
    if !plan.risks.is_empty() {
        let _ = writeln!(
            out,
            "  risks ({}): SQL that runs without a tenant filter, or leaks across tenants",
            plan.risks.len()
        );
        for r in &plan.risks {
            let _ = writeln!(out, "    - {r}");
        }
    }
    if !report.fk_violations_before.is_empty() {
        let _ = writeln!(
            out,
            "  foreign-key violations that were there BEFORE the migration (not caused by it):"
        );
        for v in &report.fk_violations_before {
            let _ = writeln!(
                out,
                "    {} rows of {} break key {} to {}",
                v.rows, v.table, v.fk_id, v.parent
            );
        }
    }
    if let Some(b) = &report.backup {
        let _ = writeln!(out, "  backup          {}", b.display());
    }
    if let Some(v) = &report.verification {
        let rows: u64 = v.tables.iter().map(|t| t.rows).sum();
        let _ = writeln!(
            out,
            "  verification    {} ({} tables, {} rows, row counts equal, no NULL tenant, indexes present, no new foreign-key violation)",
            if v.passed() { "passed" } else { "FAILED" },
            v.tables.len(),
            rows
        );
    }
    if !report.timings.is_empty() {
        let steps: Vec<String> = report
            .timings
            .iter()
            .map(|t| format!("{} {:.1}", t.step, t.ms))
            .collect();
        let _ = writeln!(out, "  timings (ms)    {}", steps.join(", "));
        let _ = writeln!(out, "  total           {:.1} ms", report.total_ms);
    }
    out
}

/// The verification report as text.
pub fn verify_report(report: &VerifyReport) -> String {
    let mut out = String::new();
    let v = &report.verification;
    let _ = writeln!(
        out,
        "{}: {}",
        if v.passed() {
            "Verified"
        } else {
            "Verification FAILED"
        },
        report.database.display()
    );
    let _ = writeln!(out, "  tenant column   {}", report.column);
    match &report.record {
        Some(r) => {
            let _ = writeln!(
                out,
                "  migrated at     {} by tenantry {}, default tenant {:?}",
                r.applied_at, r.tool_version, r.default_tenant
            );
        }
        None => {
            let _ = writeln!(out, "  migrated at     (no record in _tenantry_migrations)");
        }
    }
    let _ = writeln!(out, "  scoped tables   {}", report.scoped.len());
    for t in &v.tables {
        let tenants: Vec<String> = t.tenants.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        let _ = writeln!(
            out,
            "    {:<28} {:>10} rows  {}",
            t.table,
            t.rows,
            tenants.join(", ")
        );
    }
    let _ = writeln!(out, "  global tables   {}", report.global.join(", "));
    if let Some(ok) = v.integrity_ok {
        let _ = writeln!(
            out,
            "  quick_check     {}",
            if ok { "ok" } else { "FAILED" }
        );
    }
    let _ = writeln!(
        out,
        "  foreign keys    {} violating rows in all",
        v.foreign_key_violations.iter().map(|f| f.rows).sum::<u64>()
    );
    if !v.problems.is_empty() {
        let _ = writeln!(out, "  problems ({}):", v.problems.len());
        for p in &v.problems {
            let _ = writeln!(out, "    - {p}");
        }
    }
    out
}

/// The rollback report as text.
pub fn rollback_report(report: &RollbackReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Restored {} from {}",
        report.database.display(),
        report.backup.display()
    );
    let _ = writeln!(
        out,
        "  the state before the restore is saved at {}",
        report.saved_current.display()
    );
    let rows: u64 = report.tables.values().sum();
    let _ = writeln!(
        out,
        "  checked: quick_check ok; schema and row counts equal the backup's ({} tables, {rows} rows)",
        report.tables.len()
    );
    out
}

/// What to tell a person after a failed migration: what state the database is in and
/// how to get back.
pub fn migrate_failure(db: &Path, error: &Error, log: Option<&Path>) -> String {
    let mut out = String::new();
    match error {
        Error::RolledBack { step, backup, .. } => {
            let _ = writeln!(
                out,
                "The migration failed at step {step}. It was rolled back: the database is exactly as it was before."
            );
            if let Some(b) = backup {
                let _ = writeln!(
                    out,
                    "A backup taken before the change is kept at:\n  {}",
                    b.display()
                );
                let _ = writeln!(
                    out,
                    "You do not need it now. Should the database ever be damaged, restore it with:"
                );
                let _ = writeln!(
                    out,
                    "  tenantry rollback {} --backup {}",
                    db.display(),
                    b.display()
                );
            }
        }
        _ if error.is_bad_input() => {
            let _ = writeln!(out, "Nothing was changed.");
        }
        _ => {
            let _ = writeln!(
                out,
                "The migration did not complete; any open transaction was rolled back."
            );
        }
    }
    if let Some(log) = log {
        let _ = writeln!(out, "The detailed log is in {}", log.display());
    }
    out
}

/// What the rebuild makes of a table's key, in a few words.
fn rebuild_text(keying: &tenantry::migrate::Keying) -> String {
    use tenantry::migrate::Keying;
    match keying {
        Keying::Rowid {
            column,
            autoincrement: false,
        } => format!("rebuild: {column} per tenant"),
        Keying::Rowid {
            column,
            autoincrement: true,
        } => format!("rebuild: {column} per tenant, autoincrement"),
        Keying::Clustered => "rebuild: clustered, rowid gone".to_owned(),
        Keying::WithoutRowid => "rebuild: key per tenant".to_owned(),
        Keying::RowidKept => "rebuild: rowid kept".to_owned(),
    }
}
