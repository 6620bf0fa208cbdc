//! What a migration reports: the plan, the backup, checks, verification and timings.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::checks::FkViolations;
use crate::error::Step;
use crate::plan::Plan;
use crate::verify::Verification;

/// How a migration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The database was migrated and the change committed.
    Migrated,
    /// Some tables already had the tenant column; the rest were completed and committed.
    Completed,
    /// Every table already had the column and index; nothing was changed.
    AlreadyMigrated,
    /// `--dry-run`: planned and checked; nothing was changed.
    DryRun,
}

/// Time spent in one step.
#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    /// The step.
    pub step: Step,
    /// Milliseconds.
    pub ms: f64,
}

/// The report of a migration (also the `--json` output of `tenantry migrate`).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The database migrated.
    pub database: PathBuf,
    /// How it ended.
    pub outcome: Outcome,
    /// What was (or would be) done.
    pub plan: Plan,
    /// The backup taken before the change.
    pub backup: Option<PathBuf>,
    /// Foreign-key violations found before any change (they are the database's, not the migration's).
    pub fk_violations_before: Vec<FkViolations>,
    /// The verification run before `COMMIT`.
    pub verification: Option<Verification>,
    /// Time per step.
    pub timings: Vec<Timing>,
    /// Milliseconds in all.
    pub total_ms: f64,
}

/// A progress event, for a display of long steps.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A step began.
    Started(Step),
    /// Backup pages copied so far, of all.
    Pages {
        /// Pages copied.
        done: u64,
        /// Pages in all.
        total: u64,
    },
    /// A per-table step moved on to a table.
    Table {
        /// The step.
        step: Step,
        /// The table now being worked on.
        table: &'a str,
        /// Tables done before it.
        done: usize,
        /// Tables in all.
        total: usize,
    },
    /// A step ended.
    Finished(Step, Duration),
}

/// Measures steps and reports them to a progress callback.
pub(crate) struct Timer<'p> {
    progress: &'p mut dyn FnMut(Progress<'_>),
    current: Option<(Step, Instant)>,
    pub(crate) timings: Vec<Timing>,
}

impl<'p> Timer<'p> {
    pub(crate) fn new(progress: &'p mut dyn FnMut(Progress<'_>)) -> Self {
        Timer {
            progress,
            current: None,
            timings: Vec::new(),
        }
    }

    /// Ends the running step (if any) and starts `step`.
    pub(crate) fn start(&mut self, step: Step) {
        self.finish();
        tracing::info!(step = step.name(), "step started");
        (self.progress)(Progress::Started(step));
        self.current = Some((step, Instant::now()));
    }

    /// Ends the running step.
    pub(crate) fn finish(&mut self) {
        if let Some((step, since)) = self.current.take() {
            self.record(step, since.elapsed());
        }
    }

    /// Ends the running step without timing it, and records `parts` instead: steps that
    /// ran on other threads, each with its own duration.
    pub(crate) fn finish_with(&mut self, parts: &[(Step, Duration)]) {
        self.current = None;
        for &(step, took) in parts {
            self.record(step, took);
        }
    }

    fn record(&mut self, step: Step, took: Duration) {
        let ms = took.as_secs_f64() * 1e3;
        tracing::info!(step = step.name(), ms, "step finished");
        (self.progress)(Progress::Finished(step, took));
        self.timings.push(Timing { step, ms });
    }

    /// The step running now.
    pub(crate) fn step(&self) -> Step {
        self.current.map_or(Step::Preflight, |(s, _)| s)
    }

    /// Passes an event through.
    pub(crate) fn emit(&mut self, event: Progress<'_>) {
        (self.progress)(event);
    }
}
