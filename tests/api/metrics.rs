//! `/metrics` in the Prometheus text format, scraped by a real Prometheus server (Debian's
//! `prometheus` package) started here on 127.0.0.1, and read back through its HTTP API.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Backend, TestApp};

const TOKEN: &str = "scrape-secret-for-tests";

fn prometheus() -> Option<PathBuf> {
    let found = std::env::var("KHCN_HUB_PROMETHEUS")
        .map(PathBuf::from)
        .ok()
        .or_else(|| Some(PathBuf::from("/usr/bin/prometheus")))
        .filter(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("KHCN_HUB_TEST_REQUIRE_PROMETHEUS").is_err(),
            "KHCN_HUB_TEST_REQUIRE_PROMETHEUS is set but no prometheus binary was found"
        );
        eprintln!("skipping: no Prometheus here (install Debian's prometheus)");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn prometheus_scrapes_the_hub_and_reads_its_series_back() {
    let Some(binary) = prometheus() else {
        return;
    };
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.metrics_token = Some(TOKEN.to_owned());
    })
    .await
    .unwrap();

    // Traffic to measure: a named operation, and an error with a code.
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&serde_json::json!({
            "query": "query MetricsProbe { plans { code } }",
            "operationName": "MetricsProbe",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&serde_json::json!({ "query": "{ plans { nope } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // The token guards the endpoint.
    let refused = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let scraped = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = scraped.text().await.unwrap();
    for expected in [
        "# TYPE khcn_hub_http_requests_total counter",
        "# TYPE khcn_hub_http_request_duration_seconds histogram",
        "operation=\"MetricsProbe\"",
        "route=\"/graphql\"",
        "khcn_hub_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}",
        "khcn_hub_sql_statements_total",
        "khcn_hub_db_pool_connections{state=\"in_use\"}",
        "# TYPE khcn_hub_change_log_lag_entries gauge",
        "khcn_hub_cache_requests_total{cache=\"plan_snapshot\"",
        "khcn_hub_cache_requests_total{cache=\"validations\",result=\"miss\"}",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }

    // A real Prometheus scrapes it, with the token, every second.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: khcn-hub\n    \
             authorization:\n      credentials: {TOKEN}\n    static_configs:\n      \
             - targets: ['{}']\n",
            app.address.trim_start_matches("http://")
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let mut server = tokio::process::Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let query = |promql: &'static str| {
        let client = app.client.clone();
        async move {
            let response = client
                .get(format!("http://127.0.0.1:{port}/api/v1/query"))
                .query(&[("query", promql)])
                .send()
                .await
                .ok()?;
            let body: Value = response.json().await.ok()?;
            body["data"]["result"].as_array().cloned()
        }
    };
    let mut found = None;
    for _ in 0..120 {
        if let Some(result) =
            query("khcn_hub_http_requests_total{operation=\"MetricsProbe\",status=\"200\"}").await
            && !result.is_empty()
        {
            found = Some(result);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let up = query("up{job=\"khcn-hub\"}").await;
    server.kill().await.unwrap();
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    let found =
        found.unwrap_or_else(|| panic!("Prometheus never read the series; its log:\n{log}"));
    assert_eq!(found[0]["metric"]["route"], "/graphql");
    assert_eq!(found[0]["metric"]["job"], "khcn-hub");
    let value: f64 = found[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{found:?}");
    assert_eq!(up.unwrap()[0]["value"][1], "1", "the scrape succeeded");
}

/// The pool's waits are measured in the real binary, whose log subscriber hears the
/// pool's acquire events whatever the log level.
#[tokio::test]
async fn the_pools_waits_are_measured() {
    let database = crate::helpers::TestDatabase::create(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let connectors = dir.path().join("connectors");
    std::fs::create_dir(&connectors).unwrap();
    let server = crate::helpers::HubProcess::start(
        &database.url,
        &[("KHCN_HUB_CONNECTORS", connectors.to_str().unwrap())],
        &dir.path().join("hub.log"),
    )
    .await;
    let client = reqwest::Client::new();
    let answered = client
        .post(format!("{}/graphql", server.base))
        .json(&serde_json::json!({ "query": "{ ocopProducts(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let text = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let acquired: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("khcn_hub_db_pool_acquire_seconds_count "))
        .unwrap_or_else(|| panic!("no pool waits in:\n{text}"))
        .parse()
        .unwrap();
    assert!(acquired >= 1.0, "{acquired}");
    assert!(
        !server.log().contains("acquired connection"),
        "the acquire events are not logged at info"
    );
    server.terminate();
}
