//! `khcn-hub sync`: runs connectors in the foreground with a progress bar, then prints a
//! summary table.

use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::error::SyncError;
use super::scheduler::Connectors;
use super::{RunReport, Trigger};

/// One connector's outcome, for the summary.
pub struct Outcome {
    pub name: String,
    pub result: Result<RunReport, SyncError>,
    pub elapsed: Duration,
}

/// Runs the named connectors one after another.
pub async fn run(connectors: &Connectors, names: &[String], show_progress: bool) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for name in names {
        let started = Instant::now();
        let bar = if show_progress {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.clone());
        bar.enable_steady_tick(Duration::from_millis(120));
        let result = match connectors.find(name) {
            Ok(definition) => {
                let progress_bar = bar.clone();
                let progress = move |counts: &crate::store::sync::Counts| {
                    progress_bar.set_message(format!(
                        "{} fetched, {} created, {} updated, {} unchanged, {} quarantined",
                        counts.fetched,
                        counts.created,
                        counts.updated,
                        counts.unchanged,
                        counts.quarantined
                    ));
                };
                connectors
                    .engine
                    .run(definition, Trigger::Cli, Some(&progress))
                    .await
            }
            Err(error) => Err(error),
        };
        bar.finish_and_clear();
        outcomes.push(Outcome {
            name: name.clone(),
            result,
            elapsed: started.elapsed(),
        });
    }
    outcomes
}

/// The summary table, one line per connector.
pub fn summary(outcomes: &[Outcome], out: &mut impl Write) -> std::io::Result<()> {
    let header = [
        "connector",
        "status",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "withdrawn",
        "quarantined",
        "seconds",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for outcome in outcomes {
        let (status, counts, note) = match &outcome.result {
            Ok(report) if report.succeeded => ("ok".to_owned(), Some(report.counts), None),
            Ok(report) => (
                if report.paused {
                    "failed, paused"
                } else {
                    "failed"
                }
                .to_owned(),
                Some(report.counts),
                report.error.clone(),
            ),
            Err(error) => ("not run".to_owned(), None, Some(error.to_string())),
        };
        let number = |f: fn(&crate::store::sync::Counts) -> i64| {
            counts.map_or_else(|| "-".to_owned(), |c| f(&c).to_string())
        };
        rows.push(vec![
            outcome.name.clone(),
            status,
            number(|c| c.fetched),
            number(|c| c.created),
            number(|c| c.updated),
            number(|c| c.unchanged),
            number(|c| c.withdrawn),
            number(|c| c.quarantined),
            format!("{:.1}", outcome.elapsed.as_secs_f64()),
        ]);
        if let Some(note) = note {
            rows.push(vec![format!("  └ {note}")]);
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter(|r| r.len() == header.len())
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                if i < 2 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(&header.map(str::to_owned)))?;
    for row in &rows {
        if row.len() == header.len() {
            writeln!(out, "{}", line(row))?;
        } else {
            writeln!(out, "{}", row[0])?;
        }
    }
    Ok(())
}
