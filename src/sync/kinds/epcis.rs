//! `epcis`: a GS1 EPCIS 2.0 repository's standard query interface, `GET /events`, paged
//! by `Link: <…>; rel="next"` and read incrementally on `recordTime`. Object,
//! Aggregation, Transformation (and Transaction, Association) events become traceability
//! entries; an event without `eventID` is keyed by a hash of its content.

use reqwest::Url;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Page, RawRow, Source, json_body};
use crate::domain::epcis::parse_product_id;
use crate::sync::SyncError;
use crate::sync::definition::Epcis;
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
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/epcis")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn gs1_examples_become_inputs() {
        let document = fixture("Example_9.6.1-ObjectEvent.jsonld");
        let events = event_list(&document).unwrap();
        let first = to_input(&events[0]).unwrap();
        assert!(first.external_id.starts_with("ni:///sha-256;"));
        assert_eq!(first.input["gtin"], "10614141073464");
        assert_eq!(first.input["serial"], "2017");
        assert_eq!(first.input["bizStep"], "shipping");

        let aggregation = fixture("Example_9.6.3-AggregationEvent.jsonld");
        let event = &event_list(&aggregation).unwrap()[0];
        assert_eq!(
            to_input(event).unwrap().input["eventType"],
            "AggregationEvent"
        );

        let transformation = fixture("Example_9.6.4-TransformationEventWithDigitalLink.jsonld");
        let event = &event_list(&transformation).unwrap()[0];
        let input = to_input(event).unwrap().input;
        assert!(input["gtin"].is_string(), "{input}");
    }

    #[test]
    fn events_without_an_id_get_a_stable_hash() {
        let document = fixture("Example-TransactionEvents-2020_07_03y.jsonld");
        let events = event_list(&document).unwrap();
        let a = to_input(&events[0]).unwrap().external_id;
        let b = to_input(&events[1]).unwrap().external_id;
        assert_ne!(a, b);
        assert_eq!(a, to_input(&events[0]).unwrap().external_id);
        assert!(a.starts_with("ni:///sha-256;"));
    }
}
