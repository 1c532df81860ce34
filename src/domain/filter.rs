//! One filter vocabulary for every list: `eq ne in gt gte lt lte contains isNull`,
//! combined with `and`, `or` and `not`. Filters are checked here, against each field's
//! type and domain, so a bad one is refused with the path of the offending field before
//! any SQL is built.

use chrono::{DateTime, FixedOffset, NaiveDate};
use thiserror::Error;

use super::places::find_district;
use super::text::{search_key, to_nfc};

/// A value a filter compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

impl Scalar {
    fn describe(&self) -> String {
        match self {
            Scalar::Text(t) => format!("{t:?}"),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Date(d) => d.to_string(),
            Scalar::DateTime(d) => d.to_rfc3339(),
        }
    }

    fn partial_cmp(&self, other: &Scalar) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Scalar::Text(a), Scalar::Text(b)) => a.partial_cmp(b),
            (Scalar::Int(a), Scalar::Int(b)) => a.partial_cmp(b),
            (Scalar::Float(a), Scalar::Float(b)) => a.partial_cmp(b),
            (Scalar::Date(a), Scalar::Date(b)) => a.partial_cmp(b),
            (Scalar::DateTime(a), Scalar::DateTime(b)) => a.partial_cmp(b),
            _ => None,
        }
    }
}

/// How a field is stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text compared as stored (NFC); `contains` is a substring match.
    Text,
    /// Text with a folded shadow column (`folded`): `contains` ignores case and
    /// diacritics.
    FoldedText {
        folded: &'static str,
    },
    /// An integer within `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    Float,
    Bool,
    Date,
    DateTime,
    /// One of a closed set of words.
    Vocabulary(&'static [&'static str]),
    /// A district of Đồng Tháp, matched however it is written; stored as its code.
    District,
}

/// A filterable (and perhaps sortable) field of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The API name, as clients write it (`certifiedOn`).
    pub name: &'static str,
    /// The SQL column.
    pub column: &'static str,
    pub ty: FieldType,
}

/// One sort key: a column and its direction. Nulls always sort last, on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub column: &'static str,
    pub descending: bool,
}

impl SortKey {
    pub const fn asc(column: &'static str) -> Self {
        Self {
            column,
            descending: false,
        }
    }

    pub const fn desc(column: &'static str) -> Self {
        Self {
            column,
            descending: true,
        }
    }
}

/// A field's conditions as the client wrote them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldConditions {
    pub eq: Option<Scalar>,
    pub ne: Option<Scalar>,
    pub in_list: Option<Vec<Scalar>>,
    pub gt: Option<Scalar>,
    pub gte: Option<Scalar>,
    pub lt: Option<Scalar>,
    pub lte: Option<Scalar>,
    pub contains: Option<String>,
    pub is_null: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    /// Substring match (on the folded column for folded text).
    Contains,
    IsNull,
    IsNotNull,
}

/// A checked filter, ready to become SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        column: &'static str,
        op: Op,
        values: Vec<Scalar>,
    },
    /// `column` is (or, negated, is not) among the ids a lookup finds.
    Lookup {
        column: &'static str,
        lookup: Lookup,
        negate: bool,
    },
}

/// Look-ups across tables that filters can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Records of `kind` linked to the plan tasks with these codes.
    LinkedToTasks {
        kind: &'static str,
        task_codes: Vec<String>,
    },
    /// Tasks of the sections with these numerals.
    Sections(Vec<String>),
    /// Tasks led by these agencies (code, name or alias).
    LeadAgencies(Vec<String>),
    /// Tasks coordinated by these agencies or groups (code, name or alias).
    Coordinators(Vec<String>),
    /// Tasks linked to records of these kinds.
    LinkedKinds(Vec<String>),
}

