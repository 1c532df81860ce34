//! Traceability entries (truy xuất nguồn gốc), shaped after GS1 EPCIS 2.0 events.

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::Kind;
use super::draft::{CODE, Draft, NAME, Refs};
use super::spec::*;
use crate::db::entities::traceability_entries;
use crate::domain::aggregate::{DatePart, Dimension as D, Metric};
use crate::domain::filter::{FieldType, SortKey};
use crate::domain::records::{RecordKind, cbv_word};
use crate::domain::validate::{Checker, FieldError};
use crate::domain::values::DateTime;

pub struct TraceabilityEntry;

pub const EVENT_TYPES: &[&str] = &[
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
];

/// A traceability event as an agency pushes it (EPCIS 2.0 field names).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub event_id: Option<String>,
    pub event_type: String,
    pub event_time: DateTime,
    pub event_time_zone_offset: Option<String>,
    pub record_time: Option<DateTime>,
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    pub epc: Option<String>,
    pub gtin: Option<String>,
    pub lot: Option<String>,
    pub serial: Option<String>,
    pub quantity: Option<f64>,
    pub uom: Option<String>,
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    pub location_name: Option<String>,
    pub growing_area_code: Option<String>,
    /// The IP right this entry traces (`IpRight:3`).
    pub ip_right: Option<String>,
    /// The OCOP product this entry traces.
    pub ocop_product: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub event_id: String,
    pub event_type: String,
    pub event_time: chrono::DateTime<FixedOffset>,
    pub event_time_zone_offset: Option<String>,
    pub record_time: Option<chrono::DateTime<FixedOffset>>,
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    pub epc: Option<String>,
    pub gtin: Option<String>,
    pub lot: Option<String>,
    pub serial: Option<String>,
    pub quantity: Option<f64>,
    pub uom: Option<String>,
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    pub location_name: Option<String>,
    pub growing_area_code: Option<String>,
    pub ip_right_id: Option<i32>,
    pub ocop_product_id: Option<i32>,
}

impl Kind for TraceabilityEntry {
    const SPEC: &'static Spec = &SPEC;
    type Entity = traceability_entries::Entity;
    type Model = traceability_entries::Model;
    type Input = Input;
    type Content = Content;

    fn draft(
        input: &Input,
        mut check: Checker,
        refs: &Refs,
    ) -> Result<Draft<Content>, Vec<FieldError>> {
        let event_type = event_type(&mut check, &input.event_type);
        let action = action(&mut check, input.action.as_deref());
        if input.quantity.is_some_and(|q| !q.is_finite() || q < 0.0) {
            check.fail("quantity", "must be a finite number, not negative");
        }
        let offset = time_zone_offset(&mut check, input);
        let mut content = Content {
            event_id: String::new(),
            event_type: event_type.unwrap_or_default(),
            event_time: input.event_time.0,
            event_time_zone_offset: offset,
            record_time: input.record_time.map(|t| t.0),
            action,
            biz_step: check
                .opt_text("bizStep", input.biz_step.as_deref(), CODE)
                .map(|s| cbv_word(&s)),
            disposition: check
                .opt_text("disposition", input.disposition.as_deref(), CODE)
                .map(|s| cbv_word(&s)),
            epc: check.opt_text("epc", input.epc.as_deref(), NAME),
            gtin: check.opt_gtin("gtin", input.gtin.as_deref()),
            lot: check.opt_text("lot", input.lot.as_deref(), CODE),
            serial: check.opt_text("serial", input.serial.as_deref(), CODE),
            quantity: input.quantity,
            uom: check.opt_text("uom", input.uom.as_deref(), CODE),
            read_point: check.opt_text("readPoint", input.read_point.as_deref(), NAME),
            biz_location: check.opt_text("bizLocation", input.biz_location.as_deref(), NAME),
            location_name: check.opt_text("locationName", input.location_name.as_deref(), NAME),
            growing_area_code: check.opt_text(
                "growingAreaCode",
                input.growing_area_code.as_deref(),
                CODE,
            ),
            ip_right_id: refs.record(
                &mut check,
                "ipRight",
                input.ip_right.as_deref(),
                RecordKind::IpRight,
            ),
            ocop_product_id: refs.record(
                &mut check,
                "ocopProduct",
                input.ocop_product.as_deref(),
                RecordKind::OcopProduct,
            ),
        };
        content.event_id = match check.opt_text("eventId", input.event_id.as_deref(), NAME) {
            Some(id) => id,
            None => derived_event_id(&content),
        };
        check.finish(Draft::new(content))
    }
}

