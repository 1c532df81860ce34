//! HTTP wiring: routes, shared state and middleware. No business logic lives here.

pub mod auth;
pub mod dashboard;
pub mod documents;
pub mod drain;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod persisted;
pub mod prometheus;
pub mod rate_limit;
pub mod report;
pub mod request_id;
pub mod response;
pub mod state;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use self::state::{AppState, Handlers};

/// The hub's routes. A function, so tests can drive it in process.
pub fn router(state: AppState) -> Router {
    // GraphQL POST bodies are read with a per-caller limit by their handler; this one
    // bounds every other extractor.
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(dashboard::page))
        .route("/assets/dashboard/{file}", get(dashboard::asset))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::subscribe))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/export/{file}", get(export::list))
        .route("/export/aggregate/{file}", get(export::aggregate))
        .route("/reports/{year}/{file}", get(report::yearly))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(prometheus::scrape))
        // Per matched route, so requests are labelled by their route pattern.
        .route_layer(axum::middleware::from_fn(prometheus::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::map_response(close_after_unread_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            drain::middleware,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outermost, so every response and log line of a request carries its id.
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state)
}

/// A body refused as too large is left unread: the client must not send another request
/// on that connection, whichever route refused it.
async fn close_after_unread_body(
    mut response: axum::response::Response,
) -> axum::response::Response {
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Names the request's root span after the matched route (`POST /graphql`,
/// `GET /export/{file}`), then opens the per-request span `TraceLayer` logs with.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    if let Some(route) = request.extensions().get::<axum::extract::MatchedPath>() {
        let root = tracing::Span::current();
        root.record(
            "otel.name",
            format!("{} {}", request.method(), route.as_str()),
        );
        root.record("http.route", route.as_str());
    }
    tower_http::trace::MakeSpan::make_span(&mut tower_http::trace::DefaultMakeSpan::new(), request)
}

/// A handler that panicked answers 500 with a GraphQL-shaped error; the panic message
/// goes to the log, never to the client.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "a request handler panicked");
    response::error_response(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        response::ResponseType::Json,
        crate::graphql::error::code::INTERNAL,
        "internal error; the cause is in the server log",
    )
}
