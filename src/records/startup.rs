//! Innovative startups (doanh nghiệp khởi nghiệp đổi mới sáng tạo) and their support.

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{
    Draft, NAME, OrganisationInput, Refs, SupportEventDraft, SupportEventInput, TEXT, organisation,
};
use super::spec::*;
use crate::db::entities::startups;
use crate::domain::aggregate::Dimension as D;
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::RecordKind;
use crate::domain::validate::{Checker, FieldError};

pub struct Startup;

/// A startup as an agency pushes it; `supportEvents`, when given, replaces the list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub name: String,
    pub organisation: Option<OrganisationInput>,
    pub sector: Option<String>,
    pub founded_year: Option<i32>,
    pub district: Option<String>,
    pub support_events: Option<Vec<SupportEventInput>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub name: String,
    pub sector: Option<String>,
    pub founded_year: Option<i32>,
    pub district: Option<String>,
}

fn support_event(check: &mut Checker, refs: &Refs, event: &SupportEventInput) -> SupportEventDraft {
    SupportEventDraft {
        year: check.int_range("year", i64::from(event.year), 1900, 2100) as i32,
        kind: check.text("kind", &event.kind, NAME),
        amount_vnd: event
            .amount_vnd
            .map(|a| check.int_range("amountVnd", a.0, 0, i64::MAX)),
        agency_id: refs.agency(check, "agency", event.agency.as_deref()),
        note: check.opt_text("note", event.note.as_deref(), TEXT),
    }
}

impl Kind for Startup {
    const SPEC: &'static Spec = &SPEC;
    type Entity = startups::Entity;
    type Model = startups::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let content = Content {
            name: check.text("name", &input.name, NAME),
            sector: check.opt_text("sector", input.sector.as_deref(), NAME),
            founded_year: check.opt_year("foundedYear", input.founded_year),
            district: check.opt_text("district", input.district.as_deref(), NAME),
        };
        let organisation = organisation(&mut check, "organisation", input.organisation.as_ref());
        let support_events = input.support_events.as_ref().map(|events| {
            events
                .iter()
                .enumerate()
                .map(|(i, event)| {
                    let mut nested = check.nested(&format!("supportEvents[{i}]"));
                    let draft = support_event(&mut nested, refs, event);
                    check.absorb(nested);
                    draft
                })
                .collect()
        });
        check.finish(Draft {
            content,
            organisation,
            support_events,
        })
    }
}

pub static SPEC: Spec = Spec {
    kind: RecordKind::Startup,
    plural: "Startups",
    table: "startups",
    export_name: "startups",
    doc: "An innovative startup.",
    fields: &[
        required("name", "name", ScalarType::Text),
        Field {
            name: "organisation",
            doc: Some("The company behind it, with its tax code."),
            value: FieldValue::Relation(Relation::Organisation {
                column: "organisation_id",
            }),
        },
        Field {
            doc: Some("Field of activity (lĩnh vực)."),
            ..column("sector", "sector", ScalarType::Text)
        },
        column("foundedYear", "founded_year", ScalarType::Int),
        column("district", "district", ScalarType::Text),
        Field {
            name: "supportEvents",
            doc: Some("Support received, oldest first."),
            value: FieldValue::Relation(Relation::SupportEvents),
        },
    ],
    filter_doc: "Conditions on startups; all given fields must hold.",
    filters: &[
        filter(
            "name",
            "name",
            FieldType::FoldedText {
                folded: "search_key",
            },
        ),
        filter("sector", "sector", FieldType::Text),
        filter(
            "foundedYear",
            "founded_year",
            FieldType::Int {
                min: 1900,
                max: 2100,
            },
        ),
        filter("district", "district", FieldType::Text),
    ],
    order_by: &[
        order("name", "name"),
        order("sector", "sector"),
        order("foundedYear", "founded_year"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("name")],
    input_doc: "A startup as an agency pushes it. `supportEvents`, when given, replaces the list.",
    inputs: &[
        InputField {
            required: true,
            ..input("name", InputType::Text)
        },
        InputField {
            doc: Some("The company, matched by tax code or name, created when new."),
            map: Map::Parts(&["name", "taxCode"]),
            ..input("organisation", InputType::Organisation)
        },
        input("sector", InputType::Text),
        input("foundedYear", InputType::Int),
        input("district", InputType::Text),
        InputField {
            map: Map::Parts(&["year", "kind", "amountVnd", "agency", "note"]),
            ..input("supportEvents", InputType::SupportEvents)
        },
    ],
    dimension_doc: "What startups can be grouped by.",
    dimensions: &[
        dimension(D::column("district", "district")),
        dimension(D::column("sector", "sector")),
        dimension(D::column("foundedYear", "founded_year")),
        SOURCE_DIMENSION,
    ],
    metric_doc: "",
    metrics: &[],
    aggregate_doc: "Startups grouped by `groupBy`.",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "startups_rollup",
        columns: &["district", "sector", "founded_year", "source"],
        sums: &[],
    }),
    export: &[
        "id",
        "name",
        "sector",
        "foundedYear",
        "district",
        "organisation.name",
        "organisation.taxCode",
        "supportEvents.year",
        "supportEvents.kind",
        "supportEvents.amountVnd",
    ],
    search: Search {
        columns: &["name"],
        title: "name",
    },
    owner: None,
    queries: Queries::SHARED,
};
