//! The transcription against the published plan: every cell verbatim, nothing renumbered,
//! nothing added, and loading it twice changes nothing.

use std::path::PathBuf;

use khcn_hub::domain::plan_source::{PlanSource, TaskSource};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// The published plan as distributed beside the repository, when it is there.
fn published_plan() -> Option<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/000_f5cb55f6df984cd8.txt");
    std::fs::read_to_string(path).ok()
}

/// The published text with each table cell's lines joined the way the transcription
/// stores them (no leading tab).
fn published_cells(text: &str) -> String {
    text.lines()
        .map(|line| line.strip_prefix('\t').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn all_cells(task: &TaskSource) -> Vec<&str> {
    let mut cells = vec![task.text.as_str()];
    for cell in [
        &task.lead_text,
        &task.coordinators_text,
        &task.deliverable,
        &task.timeline,
    ] {
        cells.extend(cell.as_deref());
    }
    cells
}

#[test]
fn every_transcribed_cell_appears_verbatim_in_the_published_plan() {
    let Some(published) = published_plan() else {
        eprintln!("skipped: ../shared/seed is not beside the repository");
        return;
    };
    let published = published_cells(&published);
    let source = PlanSource::plan_136().unwrap();
    let mut checked = 0;
    for section in &source.sections {
        assert!(
            published.contains(&section.title),
            "section {} title",
            section.numeral
        );
        for task in &section.tasks {
            for cell in all_cells(task) {
                assert!(
                    published.contains(cell),
                    "task {}.{}: {cell:?} is not in the plan",
                    section.numeral,
                    task.number
                );
                checked += 1;
            }
            for child in &task.children {
                let published_row = format!("{} {}", child.number, child.text);
                assert!(
                    published.contains(&published_row),
                    "sub-task {}",
                    child.number
                );
                checked += 1;
            }
        }
    }
    for target in &source.targets {
        assert!(published.contains(&target.text), "target {}", target.key);
    }
    for text in source
        .plan
        .purposes
        .iter()
        .chain(&source.plan.funding_sources)
    {
        assert!(published.contains(text.as_str()), "{text:?}");
    }
    assert!(published.contains(&source.plan.title));
    assert!(checked > 120, "only {checked} cells checked");
}

#[test]
fn the_published_appendix_has_no_section_vi() {
    let source = PlanSource::plan_136().unwrap();
    let numerals: Vec<&str> = source.sections.iter().map(|s| s.numeral.as_str()).collect();
    assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VII"]);
    if let Some(published) = published_plan() {
        assert!(published.contains("\n\tVII\n"));
        assert!(!published.contains("\n\tVI\n"));
    }
}

backend_test! {
    /// What the API serves is byte for byte what the transcription holds.
    async fn served_task_text_round_trips_byte_for_byte(app) {
        let source = PlanSource::plan_136().unwrap();
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { sections { numeral tasks { text leadText coordinatorsText deliverable children { text } } } } }"#)
            .await;
        let sections = data["plan"]["sections"].as_array().unwrap();
        for (served, section) in sections.iter().zip(&source.sections) {
            for (served_task, task) in served["tasks"].as_array().unwrap().iter().zip(&section.tasks) {
                assert_eq!(served_task["text"].as_str().unwrap().as_bytes(), task.text.as_bytes());
                assert_eq!(served_task["leadText"], json!(task.lead_text));
                assert_eq!(served_task["coordinatorsText"], json!(task.coordinators_text));
                assert_eq!(served_task["deliverable"], json!(task.deliverable));
                let children: Vec<Value> = task.children.iter().map(|c| json!({ "text": c.text })).collect();
                assert_eq!(served_task["children"], json!(children));
            }
        }
    }
}

async fn row_counts(app: &crate::helpers::TestApp) -> Vec<(String, i64)> {
    let tables = [
        "agencies",
        "agency_aliases",
        "agency_groups",
        "agency_group_aliases",
        "legal_documents",
        "plans",
        "plan_clauses",
        "plan_documents",
        "targets",
        "sections",
        "tasks",
        "task_coordinators",
        "task_documents",
    ];
    let backend = app.db.get_database_backend();
    let mut counts = Vec::new();
    for table in tables {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        counts.push((table.to_owned(), row.try_get::<i64>("", "n").unwrap()));
    }
    counts
}

backend_test! {
    async fn loading_the_plan_twice_changes_nothing(app) {
        let before = row_counts(&app).await;
        assert!(before.iter().any(|(t, n)| t == "tasks" && *n == 31), "{before:?}");
        let outcome = khcn_hub::app::seed_plan(&app.db).await.unwrap();
        assert!(outcome.to_string().contains("already loaded"), "{outcome}");
        assert_eq!(row_counts(&app).await, before);
    }
}