fn event_type(check: &mut Checker, text: &str) -> Option<String> {
    let found = EVENT_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(text.trim()))
        .map(|t| (*t).to_owned());
    if found.is_none() {
        check.fail(
            "eventType",
            format!(
                "unknown event type {text:?}; expected one of: {}",
                EVENT_TYPES.join(", ")
            ),
        );
    }
    found
}

fn action(check: &mut Checker, text: Option<&str>) -> Option<String> {
    let action = text.map(|a| a.trim().to_ascii_uppercase());
    if let Some(a) = &action
        && !["ADD", "OBSERVE", "DELETE"].contains(&a.as_str())
    {
        check.fail(
            "action",
            format!("unknown action {a:?}; expected ADD, OBSERVE or DELETE"),
        );
    }
    action
}

/// The offset the input names, or that of its event time.
fn time_zone_offset(check: &mut Checker, input: &Input) -> Option<String> {
    match check.opt_text(
        "eventTimeZoneOffset",
        input.event_time_zone_offset.as_deref(),
        6,
    ) {
        Some(offset) => {
            if offset.parse::<FixedOffset>().is_err() {
                check.fail(
                    "eventTimeZoneOffset",
                    format!("{offset:?} is not an offset such as +07:00"),
                );
            }
            Some(offset)
        }
        None => Some(input.event_time.0.offset().to_string()),
    }
}

/// The key of an event that came without an `eventID`: a SHA-256 of its content, in
/// the `ni:` form EPCIS 2.0 uses for event hashes.
fn derived_event_id(content: &Content) -> String {
    use sha2::{Digest, Sha256};
    let canonical = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        content.event_type,
        content.event_time.to_rfc3339(),
        content.action.as_deref().unwrap_or_default(),
        content.biz_step.as_deref().unwrap_or_default(),
        content.disposition.as_deref().unwrap_or_default(),
        content.epc.as_deref().unwrap_or_default(),
        content.gtin.as_deref().unwrap_or_default(),
        content.lot.as_deref().unwrap_or_default(),
        content.serial.as_deref().unwrap_or_default(),
        content.read_point.as_deref().unwrap_or_default(),
    );
    format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

