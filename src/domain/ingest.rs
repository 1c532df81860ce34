//! Reading values as Vietnamese registries publish them: "4 sao", "15/03/2023",
//! "1.500.000 đ", "Có". Each parser returns `None` for an empty cell and an error that
//! says what it expected otherwise.

use chrono::{Datelike, NaiveDate};

fn clean(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// A whole number, allowing thousands separators ("1.234", "1,234").
pub fn int(text: &str) -> Result<Option<i64>, String> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' '))
        .collect();
    digits
        .parse()
        .map(Some)
        .map_err(|_| format!("{text:?} is not a whole number"))
}

/// A star rating: 4, "4", "4 sao", "4*", "4 SAO".
pub fn stars(text: &str) -> Result<Option<i64>, String> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = text[digits.len()..]
        .trim()
        .trim_start_matches('*')
        .trim()
        .to_lowercase();
    if digits.is_empty() || !(rest.is_empty() || rest == "sao") {
        return Err(format!("{text:?} is not a star rating such as \"4 sao\""));
    }
    digits
        .parse()
        .map(Some)
        .map_err(|_| format!("{text:?} is not a star rating"))
}

/// A date: dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy or ISO yyyy-mm-dd.
pub fn date(text: &str) -> Result<Option<NaiveDate>, String> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Some(date));
    }
    let parts: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
    if let [d, m, y] = parts.as_slice()
        && let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u32>(), m.parse::<u32>(), y.parse::<i32>())
        && y >= 1000
    {
        return NaiveDate::from_ymd_opt(y, m, d)
            .map(Some)
            .ok_or_else(|| format!("{text:?} is not a real date"));
    }
    Err(format!("{text:?} is not a date (dd/mm/yyyy)"))
}

/// A year, or the year of a date.
pub fn year(text: &str) -> Result<Option<i64>, String> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    if let Ok(year) = text.parse::<i64>() {
        return Ok(Some(year));
    }
    date(text).map(|d| d.map(|d| i64::from(d.year())))
}

/// A sum in VND: "1.500.000", "1,500,000 đ", "1500000 VNĐ". Vietnamese writing uses `.`
/// for thousands; decimals do not occur in amounts of đồng.
pub fn vnd(text: &str) -> Result<Option<i64>, String> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let lower = text.to_lowercase();
    let number = lower
        .trim_end_matches("vnđ")
        .trim_end_matches("vnd")
        .trim_end_matches("đồng")
        .trim_end_matches('đ')
        .trim();
    let digits: String = number
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' '))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not an amount in VND"));
    }
    digits
        .parse()
        .map(Some)
        .map_err(|_| format!("{text:?} is too large"))
}

/// Yes or no: true/false, có/không, yes/no, 1/0, x.
pub fn boolean(text: &str) -> Result<Option<bool>, String> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    match text.to_lowercase().as_str() {
        "true" | "có" | "co" | "yes" | "1" | "x" => Ok(Some(true)),
        "false" | "không" | "khong" | "no" | "0" => Ok(Some(false)),
        _ => Err(format!("{text:?} is not yes or no")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_are_read_as_registries_write_them() {
        assert_eq!(stars("4 sao"), Ok(Some(4)));
        assert_eq!(stars("5*"), Ok(Some(5)));
        assert_eq!(stars(" 3 SAO "), Ok(Some(3)));
        assert_eq!(stars(""), Ok(None));
        assert!(stars("bốn sao").is_err());
    }

    #[test]
    fn dates_are_day_first() {
        assert_eq!(date("15/03/2023"), Ok(NaiveDate::from_ymd_opt(2023, 3, 15)));
        assert_eq!(date("5/3/2023"), Ok(NaiveDate::from_ymd_opt(2023, 3, 5)));
        assert_eq!(date("2023-03-15"), Ok(NaiveDate::from_ymd_opt(2023, 3, 15)));
        assert!(date("31/02/2023").unwrap_err().contains("real date"));
        assert!(date("March 2023").is_err());
        assert_eq!(year("15/03/2023"), Ok(Some(2023)));
    }

    #[test]
    fn amounts_use_dots_for_thousands() {
        assert_eq!(vnd("1.500.000"), Ok(Some(1_500_000)));
        assert_eq!(vnd("1,500,000 đ"), Ok(Some(1_500_000)));
        assert_eq!(vnd("200000000 VNĐ"), Ok(Some(200_000_000)));
        assert!(vnd("khoảng 1 tỷ").is_err());
        assert_eq!(boolean("Có"), Ok(Some(true)));
        assert_eq!(int("1.234"), Ok(Some(1234)));
    }
}
