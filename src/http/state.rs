//! The shared state of the handlers. Its own file so the handlers need not import the
//! router that imports them.

use sea_orm::DatabaseConnection;

use super::rate_limit::RateLimits;
use crate::graphql::HubSchema;
use crate::graphql::limits::Limits;

/// What every handler may use, shared: the router hands each request its own handle,
/// so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Handlers>);

impl AppState {
    pub fn new(handlers: Handlers) -> Self {
        Self(std::sync::Arc::new(handlers))
    }
}

impl std::ops::Deref for AppState {
    type Target = Handlers;

    fn deref(&self) -> &Handlers {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Handlers {
    pub schema: HubSchema,
    /// The same schema for requests it has validated before (see
    /// `graphql::build_schema_and_twin`).
    pub validated_schema: HubSchema,
    /// Which requests those are.
    pub validated: super::documents::ValidatedRequests,
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
