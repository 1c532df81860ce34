//! S&T tasks (nhiệm vụ KHCN: đề tài, dự án).

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{CODE, Draft, NAME, OrganisationInput, Refs, organisation};
use super::spec::*;
use crate::db::entities::science_tasks;
use crate::domain::aggregate::{DatePart, Dimension as D, Labels, Metric};
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::{RecordKind, ScienceTaskLevel, ScienceTaskStatus};
use crate::domain::validate::{Checker, FieldError};
use crate::domain::values::{BigInt, Date};

pub struct ScienceTask;

/// An S&T task as an agency pushes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub code: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub host: Option<OrganisationInput>,
    pub budget_vnd: Option<BigInt>,
    pub start_on: Option<Date>,
    pub end_on: Option<Date>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub code: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub budget_vnd: Option<i64>,
    pub start_on: Option<chrono::NaiveDate>,
    pub end_on: Option<chrono::NaiveDate>,
    pub status: Option<String>,
}

impl Kind for ScienceTask {
    const SPEC: &'static Spec = &SPEC;
    type Entity = science_tasks::Entity;
    type Model = science_tasks::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        _refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let start_on = input.start_on.map(|d| d.0);
        let end_on = input.end_on.map(|d| d.0);
        check.date_order(("startOn", start_on), ("endOn", end_on));
        let content = Content {
            code: check.opt_text("code", input.code.as_deref(), CODE),
            title: check.text("title", &input.title, NAME),
            level: check
                .term("level", input.level.as_deref(), ScienceTaskLevel::parse)
                .map(|l| l.as_str().to_owned()),
            budget_vnd: input
                .budget_vnd
                .map(|b| check.int_range("budgetVnd", b.0, 0, i64::MAX)),
            start_on,
            end_on,
            status: check
                .term("status", input.status.as_deref(), ScienceTaskStatus::parse)
                .map(|s| s.as_str().to_owned()),
        };
        let organisation = organisation(&mut check, "host", input.host.as_ref());
        check.finish(Draft {
            content,
            organisation,
            support_events: None,
        })
    }
}

const LEVELS: &[&str] = &["NATIONAL", "PROVINCIAL", "GRASSROOTS"];
const STATUSES: &[&str] = &["APPROVED", "IN_PROGRESS", "ACCEPTED", "CANCELLED"];

pub static SPEC: Spec = Spec {
    kind: RecordKind::ScienceTask,
    plural: "ScienceTasks",
    table: "science_tasks",
    export_name: "science-tasks",
    doc: "An S&T task (nhiệm vụ KHCN: đề tài, dự án).",
    fields: &[
        described(
            column("code", "code", ScalarType::Text),
            "The task's registry code.",
        ),
        required("title", "title", ScalarType::Text),
        described(
            column("level", "level", ScalarType::Text),
            "NATIONAL, PROVINCIAL or GRASSROOTS.",
        ),
        Field {
            name: "host",
            doc: Some("The host institution (đơn vị chủ trì)."),
            value: FieldValue::Relation(Relation::Organisation { column: "host_id" }),
        },
        column("budgetVnd", "budget_vnd", ScalarType::BigInt),
        column("startOn", "start_on", ScalarType::Date),
        column("endOn", "end_on", ScalarType::Date),
        described(
            column("status", "status", ScalarType::Text),
            "APPROVED, IN_PROGRESS, ACCEPTED (nghiệm thu) or CANCELLED.",
        ),
    ],
    filter_doc: "Conditions on S&T tasks; all given fields must hold.",
    filters: &[
        filter("code", "code", FieldType::Text),
        filter(
            "title",
            "title",
            FieldType::FoldedText {
                folded: "search_key",
            },
        ),
        filter("level", "level", FieldType::Vocabulary(LEVELS)),
        filter("status", "status", FieldType::Vocabulary(STATUSES)),
        filter("startOn", "start_on", FieldType::Date),
        filter("endOn", "end_on", FieldType::Date),
    ],
    order_by: &[
        order("code", "code"),
        order("title", "title"),
        order("startOn", "start_on"),
        order("endOn", "end_on"),
        order("budgetVnd", "budget_vnd"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("start_on")],
    input_doc: "An S&T task as an agency pushes it.",
    inputs: &[
        input("code", InputType::Text),
        InputField {
            required: true,
            ..input("title", InputType::Text)
        },
        documented(
            input("level", InputType::Text),
            "NATIONAL, PROVINCIAL or GRASSROOTS.",
        ),
        InputField {
            map: Map::Parts(&["name", "taxCode"]),
            ..documented(
                input("host", InputType::Organisation),
                "The host institution, matched by tax code or name, created when new.",
            )
        },
        documented(
            input("budgetVnd", InputType::BigInt),
            "Budget in VND, not negative.",
        ),
        input("startOn", InputType::Date),
        input("endOn", InputType::Date),
        documented(
            input("status", InputType::Text),
            "APPROVED, IN_PROGRESS, ACCEPTED or CANCELLED.",
        ),
    ],
    dimension_doc: "What S&T tasks can be grouped by.",
    dimensions: &[
        dimension(D::column("level", "level")),
        dimension(D::column("status", "status")),
        DimensionField {
            dimension: D::labelled("host", "host_id", Labels::Organisation),
            doc: Some("The host organisation; labelled with its name."),
        },
        dimension(D::date("startOnYear", "start_on", DatePart::Year)),
        dimension(D::date("endOnYear", "end_on", DatePart::Year)),
        SOURCE_DIMENSION,
    ],
    metric_doc: "Numeric fields of S&T tasks.",
    metrics: &[Metric {
        name: "budgetVnd",
        column: "budget_vnd",
    }],
    aggregate_doc: "S&T tasks grouped by `groupBy`.",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "science_tasks_rollup",
        columns: &["level", "status", "source"],
        sums: &["budget_vnd"],
    }),
    export: &[
        "id",
        "code",
        "title",
        "level",
        "host.name",
        "budgetVnd",
        "startOn",
        "endOn",
        "status",
    ],
    search: Search {
        columns: &["code", "title"],
        title: "title",
    },
    owner: None,
    queries: Queries::SHARED,
};
