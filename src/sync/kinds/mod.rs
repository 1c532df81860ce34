//! The kinds of source, each behind the one `Source` trait: given where the last
//! committed page ended (`cursor`), fetch the next page of raw rows.

pub mod ckan;
pub mod csv;
pub mod epcis;
pub mod http_json;

use std::future::Future;

use serde_json::Value;

use crate::sync::error::SyncError;

/// One raw row and where it was found (for quarantine reports).
#[derive(Debug, Clone)]
pub struct RawRow {
    pub position: String,
    pub value: Value,
}

/// A page of rows, with the cursor of the page after it (`None` at the end) and the
/// watermark the page reaches.
#[derive(Debug, Default)]
pub struct Page {
    pub rows: Vec<RawRow>,
    pub next: Option<String>,
    pub watermark: Option<String>,
}

/// A registry the engine reads page by page.
pub trait Source: Send {
    /// The page at `cursor` (`None`: the first page of this run).
    fn fetch(
        &mut self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page, SyncError>> + Send;

    /// Whether an expired cursor may be dropped and the run restarted from the
    /// watermark (EPCIS page tokens).
    fn restartable(&self) -> bool {
        false
    }

    /// Whether the registry said nothing changed since the last run (HTTP 304): the
    /// run then neither writes nor withdraws anything.
    fn unchanged(&self) -> bool {
        false
    }

    /// The validators (`ETag`, `Last-Modified`) to send next time.
    fn validators(&self) -> super::http::Validators {
        super::http::Validators::default()
    }
}

/// The JSON body of a response, or an error naming what came instead.
pub fn json_body(fetched: &super::http::Fetched) -> Result<Value, SyncError> {
    serde_json::from_slice(&fetched.body).map_err(|error| {
        let content_type = fetched
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type");
        let start =
            String::from_utf8_lossy(&fetched.body[..fetched.body.len().min(80)]).into_owned();
        SyncError::Malformed(format!(
            "{} did not answer JSON ({content_type}; {error}); it began {start:?}",
            fetched.url
        ))
    })
}

/// The array at a JSON Pointer.
pub fn records_at(body: &Value, pointer: &str, url: &str) -> Result<Vec<Value>, SyncError> {
    let found = if pointer.is_empty() {
        Some(body)
    } else {
        body.pointer(pointer)
    };
    match found {
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(other) => Err(SyncError::Malformed(format!(
            "{url}: {pointer:?} holds {} instead of a list of records",
            kind_of(other)
        ))),
        None => Err(SyncError::Malformed(format!(
            "{url}: the response has nothing at {pointer:?}"
        ))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Rows numbered from `start`, for quarantine reports.
pub fn numbered(items: Vec<Value>, what: &str, start: u64) -> Vec<RawRow> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, value)| RawRow {
            position: format!("{what} {}", start + i as u64),
            value,
        })
        .collect()
}
