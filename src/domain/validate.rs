//! The rules every write passes, whichever path it takes (a mutation, an upsert, a bulk
//! import): text NFC and within its length, dates real and in order, numbers in range,
//! closed vocabularies, Vietnamese tax codes and GS1 GTINs with valid check digits.
//!
//! A `Checker` collects every problem of one input with the path of its field, so a
//! client learns about all of them at once.

use chrono::NaiveDate;

use super::text::to_nfc;

/// Longest name or title accepted.
pub const MAX_NAME_CHARS: usize = 500;
/// Longest free text (summaries, notes) accepted.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest code, number or identifier accepted.
pub const MAX_CODE_CHARS: usize = 200;

/// A problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the field is, e.g. `input.stars` or `records[3].producer.taxCode`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Validates the fields of one input under a path prefix, collecting every error.
#[derive(Debug)]
pub struct Checker {
    prefix: String,
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            errors: Vec::new(),
        }
    }

    /// A checker for a nested input (`producer` under `input` → `input.producer`).
    pub fn nested(&self, field: &str) -> Checker {
        Checker::new(self.path(field))
    }

    pub fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else if field.starts_with('[') {
            format!("{}{field}", self.prefix)
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        let path = self.path(field);
        self.errors.push(FieldError {
            path,
            message: message.into(),
        });
    }

    /// Takes in the errors of a nested checker.
    pub fn absorb(&mut self, other: Checker) {
        self.errors.extend(other.errors);
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }

    /// Required text: NFC, trimmed, not empty, no control characters, at most `max`
    /// characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        match clean_text(value, max) {
            Ok(Some(text)) => text,
            Ok(None) => {
                self.fail(field, "is required and may not be empty");
                String::new()
            }
            Err(message) => {
                self.fail(field, message);
                String::new()
            }
        }
    }

    /// Optional text: as `text`, with empty meaning absent.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        match clean_text(value?, max) {
            Ok(text) => text,
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    pub fn int_range(&mut self, field: &str, value: i64, min: i64, max: i64) -> i64 {
        if !(min..=max).contains(&value) {
            self.fail(
                field,
                format!("must be between {min} and {max}, not {value}"),
            );
        }
        value
    }

    pub fn opt_year(&mut self, field: &str, value: Option<i32>) -> Option<i32> {
        let year = value?;
        self.int_range(field, i64::from(year), 1900, 2100);
        Some(year)
    }

    /// Two dates that must not be out of order (`first` on or before `second`).
    pub fn date_order(
        &mut self,
        (first_field, first): (&str, Option<NaiveDate>),
        (second_field, second): (&str, Option<NaiveDate>),
    ) {
        if let (Some(a), Some(b)) = (first, second)
            && a > b
        {
            let path = self.path(first_field);
            self.fail(
                second_field,
                format!("{b} is before {path} ({a}); the dates are out of order"),
            );
        }
    }

    /// A value from a closed vocabulary, read by `parse`.
    pub fn term<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(value?) {
            Ok(term) => Some(term),
            Err(error) => {
                self.fail(field, error.to_string());
                None
            }
        }
    }

    pub fn opt_tax_code(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        match check_tax_code(value) {
            Ok(code) => Some(code),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    pub fn opt_gtin(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        match check_gtin(value) {
            Ok(gtin) => Some(gtin),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    /// An absolute http(s) link.
    pub fn url(&mut self, field: &str, value: &str) -> String {
        let text = self.text(field, value, 2_000);
        let lower = text.to_ascii_lowercase();
        let has_host = lower
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !text.is_empty()
            && (!(lower.starts_with("https://") || lower.starts_with("http://")) || !has_host)
        {
            self.fail(field, format!("{text:?} is not an http(s) link"));
        }
        text
    }
}

/// NFC-normalises and trims text; `Ok(None)` when nothing is left.
pub fn clean_text(value: &str, max: usize) -> Result<Option<String>, String> {
    if let Some(bad) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(format!(
            "contains the control character U+{:04X}, which text may not hold",
            u32::from(bad)
        ));
    }
    let text = to_nfc(value.trim());
    if text.is_empty() {
        return Ok(None);
    }
    let length = text.chars().count();
    if length > max {
        return Err(format!(
            "is {length} characters long; at most {max} are allowed"
        ));
    }
    Ok(Some(text))
}

/// Weights of the first nine digits of a Vietnamese tax code (mã số thuế).
const TAX_CODE_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// The check digit that completes nine digits into a tax code; `None` when those nine
/// digits cannot start a valid code (the formula gives 10).
pub fn tax_code_check_digit(first_nine: &str) -> Option<u32> {
    if first_nine.len() != 9 || !first_nine.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = TAX_CODE_WEIGHTS
        .iter()
        .zip(first_nine.bytes())
        .map(|(weight, digit)| weight * u32::from(digit - b'0'))
        .sum();
    Some(10 - sum % 11).filter(|check| *check < 10)
}

/// The first valid tax code at or after nine digits (numbers whose check digit would
/// be 10 are never issued, so the next one is taken). For generated and test data.
pub fn next_valid_tax_code(mut first_nine: u64) -> String {
    loop {
        let digits = first_nine.to_string();
        if let Some(check) = tax_code_check_digit(&digits) {
            return format!("{digits}{check}");
        }
        first_nine += 1;
    }
}

/// Checks a Vietnamese tax code and returns it in its canonical form.
///
/// Accepted: an enterprise or organisation code of 10 digits whose tenth is the check
/// digit `10 − (Σ wᵢ·dᵢ mod 11)`; a dependent unit's code, the same 10 digits followed
/// by `-` and a three-digit branch number (also written without the dash); and, since
/// 1 July 2025, a household business's 12-digit personal identification number, whose
/// first three digits are a province code (001–096) and which carries no check digit.
pub fn check_tax_code(value: &str) -> Result<String, String> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let (main, branch) = match compact.split_once('-') {
        Some((main, branch)) => (main.to_owned(), Some(branch.to_owned())),
        // Split by bytes only once they are known to be ASCII digits: a multi-byte
        // character across byte 10 would otherwise split inside it.
        None if compact.len() == 13 && compact.bytes().all(|b| b.is_ascii_digit()) => {
            (compact[..10].to_owned(), Some(compact[10..].to_owned()))
        }
        None => (compact.clone(), None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(&main) || branch.as_deref().is_some_and(|b| !all_digits(b)) {
        return Err(format!(
            "tax code {value:?} may hold only digits and one dash"
        ));
    }
    if main.len() == 12 && branch.is_none() {
        let province: u32 = main[..3].parse().unwrap_or(0);
        if !(1..=96).contains(&province) {
            return Err(format!(
                "tax code {value:?}: a 12-digit code starts with a province code 001–096"
            ));
        }
        return Ok(main);
    }
    if main.len() != 10 {
        return Err(format!(
            "tax code {value:?} must have 10 digits (or 10 digits and a 3-digit branch, or 12 digits)"
        ));
    }
    if let Some(branch) = &branch
        && branch.len() != 3
    {
        return Err(format!(
            "tax code {value:?}: the branch number after the dash has 3 digits"
        ));
    }
    if tax_code_check_digit(&main[..9]) != Some(u32::from(main.as_bytes()[9] - b'0')) {
        return Err(format!("tax code {value:?} has a wrong check digit"));
    }
    Ok(match branch {
        Some(branch) => format!("{main}-{branch}"),
        None => main,
    })
}

/// The GS1 check digit of the digits before it.
pub fn gs1_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Checks a GTIN-8, -12, -13 or -14 and returns it as 14 digits.
pub fn check_gtin(value: &str) -> Result<String, String> {
    let digits: Vec<u8> = value.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    if digits.iter().any(|d| *d > 9) || ![8, 12, 13, 14].contains(&digits.len()) {
        return Err(format!("GTIN {value:?} must be 8, 12, 13 or 14 digits"));
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    if gs1_check_digit(body) != check[0] {
        return Err(format!("GTIN {value:?} has a wrong check digit"));
    }
    Ok(format!("{value:0>14}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_tax_code(first_nine: &str) -> String {
        let digits: Vec<u32> = first_nine.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = TAX_CODE_WEIGHTS
            .iter()
            .zip(&digits)
            .map(|(w, d)| w * d)
            .sum();
        format!("{first_nine}{}", 10 - sum % 11)
    }

    #[test]
    fn tax_codes_need_their_check_digit() {
        // 140000000: sum 31 + 29·4 = 147, 147 mod 11 = 4, check digit 6.
        assert_eq!(valid_tax_code("140000000"), "1400000006");
        assert_eq!(check_tax_code("1400000006"), Ok("1400000006".into()));
        assert!(
            check_tax_code("1400000007")
                .unwrap_err()
                .contains("check digit")
        );
        assert_eq!(
            check_tax_code("1400000006-001"),
            Ok("1400000006-001".into())
        );
        assert_eq!(check_tax_code("1400000006001"), Ok("1400000006-001".into()));
        assert!(check_tax_code("1400000006-01").is_err());
        assert!(check_tax_code("14000A0006").is_err());
        assert!(check_tax_code("123").is_err());
        assert_eq!(check_tax_code("087123456789"), Ok("087123456789".into()));
        assert!(check_tax_code("999123456789").is_err());
    }

    #[test]
    fn a_tax_code_with_a_multibyte_character_is_refused_not_split_inside_it() {
        // 13 bytes, with 'é' across byte 10 (found by schemathesis).
        for value in ["123456789é12", "~è¯ýÖÍä"] {
            let refusal = check_tax_code(value).unwrap_err();
            assert!(refusal.contains("only digits"), "{refusal}");
        }
    }

    #[test]
    fn gtins_need_their_check_digit() {
        // A GS1 example GTIN-13 and its 14-digit form.
        assert_eq!(check_gtin("4012345000009").as_deref(), Ok("04012345000009"));
        assert_eq!(
            check_gtin("09521234543213").as_deref(),
            Ok("09521234543213")
        );
        assert!(
            check_gtin("09521234543214")
                .unwrap_err()
                .contains("check digit")
        );
        assert!(check_gtin("0952123454321").is_err());
        assert!(check_gtin("abc").is_err());
    }

    #[test]
    fn text_is_nfc_trimmed_and_bounded() {
        let decomposed = "Xoa\u{0300}i";
        assert_eq!(clean_text(decomposed, 10), Ok(Some("Xoài".into())));
        assert_eq!(clean_text("   ", 10), Ok(None));
        assert!(clean_text("a\u{0000}b", 10).unwrap_err().contains("U+0000"));
        assert!(clean_text("abcdef", 5).unwrap_err().contains("at most 5"));
        assert_eq!(
            clean_text("dòng 1\ndòng 2", 50),
            Ok(Some("dòng 1\ndòng 2".into()))
        );
    }

    #[test]
    fn a_checker_names_every_bad_field_with_its_path() {
        let mut check = Checker::new("records[2]");
        check.text("name", " ", 10);
        check.int_range("stars", 6, 3, 5);
        check.date_order(
            ("certifiedOn", NaiveDate::from_ymd_opt(2024, 5, 1)),
            ("validUntil", NaiveDate::from_ymd_opt(2023, 5, 1)),
        );
        let mut producer = check.nested("producer");
        producer.opt_tax_code("taxCode", Some("1400000007"));
        check.absorb(producer);
        let errors = check.finish(()).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "records[2].name",
                "records[2].stars",
                "records[2].validUntil",
                "records[2].producer.taxCode"
            ]
        );
        assert!(errors[2].message.contains("out of order"), "{}", errors[2]);
    }

    #[test]
    fn links_must_be_http() {
        let mut check = Checker::new("input");
        assert_eq!(
            check.url("evidence", "https://dost.dongthap.gov.vn/a"),
            "https://dost.dongthap.gov.vn/a"
        );
        check.url("evidence", "javascript:alert(1)");
        check.url("evidence", "https:///nohost");
        assert_eq!(check.finish(()).unwrap_err().len(), 2);
    }
}
