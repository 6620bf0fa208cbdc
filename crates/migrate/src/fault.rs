//! Test-only failure injection: proves that a failure at any step leaves the database as it was.

use crate::error::{Error, Result, Step};

/// Where to fail: at `step`, once `after` units of it are done (tables for the per-table
/// steps, pages-steps for the backup; 0 fails as the step starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The step to fail in.
    pub step: Step,
    /// How many units of the step to finish first.
    pub after: usize,
}

/// Fails when `fault` names this point.
pub(crate) fn check(fault: Option<Fault>, step: Step, done: usize) -> Result<()> {
    match fault {
        Some(f) if f.step == step && f.after == done => {
            tracing::warn!(step = step.name(), done, "injected failure");
            Err(Error::Injected { step })
        }
        _ => Ok(()),
    }
}
