//! The transcription against the published plan (`seed/published/`): every cell of the
//! appendix against its own published cell, empty cells as unknown, nothing renumbered,
//! nothing added, and loading it twice changes nothing.

use khcn_hub::domain::ip_source::IpRightsSource;
use khcn_hub::domain::plan_source::{PlanSource, TaskSource};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// The published plan, vendored in the repository so that these checks never skip.
const PUBLISHED: &str = include_str!("../../seed/published/136-KH-UBND-2022.txt");

/// The appendix of the published text ("Nhiệm vụ và giải pháp thực hiện"), read back into
/// sections, tasks and sub-tasks.
///
/// The table is flattened to lines: a row starts with a tab and its STT (a number, a Roman
/// numeral for a section row, nothing for a sub-task), then each cell starts a line with a
/// tab; a cell's further lines carry no tab, and blank lines between its paragraphs belong
/// to it. Rows are separated by blank lines. A cell reads as its lines joined with `\n`,
/// which is how the transcription stores multi-line cells.
mod appendix {
    /// The header row, as published.
    pub const COLUMNS: [&str; 6] = [
        "STT",
        "Nhiệm vụ và giải pháp chủ yếu",
        "Đơn vị chủ trì",
        "Đơn vị phối hợp",
        "Hình thức/ sản phẩm",
        "Thời gian triển khai",
    ];

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Section {
        pub numeral: String,
        pub title: String,
        pub tasks: Vec<Task>,
    }

    /// A task row or a sub-task row; an empty cell is `None`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Task {
        pub number: String,
        pub text: Option<String>,
        pub lead: Option<String>,
        pub coordinators: Option<String>,
        pub deliverable: Option<String>,
        pub timeline: Option<String>,
        pub children: Vec<Task>,
    }

    /// The table's rows, each with its six cells.
    pub fn rows(text: &str) -> Result<Vec<Vec<String>>, String> {
        let start = text
            .find("\n\tSTT\n")
            .ok_or("no appendix table: no row starts with a tab and \"STT\"")?;
        let mut rows: Vec<Vec<Vec<&str>>> = Vec::new();
        let mut after_blank = true;
        for (i, line) in text[start + 1..].lines().enumerate() {
            if let Some(first) = line.strip_prefix('\t') {
                if after_blank {
                    rows.push(Vec::new());
                }
                if let Some(row) = rows.last_mut() {
                    row.push(vec![first]);
                }
                after_blank = false;
            } else {
                let cell = rows
                    .last_mut()
                    .and_then(|row| row.last_mut())
                    .ok_or(format!("table line {i} continues no cell: {line:?}"))?;
                cell.push(line);
                // Whitespace-only lines count as blank (the text ends with no-break spaces).
                after_blank = line.trim().is_empty();
            }
        }
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| {
                let cells: Vec<String> = row.into_iter().map(join).collect();
                if cells.len() == COLUMNS.len() {
                    Ok(cells)
                } else {
                    Err(format!(
                        "table row {i} has {} cells, not {}: {cells:?}",
                        cells.len(),
                        COLUMNS.len()
                    ))
                }
            })
            .collect()
    }

    /// A cell's lines, without the blank lines that separate it from the next row.
    fn join(lines: Vec<&str>) -> String {
        let end = lines
            .iter()
            .rposition(|line| !line.trim().is_empty())
            .map_or(0, |last| last + 1);
        lines[..end].join("\n")
    }

    fn cell(text: &str) -> Option<String> {
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn is_numeral(stt: &str) -> bool {
        !stt.is_empty() && stt.chars().all(|c| matches!(c, 'I' | 'V' | 'X'))
    }

    /// The appendix as sections of tasks, checking the header, that each section row
    /// repeats one title, and that sub-tasks follow a task.
    pub fn parse(text: &str) -> Result<Vec<Section>, String> {
        let rows = rows(text)?;
        let (header, body) = rows.split_first().ok_or("the table has no rows")?;
        if *header != COLUMNS {
            return Err(format!("the header row is {header:?}"));
        }
        let mut sections: Vec<Section> = Vec::new();
        for row in body {
            let stt = row[0].as_str();
            let task = |number: &str, text: &str| Task {
                number: number.to_owned(),
                text: cell(text),
                lead: cell(&row[2]),
                coordinators: cell(&row[3]),
                deliverable: cell(&row[4]),
                timeline: cell(&row[5]),
                children: Vec::new(),
            };
            if is_numeral(stt) {
                if row[2..].iter().any(|title| title != &row[1]) {
                    return Err(format!("section {stt}: its cells differ: {row:?}"));
                }
                sections.push(Section {
                    numeral: stt.to_owned(),
                    title: row[1].clone(),
                    tasks: Vec::new(),
                });
            } else if stt.bytes().all(|b| b.is_ascii_digit()) && !stt.is_empty() {
                let section = sections
                    .last_mut()
                    .ok_or(format!("task {stt} comes before any section"))?;
                section.tasks.push(task(stt, &row[1]));
            } else if stt.is_empty() {
                // A sub-task row: "(ii) text" in the task column, every other cell empty.
                let (number, text) = row[1]
                    .split_once(' ')
                    .filter(|(n, _)| n.starts_with('(') && n.ends_with(')'))
                    .ok_or(format!("a row without STT is not a sub-task: {row:?}"))?;
                let parent = sections
                    .last_mut()
                    .and_then(|s| s.tasks.last_mut())
                    .ok_or(format!("sub-task {number} follows no task"))?;
                parent.children.push(task(number, text));
            } else {
                return Err(format!("unknown STT {stt:?}"));
            }
        }
        Ok(sections)
    }
}

