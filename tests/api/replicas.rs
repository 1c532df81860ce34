//! Several `khcn-hub serve` processes on one PostgreSQL database.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use serde_json::{Value, json};

use khcn_hub::domain::auth::Role;

use crate::helpers::{Backend, HubProcess, TestDatabase, graphql};
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

/// A replica with no connectors and no rate limit, for tests that load it.
async fn start_plain_replica(database_url: &str, dir: &std::path::Path, name: &str) -> HubProcess {
    let connectors = dir.join("no-connectors");
    std::fs::create_dir_all(&connectors).unwrap();
    HubProcess::start(
        database_url,
        &[
            ("KHCN_HUB_CONNECTORS", connectors.to_str().unwrap()),
            ("KHCN_HUB_RATE_LIMIT_PER_MINUTE", "0"),
        ],
        &dir.join(format!("{name}.log")),
    )
    .await
}

/// Three replicas on one new PostgreSQL database, and an admin token. The first creates
/// the schema; the others start on it.
async fn three_replicas(dir: &std::path::Path) -> Option<(TestDatabase, Vec<HubProcess>, String)> {
    let database = TestDatabase::create(Backend::Postgres).await?;
    let mut replicas = Vec::new();
    for name in ["r1", "r2", "r3"] {
        replicas.push(start_plain_replica(&database.url, dir, name).await);
    }
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    let token = khcn_hub::store::tokens::create_token(&db, Role::Admin, None, None, None)
        .await
        .unwrap()
        .token;
    Some((database, replicas, token))
}

const CREATE_PRODUCT: &str =
    "mutation($name: String!) { createOcopProduct(input: {name: $name, stars: 5}) { id } }";

/// Creates a five-star OCOP product through `base`; returns its id.
async fn create_product(client: &reqwest::Client, base: &str, token: &str, name: &str) -> String {
    let data = graphql(client, base, token, CREATE_PRODUCT, json!({ "name": name })).await;
    data["createOcopProduct"]["id"].as_str().unwrap().to_owned()
}

/// What the caches hold: a total, an aggregate, a target's value (computed from records)
/// and a task's progress (from the plan snapshot).
const CACHED: &str = r#"{
  ocopProducts { totalCount }
  ocopProductsAggregate(groupBy: [STARS]) { keys { value } count }
  plan(code: "136/KH-UBND") { targets { key actualValue } }
  task(code: "VII.3") { status }
}"#;

struct Cached {
    total: i64,
    five_stars: i64,
    application_models: i64,
    task_status: Option<String>,
}

fn cached(data: &Value) -> Cached {
    let five_stars = data["ocopProductsAggregate"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["keys"][0]["value"] == "5")
        .map_or(0, |row| row["count"].as_i64().unwrap());
    let application_models = data["plan"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "APPLICATION_MODELS")
        .unwrap()["actualValue"]
        .as_i64()
        .unwrap();
    Cached {
        total: data["ocopProducts"]["totalCount"].as_i64().unwrap(),
        five_stars,
        application_models,
        task_status: data["task"]["status"].as_str().map(str::to_owned),
    }
}

