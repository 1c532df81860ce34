//! Industrial property rights: geographical indications, certification and collective
//! marks, trademarks.

use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{CODE, Draft, NAME, Refs};
use super::spec::*;
use crate::db::entities::ip_rights;
use crate::domain::aggregate::{DatePart, Dimension as D, Labels};
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::{IpRightKind, IpRightStatus, RecordKind};
use crate::domain::validate::{Checker, FieldError};
use crate::domain::values::Date;

pub struct IpRight;

/// An IP right as an agency pushes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub name: String,
    pub kind: String,
    pub product: Option<String>,
    #[serde(default)]
    pub farm_product: bool,
    pub jurisdiction: String,
    pub number: Option<String>,
    pub filed_on: Option<Date>,
    pub registered_on: Option<Date>,
    pub status: Option<String>,
    pub holder: Option<String>,
    /// The managing agency's code.
    pub managing_agency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub name: String,
    pub right_kind: String,
    pub product: Option<String>,
    pub farm_product: bool,
    pub jurisdiction: String,
    pub number: Option<String>,
    pub filed_on: Option<chrono::NaiveDate>,
    pub registered_on: Option<chrono::NaiveDate>,
    pub status: Option<String>,
    pub holder: Option<String>,
    pub managing_agency_id: Option<i32>,
}

impl Kind for IpRight {
    const SPEC: &'static Spec = &SPEC;
    type Entity = ip_rights::Entity;
    type Model = ip_rights::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let jurisdiction = input.jurisdiction.trim().to_ascii_uppercase();
        if jurisdiction.len() != 2 || !jurisdiction.bytes().all(|b| b.is_ascii_uppercase()) {
            check.fail(
                "jurisdiction",
                format!(
                    "{:?} is not a two-letter ISO 3166 country code (VN, JP…)",
                    input.jurisdiction
                ),
            );
        }
        let filed_on = input.filed_on.map(|d| d.0);
        let registered_on = input.registered_on.map(|d| d.0);
        check.date_order(("filedOn", filed_on), ("registeredOn", registered_on));
        let content = Content {
            name: check.text("name", &input.name, NAME),
            right_kind: check
                .term("kind", Some(&input.kind), IpRightKind::parse)
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
            product: check.opt_text("product", input.product.as_deref(), NAME),
            farm_product: input.farm_product,
            jurisdiction,
            number: check.opt_text("number", input.number.as_deref(), CODE),
            filed_on,
            registered_on,
            status: check
                .term("status", input.status.as_deref(), IpRightStatus::parse)
                .map(|s| s.as_str().to_owned()),
            holder: check.opt_text("holder", input.holder.as_deref(), NAME),
            managing_agency_id: refs.agency(
                &mut check,
                "managingAgency",
                input.managing_agency.as_deref(),
            ),
        };
        check.finish(Draft::new(content))
    }
}

const KINDS: &[&str] = &[
    "GEOGRAPHICAL_INDICATION",
    "CERTIFICATION_MARK",
    "COLLECTIVE_MARK",
    "TRADEMARK",
];
const STATUSES: &[&str] = &["FILED", "REGISTERED", "REFUSED", "EXPIRED"];

static KIND_ENUM: Vocabulary = Vocabulary {
    type_name: "IpRightKind",
    values: &[
        ("GEOGRAPHICAL_INDICATION", Some("Chỉ dẫn địa lý.")),
        ("CERTIFICATION_MARK", Some("Nhãn hiệu chứng nhận.")),
        ("COLLECTIVE_MARK", Some("Nhãn hiệu tập thể.")),
        ("TRADEMARK", None),
    ],
};

static STATUS_ENUM: Vocabulary = Vocabulary {
    type_name: "IpRightStatus",
    values: &[
        ("FILED", None),
        ("REGISTERED", None),
        ("REFUSED", None),
        ("EXPIRED", None),
    ],
};