/// The five targets under "2. Chỉ tiêu chủ yếu đến năm 2025", without their dashes.
fn published_targets(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|line| *line != "2. Chỉ tiêu chủ yếu đến năm 2025")
        .skip(1)
        .map_while(|line| line.strip_prefix("- "))
        .collect()
}

/// Every difference between a transcribed task and its published row, one line each.
fn task_differences(at: &str, task: &TaskSource, row: &appendix::Task, out: &mut Vec<String>) {
    let cells = [
        ("text", Some(task.text.as_str()), row.text.as_deref()),
        ("lead", task.lead_text.as_deref(), row.lead.as_deref()),
        (
            "coordinators",
            task.coordinators_text.as_deref(),
            row.coordinators.as_deref(),
        ),
        (
            "deliverable",
            task.deliverable.as_deref(),
            row.deliverable.as_deref(),
        ),
        (
            "timeline",
            task.timeline.as_deref(),
            row.timeline.as_deref(),
        ),
    ];
    for (column, transcribed, published) in cells {
        if transcribed != published {
            out.push(format!(
                "{at} {column}: transcribed {transcribed:?}, published {published:?}"
            ));
        }
    }
    let numbers = |children: Vec<&str>| children.join(" ");
    let transcribed = numbers(task.children.iter().map(|c| c.number.as_str()).collect());
    let published = numbers(row.children.iter().map(|c| c.number.as_str()).collect());
    if transcribed != published {
        out.push(format!(
            "{at} sub-tasks: transcribed [{transcribed}], published [{published}]"
        ));
    }
    for (child, published) in task.children.iter().zip(&row.children) {
        task_differences(&format!("{at} {}", child.number), child, published, out);
    }
}

/// Every difference between the transcription's sections and tasks and the published
/// appendix: each task against the row with its own section and number.
fn differences(source: &PlanSource, published: &[appendix::Section]) -> Vec<String> {
    let mut out = Vec::new();
    let transcribed: Vec<&str> = source.sections.iter().map(|s| s.numeral.as_str()).collect();
    let numerals: Vec<&str> = published.iter().map(|s| s.numeral.as_str()).collect();
    if transcribed != numerals {
        out.push(format!(
            "sections: transcribed {transcribed:?}, published {numerals:?}"
        ));
    }
    for (section, row) in source.sections.iter().zip(published) {
        if section.title != row.title {
            out.push(format!(
                "section {} title: transcribed {:?}, published {:?}",
                section.numeral, section.title, row.title
            ));
        }
        let transcribed: Vec<&str> = section.tasks.iter().map(|t| t.number.as_str()).collect();
        let numbers: Vec<&str> = row.tasks.iter().map(|t| t.number.as_str()).collect();
        if transcribed != numbers {
            out.push(format!(
                "section {} tasks: transcribed {transcribed:?}, published {numbers:?}",
                section.numeral
            ));
        }
        for (task, published) in section.tasks.iter().zip(&row.tasks) {
            let at = format!("{}.{}", section.numeral, task.number);
            task_differences(&at, task, published, &mut out);
        }
    }
    out
}