/// A look-up filter from `eq`/`in` (or `ne` for its negation); other operators do not
/// apply to look-ups and are refused.
pub fn lookup_filter(
    column: &'static str,
    path: &str,
    conditions: FieldConditions,
    check: impl Fn(&str, &str) -> Result<String, FilterError>,
    lookup: impl Fn(Vec<String>) -> Lookup,
) -> Result<Filter, FilterError> {
    let text = |at: String, value: Scalar| match value {
        Scalar::Text(t) => check(&at, &t),
        other => Err(refuse(at, format!("{} is not text", other.describe()))),
    };
    let unsupported = [
        ("gt", conditions.gt.is_some()),
        ("gte", conditions.gte.is_some()),
        ("lt", conditions.lt.is_some()),
        ("lte", conditions.lte.is_some()),
        ("contains", conditions.contains.is_some()),
        ("isNull", conditions.is_null.is_some()),
    ];
    if let Some((name, _)) = unsupported.iter().find(|(_, used)| *used) {
        return Err(refuse(
            format!("{path}.{name}"),
            "this filter takes eq, ne or in",
        ));
    }
    let mut parts = Vec::new();
    if let Some(value) = conditions.eq {
        let value = text(format!("{path}.eq"), value)?;
        parts.push(Filter::Lookup {
            column,
            lookup: lookup(vec![value]),
            negate: false,
        });
    }
    if let Some(values) = conditions.in_list {
        let values = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| text(format!("{path}.in[{i}]"), v))
            .collect::<Result<Vec<_>, _>>()?;
        parts.push(Filter::Lookup {
            column,
            lookup: lookup(values),
            negate: false,
        });
    }
    if let Some(value) = conditions.ne {
        let value = text(format!("{path}.ne"), value)?;
        parts.push(Filter::Lookup {
            column,
            lookup: lookup(vec![value]),
            negate: true,
        });
    }
    Ok(Filter::All(parts))
}

/// Accepts any text as given (NFC).
pub fn any_text(_at: &str, text: &str) -> Result<String, FilterError> {
    Ok(to_nfc(text.trim()))
}

impl Filter {
    pub fn all(filters: Vec<Filter>) -> Filter {
        Filter::All(filters)
    }

    pub fn compare(column: &'static str, op: Op, value: Scalar) -> Filter {
        Filter::Compare {
            column,
            op,
            values: vec![value],
        }
    }
}

/// A refused filter: where, and why.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct FilterError {
    /// The path of the offending field, e.g. `filter.stars.eq`.
    pub path: String,
    pub message: String,
}

fn refuse(path: String, message: impl Into<String>) -> FilterError {
    FilterError {
        path,
        message: message.into(),
    }
}

/// Checks one field's conditions and turns them into a filter (all conditions must hold).
pub fn field_filter(
    field: &FieldDef,
    path: &str,
    conditions: FieldConditions,
) -> Result<Filter, FilterError> {
    let single = [
        ("eq", Op::Eq, conditions.eq),
        ("ne", Op::Ne, conditions.ne),
        ("gt", Op::Gt, conditions.gt),
        ("gte", Op::Gte, conditions.gte),
        ("lt", Op::Lt, conditions.lt),
        ("lte", Op::Lte, conditions.lte),
    ];
    let mut parts = comparisons(field, path, single)?;
    if let Some(values) = conditions.in_list {
        parts.push(in_list(field, path, values)?);
    }
    if let Some(needle) = conditions.contains {
        parts.push(contains(field, path, &needle)?);
    }
    if let Some(is_null) = conditions.is_null {
        let op = if is_null { Op::IsNull } else { Op::IsNotNull };
        parts.push(Filter::Compare {
            column: field.column,
            op,
            values: vec![],
        });
    }
    Ok(Filter::All(parts))
}

