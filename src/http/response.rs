//! The media types responses are written in, content negotiation, and errors in GraphQL
//! shape for requests refused outside GraphQL execution. Its own file so that the
//! handlers (GraphQL, tokens, exports) share it without importing each other.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::graphql::error::code;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// The media type the response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: status codes tell request errors apart.
    GraphqlResponseJson,
    /// `application/json`, the legacy type: well-formed requests always get 200.
    Json,
}

impl ResponseType {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            ResponseType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response type from `Accept`. No header, `*/*` and `application/*` get
/// `application/json`, as the spec advises for legacy clients; `None` means nothing
/// acceptable was offered.
pub fn negotiate(accept: Option<&str>) -> Option<ResponseType> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Some(ResponseType::Json);
    };
    let mut best: Option<(f32, ResponseType)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut quality = 1.0_f32;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = value.trim().parse().unwrap_or(0.0);
            }
        }
        if quality <= 0.0 {
            continue;
        }
        let candidate = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseType::GraphqlResponseJson,
            APPLICATION_JSON | "*/*" | "application/*" => ResponseType::Json,
            _ => continue,
        };
        // Higher quality wins; on a tie the type listed first wins.
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, t)| t)
}

/// An error response in GraphQL shape: `{"errors":[{"message", "extensions":{"code"}}]}`.
pub fn error_response(
    status: StatusCode,
    response_type: ResponseType,
    error_code: &str,
    message: impl Into<String>,
) -> Response {
    coded_response(status, response_type, error_code, message.into(), false)
}

/// The response to a request the database could not serve outside GraphQL execution
/// (checking a token, claiming an idempotency key): 503 with `Retry-After` when it is out
/// of reach, 507 when it is full, 500 for anything else. The cause goes to the log.
pub fn store_error_response(
    response_type: ResponseType,
    error: &crate::store::StoreError,
    message: &str,
) -> Response {
    use crate::store::{DbFailure, StoreError, error_chain, failure};
    let cause = error_chain(error);
    let kind = match error {
        StoreError::Db(db) => failure(db),
        StoreError::SharedDb(db) => failure(db),
        StoreError::Invalid(_) => DbFailure::Other,
    };
    let (status, error_code) = match kind {
        DbFailure::Unavailable => {
            tracing::warn!(%cause, "{message}");
            (StatusCode::SERVICE_UNAVAILABLE, code::SERVICE_UNAVAILABLE)
        }
        DbFailure::StorageFull => {
            tracing::error!(%cause, "{message}");
            (StatusCode::INSUFFICIENT_STORAGE, code::STORAGE_FULL)
        }
        DbFailure::Other => {
            tracing::error!(%cause, "{message}");
            (StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL)
        }
    };
    let retryable = kind != DbFailure::Other;
    let text = if retryable {
        format!("{message}: the database is unavailable right now; retry shortly")
    } else {
        format!("{message}: internal error; the cause is in the server log")
    };
    let mut response = coded_response(status, response_type, error_code, text, retryable);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn coded_response(
    status: StatusCode,
    response_type: ResponseType,
    error_code: &str,
    message: String,
    retryable: bool,
) -> Response {
    super::prometheus::graphql_error(error_code);
    let mut extensions = json!({ "code": error_code });
    if retryable {
        extensions["retryable"] = json!(true);
    }
    if let Some(id) = super::request_id::current() {
        extensions["requestId"] = json!(id);
    }
    let body = json!({
        "errors": [{ "message": message, "extensions": extensions }]
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response_type.content_type()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_accept_header_gets_legacy_json() {
        assert_eq!(negotiate(None), Some(ResponseType::Json));
        assert_eq!(negotiate(Some("*/*")), Some(ResponseType::Json));
    }

    #[test]
    fn the_client_gets_the_type_it_asks_for() {
        assert_eq!(
            negotiate(Some("application/graphql-response+json")),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some("application/json")),
            Some(ResponseType::Json)
        );
    }

    #[test]
    fn quality_values_and_order_decide_between_types() {
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(ResponseType::Json)
        );
        assert_eq!(
            negotiate(Some("application/json, application/graphql-response+json")),
            Some(ResponseType::Json)
        );
    }

    #[test]
    fn unacceptable_types_are_refused() {
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }
}
