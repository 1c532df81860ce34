//! Prometheus metrics at `GET /metrics`, in the text exposition format
//! (`metrics-exporter-prometheus`). Everything the hub measures is recorded with the
//! `metrics` macros where it happens; this module installs the recorder, times requests,
//! and renders the registry, reading the database pool's gauges at scrape time.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::state::AppState;

/// Latency buckets, in seconds: from a cached read (sub-millisecond) to the request limit.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The recorder is process-wide (the `metrics` macros write to one global registry), so
/// it is installed once, whatever number of servers a process runs.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder if no other is; `None` when another recorder was there first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

/// How often recorded histogram samples are folded into their buckets.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Histogram samples wait in the recorder until they are folded into their buckets, which
/// a scrape of `/metrics` does; a hub nobody scrapes would keep every request's latency
/// (at 20,000 req/s, some 10 MiB a minute). Folding them every few seconds keeps memory
/// flat whether or not Prometheus is there.
pub async fn keep_folding_samples() {
    let Some(handle) = install() else { return };
    let mut every = tokio::time::interval(FOLD_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "khcn_hub_http_requests_total",
        "HTTP requests answered, by route, method, status and GraphQL operation name."
    );
    describe_histogram!(
        "khcn_hub_http_request_duration_seconds",
        Unit::Seconds,
        "Time to the response's headers, by route, method, status and operation."
    );
    describe_counter!(
        "khcn_hub_graphql_errors_total",
        "GraphQL errors returned, by extensions.code."
    );
    describe_counter!(
        "khcn_hub_sql_statements_total",
        "SQL statements sent to the database."
    );
    describe_histogram!(
        "khcn_hub_sql_statement_duration_seconds",
        Unit::Seconds,
        "Time each SQL statement took."
    );
    describe_gauge!(
        "khcn_hub_db_pool_connections",
        "Database pool connections, by state (idle, in_use), read at scrape time."
    );
    describe_histogram!(
        "khcn_hub_db_pool_acquire_seconds",
        Unit::Seconds,
        "How long each statement or transaction waited for a database connection (the \
         pool's waits; recorded by `serve`, whose log subscriber hears the pool)."
    );
    describe_gauge!(
        "khcn_hub_db_pool_max_connections",
        "The database pool's size limit."
    );
    describe_counter!(
        "khcn_hub_cache_requests_total",
        "Read-cache look-ups, by cache and result (hit, miss)."
    );
    describe_counter!(
        "khcn_hub_connector_runs_total",
        "Connector runs finished, by connector and status."
    );
    describe_counter!(
        "khcn_hub_connector_records_total",
        "Records connector runs handled, by connector and outcome (fetched, created, \
         updated, unchanged, withdrawn, quarantined)."
    );
    describe_gauge!(
        "khcn_hub_connector_last_success_timestamp_seconds",
        Unit::Seconds,
        "When each connector last finished a run successfully (Unix time)."
    );
    describe_gauge!(
        "khcn_hub_change_log_lag_entries",
        "Change-log entries this replica has heard of but not yet handed to its subscribers."
    );
    describe_counter!(
        "khcn_hub_subscription_catch_ups_total",
        "Times a subscriber fell behind this replica's broadcast and read the change log instead."
    );
    describe_gauge!(
        "khcn_hub_subscriptions_open",
        "GraphQL subscription connections open on this replica."
    );
}

/// The GraphQL operation a response answered, for the request metrics' `operation`
/// label; set by the GraphQL handler.
#[derive(Debug, Clone)]
pub struct OperationLabel(pub String);

impl OperationLabel {
    /// A client names its operations; the label keeps at most 64 letters, digits and
    /// underscores of the name, so a hostile name cannot break the exposition format.
    pub fn new(name: Option<&str>) -> Self {
        let name: String = name
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        Self(name)
    }
}

/// Counts and times every request by its route pattern (never its concrete path, which
/// would make a series per id).
pub async fn track(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let operation = response
        .extensions()
        .get::<OperationLabel>()
        .map(|o| o.0.clone())
        .unwrap_or_default();
    let labels = [
        ("route", route),
        ("method", method),
        ("status", response.status().as_u16().to_string()),
        ("operation", operation),
    ];
    metrics::counter!("khcn_hub_http_requests_total", &labels).increment(1);
    metrics::histogram!("khcn_hub_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Counts a GraphQL error by its code.
pub fn graphql_error(code: &str) {
    metrics::counter!("khcn_hub_graphql_errors_total", "code" => code.to_owned()).increment(1);
}

/// Counts each statement the connection sends, times it, and traces it (when traces are
/// exported).
pub fn watch_statements(db: &mut sea_orm::DatabaseConnection) {
    db.set_metric_callback(|info| {
        metrics::counter!("khcn_hub_sql_statements_total").increment(1);
        metrics::histogram!("khcn_hub_sql_statement_duration_seconds")
            .record(info.elapsed.as_secs_f64());
        crate::telemetry::sql_span(&info.statement.sql, info.elapsed, info.failed);
    });
}

/// `GET /metrics`: the registry in the Prometheus text format. With
/// `KHCN_HUB_METRICS_TOKEN` set, only a request bearing that token is answered.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(super::auth::bearer_token);
        if !given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                "metrics need the token set in KHCN_HUB_METRICS_TOKEN: send Authorization: Bearer <token>\n",
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"khcn-hub metrics\""),
            );
            return response;
        }
    }
    let Some(handle) = install() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not recorded: another metrics recorder is installed in this process\n",
        )
            .into_response();
    };
    record_pool(&state.db);
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// The pool's gauges, as they stand now.
fn record_pool(db: &sea_orm::DatabaseConnection) {
    use sea_orm::DatabaseConnectionType as Pool;
    let (size, idle, max) = match &db.inner {
        Pool::SqlxPostgresPoolConnection(_) => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        Pool::SqlxSqlitePoolConnection(_) => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!("khcn_hub_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("khcn_hub_db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("khcn_hub_db_pool_max_connections").set(f64::from(max));
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_keep_only_safe_characters() {
        assert_eq!(OperationLabel::new(Some("Dashboard")).0, "Dashboard");
        assert_eq!(OperationLabel::new(Some("a\"}\nb{c")).0, "abc");
        assert_eq!(OperationLabel::new(None).0, "");
        assert_eq!(OperationLabel::new(Some(&"x".repeat(100))).0.len(), 64);
    }
}