#[tokio::test]
async fn a_write_through_one_replica_is_seen_through_the_others_at_once() {
    use crate::subscriptions::{OCOP_CHANGES, change, next, subscribe_at};
    let dir = tempfile::tempdir().unwrap();
    let Some((_database, replicas, token)) = three_replicas(dir.path()).await else {
        return;
    };
    let (r1, r2, r3) = (&replicas[0].base, &replicas[1].base, &replicas[2].base);
    let client = reqwest::Client::new();
    // Replica 2 has every answer cached; replica 3 has a subscriber.
    for _ in 0..2 {
        graphql(&client, r2, &token, CACHED, json!({})).await;
    }
    let before = cached(&graphql(&client, r2, &token, CACHED, json!({})).await);
    let mut subscriber = subscribe_at(r3, Some(&token), OCOP_CHANGES, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let created = create_product(&client, r1, &token, "Sen Tháp Mười").await;
    graphql(&client, r1, &token, "mutation { createApplicationModel(input: {title: \"Mô hình nhân rộng\", yearTransferred: 2024}) { id } }", json!({})).await;
    graphql(&client, r1, &token, "mutation { updateTaskProgress(taskCode: \"VII.3\", input: {status: \"COMPLETED\"}) { status } }", json!({})).await;

    let after = cached(&graphql(&client, r2, &token, CACHED, json!({})).await);
    assert_eq!(after.total, before.total + 1, "totalCount");
    assert_eq!(after.five_stars, before.five_stars + 1, "the aggregate");
    assert_eq!(
        after.application_models,
        before.application_models + 1,
        "the target's value"
    );
    assert_ne!(before.task_status.as_deref(), Some("COMPLETED"));
    assert_eq!(
        after.task_status.as_deref(),
        Some("COMPLETED"),
        "the plan snapshot"
    );

    let event = change(&mut subscriber).await;
    assert_eq!(event["recordId"], created.as_str());
    assert_eq!(event["operation"], "CREATED");
    let last_seen = event["sequence"].as_str().unwrap().to_owned();
    drop(subscriber);

    // 100 writes through replicas 1 and 2 while the subscriber is away; it resumes on
    // replica 3 and gets all of them, in order.
    let mut missed = Vec::new();
    for i in 0..100 {
        let base = if i % 2 == 0 { r1 } else { r2 };
        missed.push(create_product(&client, base, &token, &format!("Sản phẩm {i}")).await);
    }
    let mut resumed =
        subscribe_at(r3, Some(&token), OCOP_CHANGES, json!({"after": last_seen})).await;
    for (i, id) in missed.iter().enumerate() {
        let event = change(&mut resumed).await;
        assert_eq!(event["recordId"], id.as_str(), "change {i} of 100");
    }
    assert_eq!(next(&mut resumed, Duration::from_millis(500)).await, None);
}

/// Three replicas, writers and readers spread over them round-robin, a subscriber on
/// each: no subscriber misses a change or gets one twice or out of order, and no read
/// shows fewer products than were acknowledged before it was sent. The figures are
/// printed; `KHCN_HUB_TEST_LOAD_SECS` sets the duration (30 s).
#[tokio::test]
async fn under_load_no_change_is_lost_and_no_read_contradicts_a_write() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

    use crate::subscriptions::{OCOP_CHANGES, subscribe_at};
    const WRITERS: usize = 4;
    const READERS: usize = 4;
    let seconds: u64 = std::env::var("KHCN_HUB_TEST_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let Some((_database, replicas, token)) = three_replicas(dir.path()).await else {
        return;
    };
    let bases: Arc<Vec<String>> = Arc::new(replicas.iter().map(|r| r.base.clone()).collect());
    let client = reqwest::Client::new();
    let count_query = "{ ocopProducts { totalCount } }";
    let start_total = graphql(&client, &bases[0], &token, count_query, json!({})).await["ocopProducts"]["totalCount"]
        .as_i64()
        .unwrap();

    let mut subscribers = Vec::new();
    for base in bases.iter() {
        subscribers.push(subscribe_at(base, Some(&token), OCOP_CHANGES, json!({})).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let receiving: Vec<_> = subscribers
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut seen: Vec<(i64, String, Instant)> = Vec::new();
                loop {
                    let Some(message) =
                        crate::subscriptions::next(&mut socket, Duration::from_secs(5)).await
                    else {
                        return seen;
                    };
                    assert_eq!(message["type"], "next", "{message}");
                    let event = &message["payload"]["data"]["recordChanged"];
                    seen.push((
                        event["sequence"].as_str().unwrap().parse().unwrap(),
                        event["recordId"].as_str().unwrap().to_owned(),
                        Instant::now(),
                    ));
                }
            })
        })
        .collect();

    let acknowledged = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let turn = Arc::new(AtomicUsize::new(0));
    let written: Arc<std::sync::Mutex<Vec<(String, Instant)>>> = Default::default();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, token, bases, acknowledged, stop, turn, written) = (
            client.clone(),
            token.clone(),
            bases.clone(),
            acknowledged.clone(),
            stop.clone(),
            turn.clone(),
            written.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let base = &bases[turn.fetch_add(1, Ordering::Relaxed) % bases.len()];
                let id = create_product(&client, base, &token, &format!("Tải {w}-{n}")).await;
                written.lock().unwrap().push((id, Instant::now()));
                acknowledged.fetch_add(1, Ordering::SeqCst);
                n += 1;
            }
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let (client, token, bases, acknowledged, stop, turn) = (
            client.clone(),
            token.clone(),
            bases.clone(),
            acknowledged.clone(),
            stop.clone(),
            turn.clone(),
        );
        readers.push(tokio::spawn(async move {
            let (mut reads, mut stale, mut latencies) = (0usize, 0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let base = &bases[turn.fetch_add(1, Ordering::Relaxed) % bases.len()];
                let floor = acknowledged.load(Ordering::SeqCst);
                let sent = Instant::now();
                let data = graphql(&client, base, &token, count_query, json!({})).await;
                latencies.push(sent.elapsed());
                let total = data["ocopProducts"]["totalCount"].as_i64().unwrap();
                reads += 1;
                if total < start_total + floor {
                    stale += 1;
                    eprintln!("stale read on {base}: {total} < {start_total} + {floor}");
                }
            }
            (reads, stale, latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let (mut reads, mut stale, mut latencies) = (0, 0, Vec::new());
    for reader in readers {
        let (r, s, l) = reader.await.unwrap();
        reads += r;
        stale += s;
        latencies.extend(l);
    }
    let written = std::mem::take(&mut *written.lock().unwrap());
    let writes = written.len();
    let acked_at: HashMap<&str, Instant> =
        written.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    let mut delays = Vec::new();
    for (replica, receiving) in receiving.into_iter().enumerate() {
        let seen = receiving.await.unwrap();
        let sequences: Vec<i64> = seen.iter().map(|s| s.0).collect();
        assert!(
            sequences.windows(2).all(|w| w[0] < w[1]),
            "replica {}: out of order",
            replica + 1
        );
        let ids: std::collections::HashSet<&str> = seen.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(
            ids.len(),
            seen.len(),
            "replica {}: a change twice",
            replica + 1
        );
        assert_eq!(
            seen.len(),
            writes,
            "replica {}: every acknowledged change, once",
            replica + 1
        );
        for (_, id, at) in &seen {
            let acked = acked_at
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{id} was never written"));
            delays.push(at.saturating_duration_since(*acked));
        }
    }
    latencies.sort();
    delays.sort();
    let pick =
        |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    eprintln!(
        "replicas under load, {seconds} s: {writes} writes ({:.0}/s), {reads} reads ({:.0}/s), {stale} stale; \
         read p50 {:.1} ms, p99 {:.1} ms; {} deliveries, after the write's response p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        writes as f64 / seconds as f64,
        reads as f64 / seconds as f64,
        pick(&latencies, 0.5),
        pick(&latencies, 0.99),
        delays.len(),
        pick(&delays, 0.5),
        pick(&delays, 0.99),
        pick(&delays, 1.0),
    );
    assert!(writes > 0 && reads > 0);
    assert_eq!(stale, 0, "a read contradicted an acknowledged write");
    let final_total = graphql(&client, &bases[2], &token, count_query, json!({})).await["ocopProducts"]["totalCount"]
        .as_i64()
        .unwrap();
    assert_eq!(final_total, start_total + writes as i64);
}
