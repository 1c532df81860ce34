//! `http_json`: GET or POST a JSON API; records found by JSON Pointer; pages by
//! offset/limit, page number, cursor field, next-URL field or RFC 8288 `Link` header.

use reqwest::Url;

use super::{Page, Source, json_body, numbered, records_at};
use crate::sync::definition::{HttpJson, Pagination};
use crate::sync::error::SyncError;
use crate::sync::http::{Fetcher, next_link, resolve};

pub struct HttpJsonSource {
    fetcher: Fetcher,
    base: String,
    options: HttpJson,
    body: Option<serde_json::Value>,
}

impl HttpJsonSource {
    pub fn new(fetcher: Fetcher, base: String, options: HttpJson) -> Result<Self, SyncError> {
        let body = options
            .body
            .as_ref()
            .map(|b| {
                serde_json::to_value(b)
                    .map_err(|e| SyncError::Config(format!("http_json.body: {e}")))
            })
            .transpose()?;
        Ok(Self {
            fetcher,
            base,
            options,
            body,
        })
    }

    fn url_with(&self, extra: &[(&str, String)]) -> Result<String, SyncError> {
        let mut url = Url::parse(&self.base)
            .map_err(|e| SyncError::Config(format!("{:?} is not a URL: {e}", self.base)))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.options.query {
                pairs.append_pair(k, v);
            }
            for (k, v) in extra {
                pairs.append_pair(k, v);
            }
        }
        Ok(String::from(url))
    }
}

impl Source for HttpJsonSource {
    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SyncError> {
        let method =
            reqwest::Method::from_bytes(self.options.method.to_ascii_uppercase().as_bytes())
                .map_err(|_| {
                    SyncError::Config(format!("{:?} is not an HTTP method", self.options.method))
                })?;
        let (url, start) = match (&self.options.pagination, cursor) {
            (Pagination::None, _) => (self.url_with(&[])?, 0),
            (
                Pagination::Offset {
                    offset_param,
                    limit_param,
                    limit,
                },
                cursor,
            ) => {
                let offset: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
                (
                    self.url_with(&[
                        (offset_param, offset.to_string()),
                        (limit_param, limit.to_string()),
                    ])?,
                    offset,
                )
            }
            (
                Pagination::Page {
                    page_param,
                    size_param,
                    size,
                    first_page,
                },
                cursor,
            ) => {
                let page: u64 = cursor
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(u64::from(*first_page));
                (
                    self.url_with(&[
                        (page_param, page.to_string()),
                        (size_param, size.to_string()),
                    ])?,
                    (page - u64::from(*first_page)) * u64::from(*size),
                )
            }
            (Pagination::Cursor { cursor_param, .. }, Some(cursor)) => {
                (self.url_with(&[(cursor_param, cursor.to_owned())])?, 0)
            }
            (Pagination::NextUrl { .. } | Pagination::LinkHeader, Some(url)) => (url.to_owned(), 0),
            (_, None) => (self.url_with(&[])?, 0),
        };
        let fetched = self.fetcher.fetch(method, &url, self.body.as_ref()).await?;
        let body = json_body(&fetched)?;
        let items = records_at(&body, &self.options.records_pointer, &url)?;
        let count = items.len() as u64;
        let next = match &self.options.pagination {
            Pagination::None => None,
            Pagination::Offset { limit, .. } => {
                (count >= u64::from(*limit) && count > 0).then(|| (start + count).to_string())
            }
            Pagination::Page { size, .. } => {
                let page: u64 =
                    cursor
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(match &self.options.pagination {
                            Pagination::Page { first_page, .. } => u64::from(*first_page),
                            _ => 1,
                        });
                (count >= u64::from(*size) && count > 0).then(|| (page + 1).to_string())
            }
            Pagination::Cursor { cursor_pointer, .. } => {
                body.pointer(cursor_pointer).and_then(|v| match v {
                    serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            }
            Pagination::NextUrl { next_pointer } => body
                .pointer(next_pointer)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .and_then(|s| resolve(&url, s)),
            Pagination::LinkHeader => next_link(&fetched.headers, &url),
        };
        Ok(Page {
            rows: numbered(items, "record", start),
            next,
            watermark: None,
        })
    }
}
