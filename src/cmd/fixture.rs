//! `tenantry fixture`.

use indicatif::{ProgressBar, ProgressStyle};
use tenantry::fixtures::{self, Options};

use super::{Status, show_progress};
use crate::cli::FixtureArgs;
use crate::logging;

/// Generates the fixture and prints its size.
pub fn run(args: FixtureArgs) -> anyhow::Result<Status> {
    logging::init(None, None)?;
    let options = Options {
        size: args.size,
        seed: args.seed,
        overwrite: args.force,
    };
    match generate(&args.out, &options, show_progress(false)) {
        Ok(report) => {
            println!("{}", summary(&report));
            Ok(Status::Ok)
        }
        Err(error @ fixtures::Error::Exists { .. }) => {
            eprintln!("error: {error}; pass --force to replace it");
            Ok(Status::BadInput)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(Status::Failed)
        }
    }
}

/// Generates a fixture with a progress bar (when `show` is true).
pub fn generate(
    out: &std::path::Path,
    options: &Options,
    show: bool,
) -> Result<fixtures::Report, fixtures::Error> {
    let bar = if show {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} generating [{bar:30}] {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = fixtures::generate(out, options, &mut |p| {
        bar.set_length(p.rows_total);
        bar.set_position(p.rows_done);
        bar.set_message(p.table.to_owned());
    });
    bar.finish_and_clear();
    result
}

/// One line about a generated fixture.
pub fn summary(report: &fixtures::Report) -> String {
    format!(
        "Generated the {} fixture (seed {}) at {}: {} tables, {} rows, {:.1} MB, in {:.2} s",
        report.size,
        report.seed,
        report.path.display(),
        report.tables.len(),
        report.total_rows,
        report.bytes as f64 / 1e6,
        report.elapsed.as_secs_f64()
    )
}
