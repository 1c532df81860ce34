//! `ckan_datastore`: the CKAN Action API's `datastore_search`, paged by limit/offset and
//! sorted by `_id`. The `{success, result}` envelope is checked (`success: false` is an
//! error even with HTTP 200), and the server's own page size (it may clamp `limit`) is
//! what advances the offset.

use reqwest::Url;
use serde_json::Value;

use super::{Page, Source, json_body, numbered};
use crate::sync::error::SyncError;
use crate::sync::http::Fetcher;

pub struct CkanSource {
    fetcher: Fetcher,
    base: String,
    resource_id: String,
    page_size: u32,
}

impl CkanSource {
    pub fn new(fetcher: Fetcher, base: String, resource_id: String, page_size: u32) -> Self {
        Self {
            fetcher,
            base,
            resource_id,
            page_size,
        }
    }
}

impl Source for CkanSource {
    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SyncError> {
        let offset: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let endpoint = format!(
            "{}/api/3/action/datastore_search",
            self.base.trim_end_matches('/')
        );
        let mut url = Url::parse(&endpoint)
            .map_err(|e| SyncError::Config(format!("{endpoint:?} is not a URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("resource_id", &self.resource_id)
            .append_pair("limit", &self.page_size.to_string())
            .append_pair("offset", &offset.to_string())
            .append_pair("sort", "_id");
        let url = String::from(url);
        let fetched = self.fetcher.get(&url).await?;
        let body = json_body(&fetched)?;
        if body.get("success") != Some(&Value::Bool(true)) {
            let message = body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| body.get("error").map(Value::to_string))
                .unwrap_or_else(|| "no `success: true` in the answer".into());
            return Err(SyncError::Registry(format!(
                "CKAN refused {url}: {message}"
            )));
        }
        let result = body.get("result").ok_or_else(|| {
            SyncError::Malformed(format!("{url}: the CKAN answer has no `result`"))
        })?;
        let records = match result.get("records") {
            Some(Value::Array(records)) => records.clone(),
            _ => {
                return Err(SyncError::Malformed(format!(
                    "{url}: `result.records` is not a list"
                )));
            }
        };
        let count = records.len() as u64;
        // The server may clamp `limit`; its own figure decides whether more pages follow.
        let served_limit = result
            .get("limit")
            .and_then(Value::as_u64)
            .unwrap_or(u64::from(self.page_size));
        let total = result.get("total").and_then(Value::as_u64);
        let next_offset = offset + count;
        let more = count > 0
            && match total {
                Some(total) => next_offset < total,
                None => count >= served_limit,
            };
        Ok(Page {
            rows: numbered(records, "record", offset),
            next: more.then(|| next_offset.to_string()),
            watermark: None,
        })
    }
}
