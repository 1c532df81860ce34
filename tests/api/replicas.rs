//! Several `khcn-hub serve` processes on one PostgreSQL database.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use serde_json::{Value, json};

use khcn_hub::domain::auth::Role;

use crate::helpers::{Backend, HubProcess, TestDatabase};
use crate::registry::serve;

const ROWS: usize = 30;

/// A registry that takes its time over each page, so a run is caught mid-way.
async fn slow_pages(Query(q): Query<HashMap<String, String>>) -> axum::Json<Value> {
    let page: usize = q["page"].parse().unwrap();
    let size: usize = q["per_page"].parse().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = (page - 1) * size;
    let rows: Vec<Value> = (start..(start + size).min(ROWS))
        .map(|i| json!({ "so_don": format!("4-2024-{i:05}"), "ten": format!("Nhãn hiệu chuyển giao {i}"), "loai": "TRADEMARK", "quoc_gia": "VN" }))
        .collect();
    axum::Json(json!({ "data": rows }))
}

const CONNECTOR: &str = r#"
name = "ip-takeover"
kind = "http_json"
record_kind = "IP_RIGHT"
schedule = "0 4 1 1 *"
url = "{url}/ip"
[http_json]
records_pointer = "/data"
pagination = { style = "page", size = 3 }
[http]
connect_timeout_secs = 2
timeout_secs = 5
[fields]
externalId = "/so_don"
name = "/ten"
kind = "/loai"
jurisdiction = "/quoc_gia"
"#;

async fn start_replica(
    database_url: &str,
    connectors: &std::path::Path,
    log: &std::path::Path,
) -> HubProcess {
    let connectors = connectors.to_str().expect("a UTF-8 path");
    HubProcess::start(
        database_url,
        &[
            ("KHCN_HUB_CONNECTORS", connectors),
            ("KHCN_HUB_CONNECTOR_LEASE_SECS", "3"),
        ],
        log,
    )
    .await
}

async fn query(database: &sea_orm::DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    use sea_orm::ConnectionTrait;
    database
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            sql,
        ))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_run_whose_replica_is_killed_is_finished_by_another() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    khcn_hub::sync::http::install_crypto_provider();
    let registry = serve(Router::new().route("/ip", get(slow_pages))).await;
    let dir = tempfile::tempdir().unwrap();
    let connectors = dir.path().join("connectors");
    std::fs::create_dir(&connectors).unwrap();
    std::fs::write(
        connectors.join("ip-takeover.toml"),
        CONNECTOR.replace("{url}", &registry),
    )
    .unwrap();

    let mut a = start_replica(&database.url, &connectors, &dir.path().join("a.log")).await;
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    let token = khcn_hub::store::tokens::create_token(&db, Role::Admin, None, None, None)
        .await
        .unwrap()
        .token;
    let client = reqwest::Client::new();
    let started = client
        .post(format!("{}/graphql", a.base))
        .bearer_auth(&token)
        .json(
            &json!({ "query": r#"mutation { runConnector(name: "ip-takeover") { id status } }"# }),
        )
        .send()
        .await
        .unwrap();
    let started: Value = started.json().await.unwrap();
    assert_eq!(
        started["data"]["runConnector"]["status"], "RUNNING",
        "{started}"
    );

    // Replica A has committed a few pages, not all: kill it without warning.
    let committed = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            let rows = query(
                &db,
                "SELECT count(*) AS n FROM ip_rights WHERE source = 'connector:ip-takeover'",
            )
            .await;
            rows[0].try_get::<i64>("", "n").unwrap()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while committed(&db).await < 6 {
        assert!(Instant::now() < deadline, "replica A committed nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.child.start_kill().unwrap();
    a.child.wait().await.unwrap();
    let at_kill = committed(&db).await;
    assert!(
        at_kill < ROWS as i64,
        "the run finished before the kill ({at_kill} rows)"
    );
    let killed_at = Instant::now();

    // Replica B notices the lapsed claim and finishes the run, within 60 s.
    let mut b = start_replica(&database.url, &connectors, &dir.path().join("b.log")).await;
    let finished = loop {
        let runs = query(&db, "SELECT trigger, status, error FROM sync_runs WHERE connector = 'ip-takeover' ORDER BY id").await;
        let runs: Vec<(String, String, Option<String>)> = runs
            .iter()
            .map(|r| {
                (
                    r.try_get("", "trigger").unwrap(),
                    r.try_get("", "status").unwrap(),
                    r.try_get("", "error").unwrap(),
                )
            })
            .collect();
        if runs
            .iter()
            .any(|(trigger, status, _)| trigger == "TAKE_OVER" && status == "SUCCEEDED")
        {
            break runs;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(60),
            "no replica took the run over within 60 s: {runs:?}\n{}",
            std::fs::read_to_string(dir.path().join("b.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let taken_over_in = killed_at.elapsed();
    eprintln!(
        "taken over and finished {:.1} s after the kill",
        taken_over_in.as_secs_f64()
    );

    // Every row once; the dead run closed as abandoned; the claim free.
    let ids = query(&db, "SELECT count(*) AS n, count(DISTINCT external_id) AS d FROM ip_rights WHERE source = 'connector:ip-takeover'").await;
    assert_eq!(
        ids[0].try_get::<i64>("", "n").unwrap(),
        ROWS as i64,
        "nothing lost, nothing twice"
    );
    assert_eq!(ids[0].try_get::<i64>("", "d").unwrap(), ROWS as i64);
    assert_eq!(finished.len(), 2, "{finished:?}");
    assert_eq!(finished[0].1, "FAILED");
    assert!(
        finished[0].2.as_deref().unwrap().starts_with("abandoned"),
        "{finished:?}"
    );
    let state = query(&db, "SELECT running_since IS NULL AS free, cursor FROM connector_state WHERE name = 'ip-takeover'").await;
    assert!(state[0].try_get::<bool>("", "free").unwrap());
    assert_eq!(
        state[0].try_get::<Option<String>>("", "cursor").unwrap(),
        None,
        "the run went to the end"
    );
    b.child.start_kill().unwrap();
    let _ = b.child.wait().await;
}

#[tokio::test]
async fn a_tokens_rate_limit_holds_across_replicas() {
    let limit = |s: &mut khcn_hub::config::Settings| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 3;
    };
    let Some(first) = crate::helpers::TestApp::spawn_with(Backend::Postgres, limit).await else {
        return;
    };
    // A second replica on the same database.
    let mut settings = khcn_hub::config::Settings::with_database(first.database_url());
    settings.bind = "127.0.0.1:0".parse().unwrap();
    limit(&mut settings);
    let second = khcn_hub::app::App::build(&settings).await.unwrap();
    let second_base = format!("http://{}", second.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(second.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let token = first.token("analyst", None).await;
    let ask = |base: String| {
        let client = first.client.clone();
        let token = token.clone();
        async move {
            client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": "{ plans { code } }" }))
                .send()
                .await
                .unwrap()
        }
    };
    // A burst of three, spent across both replicas.
    let mut statuses = Vec::new();
    for base in [&first.address, &first.address, &second_base] {
        statuses.push(ask(base.clone()).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200]);
    let refused = ask(second_base.clone()).await;
    assert_eq!(
        refused.status(),
        429,
        "the fourth request, on the other replica"
    );
    let wait: f64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1.0..=2.0).contains(&wait),
        "one request's allowance comes back within a second: {wait}"
    );
    assert_eq!(
        ask(first.address.clone()).await.status(),
        429,
        "and on the first"
    );
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}