pub static SPEC: Spec = Spec {
    kind: RecordKind::IpRight,
    plural: "IpRights",
    table: "ip_rights",
    export_name: "ip-rights",
    doc: "A geographical indication, certification or collective mark, or trademark.",
    fields: &[
        required("name", "name", ScalarType::Text),
        Field {
            name: "kind",
            doc: None,
            value: FieldValue::Enum {
                column: "right_kind",
                vocabulary: &KIND_ENUM,
            },
        },
        Field {
            doc: Some("The product it protects (xoài, sen, quýt hồng, khô…)."),
            ..column("product", "product", ScalarType::Text)
        },
        Field {
            doc: Some(
                "Whether the product is a farm product (counts towards the IP-abroad target).",
            ),
            ..required("farmProduct", "farm_product", ScalarType::Bool)
        },
        Field {
            doc: Some("ISO 3166 code of the country that granted it (VN, JP…)."),
            ..required("jurisdiction", "jurisdiction", ScalarType::Text)
        },
        Field {
            doc: Some("Certificate number (số văn bằng); null when unknown."),
            ..column("number", "number", ScalarType::Text)
        },
        column("filedOn", "filed_on", ScalarType::Date),
        column("registeredOn", "registered_on", ScalarType::Date),
        Field {
            name: "status",
            doc: None,
            value: FieldValue::Enum {
                column: "status",
                vocabulary: &STATUS_ENUM,
            },
        },
        Field {
            doc: Some("The holder of the right."),
            ..column("holder", "holder", ScalarType::Text)
        },
        Field {
            name: "managingAgency",
            doc: Some("The agency that manages it."),
            value: FieldValue::Relation(Relation::Agency {
                column: "managing_agency_id",
            }),
        },
    ],
    filter_doc: "Conditions on IP rights; all given fields must hold.",
    filters: &[
        filter(
            "name",
            "name",
            FieldType::FoldedText {
                folded: "search_key",
            },
        ),
        filter("kind", "right_kind", FieldType::Vocabulary(KINDS)),
        filter("product", "product", FieldType::Text),
        filter("farmProduct", "farm_product", FieldType::Bool),
        filter("jurisdiction", "jurisdiction", FieldType::Text),
        filter("number", "number", FieldType::Text),
        filter("filedOn", "filed_on", FieldType::Date),
        filter("registeredOn", "registered_on", FieldType::Date),
        filter("status", "status", FieldType::Vocabulary(STATUSES)),
    ],
    order_by: &[
        order("name", "name"),
        order("kind", "right_kind"),
        order("jurisdiction", "jurisdiction"),
        order("filedOn", "filed_on"),
        order("registeredOn", "registered_on"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::asc("id")],
    input_doc: "An IP right as an agency pushes it.",
    inputs: &[
        InputField {
            required: true,
            ..input("name", InputType::Text)
        },
        InputField {
            required: true,
            doc: Some("GEOGRAPHICAL_INDICATION, CERTIFICATION_MARK, COLLECTIVE_MARK or TRADEMARK."),
            ..input("kind", InputType::Text)
        },
        input("product", InputType::Text),
        InputField {
            required: true,
            default: Some("false"),
            doc: Some("Whether it protects a farm product (counts towards target 4 when abroad)."),
            ..input("farmProduct", InputType::Bool)
        },
        InputField {
            required: true,
            doc: Some("ISO 3166 two-letter code of the granting country (VN, JP…)."),
            ..input("jurisdiction", InputType::Text)
        },
        InputField {
            doc: Some("Certificate number (số văn bằng)."),
            ..input("number", InputType::Text)
        },
        input("filedOn", InputType::Date),
        input("registeredOn", InputType::Date),
        InputField {
            doc: Some("FILED, REGISTERED, REFUSED or EXPIRED."),
            ..input("status", InputType::Text)
        },
        input("holder", InputType::Text),
        InputField {
            doc: Some("The managing agency's code (`so-khcn`)."),
            ..input("managingAgency", InputType::Text)
        },
    ],
    dimension_doc: "What IP rights can be grouped by.",
    dimensions: &[
        dimension(D::column("kind", "right_kind")),
        dimension(D::column("status", "status")),
        dimension(D::column("jurisdiction", "jurisdiction")),
        dimension(D::column("farmProduct", "farm_product")),
        DimensionField {
            dimension: D::labelled("managingAgency", "managing_agency_id", Labels::Agency),
            doc: Some("The managing agency's code; labelled with its name."),
        },
        dimension(D::date("filedOnYear", "filed_on", DatePart::Year)),
        dimension(D::date("registeredOnYear", "registered_on", DatePart::Year)),
        dimension(D::date(
            "registeredOnQuarter",
            "registered_on",
            DatePart::Quarter,
        )),
        dimension(D::date(
            "registeredOnMonth",
            "registered_on",
            DatePart::Month,
        )),
        SOURCE_DIMENSION,
    ],
    metric_doc: "",
    metrics: &[],
    aggregate_doc: "IP rights grouped by `groupBy`.",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "ip_rights_rollup",
        columns: &["right_kind", "status", "jurisdiction", "farm_product", "managing_agency_id", "source"],
        sums: &[],
    }),
    export: &[
        "id",
        "name",
        "kind",
        "product",
        "farmProduct",
        "jurisdiction",
        "number",
        "filedOn",
        "registeredOn",
        "status",
        "holder",
        "managingAgency.code",
        "managingAgency.name",
    ],
    search: Search {
        columns: &["name", "product"],
        title: "name",
    },
    owner: Some(Owner {
        column: "managing_agency_id",
        exclusive: false,
    }),
    queries: Queries::SHARED,
};
