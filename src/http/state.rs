//! The shared state of the handlers. Its own file so the handlers need not import the
//! router that imports them.

use sea_orm::DatabaseConnection;

use super::rate_limit::RateLimits;
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
    /// Run only documents an operator allowed (`KHCN_HUB_PERSISTED_ONLY`).
    pub persisted_only: bool,
    /// Answer requests without a token.
    pub anonymous_reads: bool,
    /// Per-token request rates.
    pub rate_limits: std::sync::Arc<RateLimits>,
    /// The bearer token `/metrics` asks for (`KHCN_HUB_METRICS_TOKEN`); none: open.
    pub metrics_token: Option<String>,
    /// Raised on SIGTERM: new requests are refused, subscriptions closed.
    pub shutdown: crate::shutdown::ShutdownSignal,
    /// Requests being answered, which shutdown waits for.
    pub in_flight: crate::shutdown::InFlight,
    /// Parsed documents by their text.
    pub documents: std::sync::Arc<super::documents::DocumentCache>,
    /// The faces of report PDFs, read once.
    pub report_fonts: std::sync::Arc<crate::report::ReportFonts>,
}
