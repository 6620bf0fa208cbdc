//! The audit as text for a terminal: one line per call, then the counts.

use std::fmt::Write as _;

use crate::{Report, Verdict};

/// The report as aligned lines (`file:line  form  verdict  detail`) and a summary line.
pub fn render(report: &Report) -> String {
    let rows: Vec<[String; 4]> = report
        .findings
        .iter()
        .map(|f| {
            let (verdict, detail) = match &f.verdict {
                Verdict::Scoped { tables } => ("scoped", tables.join(", ")),
                Verdict::Unchanged => ("unchanged", "no tenant table".to_owned()),
                Verdict::Refused { kind, reason } => ("REFUSED", format!("{kind}: {reason}")),
                Verdict::RunTime { why } => ("run time", format!("not checked: {why}")),
            };
            let detail = match &f.constant {
                Some(c) => format!("{detail} (const {c})"),
                None => detail,
            };
            [
                format!("{}:{}", f.file.display(), f.line),
                f.form.clone(),
                verdict.to_owned(),
                detail,
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for [place, form, verdict, detail] in &rows {
        let _ = writeln!(out, "{place:<w0$}  {form:<w1$}  {verdict:<w2$}  {detail}");
    }
    for (file, error) in &report.unreadable {
        let _ = writeln!(out, "{}: not read as Rust ({error})", file.display());
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} statements: {} scoped, {} unchanged, {} refused, {} built at run time (not checked)",
        s.statements, s.scoped, s.unchanged, s.refused, s.run_time
    );
    out
}
