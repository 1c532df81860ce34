//! Arbitrary JSON as a source row, mapped by the shipped connector definitions and by one
//! that uses every value parser, then checked against their link rules.

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use khcn_hub::sync::definition::{Definition, SourceKind, parse};
use khcn_hub::sync::kinds::epcis::to_input;
use khcn_hub::sync::mapping::{map_row, rule_applies};
use libfuzzer_sys::fuzz_target;

/// Every parser, JSON Pointers, nesting, support events, a fixed value and conditional
/// links.
const EVERY_PARSER: &str = r#"
name = "every-parser"
kind = "http_json"
record_kind = "STARTUP"
schedule = "0 3 * * 1"
url = "http://127.0.0.1/startups"

[http_json]
pagination = { style = "none" }

[fields]
externalId = "/id"
name = { from = "/ten", parse = "text" }
"organisation.name" = "/to_chuc/ten"
"organisation.taxCode" = { from = "/to_chuc/mst", parse = "int" }
sector = { value = "nông nghiệp" }
foundedYear = { from = "/nam", parse = "year" }
district = { from = "/ds/0", parse = "bool" }
"supportEvents.year" = { from = "/ho_tro/ngay", parse = "year" }
"supportEvents.kind" = { from = "/ho_tro/sao", parse = "stars" }
"supportEvents.amountVnd" = { from = "/ho_tro/tien", parse = "vnd" }
"supportEvents.note" = { from = "/ho_tro/ngay", parse = "date" }

[[links]]
task = "V.2"
when_field = "supportEvents.kind"
equals = "4"

[[links]]
task = "V.3"
when_field = "organisation.taxCode"
equals = " 1400000006 "
"#;

/// Quantities are read as numbers on traceability entries only.
const QUANTITIES: &str = r#"
name = "quantities"
kind = "http_json"
record_kind = "TRACEABILITY_ENTRY"
schedule = "*/15 * * * *"
url = "http://127.0.0.1/events"

[http_json]
pagination = { style = "none" }

[fields]
externalId = "eventId"
eventId = "eventId"
quantity = "quantity"
eventTime = "eventTime"
"#;

static DEFINITIONS: LazyLock<Vec<Definition>> = LazyLock::new(|| {
    [
        (
            "ocop-ckan.toml",
            include_str!("../../connectors/ocop-ckan.toml"),
        ),
        (
            "startups-csv.toml",
            include_str!("../../connectors/startups-csv.toml"),
        ),
        (
            "ip-rights-json.toml",
            include_str!("../../connectors/ip-rights-json.toml"),
        ),
        (
            "traceability-epcis.toml",
            include_str!("../../connectors/traceability-epcis.toml"),
        ),
        ("every-parser.toml", EVERY_PARSER),
        ("quantities.toml", QUANTITIES),
    ]
    .into_iter()
    .map(|(file, text)| parse(Path::new(file), text).unwrap_or_else(|e| panic!("{e}")))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(row) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for definition in DEFINITIONS.iter() {
        // As the sync engine maps a row: EPCIS events have their own mapping.
        let mapped = match definition.kind {
            SourceKind::Epcis => to_input(&row),
            _ => map_row(&row, &definition.fields),
        };
        let Ok(mapped) = mapped else { continue };
        assert!(
            !mapped.external_id.trim().is_empty(),
            "a record without a key"
        );
        for rule in &definition.links {
            let _ = rule_applies(rule, &mapped.input);
        }
    }
});
