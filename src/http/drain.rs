//! Graceful shutdown at the HTTP edge: once shutdown has started, new requests are refused
//! with 503 (the probes and `/metrics` still answer, `/readyz` with 503) and the requests
//! already running are counted until they finish.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::response::{ResponseType, error_response};
use super::state::AppState;
use crate::graphql::error::code;

/// Paths answered while draining: a load balancer's probes and the scraper.
fn always_answered(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if always_answered(request.uri().path()) {
        return next.run(request).await;
    }
    if state.shutdown.is_started() {
        let mut response = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ResponseType::Json,
            code::SHUTTING_DOWN,
            "this replica is shutting down; send the request again (to another replica)",
        );
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let _running = state.in_flight.enter();
    next.run(request).await
}
