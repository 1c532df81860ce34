//! Arbitrary text as an EPC URN or GS1 Digital Link URI.

#![no_main]

use khcn_hub::domain::epcis::parse_product_id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let id = parse_product_id(text);
    if let Some(gtin) = id.gtin {
        assert!(
            gtin.len() == 14 && gtin.bytes().all(|b| b.is_ascii_digit()),
            "{gtin:?} is not a GTIN-14"
        );
    }
});
