//! `epcis`: a GS1 EPCIS 2.0 repository's standard query interface, `GET /events`, paged
//! by `Link: <…>; rel="next"` and read incrementally on `recordTime`. Object,
//! Aggregation, Transformation (and Transaction, Association) events become traceability
//! entries; an event without `eventID` is keyed by a hash of its content.

use reqwest::Url;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Page, RawRow, Source, json_body};
use crate::domain::epcis::parse_product_id;
use crate::sync::definition::Epcis;
use crate::sync::error::SyncError;
use crate::sync::http::{Fetcher, next_link};
use crate::sync::mapping::Mapped;

pub struct EpcisSource {
    fetcher: Fetcher,
    base: String,
    options: Epcis,
    watermark: Option<String>,
}

impl EpcisSource {
    pub fn new(fetcher: Fetcher, base: String, options: Epcis, watermark: Option<String>) -> Self {
        Self {
            fetcher,
            base,
            options,
            watermark,
        }
    }

    fn first_url(&self) -> Result<String, SyncError> {
        let endpoint = format!("{}/events", self.base.trim_end_matches('/'));
        let mut url = Url::parse(&endpoint)
            .map_err(|e| SyncError::Config(format!("{endpoint:?} is not a URL: {e}")))?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("perPage", &self.options.per_page.to_string());
            pairs.append_pair("orderBy", "recordTime");
            pairs.append_pair("orderDirection", "ASC");
            if let Some(watermark) = &self.watermark {
                pairs.append_pair("GE_recordTime", watermark);
            }
            if !self.options.event_types.is_empty() {
                pairs.append_pair("eventType", &self.options.event_types.join(","));
            }
        }
        Ok(String::from(url))
    }
}

/// The events of an EPCIS document, query document or bare list.
pub fn event_list(body: &Value) -> Option<&Vec<Value>> {
    body.pointer("/epcisBody/queryResults/resultsBody/eventList")
        .or_else(|| body.pointer("/epcisBody/eventList"))
        .or_else(|| body.get("eventList"))
        .or(Some(body))
        .and_then(Value::as_array)
}

impl Source for EpcisSource {
    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SyncError> {
        let url = match cursor {
            Some(next) => next.to_owned(),
            None => self.first_url()?,
        };
        let fetched = self.fetcher.get(&url).await?;
        let body = json_body(&fetched)?;
        let events = event_list(&body).ok_or_else(|| {
            SyncError::Malformed(format!("{url}: the answer holds no EPCIS event list"))
        })?;
        let watermark = events
            .iter()
            .filter_map(|e| e.get("recordTime").and_then(Value::as_str))
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .max()
            .map(|t| {
                t.to_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            });
        let rows = events
            .iter()
            .enumerate()
            .map(|(i, event)| RawRow {
                position: format!("event {i} of {url}"),
                value: event.clone(),
            })
            .collect();
        Ok(Page {
            rows,
            next: next_link(&fetched.headers, &url),
            watermark,
        })
    }

    fn restartable(&self) -> bool {
        true
    }
}

fn text<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    event.get(key).and_then(Value::as_str)
}

/// The first product an event is about: an EPC, or a quantity element's class.
fn product(event: &Value) -> (Option<String>, Option<f64>, Option<String>) {
    let first_of = |key: &str| {
        event
            .get(key)
            .and_then(Value::as_array)
            .and_then(|l| l.first())
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let quantity_of = |key: &str| {
        event
            .get(key)
            .and_then(Value::as_array)
            .and_then(|l| l.first())
            .map(|q| {
                (
                    q.get("epcClass").and_then(Value::as_str).map(str::to_owned),
                    q.get("quantity").and_then(Value::as_f64),
                    q.get("uom").and_then(Value::as_str).map(str::to_owned),
                )
            })
    };
    let epc = match text(event, "type") {
        Some("AggregationEvent" | "AssociationEvent") => {
            first_of("childEPCs").or_else(|| text(event, "parentID").map(str::to_owned))
        }
        Some("TransformationEvent") => {
            first_of("outputEPCList").or_else(|| first_of("inputEPCList"))
        }
        _ => first_of("epcList").or_else(|| text(event, "parentID").map(str::to_owned)),
    };
    if let Some(epc) = epc {
        return (Some(epc), None, None);
    }
    for key in [
        "quantityList",
        "childQuantityList",
        "outputQuantityList",
        "inputQuantityList",
    ] {
        if let Some((class, quantity, uom)) = quantity_of(key) {
            return (class, quantity, uom);
        }
    }
    (None, None, None)
}

/// The key of an event without `eventID`: SHA-256 of its JSON with keys sorted.
fn content_hash(event: &Value) -> String {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut sorted = Map::new();
                for key in keys {
                    sorted.insert(key.clone(), canonical(&map[key]));
                }
                Value::Object(sorted)
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let digest = Sha256::digest(canonical(event).to_string().as_bytes());
    format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode(digest))
}