pub static SPEC: Spec = Spec {
    kind: RecordKind::TraceabilityEntry,
    plural: "TraceabilityEntries",
    table: "traceability_entries",
    export_name: "traceability-entries",
    doc: "One traceability event: what happened to which product, when and where.",
    fields: &[
        described(
            required("eventId", "event_id", ScalarType::Text),
            "The EPCIS `eventID`, or a hash derived from the event when it had none.",
        ),
        described(
            required("eventType", "event_type", ScalarType::Text),
            "ObjectEvent, AggregationEvent, TransformationEvent…",
        ),
        required("eventTime", "event_time", ScalarType::DateTime),
        described(
            column(
                "eventTimeZoneOffset",
                "event_time_zone_offset",
                ScalarType::Text,
            ),
            "The offset the event was recorded in (`+07:00`).",
        ),
        column("recordTime", "record_time", ScalarType::DateTime),
        described(
            column("action", "action", ScalarType::Text),
            "ADD, OBSERVE or DELETE.",
        ),
        described(
            column("bizStep", "biz_step", ScalarType::Text),
            "CBV business step, as a bare word (`shipping`).",
        ),
        described(
            column("disposition", "disposition", ScalarType::Text),
            "CBV disposition, as a bare word (`in_transit`).",
        ),
        described(
            column("epc", "epc", ScalarType::Text),
            "The product identifier as received: an EPC URN or a GS1 Digital Link URI.",
        ),
        column("gtin", "gtin", ScalarType::Text),
        column("lot", "lot", ScalarType::Text),
        column("serial", "serial", ScalarType::Text),
        column("quantity", "quantity", ScalarType::Float),
        described(
            column("uom", "uom", ScalarType::Text),
            "Unit of measure (UN/CEFACT code, e.g. KGM).",
        ),
        column("readPoint", "read_point", ScalarType::Text),
        column("bizLocation", "biz_location", ScalarType::Text),
        described(
            column("locationName", "location_name", ScalarType::Text),
            "A readable place name, where the source gave one.",
        ),
        described(
            column("growingAreaCode", "growing_area_code", ScalarType::Text),
            "Growing-area code (mã vùng trồng).",
        ),
        Field {
            name: "traces",
            doc: Some("The IP right or OCOP product this entry traces."),
            value: FieldValue::Relation(Relation::Records(&[
                ("ip_right_id", RecordKind::IpRight),
                ("ocop_product_id", RecordKind::OcopProduct),
            ])),
        },
    ],
    filter_doc: "Conditions on traceability entries; all given fields must hold.",
    filters: &[
        filter("eventId", "event_id", FieldType::Text),
        filter("eventType", "event_type", FieldType::Vocabulary(EVENT_TYPES)),
        filter("eventTime", "event_time", FieldType::DateTime),
        filter("bizStep", "biz_step", FieldType::Text),
        filter("disposition", "disposition", FieldType::Text),
        filter("gtin", "gtin", FieldType::Text),
        filter("lot", "lot", FieldType::Text),
        filter("growingAreaCode", "growing_area_code", FieldType::Text),
    ],
    order_by: &[
        order("eventTime", "event_time"),
        order("recordTime", "record_time"),
        order("gtin", "gtin"),
        order("updatedAt", "updated_at"),
    ],
    default_order: &[SortKey::desc("event_time")],
    input_doc: "A traceability event as an agency pushes it (EPCIS 2.0 field names).",
    inputs: &[
        documented(
            input("eventId", InputType::Text),
            "The EPCIS `eventID`; when absent, a hash of the event's content is used.",
        ),
        InputField {
            required: true,
            ..documented(
                input("eventType", InputType::Text),
                "ObjectEvent, AggregationEvent, TransformationEvent, TransactionEvent or\nAssociationEvent.",
            )
        },
        InputField {
            required: true,
            ..input("eventTime", InputType::DateTime)
        },
        documented(
            input("eventTimeZoneOffset", InputType::Text),
            "Defaults to the offset of `eventTime`.",
        ),
        input("recordTime", InputType::DateTime),
        documented(
            input("action", InputType::Text),
            "ADD, OBSERVE or DELETE.",
        ),
        documented(
            input("bizStep", InputType::Text),
            "CBV business step, bare word or URI.",
        ),
        documented(
            input("disposition", InputType::Text),
            "CBV disposition, bare word or URI.",
        ),
        documented(
            input("epc", InputType::Text),
            "EPC URN or GS1 Digital Link URI.",
        ),
        documented(
            input("gtin", InputType::Text),
            "GTIN-8/12/13/14 with a valid check digit; stored as 14 digits.",
        ),
        input("lot", InputType::Text),
        input("serial", InputType::Text),
        input("quantity", InputType::Float),
        input("uom", InputType::Text),
        input("readPoint", InputType::Text),
        input("bizLocation", InputType::Text),
        input("locationName", InputType::Text),
        input("growingAreaCode", InputType::Text),
        InputField {
            map: Map::No,
            ..documented(
                input("ipRight", InputType::Id),
                "The IP right this entry traces (`IpRight:3`).",
            )
        },
        InputField {
            map: Map::No,
            ..documented(
                input("ocopProduct", InputType::Id),
                "The OCOP product this entry traces (`OcopProduct:42`).",
            )
        },
    ],
    dimension_doc: "What traceability entries can be grouped by.",
    dimensions: &[
        dimension(D::column("eventType", "event_type")),
        dimension(D::column("action", "action")),
        dimension(D::column("bizStep", "biz_step")),
        dimension(D::column("disposition", "disposition")),
        dimension(D::column("gtin", "gtin")),
        dimension(D::column("uom", "uom")),
        dimension(D::column("growingAreaCode", "growing_area_code")),
        dimension(D::column("location", "location_name")),
        DimensionField {
            dimension: D::time("eventTimeYear", "event_time", DatePart::Year),
            doc: Some("Year of the event, in Vietnam's time."),
        },
        dimension(D::time("eventTimeQuarter", "event_time", DatePart::Quarter)),
        dimension(D::time("eventTimeMonth", "event_time", DatePart::Month)),
        SOURCE_DIMENSION,
    ],
    metric_doc: "Numeric fields of traceability entries.",
    metrics: &[Metric {
        name: "quantity",
        column: "quantity",
    }],
    aggregate_doc: "Traceability entries grouped by `groupBy` (event months in Vietnam's time).",
    aggregate_rank: 1,
    rollup: Some(Rollup {
        table: "traceability_entries_rollup",
        columns: &["event_type", "action", "biz_step", "disposition", "uom", "source"],
        sums: &[],
    }),
    export: &[
        "id",
        "eventId",
        "eventType",
        "eventTime",
        "recordTime",
        "action",
        "bizStep",
        "disposition",
        "epc",
        "gtin",
        "lot",
        "serial",
        "quantity",
        "uom",
        "readPoint",
        "bizLocation",
        "locationName",
        "growingAreaCode",
    ],
    search: Search {
        columns: &["gtin", "lot", "location_name"],
        title: "event_id",
    },
    owner: None,
    queries: Queries::SHARED,
};
