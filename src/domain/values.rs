//! Values inputs carry: dates, times with their offset, and 64-bit whole numbers, read
//! from text the same way wherever an input comes from (GraphQL or a connector's JSON).

use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD` (ISO 8601 / RFC 3339 full-date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A point in time with its UTC offset, RFC 3339 (`2024-03-01T08:30:00+07:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime(pub chrono::DateTime<chrono::FixedOffset>);

/// A 64-bit integer (amounts in VND exceed GraphQL's 32-bit `Int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BigInt(pub i64);

impl Date {
    pub fn parse(text: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))
    }
}

impl DateTime {
    pub fn parse(text: &str) -> Result<Self, String> {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(DateTime)
            .map_err(|_| format!("{text:?} is not an RFC 3339 date-time"))
    }
}

impl BigInt {
    pub fn parse(text: &str) -> Result<Self, String> {
        text.parse()
            .map(BigInt)
            .map_err(|_| format!("{text:?} is not a whole number"))
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for DateTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for BigInt {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(BigInt(n)),
            Raw::Text(text) => BigInt::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}
