//! From a source row to a record input: each mapped field is read from its column or
//! JSON Pointer, parsed the way Vietnamese registries write values, and placed under its
//! input name (nested for `producer.taxCode`, a one-element list for `supportEvents.*`).

use serde_json::{Map, Value};

use super::definition::{FieldSource, LinkRule, Parse};
use crate::domain::ingest;

/// A row's mapped input and its external id, or why it cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub external_id: String,
    pub input: Value,
}

/// The parser a field gets when its definition names none.
pub fn default_parse(field: &str) -> Parse {
    let last = field.rsplit('.').next().unwrap_or(field);
    match last {
        "stars" => Parse::Stars,
        "year" | "foundedYear" | "evaluationYear" | "yearTransferred" => Parse::Year,
        "certifiedOn" | "validUntil" | "filedOn" | "registeredOn" | "startOn" | "endOn"
        | "submittedOn" => Parse::Date,
        "amountVnd" | "budgetVnd" => Parse::Vnd,
        "farmProduct" => Parse::Bool,
        _ => Parse::Text,
    }
}

/// The value at a column name or JSON Pointer.
fn lookup<'a>(row: &'a Value, from: &str) -> Option<&'a Value> {
    if from.starts_with('/') {
        row.pointer(from)
    } else {
        row.get(from)
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn parse_value(text: &str, parse: Parse, field: &str) -> Result<Value, String> {
    let number = |n: Option<i64>| n.map_or(Value::Null, Value::from);
    Ok(match parse {
        Parse::Text => {
            if field == "quantity" {
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    return Ok(Value::Null);
                }
                let value: f64 = trimmed
                    .replace(',', ".")
                    .parse()
                    .map_err(|_| format!("{text:?} is not a number"))?;
                return Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number));
            }
            Some(text.trim())
                .filter(|t| !t.is_empty())
                .map_or(Value::Null, |t| Value::String(t.to_owned()))
        }
        Parse::Int => number(ingest::int(text)?),
        Parse::Stars => number(ingest::stars(text)?),
        Parse::Year => number(ingest::year(text)?),
        Parse::Vnd => number(ingest::vnd(text)?),
        Parse::Date => ingest::date(text)?.map_or(Value::Null, |d| Value::String(d.to_string())),
        Parse::Bool => ingest::boolean(text)?.map_or(Value::Null, Value::Bool),
    })
}

