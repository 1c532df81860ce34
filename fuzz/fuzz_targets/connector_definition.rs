//! Arbitrary text as a connector definition file, then what the hub asks of a definition
//! it accepted when it starts: whether it runs, and when next.

#![no_main]

use std::path::Path;

use khcn_hub::sync::definition::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(definition) = parse(Path::new("connectors/fuzz.toml"), text) else {
        return;
    };
    let _ = definition.disabled_reason();
    let start = chrono::DateTime::from_timestamp(1_714_564_800, 0).unwrap_or_default();
    let _ = definition.next_run_after(start);
});