fn source() -> PlanSource {
    PlanSource::plan_136().unwrap()
}

#[test]
fn every_task_matches_its_own_cells_of_the_published_appendix() {
    let published = appendix::parse(PUBLISHED).unwrap();
    let found = differences(&source(), &published);
    assert!(found.is_empty(), "{found:#?}");
    // The whole table was read: 6 sections, 26 tasks, 5 sub-tasks of II.3.
    let tasks: usize = published.iter().map(|s| s.tasks.len()).sum();
    let children: usize = published
        .iter()
        .flat_map(|s| &s.tasks)
        .map(|t| t.children.len())
        .sum();
    assert_eq!((published.len(), tasks, children), (6, 26, 5));
}

#[test]
fn section_titles_and_the_sub_tasks_of_ii_3_are_as_published() {
    let published = appendix::parse(PUBLISHED).unwrap();
    let titles: Vec<(&str, &str)> = published
        .iter()
        .map(|s| (s.numeral.as_str(), s.title.as_str()))
        .collect();
    let source = source();
    let transcribed: Vec<(&str, &str)> = source
        .sections
        .iter()
        .map(|s| (s.numeral.as_str(), s.title.as_str()))
        .collect();
    assert_eq!(transcribed, titles);

    let ii_3 = &published[1].tasks[2];
    assert_eq!(ii_3.number, "3");
    let numbers: Vec<&str> = ii_3.children.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, ["(i)", "(ii)", "(iii)", "(iv)", "(v)"]);
    for child in &ii_3.children {
        // Sub-tasks have only their text; the other cells are empty, so unknown.
        assert_eq!(
            (
                &child.lead,
                &child.coordinators,
                &child.deliverable,
                &child.timeline
            ),
            (&None, &None, &None, &None),
            "{}",
            child.number
        );
    }
    let transcribed = &source.sections[1].tasks[2].children;
    let texts: Vec<Option<&str>> = transcribed.iter().map(|c| Some(c.text.as_str())).collect();
    let published: Vec<Option<&str>> = ii_3.children.iter().map(|c| c.text.as_deref()).collect();
    assert_eq!(texts, published);
}

#[test]
fn empty_published_cells_are_unknown_in_the_transcription() {
    let published = appendix::parse(PUBLISHED).unwrap();
    let source = source();
    let mut empty = Vec::new();
    for (section, row) in source.sections.iter().zip(&published) {
        for (task, row) in section.tasks.iter().zip(&row.tasks) {
            let at = format!("{}.{}", section.numeral, task.number);
            for (column, published, transcribed) in [
                ("lead", &row.lead, &task.lead_text),
                ("coordinators", &row.coordinators, &task.coordinators_text),
                ("deliverable", &row.deliverable, &task.deliverable),
                ("timeline", &row.timeline, &task.timeline),
            ] {
                if published.is_none() {
                    assert_eq!(transcribed, &None, "{at} {column}");
                    empty.push(format!("{at} {column}"));
                }
            }
            // Nor are the agencies read from those cells.
            if row.lead.is_none() {
                assert!(task.lead.is_none(), "{at}");
            }
            if row.coordinators.is_none() {
                assert!(task.coordinators.is_empty(), "{at}");
            }
        }
    }
    // V.5, V.6 and V.7 have only their text.
    assert_eq!(empty.len(), 12, "{empty:?}");
}

#[test]
fn the_five_targets_are_as_published() {
    let published = published_targets(PUBLISHED);
    let source = source();
    let transcribed: Vec<&str> = source.targets.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(transcribed, published);
    // Each count is the number the published sentence states ("ít nhất 15", "01").
    for target in &source.targets {
        let stated = target
            .text
            .split_once("ít nhất ")
            .and_then(|(_, rest)| rest.split(' ').next())
            .and_then(|n| n.parse::<i32>().ok());
        assert_eq!(target.value, stated, "{}", target.key);
    }
}

