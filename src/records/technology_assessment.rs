//! Technology assessments of enterprises (đánh giá trình độ công nghệ).

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{Draft, NAME, OrganisationInput, Refs, organisation};
use super::spec::*;
use crate::db::entities::technology_assessments;
use crate::domain::aggregate::Dimension as D;
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::RecordKind;
use crate::domain::validate::{Checker, FieldError};

pub struct TechnologyAssessment;

/// A technology assessment of an enterprise as an agency pushes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub enterprise: OrganisationInput,
    pub industry: Option<String>,
    pub year: Option<i32>,
    pub level: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub enterprise_name: String,
    pub industry: Option<String>,
    pub year: Option<i32>,
    pub level: Option<String>,
}

impl Kind for TechnologyAssessment {
    const SPEC: &'static Spec = &SPEC;
    type Entity = technology_assessments::Entity;
    type Model = technology_assessments::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        _refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let organisation = organisation(&mut check, "enterprise", Some(&input.enterprise));
        let content = Content {
            enterprise_name: organisation
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            industry: check.opt_text("industry", input.industry.as_deref(), NAME),
            year: check.opt_year("year", input.year),
            level: check.opt_text("level", input.level.as_deref(), NAME),
        };
        check.finish(Draft {
            content,
            organisation,
            support_events: None,
        })
    }
}

pub static SPEC: Spec = Spec {
    kind: RecordKind::TechnologyAssessment,
    plural: "TechnologyAssessments",
    table: "technology_assessments",
    export_name: "technology-assessments",
    doc: "An assessment of an enterprise's technology level (đánh giá trình độ công nghệ).",
    fields: &[
        Field {
            name: "enterprise",
            doc: None,
            value: FieldValue::Relation(Relation::Organisation {
                column: "enterprise_id",
            }),
        },
        described(
            required("enterpriseName", "enterprise_name", ScalarType::Text),
            "The enterprise's name as the assessment gives it.",
        ),
        column("industry", "industry", ScalarType::Text),
        column("year", "year", ScalarType::Int),
        described(
            column("level", "level", ScalarType::Text),
            "The assessed level, as the assessment states it.",
        ),
    ],
    filter_doc: "Conditions on technology assessments; all given fields must hold.",
    filters: &[
        filter(
            "enterpriseName",
            "enterprise_name",
            FieldType::FoldedText {
                folded: "search_key",
            },
        ),
        filter("industry", "industry", FieldType::Text),
        filter(
            "year",
            "year",
            FieldType::Int {
                min: 1900,
                max: 2100,
            },
        ),
        filter("level", "level", FieldType::Text),
    ],
    order_by: &[
        order("enterpriseName", "enterprise_name"),
        order("industry", "industry"),
        order("year", "year"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("year")],
    input_doc: "A technology assessment of an enterprise as an agency pushes it.",
    inputs: &[
        InputField {
            required: true,
            map: Map::Parts(&["name", "taxCode"]),
            ..documented(
                input("enterprise", InputType::Organisation),
                "The enterprise assessed, matched by tax code or name, created when new.",
            )
        },
        input("industry", InputType::Text),
        input("year", InputType::Int),
        documented(input("level", InputType::Text), "The technology level found."),
    ],
    dimension_doc: "What technology assessments can be grouped by.",
    dimensions: &[
        dimension(D::column("industry", "industry")),
        dimension(D::column("level", "level")),
        dimension(D::column("year", "year")),
        SOURCE_DIMENSION,
    ],
    metric_doc: "",
    metrics: &[],
    aggregate_doc: "Technology assessments grouped by `groupBy`.",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "technology_assessments_rollup",
        columns: &["industry", "level", "year", "source"],
        sums: &[],
    }),
    export: &[
        "id",
        "enterpriseName",
        "enterprise.taxCode",
        "industry",
        "year",
        "level",
    ],
    search: Search {
        columns: &["enterprise_name"],
        title: "enterprise_name",
    },
    owner: None,
    queries: Queries::SHARED,
};
