//! OCOP products (Mỗi xã một sản phẩm): rated 3 to 5 stars.

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{CODE, Draft, NAME, OrganisationInput, Refs, organisation};
use super::spec::*;
use crate::db::entities::ocop_products;
use crate::domain::aggregate::{DatePart, Dimension as D, Labels, Metric};
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::RecordKind;
use crate::domain::validate::{Checker, FieldError};
use crate::domain::values::Date;

pub struct OcopProduct;

/// An OCOP product as an agency pushes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub name: String,
    pub producer: Option<OrganisationInput>,
    pub commune: Option<String>,
    pub district: Option<String>,
    pub stars: i32,
    pub certified_on: Option<Date>,
    pub valid_until: Option<Date>,
    pub evaluation_year: Option<i32>,
    pub category: Option<String>,
}

/// What an OCOP product's row holds besides provenance and derived columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub name: String,
    pub commune: Option<String>,
    pub district: Option<String>,
    pub stars: i16,
    pub certified_on: Option<chrono::NaiveDate>,
    pub valid_until: Option<chrono::NaiveDate>,
    pub evaluation_year: Option<i32>,
    pub category: Option<String>,
}

impl Kind for OcopProduct {
    const SPEC: &'static Spec = &SPEC;
    type Entity = ocop_products::Entity;
    type Model = ocop_products::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        _refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let certified_on = input.certified_on.map(|d| d.0);
        let valid_until = input.valid_until.map(|d| d.0);
        check.date_order(("certifiedOn", certified_on), ("validUntil", valid_until));
        let content = Content {
            name: check.text("name", &input.name, NAME),
            commune: check.opt_text("commune", input.commune.as_deref(), NAME),
            district: check.opt_text("district", input.district.as_deref(), NAME),
            stars: check.int_range("stars", i64::from(input.stars), 3, 5) as i16,
            certified_on,
            valid_until,
            evaluation_year: check.opt_year("evaluationYear", input.evaluation_year),
            category: check.opt_text("category", input.category.as_deref(), CODE),
        };
        let organisation = organisation(&mut check, "producer", input.producer.as_ref());
        check.finish(Draft {
            content,
            organisation,
            support_events: None,
        })
    }
}

pub static SPEC: Spec = Spec {
    kind: RecordKind::OcopProduct,
    plural: "OcopProducts",
    table: "ocop_products",
    export_name: "ocop-products",
    doc: "An OCOP-certified product (sản phẩm OCOP).",
    fields: &[
        required("name", "name", ScalarType::Text),
        Field {
            name: "producer",
            doc: Some("The producer (chủ thể): a cooperative, enterprise or household business."),
            value: FieldValue::Relation(Relation::Organisation {
                column: "producer_id",
            }),
        },
        Field {
            doc: Some("The commune as the record was published with it."),
            ..column("commune", "commune", ScalarType::Text)
        },
        Field {
            doc: Some("The district as the record was published with it."),
            ..column("district", "district", ScalarType::Text)
        },
        Field {
            doc: Some("The district's stable code (\"lai-vung\"), matched from the published name."),
            ..column("districtCode", "district_code", ScalarType::Text)
        },
        Field {
            doc: Some("3, 4 or 5."),
            ..required("stars", "stars", ScalarType::Int)
        },
        column("certifiedOn", "certified_on", ScalarType::Date),
        column("validUntil", "valid_until", ScalarType::Date),
        Field {
            doc: Some("The year of the evaluation round (năm đánh giá)."),
            ..column("evaluationYear", "evaluation_year", ScalarType::Int)
        },
        Field {
            doc: Some("Product group (food, drink, herbs, crafts…)."),
            ..column("category", "category", ScalarType::Text)
        },
    ],
    filter_doc: "Conditions on OCOP products; all given fields must hold.",
    filters: &[
        FilterField {
            doc: Some("Matched ignoring case and diacritics with `contains`."),
            ..filter(
                "name",
                "name",
                FieldType::FoldedText {
                    folded: "search_key",
                },
            )
        },
        FilterField {
            doc: Some("A district of Đồng Tháp, however written (\"Lai Vung\", \"huyện Lai Vung\")."),
            ..filter("district", "district_code", FieldType::District)
        },
        filter("commune", "commune", FieldType::Text),
        filter("stars", "stars", FieldType::Int { min: 3, max: 5 }),
        filter("certifiedOn", "certified_on", FieldType::Date),
        filter("validUntil", "valid_until", FieldType::Date),
        filter(
            "evaluationYear",
            "evaluation_year",
            FieldType::Int {
                min: 2000,
                max: 2100,
            },
        ),
        filter("category", "category", FieldType::Text),
    ],
    order_by: &[
        order("name", "name"),
        order("district", "district_code"),
        order("commune", "commune"),
        order("stars", "stars"),
        order("certifiedOn", "certified_on"),
        order("validUntil", "valid_until"),
        order("evaluationYear", "evaluation_year"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("name")],
    input_doc: "An OCOP product as an agency pushes it.",
    inputs: &[
        InputField {
            required: true,
            ..input("name", InputType::Text)
        },
        InputField {
            doc: Some("The producer (chủ thể), matched by tax code or name, created when new."),
            map: Map::Parts(&["name", "taxCode", "kind"]),
            ..input("producer", InputType::Organisation)
        },
        input("commune", InputType::Text),
        InputField {
            doc: Some("As published; a district of Đồng Tháp is also matched to its code."),
            ..input("district", InputType::Text)
        },
        InputField {
            required: true,
            doc: Some("3, 4 or 5."),
            ..input("stars", InputType::Int)
        },
        input("certifiedOn", InputType::Date),
        input("validUntil", InputType::Date),
        input("evaluationYear", InputType::Int),
        input("category", InputType::Text),
    ],
    dimension_doc: "What OCOP products can be grouped by.",
    dimensions: &[
        DimensionField {
            dimension: D::labelled("district", "district_code", Labels::District),
            doc: Some("The district's code; labelled with its name."),
        },
        dimension(D::column("commune", "commune")),
        dimension(D::column("stars", "stars")),
        dimension(D::column("category", "category")),
        dimension(D::column("evaluationYear", "evaluation_year")),
        dimension(D::date("certifiedOnYear", "certified_on", DatePart::Year)),
        dimension(D::date(
            "certifiedOnQuarter",
            "certified_on",
            DatePart::Quarter,
        )),
        dimension(D::date("certifiedOnMonth", "certified_on", DatePart::Month)),
        dimension(D::date("validUntilYear", "valid_until", DatePart::Year)),
        DimensionField {
            dimension: D::labelled("producer", "producer_id", Labels::Organisation),
            doc: Some("The producer; labelled with its name."),
        },
        SOURCE_DIMENSION,
    ],
    metric_doc: "Numeric fields of OCOP products.",
    metrics: &[Metric {
        name: "stars",
        column: "stars",
    }],
    aggregate_doc: "OCOP products grouped by `groupBy` (no dimension: one row for all).",
    aggregate_rank: 0,
    rollup: Some(Rollup {
        table: "ocop_products_rollup",
        columns: &["district_code", "stars", "category", "evaluation_year", "source"],
        sums: &["stars"],
    }),
    export: &[
        "id",
        "name",
        "stars",
        "district",
        "districtCode",
        "commune",
        "category",
        "certifiedOn",
        "validUntil",
        "evaluationYear",
        "producer.name",
        "producer.taxCode",
    ],
    search: Search {
        columns: &["name"],
        title: "name",
    },
    owner: None,
    queries: Queries::SHARED,
};
