//! Outbound HTTP for connectors: connect and total timeouts on every call, bounded retries
//! with exponential backoff and jitter, and `Retry-After` honoured (capped) on 429 and
//! 503.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use backon::{ExponentialBuilder, Retryable};
use thiserror::Error;

use super::definition::{Definition, Http};

/// Makes ring the process's TLS crypto provider (HTTPS registries); harmless to repeat.
/// The same provider serves the database driver, so one is compiled in, not two.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when another provider is already installed, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why a request failed, after its retries.
#[derive(Debug, Clone, Error)]
pub enum FetchError {
    #[error("{url} answered {status}{}", excerpt.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        excerpt: Option<String>,
        retry_after: Option<Duration>,
    },
    #[error("{url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: f64 },
    #[error("cannot reach {url}: {message}")]
    Transport { url: String, message: String },
    #[error("cannot use the configuration: {0}")]
    Setup(String),
    /// The download could not be kept on local disk (full, read-only): no retry mends it.
    #[error("cannot write the download to disk: {0}")]
    Spool(#[source] Arc<std::io::Error>),
}

impl FetchError {
    /// Worth another attempt: timeouts, connection failures, 408, 429 and 5xx.
    fn retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            FetchError::Timeout { .. } | FetchError::Transport { .. } => true,
            FetchError::Setup(_) | FetchError::Spool(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the server refused the request for good (a 4xx other than 408 and 429),
    /// as it does when a page token has expired.
    pub fn page_token_refused(&self) -> bool {
        self.status()
            .is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What identifies a version of a file: its `ETag` and `Last-Modified`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The outcome of a conditional download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The server said the file has not changed (304); nothing was downloaded.
    pub not_modified: bool,
    pub validators: Validators,
}

/// A response that arrived whole.
#[derive(Debug)]
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub url: String,
}

/// An HTTP client set up for one connector.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: Http,
    auth: Option<(HeaderName, HeaderValue)>,
}

fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.max(0.001))
}

