//! HTTP wiring: routes, shared state and middleware. No business logic lives here.

pub mod auth;
pub mod dashboard;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod rate_limit;
pub mod request_id;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::graphql::HubSchema;
use crate::graphql::limits::Limits;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub schema: HubSchema,
    /// Answers introspection-only documents (see `graphql::build_introspection_schema`).
    pub introspection_schema: HubSchema,
    pub db: DatabaseConnection,
    pub limits: Limits,
    /// Serve GraphiQL to browsers at `GET /graphql`.
    pub graphiql: bool,
    /// Answer requests without a token.
    pub anonymous_reads: bool,
    /// Per-token request rates.
    pub rate_limits: std::sync::Arc<rate_limit::RateLimits>,
}

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
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(panic_response))
        // Outermost, so every response and log line of a request carries its id.
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state)
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
    graphql::error_response(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        graphql::ResponseType::Json,
        crate::graphql::error::code::INTERNAL,
        "internal error; the cause is in the server log",
    )
}