fn place(target: &mut Map<String, Value>, field: &str, value: Value) {
    match field.split_once('.') {
        None => {
            target.insert(field.to_owned(), value);
        }
        Some(("supportEvents", rest)) => {
            let list = target
                .entry("supportEvents")
                .or_insert_with(|| Value::Array(vec![Value::Object(Map::new())]));
            if let Some(Value::Object(first)) = list.as_array_mut().and_then(|l| l.first_mut()) {
                first.insert(rest.to_owned(), value);
            }
        }
        Some((parent, rest)) => {
            let nested = target
                .entry(parent.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(nested) = nested {
                place(nested, rest, value);
            }
        }
    }
}

/// Drops nested objects whose every value is null (an empty producer is no producer),
/// and support events without a year.
fn prune(input: &mut Map<String, Value>) {
    input.retain(|key, value| match value {
        Value::Object(nested) => {
            let keep = nested.values().any(|v| !v.is_null());
            let _ = key;
            keep
        }
        Value::Array(items) => {
            items.retain(|item| item.get("year").is_some_and(|y| !y.is_null()));
            !items.is_empty()
        }
        _ => true,
    });
}

/// Maps one source row.
pub fn map_row(
    row: &Value,
    fields: &std::collections::BTreeMap<String, FieldSource>,
) -> Result<Mapped, String> {
    let mut input = Map::new();
    let mut external_id = None;
    for (field, source) in fields {
        let (text, parse) = match source {
            FieldSource::Column(from) => {
                (lookup(row, from).and_then(as_text), default_parse(field))
            }
            FieldSource::Spec { from, parse } => (lookup(row, from).and_then(as_text), *parse),
            FieldSource::Fixed { value } => (Some(value.clone()), default_parse(field)),
        };
        if field == "externalId" {
            external_id = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
            continue;
        }
        let value = match text {
            Some(text) => parse_value(&text, parse, field).map_err(|e| format!("{field}: {e}"))?,
            None => Value::Null,
        };
        place(&mut input, field, value);
    }
    prune(&mut input);
    let external_id = external_id.ok_or("externalId: the row has no value for it")?;
    Ok(Mapped {
        external_id,
        input: Value::Object(input),
    })
}

/// Whether a link rule applies to a mapped input.
pub fn rule_applies(rule: &LinkRule, input: &Value) -> bool {
    match (&rule.when_field, &rule.equals) {
        (Some(field), Some(expected)) => {
            let value = field
                .split('.')
                .try_fold(input, |value, key| value.get(key))
                .and_then(as_text);
            value.is_some_and(|v| v.trim().eq_ignore_ascii_case(expected.trim()))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn fields(pairs: &[(&str, FieldSource)]) -> BTreeMap<String, FieldSource> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn ocop_rows_become_inputs() {
        let row = json!({"ma_san_pham": "DT-01", "ten_san_pham": "Xoài cát", "chu_the": "HTX Mỹ Xương",
                         "so_sao": "4 sao", "ngay_cong_nhan": "15/03/2023", "nam_danh_gia": 2023});
        let mapping = fields(&[
            ("externalId", FieldSource::Column("ma_san_pham".into())),
            ("name", FieldSource::Column("ten_san_pham".into())),
            ("producer.name", FieldSource::Column("chu_the".into())),
            ("stars", FieldSource::Column("so_sao".into())),
            ("certifiedOn", FieldSource::Column("ngay_cong_nhan".into())),
            ("evaluationYear", FieldSource::Column("nam_danh_gia".into())),
        ]);
        let mapped = map_row(&row, &mapping).unwrap();
        assert_eq!(mapped.external_id, "DT-01");
        assert_eq!(
            mapped.input,
            json!({"name": "Xoài cát", "producer": {"name": "HTX Mỹ Xương"}, "stars": 4,
                   "certifiedOn": "2023-03-15", "evaluationYear": 2023})
        );
    }

    #[test]
    fn bad_values_and_missing_keys_say_which_field() {
        let mapping = fields(&[
            ("externalId", FieldSource::Column("id".into())),
            ("stars", FieldSource::Column("so_sao".into())),
        ]);
        let error = map_row(&json!({"id": "1", "so_sao": "nhiều"}), &mapping).unwrap_err();
        assert!(error.starts_with("stars:"), "{error}");
        let error = map_row(&json!({"so_sao": "4"}), &mapping).unwrap_err();
        assert!(error.starts_with("externalId"), "{error}");
    }

    #[test]
    fn support_events_and_empty_nested_inputs() {
        let mapping = fields(&[
            ("externalId", FieldSource::Column("ma_so_thue".into())),
            (
                "organisation.taxCode",
                FieldSource::Column("ma_so_thue".into()),
            ),
            (
                "supportEvents.year",
                FieldSource::Column("nam_ho_tro".into()),
            ),
            (
                "supportEvents.amountVnd",
                FieldSource::Column("kinh_phi".into()),
            ),
        ]);
        let mapped = map_row(
            &json!({"ma_so_thue": "1400000006", "nam_ho_tro": "2023", "kinh_phi": "1.500.000"}),
            &mapping,
        )
        .unwrap();
        assert_eq!(
            mapped.input["supportEvents"],
            json!([{"year": 2023, "amountVnd": 1_500_000}])
        );
        let mapped = map_row(
            &json!({"ma_so_thue": "1400000006", "nam_ho_tro": ""}),
            &mapping,
        )
        .unwrap();
        assert!(mapped.input.get("supportEvents").is_none());
    }
}
