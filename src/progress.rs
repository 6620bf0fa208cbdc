//! The progress display: a bar on standard error for long steps, drawn only on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use tenantry::migrate::{Progress, Step};

/// Turns migration progress events into an indicatif bar.
pub struct Display {
    bar: ProgressBar,
    enabled: bool,
}

impl Display {
    /// A display that draws when standard error is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        Display {
            bar,
            enabled: !quiet,
        }
    }

    /// Handles one event.
    pub fn on(&mut self, event: Progress<'_>) {
        if !self.enabled {
            return;
        }
        match event {
            Progress::Started(step) => {
                self.bar.reset();
                self.bar.set_length(0);
                self.bar.set_style(spinner_style());
                self.bar.set_prefix(step.name());
                self.bar.set_message(describe(step));
                self.bar
                    .enable_steady_tick(std::time::Duration::from_millis(120));
            }
            Progress::Pages { done, total } => {
                self.bar.set_style(bar_style("pages"));
                self.bar.set_length(total);
                self.bar.set_position(done);
            }
            Progress::Table {
                table, done, total, ..
            } => {
                self.bar.set_style(bar_style("tables"));
                self.bar.set_length(total as u64);
                self.bar.set_position(done as u64);
                self.bar.set_message(table.to_owned());
            }
            Progress::Finished(step, took) => {
                self.bar.disable_steady_tick();
                self.bar.println(format!(
                    "  {:<14} {:>9.1} ms",
                    step.name(),
                    took.as_secs_f64() * 1e3
                ));
            }
            _ => {}
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn describe(step: Step) -> &'static str {
    match step {
        Step::Preflight => "opening and locking the database",
        Step::Schema => "running the application's schema code",
        Step::Plan => "reading the schema",
        Step::Count => "counting rows",
        Step::Check => "quick_check and foreign_key_check",
        Step::Backup => "backing up",
        Step::VerifyBackup => "checking the backup",
        Step::AddColumn => "adding the tenant column",
        Step::Rebuild => "rebuilding tables tenant-first",
        Step::CreateIndex => "creating tenant-first indexes",
        Step::Statistics => "planner statistics",
        Step::ScopeTriggers => "scoping triggers",
        Step::Record => "recording the migration",
        Step::Verify => "verifying",
        Step::Commit => "committing",
        Step::Restore => "restoring",
        _ => "",
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:>14} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style(unit: &str) -> ProgressStyle {
    let template =
        format!("{{spinner}} {{prefix:>14}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}");
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
