//! What every list shares: the filter inputs (one vocabulary for all kinds), ordering,
//! and Relay cursor pagination with a default and a maximum page size.

use async_graphql::connection::{CursorType, Edge};
use async_graphql::{Enum, InputObject, OutputType, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::ApiError;
use super::scalars::{Date, DateTime};
use crate::domain::filter::{FieldConditions, Filter, FilterError, Scalar};

/// Rows per page when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: usize = 500;

/// Conditions on a text field. `contains` ignores case and diacritics on names and
/// titles; `eq`/`in` on districts accept any usual spelling ("huyện Lai Vung").
#[derive(InputObject, Debug, Clone, Default)]
pub struct StringFilter {
    pub eq: Option<String>,
    pub ne: Option<String>,
    #[graphql(name = "in")]
    pub in_list: Option<Vec<String>>,
    pub gt: Option<String>,
    pub gte: Option<String>,
    pub lt: Option<String>,
    pub lte: Option<String>,
    pub contains: Option<String>,
    pub is_null: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct IntFilter {
    pub eq: Option<i32>,
    pub ne: Option<i32>,
    #[graphql(name = "in")]
    pub in_list: Option<Vec<i32>>,
    pub gt: Option<i32>,
    pub gte: Option<i32>,
    pub lt: Option<i32>,
    pub lte: Option<i32>,
    pub is_null: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct FloatFilter {
    pub eq: Option<f64>,
    pub ne: Option<f64>,
    #[graphql(name = "in")]
    pub in_list: Option<Vec<f64>>,
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub is_null: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct DateFilter {
    pub eq: Option<Date>,
    pub ne: Option<Date>,
    #[graphql(name = "in")]
    pub in_list: Option<Vec<Date>>,
    pub gt: Option<Date>,
    pub gte: Option<Date>,
    pub lt: Option<Date>,
    pub lte: Option<Date>,
    pub is_null: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct DateTimeFilter {
    pub eq: Option<DateTime>,
    pub ne: Option<DateTime>,
    #[graphql(name = "in")]
    pub in_list: Option<Vec<DateTime>>,
    pub gt: Option<DateTime>,
    pub gte: Option<DateTime>,
    pub lt: Option<DateTime>,
    pub lte: Option<DateTime>,
    pub is_null: Option<bool>,
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct BooleanFilter {
    pub eq: Option<bool>,
    pub ne: Option<bool>,
    pub is_null: Option<bool>,
}

/// A filter input that reads as one field's conditions.
pub trait Conditions {
    fn conditions(&self) -> FieldConditions;
}

macro_rules! conditions {
    ($input:ty, $to_scalar:expr) => {
        impl Conditions for $input {
            fn conditions(&self) -> FieldConditions {
                let f = $to_scalar;
                FieldConditions {
                    eq: self.eq.clone().map(f),
                    ne: self.ne.clone().map(f),
                    in_list: self.in_list.clone().map(|v| v.into_iter().map(f).collect()),
                    gt: self.gt.clone().map(f),
                    gte: self.gte.clone().map(f),
                    lt: self.lt.clone().map(f),
                    lte: self.lte.clone().map(f),
                    contains: None,
                    is_null: self.is_null,
                }
            }
        }
    };
}

conditions!(IntFilter, |n: i32| Scalar::Int(i64::from(n)));
conditions!(FloatFilter, Scalar::Float);
conditions!(DateFilter, |d: Date| Scalar::Date(d.0));
conditions!(DateTimeFilter, |d: DateTime| Scalar::DateTime(d.0));

impl Conditions for StringFilter {
    fn conditions(&self) -> FieldConditions {
        FieldConditions {
            eq: self.eq.clone().map(Scalar::Text),
            ne: self.ne.clone().map(Scalar::Text),
            in_list: self
                .in_list
                .clone()
                .map(|v| v.into_iter().map(Scalar::Text).collect()),
            gt: self.gt.clone().map(Scalar::Text),
            gte: self.gte.clone().map(Scalar::Text),
            lt: self.lt.clone().map(Scalar::Text),
            lte: self.lte.clone().map(Scalar::Text),
            contains: self.contains.clone(),
            is_null: self.is_null,
        }
    }
}

impl Conditions for BooleanFilter {
    fn conditions(&self) -> FieldConditions {
        FieldConditions {
            eq: self.eq.map(Scalar::Bool),
            ne: self.ne.map(Scalar::Bool),
            is_null: self.is_null,
            ..Default::default()
        }
    }
}

/// Joins a filter's own field conditions with its `and`, `or` and `not` parts; every
/// part is checked with `to_filter` under its own path (`filter.or[1]`).
pub fn combine<F>(
    mut parts: Vec<Filter>,
    path: &str,
    and: Option<&[F]>,
    or: Option<&[F]>,
    not: Option<&F>,
    to_filter: impl Fn(&F, &str) -> Result<Filter, FilterError>,
) -> Result<Filter, FilterError> {
    for (i, f) in and.unwrap_or_default().iter().enumerate() {
        parts.push(to_filter(f, &format!("{path}.and[{i}]"))?);
    }
    if let Some(list) = or {
        let any = list
            .iter()
            .enumerate()
            .map(|(i, f)| to_filter(f, &format!("{path}.or[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        parts.push(Filter::Any(any));
    }
    if let Some(f) = not {
        parts.push(Filter::Not(Box::new(to_filter(f, &format!("{path}.not"))?)));
    }
    Ok(Filter::All(parts))
}

/// The filter of an optional input, or everything.
pub fn checked_filter<F>(
    input: Option<&F>,
    to_filter: impl Fn(&F, &str) -> Result<Filter, FilterError>,
) -> async_graphql::Result<Filter> {
    match input {
        None => Ok(Filter::All(vec![])),
        Some(input) => to_filter(input, "filter").map_err(|e| ApiError::from(e).into_graphql()),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// Relay page arguments.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// A page resolved to row positions: rows `offset .. offset + limit` of the ordered list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub offset: usize,
    pub limit: usize,
    /// Whether the window ends at `before` (so rows follow it).
    pub bounded_above: bool,
}

pub fn encode_cursor(position: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("pos:{position}"))
}

fn decode_cursor(argument: &str, cursor: &str) -> Result<usize, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("pos:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            ApiError::BadUserInput(format!(
                "{argument}: {cursor:?} is not a cursor of this list; use a cursor from edges or pageInfo"
            ))
        })
}

fn page_size(argument: &str, value: Option<i32>) -> Result<Option<usize>, ApiError> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(ApiError::BadUserInput(format!(
            "{argument} must not be negative"
        ))),
        Some(n) if n as usize > MAX_PAGE_SIZE => Err(ApiError::BadUserInput(format!(
            "{argument} is {n}; pages hold at most {MAX_PAGE_SIZE} rows"
        ))),
        Some(n) => Ok(Some(n as usize)),
    }
}

impl PageArgs {
    /// Resolves the arguments to a window. `total` is asked for only when `last` is
    /// used without `before` (the end of the list must then be known).
    pub async fn window<Fut>(&self, total: impl FnOnce() -> Fut) -> Result<PageWindow, ApiError>
    where
        Fut: std::future::Future<Output = Result<usize, ApiError>>,
    {
        let first = page_size("first", self.first)?;
        let last = page_size("last", self.last)?;
        if first.is_some() && last.is_some() {
            return Err(ApiError::BadUserInput(
                "pass either first (with after) or last (with before), not both".into(),
            ));
        }
        let start = match &self.after {
            Some(cursor) => decode_cursor("after", cursor)? + 1,
            None => 0,
        };
        let before = self
            .before
            .as_deref()
            .map(|c| decode_cursor("before", c))
            .transpose()?;
        let mut end = before;
        if let Some(n) = first {
            end = Some(end.map_or(start + n, |e| e.min(start + n)));
        }
        let mut start = start;
        if let Some(n) = last {
            let end_at = match end {
                Some(e) => e,
                None => total().await?,
            };
            start = start.max(end_at.saturating_sub(n));
            end = Some(end_at);
        }
        let end = end.unwrap_or(start + DEFAULT_PAGE_SIZE);
        Ok(PageWindow {
            offset: start,
            limit: end.saturating_sub(start),
            bounded_above: before.is_some() || last.is_some(),
        })
    }
}

/// A row position in the ordered list, opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position(pub usize);

impl CursorType for Position {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_cursor("cursor", s)
            .map(Position)
            .map_err(|e| format!("{e:?}"))
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(self.0)
    }
}

/// Fields every list has beside Relay's.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct ListTotals {
    /// How many rows match the filter, across all pages.
    pub total_count: i64,
}

/// A page of a list, in Relay's shape (`edges { cursor node }`, `pageInfo`), with
/// `nodes` as a shortcut and `totalCount`.
pub type Connection<T> = async_graphql::connection::Connection<Position, T, ListTotals>;

/// Builds a page from the rows fetched for `window` (one extra row, when fetched,
/// proves a next page).
pub fn connection_from_rows<T: OutputType>(
    window: PageWindow,
    mut rows: Vec<T>,
    total_count: i64,
) -> Connection<T> {
    let has_more = rows.len() > window.limit;
    rows.truncate(window.limit);
    let end_position = window.offset + rows.len();
    let has_next = has_more || (window.bounded_above && (end_position as i64) < total_count);
    let mut connection =
        Connection::with_additional_fields(window.offset > 0, has_next, ListTotals { total_count });
    connection.edges.extend(
        rows.into_iter()
            .enumerate()
            .map(|(i, node)| Edge::new(Position(window.offset + i), node)),
    );
    connection
}

/// A page of a newest-first list paged by key: `rows` holds up to `limit + 1` rows (the
/// extra one only says that more follow); each edge's cursor is its row's key.
pub(crate) fn keyset_page<R, N: async_graphql::OutputType>(
    mut rows: Vec<R>,
    limit: usize,
    has_previous: bool,
    key: impl Fn(&R) -> String,
    wrap: impl Fn(R) -> N,
) -> async_graphql::connection::Connection<String, N> {
    let has_next = rows.len() > limit;
    rows.truncate(limit);
    let mut page = async_graphql::connection::Connection::new(has_previous, has_next);
    page.edges.extend(
        rows.into_iter()
            .map(|row| async_graphql::connection::Edge::new(key(&row), wrap(row))),
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn window(args: PageArgs, total: usize) -> Result<PageWindow, ApiError> {
        args.window(|| async move { Ok(total) }).await
    }

    #[tokio::test]
    async fn first_and_after_walk_forward() {
        let w = window(
            PageArgs {
                first: Some(10),
                after: Some(encode_cursor(9)),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
        assert_eq!(
            w,
            PageWindow {
                offset: 10,
                limit: 10,
                bounded_above: false
            }
        );
    }

    #[tokio::test]
    async fn last_without_before_counts_from_the_end() {
        let w = window(
            PageArgs {
                last: Some(10),
                ..Default::default()
            },
            25,
        )
        .await
        .unwrap();
        assert_eq!(
            w,
            PageWindow {
                offset: 15,
                limit: 10,
                bounded_above: true
            }
        );
        let w = window(
            PageArgs {
                last: Some(10),
                before: Some(encode_cursor(5)),
                ..Default::default()
            },
            25,
        )
        .await
        .unwrap();
        assert_eq!((w.offset, w.limit), (0, 5));
    }

    #[tokio::test]
    async fn no_arguments_give_the_default_page() {
        let w = window(PageArgs::default(), 1000).await.unwrap();
        assert_eq!((w.offset, w.limit), (0, DEFAULT_PAGE_SIZE));
    }

    #[tokio::test]
    async fn bad_arguments_are_refused_clearly() {
        let e = window(
            PageArgs {
                first: Some(501),
                ..Default::default()
            },
            0,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::BadUserInput(m) if m.contains("at most 500")));
        let e = window(
            PageArgs {
                after: Some("garbage".into()),
                ..Default::default()
            },
            0,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::BadUserInput(m) if m.starts_with("after:")));
        let e = window(
            PageArgs {
                first: Some(1),
                last: Some(1),
                ..Default::default()
            },
            0,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::BadUserInput(_)));
        let e = window(
            PageArgs {
                first: Some(-1),
                ..Default::default()
            },
            0,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::BadUserInput(m) if m.contains("negative")));
    }

    #[test]
    fn an_extra_row_proves_a_next_page() {
        let window = PageWindow {
            offset: 0,
            limit: 2,
            bounded_above: false,
        };
        let page = connection_from_rows(window, vec![1, 2, 3], 3);
        assert!(page.has_next_page);
        assert_eq!(page.edges.len(), 2);
        let page = connection_from_rows(window, vec![1], 1);
        assert!(!page.has_next_page);
        assert!(!page.has_previous_page);
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(
            Position::decode_cursor(&Position(41).encode_cursor()),
            Ok(Position(41))
        );
        assert!(Position::decode_cursor("nope").is_err());
    }
}
