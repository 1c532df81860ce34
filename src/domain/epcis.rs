//! GS1 identifiers in EPCIS events: EPC pure-identity URNs and GS1 Digital Link URIs,
//! parsed into GTIN, lot and serial.

use super::validate::gs1_check_digit;

/// What an identifier names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductId {
    /// GTIN-14.
    pub gtin: Option<String>,
    pub lot: Option<String>,
    pub serial: Option<String>,
}

/// The GTIN-14 of an EPC company prefix and item reference (indicator digit first).
fn gtin_from_epc(company_prefix: &str, item_reference: &str) -> Option<String> {
    // Checked before splitting off the indicator: a byte index inside a multi-byte
    // character would panic.
    if !company_prefix
        .bytes()
        .chain(item_reference.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let (indicator, item) = item_reference.split_at(item_reference.len().min(1));
    let body = format!("{indicator}{company_prefix}{item}");
    if body.len() != 13 {
        return None;
    }
    let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    Some(format!("{body}{}", gs1_check_digit(&digits)))
}

fn decode(text: &str) -> String {
    percent_decode(text)
}

fn percent_decode(text: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(high * 16 + low);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `urn:epc:id:sgtin:…`, `urn:epc:class:lgtin:…` and GS1 Digital Link URIs
/// (`https://id.gs1.org/01/…/10/…/21/…`, any host). Other identifiers give nothing.
pub fn parse_product_id(identifier: &str) -> ProductId {
    let identifier = identifier.trim();
    if let Some(rest) = identifier.strip_prefix("urn:epc:id:sgtin:") {
        let parts: Vec<&str> = rest.splitn(3, '.').collect();
        if let [company, item, serial] = parts.as_slice() {
            return ProductId {
                gtin: gtin_from_epc(company, item),
                lot: None,
                serial: Some(decode(serial)),
            };
        }
    }
    if let Some(rest) = identifier.strip_prefix("urn:epc:class:lgtin:") {
        let parts: Vec<&str> = rest.splitn(3, '.').collect();
        if let [company, item, lot] = parts.as_slice() {
            return ProductId {
                gtin: gtin_from_epc(company, item),
                lot: Some(decode(lot)),
                serial: None,
            };
        }
    }
    if let Some(rest) = identifier.strip_prefix("urn:epc:idpat:sgtin:") {
        let parts: Vec<&str> = rest.splitn(3, '.').collect();
        if let [company, item, _] = parts.as_slice() {
            return ProductId {
                gtin: gtin_from_epc(company, item),
                ..ProductId::default()
            };
        }
    }
    if identifier.starts_with("https://") || identifier.starts_with("http://") {
        let path = identifier
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(_, path)| path.split(['?', '#']).next().unwrap_or_default())
            .unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut found = ProductId::default();
        // Digital Link paths alternate AI and value, from the GTIN on.
        let Some(start) = segments.iter().position(|s| *s == "01" || *s == "gtin") else {
            return found;
        };
        for pair in segments[start..].chunks_exact(2) {
            match pair[0] {
                "01" | "gtin" => {
                    let value = pair[1];
                    if value.bytes().all(|b| b.is_ascii_digit())
                        && [8, 12, 13, 14].contains(&value.len())
                    {
                        found.gtin = Some(format!("{value:0>14}"));
                    }
                }
                "10" | "lot" => found.lot = Some(decode(pair[1])),
                "21" | "ser" => found.serial = Some(decode(pair[1])),
                _ => {}
            }
        }
        return found;
    }
    ProductId::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgtin_urns_give_gtin_and_serial() {
        // GS1's example: company prefix 0614141, item reference 107346, serial 2017.
        let id = parse_product_id("urn:epc:id:sgtin:0614141.107346.2017");
        assert_eq!(id.gtin.as_deref(), Some("10614141073464"));
        assert_eq!(id.serial.as_deref(), Some("2017"));
    }

    #[test]
    fn lgtin_urns_give_gtin_and_lot() {
        let id = parse_product_id("urn:epc:class:lgtin:4012345.012345.998877");
        assert_eq!(id.gtin.as_deref(), Some("04012345123456"));
        assert_eq!(id.lot.as_deref(), Some("998877"));
    }

    #[test]
    fn epc_urns_with_non_digit_references_give_no_gtin() {
        // Found by fuzzing: a multi-byte first character in the item reference.
        let id = parse_product_id("urn:epc:id:sgtin:.\u{85}.2017");
        assert_eq!(id.gtin, None);
        assert_eq!(id.serial.as_deref(), Some("2017"));
        let id = parse_product_id("urn:epc:class:lgtin:0614141.é07346.L1");
        assert_eq!(id.gtin, None);
        assert_eq!(id.lot.as_deref(), Some("L1"));
        assert_eq!(
            parse_product_id("urn:epc:idpat:sgtin:061414é.107346.*"),
            ProductId::default()
        );
    }

    #[test]
    fn digital_links_give_the_same() {
        let id = parse_product_id("https://id.gs1.org/01/09520123456788/10/ABC%201/21/12345?x=1");
        assert_eq!(id.gtin.as_deref(), Some("09520123456788"));
        assert_eq!(id.lot.as_deref(), Some("ABC 1"));
        assert_eq!(id.serial.as_deref(), Some("12345"));
        assert_eq!(
            parse_product_id("https://example.org/about"),
            ProductId::default()
        );
        assert_eq!(
            parse_product_id("urn:epc:id:sscc:0614141.1234567890"),
            ProductId::default()
        );
    }
}
