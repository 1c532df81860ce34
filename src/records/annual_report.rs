//! Annual reports (báo cáo định kỳ): every obliged body reports yearly, before
//! 15 December.

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{Draft, Refs, TEXT};
use super::spec::*;
use crate::db::entities::annual_reports;
use crate::domain::aggregate::{DatePart, Dimension as D, Labels};
use crate::domain::filter::{FieldType, Scalar, SortKey};
use crate::domain::records::RecordKind;
use crate::domain::reporting::submitted_on_time;
use crate::domain::validate::{Checker, FieldError};
use crate::domain::values::Date;

pub struct AnnualReport;

/// An annual report as an agency submits it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The reporting agency's code; an agency token may leave it out.
    pub agency: Option<String>,
    pub year: i32,
    pub submitted_on: Option<Date>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub agency_id: i32,
    pub year: i32,
    pub submitted_on: Option<chrono::NaiveDate>,
    pub summary: Option<String>,
}

impl Kind for AnnualReport {
    const SPEC: &'static Spec = &SPEC;
    type Entity = annual_reports::Entity;
    type Model = annual_reports::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let agency_id = match input.agency.as_deref() {
            Some(code) => refs.agency(&mut check, "agency", Some(code)),
            None => refs.caller_agency,
        };
        if agency_id.is_none() && input.agency.is_none() {
            check.fail(
                "agency",
                "is required: name the reporting agency by its code",
            );
        }
        let content = Content {
            agency_id: agency_id.unwrap_or_default(),
            year: check.int_range("year", i64::from(input.year), 2000, 2100) as i32,
            submitted_on: input.submitted_on.map(|d| d.0),
            summary: check.opt_text("summary", input.summary.as_deref(), TEXT),
        };
        check.finish(Draft::new(content))
    }
}

/// Whether a report arrived before 15 December of its year.
fn on_time(values: &[Option<Scalar>]) -> Option<Scalar> {
    let year = match values.first() {
        Some(Some(Scalar::Int(year))) => i32::try_from(*year).ok()?,
        _ => return None,
    };
    let submitted = match values.get(1) {
        Some(Some(Scalar::Date(date))) => Some(*date),
        _ => None,
    };
    Some(Scalar::Bool(submitted_on_time(year, submitted)))
}

pub static SPEC: Spec = Spec {
    kind: RecordKind::AnnualReport,
    plural: "AnnualReports",
    table: "annual_reports",
    export_name: "annual-reports",
    doc: "An agency's yearly report on the plan.",
    fields: &[
        Field {
            name: "agency",
            doc: None,
            value: FieldValue::Relation(Relation::Agency {
                column: "agency_id",
            }),
        },
        described(
            required("year", "year", ScalarType::Int),
            "The year reported on.",
        ),
        column("submittedOn", "submitted_on", ScalarType::Date),
        Field {
            name: "onTime",
            doc: Some("Whether it arrived before 15 December of its year."),
            value: FieldValue::Computed {
                ty: ScalarType::Bool,
                required: true,
                columns: &["year", "submitted_on"],
                compute: on_time,
            },
        },
        column("summary", "summary", ScalarType::Text),
    ],
    filter_doc: "Conditions on annual reports; all given fields must hold.",
    filters: &[
        filter(
            "year",
            "year",
            FieldType::Int {
                min: 2000,
                max: 2100,
            },
        ),
        filter("submittedOn", "submitted_on", FieldType::Date),
    ],
    order_by: &[
        order("year", "year"),
        order("submittedOn", "submitted_on"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("year")],
    input_doc: "An annual report as an agency submits it.",
    inputs: &[
        documented(
            input("agency", InputType::Text),
            "The reporting agency's code; an agency token reports for its own agency and may\nleave this out.",
        ),
        InputField {
            required: true,
            ..documented(input("year", InputType::Int), "The year reported on.")
        },
        documented(
            input("submittedOn", InputType::Date),
            "When it was submitted; `submitAnnualReport` defaults it to today.",
        ),
        input("summary", InputType::Text),
    ],
    dimension_doc: "What annual reports can be grouped by.",
    dimensions: &[
        DimensionField {
            dimension: D::labelled("agency", "agency_id", Labels::Agency),
            doc: Some("The reporting agency's code; labelled with its name."),
        },
        dimension(D::column("year", "year")),
        dimension(D::date("submittedOnYear", "submitted_on", DatePart::Year)),
        dimension(D::date(
            "submittedOnMonth",
            "submitted_on",
            DatePart::Month,
        )),
    ],
    metric_doc: "",
    metrics: &[],
    aggregate_doc: "Annual reports grouped by `groupBy`.",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "annual_reports_rollup",
        columns: &["agency_id", "year", "source"],
        sums: &[],
    }),
    export: &[
        "id",
        "agency.code",
        "agency.name",
        "year",
        "submittedOn",
        "onTime",
        "summary",
    ],
    search: Search {
        columns: &["summary"],
        title: "summary",
    },
    owner: Some(Owner {
        column: "agency_id",
        exclusive: true,
    }),
    queries: Queries {
        list_doc: Some(
            "Annual reports, filtered and paged; `year` is a shortcut for\n`filter: { year: { eq: … } }`.",
        ),
        one_doc: Some("One annual report by id; null when unknown."),
        shortcut: Some("year"),
    },
};