/// An EPCIS event as a traceability entry input.
pub fn to_input(event: &Value) -> Result<Mapped, String> {
    if !event.is_object() {
        return Err("an event must be a JSON object".into());
    }
    let event_id = text(event, "eventID")
        .map(str::to_owned)
        .unwrap_or_else(|| content_hash(event));
    let (epc, quantity, uom) = product(event);
    let id = epc.as_deref().map(parse_product_id).unwrap_or_default();
    let input = json!({
        "eventId": event_id,
        "eventType": text(event, "type"),
        "eventTime": text(event, "eventTime"),
        "eventTimeZoneOffset": text(event, "eventTimeZoneOffset"),
        "recordTime": text(event, "recordTime"),
        "action": text(event, "action"),
        "bizStep": text(event, "bizStep"),
        "disposition": text(event, "disposition"),
        "epc": epc,
        "gtin": id.gtin,
        "lot": id.lot,
        "serial": id.serial,
        "quantity": quantity,
        "uom": uom,
        "readPoint": event.pointer("/readPoint/id").and_then(Value::as_str),
        "bizLocation": event.pointer("/bizLocation/id").and_then(Value::as_str),
    });
    Ok(Mapped {
        external_id: event_id,
        input,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::domain::records::cbv_word;

    /// One of the project's own EPCIS documents (`tests/api/data/epcis/`).
    fn fixture(name: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/api/data/epcis")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every event of a document, as the connector maps it.
    fn inputs(name: &str) -> Vec<Mapped> {
        event_list(&fixture(name))
            .unwrap()
            .iter()
            .map(|event| to_input(event).unwrap())
            .collect()
    }

    const HARVEST: &str = "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e01";
    const MANDARIN_SHIPPING: &str = "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e02";

    #[test]
    fn object_events_with_urns_and_digital_links_become_inputs() {
        let events = inputs("object-events.jsonld");
        assert_eq!(events.len(), 3);

        // An SGTIN URN: GTIN and serial. The lot in `ilmd` is master data of the lot,
        // not the identifier the event is about, and is not read.
        assert_eq!(events[0].external_id, HARVEST);
        assert_eq!(
            events[0].input,
            json!({
                "eventId": HARVEST, "eventType": "ObjectEvent",
                "eventTime": "2024-06-12T06:30:00+07:00", "eventTimeZoneOffset": "+07:00",
                "recordTime": null, "action": "ADD",
                "bizStep": "commissioning", "disposition": "active",
                "epc": "urn:epc:id:sgtin:8934567.000001.XCL0001",
                "gtin": "08934567000017", "lot": null, "serial": "XCL0001",
                "quantity": null, "uom": null,
                "readPoint": "urn:epc:id:sgln:8934567.00010.0",
                "bizLocation": "urn:epc:id:sgln:8934567.00010.0"
            })
        );

        // A quantity of a lot, named by a Digital Link URI.
        assert_eq!(events[1].external_id, MANDARIN_SHIPPING);
        let shipping = &events[1].input;
        assert_eq!(
            shipping["epc"],
            "https://id.gs1.org/01/08934567000055/10/QHLV-2401"
        );
        assert_eq!(
            (&shipping["gtin"], &shipping["lot"], &shipping["serial"]),
            (&json!("08934567000055"), &json!("QHLV-2401"), &Value::Null)
        );
        assert_eq!(
            (&shipping["quantity"], &shipping["uom"]),
            (&json!(120.5), &json!("KGM"))
        );

        // A serialised item by Digital Link, at a Digital Link GLN.
        let receiving = &events[2].input;
        assert_eq!(
            (&receiving["gtin"], &receiving["serial"]),
            (&json!("08934567000017"), &json!("XCL0001"))
        );
        assert_eq!(
            receiving["readPoint"],
            "https://id.gs1.org/414/8934567000208"
        );

        // CBV values come as bare words, URNs or GS1 Web URIs; the hub stores the word.
        let words = |field: &str| -> Vec<String> {
            events
                .iter()
                .map(|e| cbv_word(e.input[field].as_str().unwrap()))
                .collect()
        };
        assert_eq!(words("bizStep"), ["commissioning", "shipping", "receiving"]);
        assert_eq!(
            words("disposition"),
            ["active", "in_transit", "in_progress"]
        );
    }

    #[test]
    fn an_aggregation_is_about_its_first_child() {
        let events = inputs("aggregation.jsonld");
        let input = &events[0].input;
        assert_eq!(input["eventType"], "AggregationEvent");
        assert_eq!(input["epc"], "urn:epc:id:sgtin:8934567.000001.XCL0001");
        assert_eq!(
            (&input["gtin"], &input["serial"]),
            (&json!("08934567000017"), &json!("XCL0001"))
        );
        assert_eq!(input["bizStep"], "packing");
    }

    #[test]
    fn a_transformation_is_about_its_output() {
        let events = inputs("transformation.jsonld");
        // Fresh mango in, dried mango out: the first output item.
        let dried = &events[0].input;
        assert_eq!(dried["eventType"], "TransformationEvent");
        assert_eq!(
            dried["epc"],
            "https://id.gs1.org/01/08934567000024/21/XSD0001"
        );
        assert_eq!(
            (&dried["gtin"], &dried["serial"]),
            (&json!("08934567000024"), &json!("XSD0001"))
        );
        // Lotus seeds in, lotus tea out, by quantity only: the output quantity.
        let tea = &events[1].input;
        assert_eq!(
            (&tea["gtin"], &tea["lot"], &tea["quantity"], &tea["uom"]),
            (
                &json!("08934567000048"),
                &json!("TS-2407"),
                &json!(80.0),
                &json!("KGM")
            )
        );
    }

    #[test]
    fn events_without_an_id_get_a_stable_hash() {
        // `@context` last, no eventID, a private bizStep URI.
        let document = fixture("transactions.jsonld");
        let events = event_list(&document).unwrap();
        assert_eq!(events.len(), 2);
        let a = to_input(&events[0]).unwrap();
        let b = to_input(&events[1]).unwrap();
        assert_ne!(a.external_id, b.external_id);
        assert_eq!(a.external_id, to_input(&events[0]).unwrap().external_id);
        for mapped in [&a, &b] {
            assert!(
                mapped.external_id.starts_with("ni:///sha-256;"),
                "{}",
                mapped.external_id
            );
            assert!(mapped.external_id.ends_with("?ver=CBV2.0"));
            assert_eq!(mapped.input["eventId"], mapped.external_id.as_str());
            assert_eq!(mapped.input["eventType"], "TransactionEvent");
        }
        assert_eq!(
            a.input["bizStep"],
            "https://example.org/dong-thap/bizstep/ky-hop-dong"
        );
        assert_eq!(
            (&a.input["gtin"], &a.input["lot"], &a.input["quantity"]),
            (&json!("08934567000055"), &json!("QHLV-2401"), &json!(120.5))
        );
        assert_eq!(b.input["serial"], "XCL0002");

        // Any change to the content is another event.
        let mut changed = events[0].clone();
        changed["quantityList"][0]["quantity"] = json!(121);
        assert_ne!(to_input(&changed).unwrap().external_id, a.external_id);
    }

    #[test]
    fn sensor_readings_leave_the_product_and_place_as_they_are() {
        let events = inputs("sensor-data.jsonld");
        let store = &events[0];
        assert_eq!(
            store.external_id,
            "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e09"
        );
        assert_eq!(
            (
                &store.input["gtin"],
                &store.input["lot"],
                &store.input["quantity"]
            ),
            (
                &json!("08934567000031"),
                &json!("HS-2406-TM"),
                &json!(1200.0)
            )
        );
        assert_eq!(store.input["bizStep"], "storing");
        // The growing area's position comes without an eventID.
        let position = &events[1];
        assert!(position.external_id.starts_with("ni:///sha-256;"));
        assert_eq!(position.input["serial"], "XCL0002");
        assert_eq!(
            position.input["readPoint"],
            "https://id.gs1.org/414/8934567000109"
        );
    }

    #[test]
    fn query_documents_hold_their_events_under_query_results() {
        let document = fixture("query-document.jsonld");
        assert_eq!(document["type"], "EPCISQueryDocument");
        let events = event_list(&document).unwrap();
        assert_eq!(events.len(), 2);
        let sold = to_input(&events[1]).unwrap().input;
        assert_eq!(sold["recordTime"], "2024-07-06T00:46:00Z");
        assert_eq!(
            (&sold["gtin"], &sold["lot"], &sold["serial"]),
            (
                &json!("08934567000048"),
                &json!("TS-2407"),
                &json!("TS0001")
            )
        );
    }

    #[test]
    fn an_error_declaration_keys_on_the_event_it_declares_wrong() {
        let original = inputs("object-events.jsonld").remove(1);
        let events = inputs("error-declaration.jsonld");
        // It repeats the erroneous event, eventID included, so it lands on the same entry.
        assert_eq!(events[0].external_id, MANDARIN_SHIPPING);
        assert_eq!(events[0].input, original.input);
        let corrective = &events[1];
        assert_eq!(
            corrective.external_id,
            "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e12"
        );
        assert_eq!(corrective.input["quantity"], json!(102.5));
    }

    /// GS1's example documents, where they sit beside the clone at `../shared` (they are
    /// not openly licensed, so not part of it): extra conformance checks.
    fn gs1_example(name: &str) -> Option<Value> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/epcis");
        if !dir.is_dir() {
            eprintln!(
                "skipped: GS1 example documents not found at {}",
                dir.display()
            );
            return None;
        }
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        Some(serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn gs1_examples_become_inputs() {
        let Some(document) = gs1_example("Example_9.6.1-ObjectEvent.jsonld") else {
            return;
        };
        let events = event_list(&document).unwrap();
        let first = to_input(&events[0]).unwrap();
        assert!(first.external_id.starts_with("ni:///sha-256;"));
        assert_eq!(first.input["gtin"], "10614141073464");
        assert_eq!(first.input["serial"], "2017");
        assert_eq!(first.input["bizStep"], "shipping");

        let aggregation = gs1_example("Example_9.6.3-AggregationEvent.jsonld").unwrap();
        let event = &event_list(&aggregation).unwrap()[0];
        assert_eq!(
            to_input(event).unwrap().input["eventType"],
            "AggregationEvent"
        );

        let transformation =
            gs1_example("Example_9.6.4-TransformationEventWithDigitalLink.jsonld").unwrap();
        let event = &event_list(&transformation).unwrap()[0];
        let input = to_input(event).unwrap().input;
        assert!(input["gtin"].is_string(), "{input}");

        let query = gs1_example("EPCISQueryDocument.jsonld").unwrap();
        assert_eq!(event_list(&query).unwrap().len(), 2);
    }

    #[test]
    fn gs1_events_without_an_id_get_a_stable_hash() {
        let Some(document) = gs1_example("Example-TransactionEvents-2020_07_03y.jsonld") else {
            return;
        };
        let events = event_list(&document).unwrap();
        let a = to_input(&events[0]).unwrap().external_id;
        let b = to_input(&events[1]).unwrap().external_id;
        assert_ne!(a, b);
        assert_eq!(a, to_input(&events[0]).unwrap().external_id);
        assert!(a.starts_with("ni:///sha-256;"));
    }
}
