//! Arbitrary bytes as a downloaded CSV file, read the way the `csv` connector reads it.

#![no_main]

use std::io::Cursor;

use khcn_hub::sync::definition::Encoding;
use khcn_hub::sync::kinds::csv::csv_table;
use libfuzzer_sys::fuzz_target;

/// Every encoding setting, and the delimiters registries use, over the same bytes.
const SETTINGS: [(Encoding, char); 5] = [
    (Encoding::Auto, ','),
    (Encoding::Utf8, ','),
    (Encoding::Windows1258, ','),
    (Encoding::Auto, ';'),
    (Encoding::Auto, '\t'),
];

/// The header and the rows up to the first error, as the connector would import them.
fn table(
    data: &[u8],
    encoding: Encoding,
    delimiter: char,
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let (headers, rows) =
        csv_table(Cursor::new(data.to_vec()), encoding, delimiter).map_err(|e| e.to_string())?;
    let mut read = Vec::new();
    for row in rows {
        match row {
            Ok(cells) => read.push(cells),
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok((headers, read))
}

fuzz_target!(|data: &[u8]| {
    let results: Vec<_> = SETTINGS
        .iter()
        .map(|(encoding, delimiter)| table(data, *encoding, *delimiter))
        .collect();
    // Detection must pick UTF-8 for any valid UTF-8 file.
    if std::str::from_utf8(data).is_ok() {
        assert_eq!(
            results[0], results[1],
            "auto-detection disagrees with utf-8"
        );
    }
});
