//! Traceability entries (truy xuất nguồn gốc), shaped after GS1 EPCIS 2.0 events.

use async_graphql::{Context, Enum};

use super::{LinkedRecord, load_records, record_object, record_queries};
use crate::db::entities::traceability_entries;
use crate::domain::records::{RecordKind, RecordRef};
use crate::graphql::list::{DateTimeFilter, SortField, StringFilter, filter_input};
use crate::graphql::scalars::DateTime;
use crate::store::records::SortKey;

const EVENT_TYPES: &[&str] = &[
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
];

record_object! {
    /// One traceability event: what happened to which product, when and where.
    TraceabilityEntry(traceability_entries::Model), RecordKind::TraceabilityEntry, {
        /// The EPCIS `eventID`, or a hash derived from the event when it had none.
        async fn event_id(&self) -> &str {
            &self.0.event_id
        }

        /// ObjectEvent, AggregationEvent, TransformationEvent…
        async fn event_type(&self) -> &str {
            &self.0.event_type
        }

        async fn event_time(&self) -> DateTime {
            DateTime(self.0.event_time)
        }

        /// The offset the event was recorded in (`+07:00`).
        async fn event_time_zone_offset(&self) -> Option<&str> {
            self.0.event_time_zone_offset.as_deref()
        }

        async fn record_time(&self) -> Option<DateTime> {
            self.0.record_time.map(DateTime)
        }

        /// ADD, OBSERVE or DELETE.
        async fn action(&self) -> Option<&str> {
            self.0.action.as_deref()
        }

        /// CBV business step, as a bare word (`shipping`).
        async fn biz_step(&self) -> Option<&str> {
            self.0.biz_step.as_deref()
        }

        /// CBV disposition, as a bare word (`in_transit`).
        async fn disposition(&self) -> Option<&str> {
            self.0.disposition.as_deref()
        }

        /// The product identifier as received: an EPC URN or a GS1 Digital Link URI.
        async fn epc(&self) -> Option<&str> {
            self.0.epc.as_deref()
        }

        async fn gtin(&self) -> Option<&str> {
            self.0.gtin.as_deref()
        }

        async fn lot(&self) -> Option<&str> {
            self.0.lot.as_deref()
        }

        async fn serial(&self) -> Option<&str> {
            self.0.serial.as_deref()
        }

        async fn quantity(&self) -> Option<f64> {
            self.0.quantity
        }

        /// Unit of measure (UN/CEFACT code, e.g. KGM).
        async fn uom(&self) -> Option<&str> {
            self.0.uom.as_deref()
        }

        async fn read_point(&self) -> Option<&str> {
            self.0.read_point.as_deref()
        }

        async fn biz_location(&self) -> Option<&str> {
            self.0.biz_location.as_deref()
        }

        /// A readable place name, where the source gave one.
        async fn location_name(&self) -> Option<&str> {
            self.0.location_name.as_deref()
        }

        /// Growing-area code (mã vùng trồng).
        async fn growing_area_code(&self) -> Option<&str> {
            self.0.growing_area_code.as_deref()
        }

        /// The IP right or OCOP product this entry traces.
        async fn traces(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LinkedRecord>> {
            let refs = [
                self.0.ip_right_id.map(|id| RecordRef { kind: RecordKind::IpRight, id }),
                self.0.ocop_product_id.map(|id| RecordRef { kind: RecordKind::OcopProduct, id }),
            ];
            load_records(ctx, refs.into_iter().flatten()).await
        }
    }
}

filter_input! {
    /// Conditions on traceability entries; all given fields must hold.
    TraceabilityEntryFilter, "TRACEABILITY_ENTRY" {
        event_id: StringFilter => ("eventId", "event_id", FieldType::Text),
        event_type: StringFilter => ("eventType", "event_type", FieldType::Vocabulary(EVENT_TYPES)),
        event_time: DateTimeFilter => ("eventTime", "event_time", FieldType::DateTime),
        biz_step: StringFilter => ("bizStep", "biz_step", FieldType::Text),
        disposition: StringFilter => ("disposition", "disposition", FieldType::Text),
        gtin: StringFilter => ("gtin", "gtin", FieldType::Text),
        lot: StringFilter => ("lot", "lot", FieldType::Text),
        growing_area_code: StringFilter => ("growingAreaCode", "growing_area_code", FieldType::Text),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TraceabilityEntryOrderField {
    EventTime,
    RecordTime,
    Gtin,
    UpdatedAt,
}

impl SortField for TraceabilityEntryOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::EventTime => "event_time",
            Self::RecordTime => "record_time",
            Self::Gtin => "gtin",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    TraceabilityQuery,
    traceability_entries,
    traceability_entry,
    TraceabilityEntry,
    traceability_entries::Entity,
    RecordKind::TraceabilityEntry,
    TraceabilityEntryFilter,
    TraceabilityEntryOrderField,
    [SortKey {
        column: "event_time",
        descending: true
    }]
);

/// A traceability event as an agency pushes it (EPCIS 2.0 field names).
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceabilityEntryInput {
    /// The EPCIS `eventID`; when absent, a hash of the event's content is used.
    pub event_id: Option<String>,
    /// ObjectEvent, AggregationEvent, TransformationEvent, TransactionEvent or
    /// AssociationEvent.
    pub event_type: String,
    pub event_time: DateTime,
    /// Defaults to the offset of `eventTime`.
    pub event_time_zone_offset: Option<String>,
    pub record_time: Option<DateTime>,
    /// ADD, OBSERVE or DELETE.
    pub action: Option<String>,
    /// CBV business step, bare word or URI.
    pub biz_step: Option<String>,
    /// CBV disposition, bare word or URI.
    pub disposition: Option<String>,
    /// EPC URN or GS1 Digital Link URI.
    pub epc: Option<String>,
    /// GTIN-8/12/13/14 with a valid check digit; stored as 14 digits.
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
    pub ip_right: Option<async_graphql::ID>,
    /// The OCOP product this entry traces (`OcopProduct:42`).
    pub ocop_product: Option<async_graphql::ID>,
}

impl TraceabilityEntryInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<traceability_entries::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::domain::records::cbv_word;
        use crate::graphql::mutations::{CODE, NAME, content};
        let event_type = EVENT_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(self.event_type.trim()))
            .map(|t| (*t).to_owned());
        if event_type.is_none() {
            check.fail(
                "eventType",
                format!(
                    "unknown event type {:?}; expected one of: {}",
                    self.event_type,
                    EVENT_TYPES.join(", ")
                ),
            );
        }
        let action = self
            .action
            .as_deref()
            .map(|a| a.trim().to_ascii_uppercase());
        if let Some(a) = &action
            && !["ADD", "OBSERVE", "DELETE"].contains(&a.as_str())
        {
            check.fail(
                "action",
                format!("unknown action {a:?}; expected ADD, OBSERVE or DELETE"),
            );
        }
        if self.quantity.is_some_and(|q| !q.is_finite() || q < 0.0) {
            check.fail("quantity", "must be a finite number, not negative");
        }
        let offset = match check.opt_text(
            "eventTimeZoneOffset",
            self.event_time_zone_offset.as_deref(),
            6,
        ) {
            Some(offset) => {
                if offset.parse::<chrono::FixedOffset>().is_err() {
                    check.fail(
                        "eventTimeZoneOffset",
                        format!("{offset:?} is not an offset such as +07:00"),
                    );
                }
                Some(offset)
            }
            None => Some(self.event_time.0.offset().to_string()),
        };
        let model = content!(traceability_entries {
            event_id: String::new(),
            event_type: event_type.unwrap_or_default(),
            event_time: self.event_time.0,
            event_time_zone_offset: offset,
            record_time: self.record_time.map(|t| t.0),
            action,
            biz_step: check
                .opt_text("bizStep", self.biz_step.as_deref(), CODE)
                .map(|s| cbv_word(&s)),
            disposition: check
                .opt_text("disposition", self.disposition.as_deref(), CODE)
                .map(|s| cbv_word(&s)),
            epc: check.opt_text("epc", self.epc.as_deref(), NAME),
            gtin: check.opt_gtin("gtin", self.gtin.as_deref()),
            lot: check.opt_text("lot", self.lot.as_deref(), CODE),
            serial: check.opt_text("serial", self.serial.as_deref(), CODE),
            quantity: self.quantity,
            uom: check.opt_text("uom", self.uom.as_deref(), CODE),
            read_point: check.opt_text("readPoint", self.read_point.as_deref(), NAME),
            biz_location: check.opt_text("bizLocation", self.biz_location.as_deref(), NAME),
            location_name: check.opt_text("locationName", self.location_name.as_deref(), NAME),
            growing_area_code: check.opt_text(
                "growingAreaCode",
                self.growing_area_code.as_deref(),
                CODE
            ),
            ip_right_id: refs.record(
                &mut check,
                "ipRight",
                self.ip_right.as_ref(),
                RecordKind::IpRight
            ),
            ocop_product_id: refs.record(
                &mut check,
                "ocopProduct",
                self.ocop_product.as_ref(),
                RecordKind::OcopProduct
            ),
        });
        let event_id = match check.opt_text("eventId", self.event_id.as_deref(), NAME) {
            Some(id) => id,
            None => derived_event_id(&model),
        };
        check.finish(crate::store::writes::Draft::new(
            traceability_entries::Model { event_id, ..model },
        ))
    }
}

/// The key of an event that came without an `eventID`: a SHA-256 of its content, in
/// the `ni:` form EPCIS 2.0 uses for event hashes.
fn derived_event_id(model: &traceability_entries::Model) -> String {
    use sha2::{Digest, Sha256};
    let canonical = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        model.event_type,
        model.event_time.to_rfc3339(),
        model.action.as_deref().unwrap_or_default(),
        model.biz_step.as_deref().unwrap_or_default(),
        model.disposition.as_deref().unwrap_or_default(),
        model.epc.as_deref().unwrap_or_default(),
        model.gtin.as_deref().unwrap_or_default(),
        model.lot.as_deref().unwrap_or_default(),
        model.serial.as_deref().unwrap_or_default(),
        model.read_point.as_deref().unwrap_or_default(),
    );
    format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

crate::graphql::mutations::record_mutations!(
    TraceabilityEntryMutation,
    TraceabilityEntry,
    traceability_entries::Model,
    TraceabilityEntryInput,
    TraceabilityEntryUpsertResult,
    create_traceability_entry,
    update_traceability_entry,
    archive_traceability_entry,
    upsert_traceability_entry,
    import_traceability_entries
);