/// The published text with the table's leading tabs removed, for text outside the table.
fn published_lines() -> String {
    PUBLISHED
        .lines()
        .map(|line| line.strip_prefix('\t').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_plan_header_and_signature_are_as_published() {
    let published = published_lines();
    let source = source();
    let plan = &source.plan;
    for text in plan
        .purposes
        .iter()
        .chain(&plan.funding_sources)
        .chain(&plan.implementation)
        .chain(&plan.recipients)
        .chain([&plan.title])
        .chain(plan.heading.iter())
        .chain(plan.preamble.iter())
        .chain(plan.signature_block.iter())
        .chain(plan.reporting.iter().map(|r| &r.text))
    {
        assert!(published.contains(text.as_str()), "{text:?}");
    }
    // The signer's name and title are lines of the signature block, as printed.
    let lines: Vec<&str> = published.lines().collect();
    for line in [&plan.signer, &plan.signer_title] {
        let line = line.as_deref().unwrap();
        assert!(lines.contains(&line), "{line:?} is not a line of the plan");
    }
    assert_eq!(plan.signer_title.as_deref(), Some("PHÓ CHỦ TỊCH"));
}

#[test]
fn the_published_appendix_has_no_section_vi() {
    let numerals: Vec<String> = appendix::parse(PUBLISHED)
        .unwrap()
        .into_iter()
        .map(|s| s.numeral)
        .collect();
    assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VII"]);
    let transcribed: Vec<String> = source().sections.into_iter().map(|s| s.numeral).collect();
    assert_eq!(transcribed, numerals);
}

#[test]
fn each_ip_right_is_managed_by_the_agency_the_plan_names_or_by_none_known() {
    let source = source();
    let rights = IpRightsSource::bundled().unwrap();
    let vii = source.sections.iter().find(|s| s.numeral == "VII").unwrap();
    for right in &rights.ip_rights {
        // Section VII gives each right it manages a task "Quản lý và phát triển …" that
        // quotes the right's name; that task's lead agency manages it.
        let quoted = format!("“{}”", right.name);
        let managing: Vec<&TaskSource> = vii
            .tasks
            .iter()
            .filter(|t| t.text.starts_with("Quản lý và phát triển") && t.text.contains(&quoted))
            .collect();
        assert!(managing.len() <= 1, "{}", right.external_id);
        let named = managing.first().and_then(|task| task.lead.clone());
        assert_eq!(right.managing_agency, named, "{}", right.external_id);
        if let Some(task) = managing.first() {
            assert!(
                right.tasks.contains(&format!("VII.{}", task.number)),
                "{}",
                right.external_id
            );
        }
    }
    // The lotus GI: IV.1 registers it under Sở KHCN's lead, but nothing names who manages it.
    let lotus = rights
        .ip_rights
        .iter()
        .find(|r| r.external_id == "gi-dong-thap-sen")
        .unwrap();
    assert_eq!(lotus.managing_agency, None);
    assert_eq!(lotus.tasks, ["IV.1"]);
}

// ---------------------------------------------------------------------------------------
// The parser and the comparison catch what they are for
// ---------------------------------------------------------------------------------------

/// The published text with one passage replaced (which must be there).
fn mutated(from: &str, to: &str) -> String {
    assert!(PUBLISHED.contains(from), "{from:?} is not in the text");
    PUBLISHED.replacen(from, to, 1)
}

fn differences_in(text: &str) -> Vec<String> {
    differences(&source(), &appendix::parse(text).unwrap())
}

#[test]
fn the_parser_reads_cells_rows_sections_and_sub_tasks() {
    let text = "PHỤ LỤC\n\tSTT\n\tNhiệm vụ và giải pháp chủ yếu\n\tĐơn vị chủ trì\n\tĐơn vị phối hợp\n\tHình thức/ sản phẩm\n\tThời gian triển khai\n\
                \n\tIX\n\tMục\n\tMục\n\tMục\n\tMục\n\tMục\n\
                \n\t1\n\tMở đầu:\n- một;\n\n- hai\n\tSở A\n\t\n\tBáo cáo\n\tHàng năm\n\
                \n\t\n\t(i) Việc con\n\t\n\t\n\t\n\t\n\n\u{a0}\n";
    let sections = appendix::parse(text).unwrap();
    assert_eq!(sections.len(), 1);
    assert_eq!(
        (sections[0].numeral.as_str(), sections[0].title.as_str()),
        ("IX", "Mục")
    );
    let task = &sections[0].tasks[0];
    assert_eq!(task.text.as_deref(), Some("Mở đầu:\n- một;\n\n- hai"));
    assert_eq!(task.lead.as_deref(), Some("Sở A"));
    assert_eq!(task.coordinators, None, "an empty cell is unknown");
    assert_eq!(task.timeline.as_deref(), Some("Hàng năm"));
    assert_eq!(task.children[0].number, "(i)");
    assert_eq!(task.children[0].text.as_deref(), Some("Việc con"));
}

#[test]
fn cells_swapped_within_a_row_are_caught() {
    // III.2: lead and coordinators exchanged. Both texts occur elsewhere in the plan.
    let text = mutated(
        "\tSở Công Thương\n\tSở KHCN, các Sở, ngành Tỉnh, UBND huyện, thành phố\n",
        "\tSở KHCN, các Sở, ngành Tỉnh, UBND huyện, thành phố\n\tSở Công Thương\n",
    );
    let found = differences_in(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("III.2 lead: "), "{found:#?}");
    assert!(found[1].starts_with("III.2 coordinators: "), "{found:#?}");
}

#[test]
fn a_cell_that_belongs_to_another_task_is_caught() {
    // I.3's deliverable published under I.1, and I.1's under I.3: every text is still
    // somewhere in the plan, but not in its own cell.
    let text = PUBLISHED
        .replacen("\tHội nghị, hội thảo\n", "\tKHÓA\n", 1)
        .replacen("\tKhóa bồi dưỡng\n", "\tHội nghị, hội thảo\n", 1)
        .replacen("\tKHÓA\n", "\tKhóa bồi dưỡng\n", 1);
    assert_ne!(text, PUBLISHED);
    let found = differences_in(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("I.1 deliverable: "), "{found:#?}");
    assert!(found[1].starts_with("I.3 deliverable: "), "{found:#?}");
}

#[test]
fn a_published_cell_the_transcription_leaves_unknown_is_caught() {
    let text = mutated(
        "thực hiện Chương trình đảm bảo đo lường.\n\t\n",
        "thực hiện Chương trình đảm bảo đo lường.\n\tSở KHCN\n",
    );
    let found = differences_in(&text);
    assert_eq!(
        found,
        ["V.5 lead: transcribed None, published Some(\"Sở KHCN\")"]
    );
}

#[test]
fn a_changed_sub_task_or_section_title_is_caught() {
    let text = mutated("\t(iv) Tiếp tục", "\t(iv) Tạm dừng");
    let found = differences_in(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("II.3 (iv) text: "), "{found:#?}");

    let title = "Hoạt động KH&CN trong tái cơ cấu ngành công nghiệp";
    let text = PUBLISHED.replace(title, "Hoạt động KHCN trong tái cơ cấu ngành công nghiệp");
    let found = differences_in(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("section III title: "), "{found:#?}");
}

#[test]
fn a_row_missing_a_cell_is_refused() {
    let text = mutated("\tNhiệm vụ KHCN\n\t2022 - 2023\n", "\tNhiệm vụ KHCN\n");
    let error = appendix::parse(&text).unwrap_err();
    assert!(error.contains("has 5 cells, not 6"), "{error}");
}

backend_test! {
    /// What the API serves is byte for byte what the transcription holds.
    async fn served_task_text_round_trips_byte_for_byte(app) {
        let source = PlanSource::plan_136().unwrap();
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { signerTitle sections { numeral tasks { text leadText coordinatorsText deliverable timeline { text } children { text } } } } }"#)
            .await;
        assert_eq!(data["plan"]["signerTitle"], json!(source.plan.signer_title));
        let sections = data["plan"]["sections"].as_array().unwrap();
        assert_eq!(sections.len(), source.sections.len());
        for (served, section) in sections.iter().zip(&source.sections) {
            let served_tasks = served["tasks"].as_array().unwrap();
            assert_eq!(served_tasks.len(), section.tasks.len());
            for (served_task, task) in served_tasks.iter().zip(&section.tasks) {
                assert_eq!(served_task["text"].as_str().unwrap().as_bytes(), task.text.as_bytes());
                assert_eq!(served_task["leadText"], json!(task.lead_text));
                assert_eq!(served_task["coordinatorsText"], json!(task.coordinators_text));
                assert_eq!(served_task["deliverable"], json!(task.deliverable));
                assert_eq!(served_task["timeline"]["text"], task.timeline.as_ref().map_or(Value::Null, |t| json!(t)));
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
