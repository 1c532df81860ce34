//! Logging and tracing, set up once for the binary. Logs go to stderr so `khcn-hub schema`
//! output stays clean. With the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, spans are also exported as OpenTelemetry
//! traces over OTLP/HTTP (protobuf): one per request, with children for GraphQL execution,
//! each SQL statement and each connector page. Off by default.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The service name spans carry (`service.name`), unless `OTEL_SERVICE_NAME` says otherwise.
const SERVICE: &str = "khcn-hub";

/// Whether spans are exported (checked before building a span by hand).
static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes what is left.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans not yet exported; call before the process exits.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            // The exporter's batch thread hands each export to this runtime: wait off it.
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(error)) = flushed {
                tracing::warn!(%error, "traces not flushed at exit");
            }
        }
    }
}

/// Logs to stderr under `filter` (an invalid one means `info`), traces to `tracer` when
/// there is one, and the pool's acquire events to a metric whatever the log level.
fn subscriber(
    filter: &str,
    tracer: Option<opentelemetry_sdk::trace::Tracer>,
) -> impl tracing::Subscriber + Send + Sync + 'static {
    let env_filter = || EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let otel = tracer.map(|tracer| tracing_opentelemetry::layer().with_tracer(tracer));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(env_filter()),
        )
        // Filtered even when absent: an absent layer on its own is interested in every
        // span and event, which would make each request build spans nobody records.
        .with(otel.with_filter(env_filter()))
        .with(
            PoolWaits.with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target(POOL_ACQUIRE_TARGET, tracing::Level::TRACE),
            ),
        )
}

/// Installs the global subscriber. `filter` uses `tracing` EnvFilter syntax; an invalid
/// filter falls back to `info` and says so. Must run inside the Tokio runtime when OTLP
/// export is on (exports are sent from it).
pub fn init(filter: &str) -> Telemetry {
    let invalid = EnvFilter::try_new(filter).err();
    let (provider, otlp_error) = match otlp_provider() {
        Ok(provider) => (provider, None),
        Err(error) => (None, Some(error)),
    };
    let tracer = provider.as_ref().map(|provider| {
        opentelemetry::global::set_tracer_provider(provider.clone());
        EXPORTING.store(true, std::sync::atomic::Ordering::Relaxed);
        provider.tracer(SERVICE)
    });
    let _ = subscriber(filter, tracer).try_init();
    if let Some(error) = invalid {
        tracing::warn!(%error, filter, "invalid log filter; using `info`");
    }
    if let Some(error) = otlp_error {
        tracing::warn!(%error, "OTLP trace export is off: the exporter could not be built");
    }
    Telemetry { provider }
}

/// Where the database pool reports each connection it hands out, with the time the
/// caller waited for it (`acquired_after_secs`; see `db::connect_with`).
pub const POOL_ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

/// Turns the pool's acquire events into `khcn_hub_db_pool_acquire_seconds`: how long each
/// statement or transaction waited for a connection.
struct PoolWaits;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PoolWaits {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Waited(Option<f64>);
        impl tracing::field::Visit for Waited {
            fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(seconds) = waited.0 {
            metrics::histogram!("khcn_hub_db_pool_acquire_seconds").record(seconds);
        }
    }
}

/// A tracer provider exporting to the OTLP endpoint in the environment, if one is set.
fn otlp_provider() -> Result<Option<SdkTracerProvider>, String> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Ok(None);
    }
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
    // The endpoint, headers, timeout and compression come from the standard OTEL_*
    // variables; the requests go out through the hub's own HTTP client.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_http_client(OtlpClient {
            client: reqwest::Client::new(),
            runtime,
        })
        .build()
        .map_err(|e| e.to_string())?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| SERVICE.to_owned());
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name(service)
                    .build(),
            )
            .build(),
    ))
}

/// Sends OTLP requests with reqwest on the hub's runtime (the exporter's batch thread
/// has none of its own).
#[derive(Debug)]
struct OtlpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// Longest an export may take before it is given up.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OtlpClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .timeout(EXPORT_TIMEOUT)
                .send()
                .await?;
            let mut answer = opentelemetry_http::Response::builder().status(response.status());
            if let Some(headers) = answer.headers_mut() {
                *headers = response.headers().clone();
            }
            let body = response.bytes().await?;
            Ok::<_, opentelemetry_http::HttpError>(answer.body(body)?)
        });
        sent.await?
    }
}

/// Records a finished SQL statement as a child span of the current one (the request or
/// connector page that sent it), with its real start and end. Only when traces are
/// exported.
pub fn sql_span(sql: &str, elapsed: Duration, failed: bool) {
    if !EXPORTING.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let parent = tracing::Span::current().context();
    if !parent.span().span_context().is_valid() {
        return;
    }
    let tracer = opentelemetry::global::tracer(SERVICE);
    let end = SystemTime::now();
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or("SQL")
        .to_uppercase();
    let mut span = tracer
        .span_builder(operation)
        .with_kind(opentelemetry::trace::SpanKind::Client)
        .with_start_time(end.checked_sub(elapsed).unwrap_or(end))
        .with_attributes([opentelemetry::KeyValue::new(
            "db.query.text",
            sql.chars().take(2_000).collect::<String>(),
        )])
        .start_with_context(&tracer, &parent);
    if failed {
        span.set_status(opentelemetry::trace::Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_below_the_log_level_are_not_built_without_an_exporter() {
        let quiet = subscriber("warn", None);
        tracing::subscriber::with_default(quiet, || {
            assert!(tracing::info_span!("request").is_disabled());
            assert!(!tracing::warn_span!("request").is_disabled());
        });
        let chatty = subscriber("info", None);
        tracing::subscriber::with_default(chatty, || {
            assert!(!tracing::info_span!("request").is_disabled());
        });
    }
}
