//! OpenTelemetry traces over OTLP/HTTP: a small receiver here on 127.0.0.1 decodes what a
//! `khcn-hub serve` sends and checks the spans of one request and their parent links.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

use crate::helpers::HubProcess;
use crate::registry::serve;

type Received = Arc<Mutex<Vec<Span>>>;

async fn receive(State(received): State<Received>, body: Bytes) -> &'static str {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf request");
    let mut spans = received.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            spans.extend(scope.spans);
        }
    }
    ""
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| match &a.value.as_ref()?.value {
            Some(AnyValue::StringValue(text)) => Some(text.as_str()),
            _ => None,
        })
}

#[tokio::test]
async fn a_request_is_traced_with_its_children_over_otlp() {
    let received: Received = Arc::default();
    let collector = serve(
        Router::new()
            .route("/v1/traces", post(receive))
            .with_state(received.clone()),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let mut server = HubProcess::start(
        &url,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
        &dir.path().join("hub.log"),
    )
    .await;
    let client = reqwest::Client::new();
    let base = server.base.clone();

    let response = client
        .post(format!("{base}/graphql"))
        .header("x-request-id", "trace-test-0001")
        .json(&serde_json::json!({
            "query": "query Traced { ocopProducts(first: 1) { totalCount } }",
            "operationName": "Traced",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // The request's span, its GraphQL child and that child's SQL statements.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (request, execute, statements) = loop {
        let found = {
            let spans = received.lock().unwrap();
            let request = spans
                .iter()
                .find(|s| attribute(s, "request_id") == Some("trace-test-0001"))
                .cloned();
            let execute = request.as_ref().and_then(|r| {
                spans
                    .iter()
                    .find(|s| s.name == "GraphQL execute" && s.parent_span_id == r.span_id)
                    .cloned()
            });
            let statements: Vec<Span> = execute
                .as_ref()
                .map(|e| {
                    spans
                        .iter()
                        .filter(|s| s.parent_span_id == e.span_id)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            request
                .zip(execute)
                .filter(|_| !statements.is_empty())
                .map(|(r, e)| (r, e, statements))
        };
        if let Some(found) = found {
            break found;
        }
        let names: Vec<String> = received
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.name.clone())
            .collect();
        assert!(
            Instant::now() < deadline,
            "spans received: {names:?}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(request.name, "POST /graphql");
    assert!(
        request.parent_span_id.is_empty(),
        "the request's span is the root"
    );
    assert_eq!(
        attribute(&execute, "graphql.operation.name"),
        Some("Traced")
    );
    assert_eq!(execute.trace_id, request.trace_id);
    // The count, beside the read of the change log's head that tells the cache what
    // it must reflect.
    assert!(
        statements.iter().any(|s| {
            attribute(s, "db.query.text").is_some_and(|sql| sql.contains("ocop_products"))
        }),
        "{statements:?}"
    );
    for statement in &statements {
        assert_eq!(statement.trace_id, request.trace_id);
        assert!(
            attribute(statement, "db.query.text").is_some(),
            "{statement:?}"
        );
        assert!(statement.start_time_unix_nano >= execute.start_time_unix_nano);
        assert!(statement.end_time_unix_nano <= execute.end_time_unix_nano);
    }

    server.terminate();
    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{}", server.log());
}