/// The single-value conditions (eq, ne, gt, gte, lt, lte), refusing an order on a
/// field that has none and a range nothing can fall in.
fn comparisons(
    field: &FieldDef,
    path: &str,
    single: [(&'static str, Op, Option<Scalar>); 6],
) -> Result<Vec<Filter>, FilterError> {
    let mut parts = Vec::new();
    let mut lower: Option<(&str, Scalar)> = None;
    let mut upper: Option<(&str, Scalar)> = None;
    for (name, op, value) in single {
        let Some(value) = value else { continue };
        let at = format!("{path}.{name}");
        if matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte)
            && matches!(
                field.ty,
                FieldType::Bool | FieldType::Vocabulary(_) | FieldType::District
            )
        {
            return Err(refuse(
                at,
                format!("`{}` cannot be ordered; use eq, ne or in", field.name),
            ));
        }
        let value = check_value(field, &at, value)?;
        match op {
            Op::Gt | Op::Gte => lower = Some((name, value.clone())),
            Op::Lt | Op::Lte => upper = Some((name, value.clone())),
            _ => {}
        }
        parts.push(Filter::compare(field.column, op, value));
    }
    if let (Some(lower), Some(upper)) = (&lower, &upper) {
        check_range(path, lower, upper)?;
    }
    Ok(parts)
}

/// Refuses a lower and upper bound between which no value lies.
fn check_range(
    path: &str,
    (lower_op, low): &(&str, Scalar),
    (upper_op, high): &(&str, Scalar),
) -> Result<(), FilterError> {
    let empty = match low.partial_cmp(high) {
        Some(std::cmp::Ordering::Greater) => true,
        Some(std::cmp::Ordering::Equal) => *lower_op == "gt" || *upper_op == "lt",
        _ => false,
    };
    if empty {
        return Err(refuse(
            path.to_owned(),
            format!(
                "the range is empty: {lower_op} {} is not below {upper_op} {}",
                low.describe(),
                high.describe()
            ),
        ));
    }
    Ok(())
}

/// `in`: at most 1000 values, each checked.
fn in_list(field: &FieldDef, path: &str, values: Vec<Scalar>) -> Result<Filter, FilterError> {
    let at = format!("{path}.in");
    if values.len() > 1_000 {
        return Err(refuse(at, "at most 1000 values"));
    }
    let values = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| check_value(field, &format!("{at}[{i}]"), v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Filter::Compare {
        column: field.column,
        op: Op::In,
        values,
    })
}

/// `contains`, on text only; folded text is searched in its folded column.
fn contains(field: &FieldDef, path: &str, needle: &str) -> Result<Filter, FilterError> {
    match field.ty {
        FieldType::Text | FieldType::District => Ok(Filter::compare(
            field.column,
            Op::Contains,
            Scalar::Text(to_nfc(needle)),
        )),
        FieldType::FoldedText { folded } => Ok(Filter::compare(
            folded,
            Op::Contains,
            Scalar::Text(search_key(needle)),
        )),
        _ => Err(refuse(
            format!("{path}.contains"),
            format!("`{}` is not text; contains applies to text", field.name),
        )),
    }
}

/// Checks a value against the field's type and domain and puts it in stored form.
fn check_value(field: &FieldDef, at: &str, value: Scalar) -> Result<Scalar, FilterError> {
    match (field.ty, value) {
        (FieldType::Text | FieldType::FoldedText { .. }, Scalar::Text(text)) => {
            Ok(Scalar::Text(to_nfc(&text)))
        }
        (FieldType::Int { min, max }, Scalar::Int(n)) => {
            if n < min || n > max {
                Err(refuse(
                    at.to_owned(),
                    format!("`{}` ranges from {min} to {max}; {n} is outside it", field.name),
                ))
            } else {
                Ok(Scalar::Int(n))
            }
        }
        (FieldType::Float, Scalar::Float(f)) => Ok(Scalar::Float(f)),
        (FieldType::Float, Scalar::Int(n)) => Ok(Scalar::Float(n as f64)),
        (FieldType::Bool, Scalar::Bool(b)) => Ok(Scalar::Bool(b)),
        (FieldType::Date, Scalar::Date(d)) => Ok(Scalar::Date(d)),
        (FieldType::DateTime, Scalar::DateTime(d)) => Ok(Scalar::DateTime(d)),
        (FieldType::Vocabulary(words), Scalar::Text(text)) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(text.trim()))
            .map(|w| Scalar::Text((*w).to_owned()))
            .ok_or_else(|| {
                refuse(
                    at.to_owned(),
                    format!("unknown {} {text:?}; expected one of: {}", field.name, words.join(", ")),
                )
            }),
        (FieldType::District, Scalar::Text(text)) => find_district(&text)
            .map(|d| Scalar::Text(d.code.to_owned()))
            .ok_or_else(|| {
                refuse(
                    at.to_owned(),
                    format!("unknown district {text:?} (Đồng Tháp's districts, e.g. \"Lai Vung\", \"Thành phố Sa Đéc\")"),
                )
            }),
        (_, value) => Err(refuse(
            at.to_owned(),
            format!("{} does not fit `{}`", value.describe(), field.name),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARS: FieldDef = FieldDef {
        name: "stars",
        column: "stars",
        ty: FieldType::Int { min: 3, max: 5 },
    };
    const CERTIFIED_ON: FieldDef = FieldDef {
        name: "certifiedOn",
        column: "certified_on",
        ty: FieldType::Date,
    };
    const DISTRICT: FieldDef = FieldDef {
        name: "district",
        column: "district_code",
        ty: FieldType::District,
    };
    const NAME: FieldDef = FieldDef {
        name: "name",
        column: "name",
        ty: FieldType::FoldedText {
            folded: "search_key",
        },
    };

    fn date(y: i32, m: u32, d: u32) -> Scalar {
        Scalar::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn stars_outside_three_to_five_are_refused_with_their_path() {
        let error = field_filter(
            &STARS,
            "filter.stars",
            FieldConditions {
                eq: Some(Scalar::Int(7)),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(error.path, "filter.stars.eq");
        assert!(error.message.contains("3 to 5"), "{error}");
    }

    #[test]
    fn a_reversed_date_range_is_refused() {
        let error = field_filter(
            &CERTIFIED_ON,
            "filter.certifiedOn",
            FieldConditions {
                gte: Some(date(2024, 1, 1)),
                lte: Some(date(2023, 1, 1)),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(error.path, "filter.certifiedOn");
        assert!(error.message.contains("range is empty"));
        // A one-day range is fine; an open one at the same bound is empty.
        assert!(
            field_filter(
                &CERTIFIED_ON,
                "f",
                FieldConditions {
                    gte: Some(date(2023, 1, 1)),
                    lte: Some(date(2023, 1, 1)),
                    ..Default::default()
                }
            )
            .is_ok()
        );
        assert!(
            field_filter(
                &CERTIFIED_ON,
                "f",
                FieldConditions {
                    gt: Some(date(2023, 1, 1)),
                    lte: Some(date(2023, 1, 1)),
                    ..Default::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn districts_resolve_to_codes_and_unknown_ones_are_refused() {
        let filter = field_filter(
            &DISTRICT,
            "filter.district",
            FieldConditions {
                eq: Some(Scalar::Text("huyện Lai Vung".into())),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            filter,
            Filter::All(vec![Filter::compare(
                "district_code",
                Op::Eq,
                Scalar::Text("lai-vung".into())
            )])
        );
        let error = field_filter(
            &DISTRICT,
            "filter.district",
            FieldConditions {
                in_list: Some(vec![
                    Scalar::Text("Lai Vung".into()),
                    Scalar::Text("Atlantis".into()),
                ]),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(error.path, "filter.district.in[1]");
    }

    #[test]
    fn contains_on_folded_text_uses_the_folded_column() {
        let filter = field_filter(
            &NAME,
            "filter.name",
            FieldConditions {
                contains: Some("XOÀI".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            filter,
            Filter::All(vec![Filter::compare(
                "search_key",
                Op::Contains,
                Scalar::Text("xoai".into())
            )])
        );
        assert!(
            field_filter(
                &STARS,
                "f",
                FieldConditions {
                    contains: Some("4".into()),
                    ..Default::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn is_null_becomes_a_null_test() {
        let filter = field_filter(
            &CERTIFIED_ON,
            "f",
            FieldConditions {
                is_null: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            filter,
            Filter::All(vec![Filter::Compare {
                column: "certified_on",
                op: Op::IsNotNull,
                values: vec![]
            }])
        );
    }
}