impl Fetcher {
    pub fn new(definition: &Definition) -> Result<Self, FetchError> {
        let settings = definition.http.clone();
        let auth = match &definition.auth {
            Some(auth) => {
                let secret = std::env::var(&auth.token_env).map_err(|_| {
                    FetchError::Setup(format!(
                        "{} is not set (the connector's secret)",
                        auth.token_env
                    ))
                })?;
                let value = match &auth.scheme {
                    Some(scheme) => format!("{scheme} {secret}"),
                    None => secret,
                };
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    FetchError::Setup(format!(
                        "{} holds characters a header cannot",
                        auth.token_env
                    ))
                })?;
                value.set_sensitive(true);
                let name = HeaderName::from_bytes(auth.header.as_bytes()).map_err(|_| {
                    FetchError::Setup(format!("{:?} is not a header name", auth.header))
                })?;
                Some((name, value))
            }
            None => None,
        };
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(seconds(settings.connect_timeout_secs))
            .read_timeout(seconds(settings.timeout_secs))
            .timeout(seconds(settings.timeout_secs))
            .user_agent(concat!("khcn-hub/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(Self {
            client,
            settings,
            auth,
        })
    }

    fn classify(&self, url: &str, error: &reqwest::Error) -> FetchError {
        if error.is_timeout() {
            FetchError::Timeout {
                url: url.to_owned(),
                seconds: self.settings.timeout_secs,
            }
        } else {
            FetchError::Transport {
                url: url.to_owned(),
                message: crate::store::error_chain(error),
            }
        }
    }

    /// Writes a response body to `file` as it arrives: a body cut off is a transport
    /// error (retried), a disk that refuses it is not.
    async fn stream_to(
        &self,
        url: &str,
        response: reqwest::Response,
        file: &mut std::fs::File,
    ) -> Result<(), FetchError> {
        use futures_util::StreamExt;
        use std::io::Write;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.classify(url, &e))?;
            file.write_all(&chunk)
                .map_err(|e| FetchError::Spool(Arc::new(e)))?;
        }
        file.flush().map_err(|e| FetchError::Spool(Arc::new(e)))
    }

    /// Sends a request; a non-success status is an error carrying `Retry-After`.
    async fn send_checked(
        &self,
        method: &reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = self.client.request(method.clone(), url);
        if let Some((name, value)) = &self.auth {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.classify(url, &e))?;
        self.check(url, response).await
    }

    /// A non-success status as an error carrying `Retry-After`.
    async fn check(
        &self,
        url: &str,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, FetchError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(axum::http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        let body = response.bytes().await.unwrap_or_default();
        let excerpt = String::from_utf8_lossy(&body[..body.len().min(200)])
            .trim()
            .to_owned();
        Err(FetchError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
            excerpt: Some(excerpt).filter(|e| !e.is_empty()),
            retry_after,
        })
    }

    async fn attempt(
        &self,
        method: &reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Fetched, FetchError> {
        let response = self.send_checked(method, url, body).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.classify(url, &e))?;
        Ok(Fetched {
            status,
            headers,
            body,
            url: url.to_owned(),
        })
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(seconds(self.settings.backoff_secs))
            .with_max_delay(seconds(self.settings.retry_after_cap_secs))
            .with_max_times(self.settings.max_attempts.saturating_sub(1))
            .with_jitter()
    }

    /// Streams a body into `file`, retrying the whole download like `fetch`. With the
    /// validators of the last download it asks only for a changed file; a 304 leaves the
    /// file empty and says so.
    pub async fn download(
        &self,
        url: &str,
        file: &mut std::fs::File,
        previous: &Validators,
    ) -> Result<Downloaded, FetchError> {
        use backon::BackoffBuilder;
        use std::io::Seek;
        let cap = seconds(self.settings.retry_after_cap_secs);
        let mut delays = self.backoff().build();
        loop {
            let result: Result<Downloaded, FetchError> = async {
                file.set_len(0)
                    .and_then(|()| file.seek(std::io::SeekFrom::Start(0)).map(|_| ()))
                    .map_err(|e| FetchError::Spool(Arc::new(e)))?;
                let mut request = self.client.get(url);
                if let Some((name, value)) = &self.auth {
                    request = request.header(name, value);
                }
                if let Some(etag) = &previous.etag {
                    request = request.header(axum::http::header::IF_NONE_MATCH, etag);
                }
                if let Some(modified) = &previous.last_modified {
                    request = request.header(axum::http::header::IF_MODIFIED_SINCE, modified);
                }
                let response = request.send().await.map_err(|e| self.classify(url, &e))?;
                let header = |name: axum::http::HeaderName| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let validators = Validators {
                    etag: header(axum::http::header::ETAG),
                    last_modified: header(axum::http::header::LAST_MODIFIED),
                };
                if response.status() == StatusCode::NOT_MODIFIED {
                    return Ok(Downloaded {
                        not_modified: true,
                        validators: previous.clone(),
                    });
                }
                let response = self.check(url, response).await?;
                self.stream_to(url, response, file).await?;
                Ok(Downloaded {
                    not_modified: false,
                    validators,
                })
            }
            .await;
            match result {
                Ok(downloaded) => return Ok(downloaded),
                Err(error) if error.retryable() => match delays.next() {
                    Some(delay) => {
                        let delay = error.retry_after().map_or(delay, |wanted| wanted.min(cap));
                        tracing::warn!(%error, ?delay, "retrying a registry download");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(error),
                },
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends a request, retrying what is worth retrying.
    pub async fn fetch(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Fetched, FetchError> {
        let backoff = self.backoff();
        let cap = seconds(self.settings.retry_after_cap_secs);
        (|| self.attempt(&method, url, body))
            .retry(backoff)
            .when(FetchError::retryable)
            .adjust(|error, delay| {
                // Out of attempts stays out; otherwise the server's wish wins, capped.
                let delay = delay?;
                Some(error.retry_after().map_or(delay, |wanted| wanted.min(cap)))
            })
            .notify(|error, delay| {
                tracing::warn!(%error, ?delay, "retrying a registry request");
            })
            .await
    }

    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        self.fetch(reqwest::Method::GET, url, None).await
    }
}

/// The `rel="next"` target of an RFC 8288 `Link` header, resolved against `base`.
pub fn next_link(headers: &HeaderMap, base: &str) -> Option<String> {
    for value in headers.get_all(axum::http::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for link in split_links(value) {
            let Some((target, params)) = link.trim().split_once('>') else {
                continue;
            };
            let target = target.trim().trim_start_matches('<');
            let is_next = params.split(';').any(|param| {
                let Some((name, value)) = param.split_once('=') else {
                    return false;
                };
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            });
            if is_next {
                return resolve(base, target);
            }
        }
    }
    None
}

/// Splits a Link header on the commas between links (not those inside `<…>` or quotes).
fn split_links(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_uri, mut in_quote) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            '<' if !in_quote => in_uri = true,
            '>' if !in_quote => in_uri = false,
            '"' if !in_uri => in_quote = !in_quote,
            ',' if !in_uri && !in_quote => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// Resolves a possibly relative URL against the URL of the page that named it.
pub fn resolve(base: &str, target: &str) -> Option<String> {
    let base = reqwest::Url::parse(base).ok()?;
    base.join(target).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn the_next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::LINK,
            HeaderValue::from_static(
                r#"<https://x.example/events?a=1,2>; rel="prev", </events?nextPageToken=abc>; rel="next""#,
            ),
        );
        assert_eq!(
            next_link(&headers, "https://x.example/events?perPage=2").as_deref(),
            Some("https://x.example/events?nextPageToken=abc")
        );
        assert_eq!(next_link(&HeaderMap::new(), "https://x.example/"), None);
    }
}
