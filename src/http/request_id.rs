//! A request id for every request: sent back in `X-Request-Id`, written into every
//! GraphQL error's `extensions.requestId`, and recorded on the request's log lines, so
//! "the cause is in the server log" can be found there.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A fresh id: 16 random hex digits (a caller's own id is kept when it is sane). An id
/// only has to tell requests apart, so it comes from the thread's fast generator (seeded
/// from the system's entropy), not a system call per request.
fn new_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

fn sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn middleware(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(new_id, str::to_owned);
    // The request's root span (and its trace's root when traces are exported); routing
    // names it after the matched route (see `http::request_span`).
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        otel.name = %format!("{} {}", request.method(), request.uri().path()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = tracing::field::Empty,
    );
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span))
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_callers_ids_are_checked() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(sane("3f2a-req_1"));
        assert!(!sane(""));
        assert!(!sane("a b"));
        assert!(!sane(&"x".repeat(65)));
    }
}
