//! Arbitrary bytes as an EPCIS repository's answer: its event list, then each event as a
//! traceability entry input, as the `epcis` connector reads them.

#![no_main]

use khcn_hub::sync::kinds::epcis::{event_list, to_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Some(events) = event_list(&body) else {
        return;
    };
    for event in events {
        match to_input(event) {
            Ok(mapped) => assert!(!mapped.external_id.is_empty(), "an entry without a key"),
            Err(_) => assert!(!event.is_object(), "an object event was refused"),
        }
    }
});
