//! Application models transferred (mô hình ứng dụng, chuyển giao công nghệ).

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{Draft, NAME, OrganisationInput, Refs, organisation};
use super::spec::*;
use crate::db::entities::application_models;
use crate::domain::aggregate::{Dimension as D, Labels};
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::RecordKind;
use crate::domain::validate::{Checker, FieldError};

pub struct ApplicationModel;

/// An application model (a transfer of results into use) as an agency pushes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub title: String,
    pub field: Option<String>,
    pub host: Option<OrganisationInput>,
    pub year_transferred: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub title: String,
    pub field: Option<String>,
    pub year_transferred: Option<i32>,
}

impl Kind for ApplicationModel {
    const SPEC: &'static Spec = &SPEC;
    type Entity = application_models::Entity;
    type Model = application_models::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        _refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let content = Content {
            title: check.text("title", &input.title, NAME),
            field: check.opt_text("field", input.field.as_deref(), NAME),
            year_transferred: check.opt_year("yearTransferred", input.year_transferred),
        };
        let organisation = organisation(&mut check, "host", input.host.as_ref());
        check.finish(Draft {
            content,
            organisation,
            support_events: None,
        })
    }
}

pub static SPEC: Spec = Spec {
    kind: RecordKind::ApplicationModel,
    plural: "ApplicationModels",
    table: "application_models",
    export_name: "application-models",
    doc: "An S&T application model transferred (mô hình ứng dụng, chuyển giao công nghệ).",
    fields: &[
        required("title", "title", ScalarType::Text),
        described(
            column("field", "field", ScalarType::Text),
            "Field (lĩnh vực).",
        ),
        Field {
            name: "host",
            doc: None,
            value: FieldValue::Relation(Relation::Organisation { column: "host_id" }),
        },
        column("yearTransferred", "year_transferred", ScalarType::Int),
    ],
    filter_doc: "Conditions on application models; all given fields must hold.",
    filters: &[
        filter(
            "title",
            "title",
            FieldType::FoldedText {
                folded: "search_key",
            },
        ),
        filter("field", "field", FieldType::Text),
        filter(
            "yearTransferred",
            "year_transferred",
            FieldType::Int {
                min: 1900,
                max: 2100,
            },
        ),
    ],
    order_by: &[
        order("title", "title"),
        order("field", "field"),
        order("yearTransferred", "year_transferred"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("year_transferred")],
    input_doc: "An application model (a transfer of results into use) as an agency pushes it.",
    inputs: &[
        InputField {
            required: true,
            ..input("title", InputType::Text)
        },
        input("field", InputType::Text),
        InputField {
            map: Map::Parts(&["name", "taxCode"]),
            ..input("host", InputType::Organisation)
        },
        input("yearTransferred", InputType::Int),
    ],
    dimension_doc: "What application models can be grouped by.",
    dimensions: &[
        dimension(D::column("field", "field")),
        dimension(D::labelled("host", "host_id", Labels::Organisation)),
        dimension(D::column("yearTransferred", "year_transferred")),
        SOURCE_DIMENSION,
    ],
    metric_doc: "",
    metrics: &[],
    aggregate_doc: "Application models grouped by `groupBy`.",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "application_models_rollup",
        columns: &["field", "year_transferred", "source"],
        sums: &[],
    }),
    export: &["id", "title", "field", "host.name", "yearTransferred"],
    search: Search {
        columns: &["title"],
        title: "title",
    },
    owner: None,
    queries: Queries::SHARED,
};
