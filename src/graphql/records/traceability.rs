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
