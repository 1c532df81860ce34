//! Webhooks: a receiver on 127.0.0.1 that verifies every signature itself (HMAC-SHA256
//! as the Standard Webhooks specification states it, not the hub's code), fails on cue,
//! and holds an answer back while the hub is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, HubProcess, TestApp, TestDatabase, error_code, graphql};
use crate::registry::serve;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
    at: Instant,
    /// What the receiver answered.
    status: u16,
    /// The signature checked out against the secret the test holds.
    verified: bool,
}

/// An answer to give: the status, and a `Retry-After` value.
type Answer = (u16, Option<&'static str>);

#[derive(Clone, Default)]
struct Receiver {
    secret: Arc<Mutex<String>>,
    /// Answers to give, in order, before answering 204 to everything.
    script: Arc<Mutex<Vec<Answer>>>,
    /// While set, requests are held without an answer.
    hold: Arc<Mutex<bool>>,
    /// Requests that arrived, answered or not.
    arrived: Arc<std::sync::atomic::AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// Verifies a request as the specification says a receiver must: the signed content is
/// `id.timestamp.body`, the key the secret's base64 after `whsec_`, the timestamp recent,
/// and any one of the space-separated `v1,` signatures may match.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let Ok(timestamp) = header("webhook-timestamp").parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return false;
    }
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{timestamp}.", header("webhook-id")).as_bytes());
    mac.update(body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    header("webhook-signature")
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    receiver
        .arrived
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    while *receiver.hold.lock().unwrap() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secret = receiver.secret.lock().unwrap().clone();
    let verified = verify(&secret, &headers, &body);
    let (status, retry_after) = {
        let mut script = receiver.script.lock().unwrap();
        if script.is_empty() {
            (204, None)
        } else {
            script.remove(0)
        }
    };
    receiver.received.lock().unwrap().push(Received {
        id: headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
        status,
        verified,
    });
    let status = StatusCode::from_u16(status).unwrap();
    match retry_after {
        Some(seconds) => (status, [("retry-after", seconds)], "slow down").into_response(),
        None => (status, "ok").into_response(),
    }
}

impl Receiver {
    async fn start(&self) -> String {
        let url = serve(
            Router::new()
                .route("/hook", post(receive))
                .with_state(self.clone()),
        )
        .await;
        format!("{url}/hook")
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until the requests answered 2xx cover `count` distinct message ids.
    async fn delivered(&self, count: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            let delivered: BTreeSet<&str> = received
                .iter()
                .filter(|r| r.status < 300)
                .map(|r| r.id.as_str())
                .collect();
            if delivered.len() >= count {
                return received;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "{} of {count} delivered: {received:#?}",
                delivered.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

const CREATE_WEBHOOK: &str = "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret enabled events kinds agency { code } } }";
const CREATE_PRODUCT: &str =
    "mutation($name: String!) { createOcopProduct(input: {name: $name, stars: 4}) { id version } }";

async fn call(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = app.as_caller(Some(token), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.webhook_allow_private = true;
        s.webhook_retry_base_ms = 300;
    })
    .await
}

async fn a_burst_is_delivered_signed_through_500_and_429(app: TestApp) {
    let receiver = Receiver::default();
    // The endpoint is down for a while, then asks to wait a second.
    *receiver.script.lock().unwrap() = vec![(500, None), (500, None), (429, Some("1"))];
    let url = receiver.start().await;
    let admin = app.token("admin", None).await;
    let created = call(
        &app,
        &admin,
        CREATE_WEBHOOK,
        json!({"input": {
            "url": url, "events": ["record.created", "record.updated"], "kinds": ["OCOP_PRODUCT"],
            "description": "Cổng dữ liệu đối tác",
        }}),
    )
    .await["createWebhook"]
        .clone();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        created["events"],
        json!(["record.created", "record.updated"])
    );
    *receiver.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_owned();

    // A burst of acknowledged writes, and one of a kind the endpoint did not ask for.
    let mut expected = BTreeSet::new();
    for i in 0..20 {
        let product = call(
            &app,
            &admin,
            CREATE_PRODUCT,
            json!({"name": format!("Xoài Cao Lãnh {i}")}),
        )
        .await;
        expected.insert((
            "record.created".to_owned(),
            product["createOcopProduct"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    let first = expected.iter().next().unwrap().1.clone();
    call(&app, &admin, "mutation($id: ID!) { updateOcopProduct(id: $id, expectedVersion: 1, input: {name: \"Xoài Cao Lãnh loại 1\", stars: 5}) { id } }", json!({"id": first})).await;
    expected.insert(("record.updated".to_owned(), first));
    call(&app, &admin, "mutation { createStartup(input: {name: \"Khởi nghiệp sen\", organisation: {name: \"Công ty Sen Việt\"}}) { id } }", json!({})).await;

    let received = receiver.delivered(expected.len()).await;
    // Every request carried a valid signature; a repeated message is the same message.
    assert!(received.iter().all(|r| r.verified), "{received:#?}");
    let mut bodies: BTreeMap<&str, &Value> = BTreeMap::new();
    for r in &received {
        assert_eq!(
            *bodies.entry(&r.id).or_insert(&r.body),
            &r.body,
            "a retry changed the body of {}",
            r.id
        );
    }
    // Exactly the acknowledged events, each delivered (at least) once.
    let got: BTreeSet<(String, String)> = bodies
        .values()
        .map(|b| {
            (
                b["type"].as_str().unwrap().to_owned(),
                b["data"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(bodies.values().all(|b| b["data"]["kind"] == "OCOP_PRODUCT"));
    // The failures were retried: three refused attempts, then delivered.
    let refused: Vec<&Received> = received.iter().filter(|r| r.status >= 300).collect();
    assert_eq!(refused.len(), 3, "{received:#?}");
    // The 429's Retry-After was honoured before that message was tried again.
    let limited = received.iter().find(|r| r.status == 429).unwrap();
    let next = received
        .iter()
        .find(|r| r.id == limited.id && r.at > limited.at)
        .unwrap();
    assert!(
        next.at - limited.at >= Duration::from_millis(950),
        "{:?}",
        next.at - limited.at
    );

    // The owner sees each delivery and its attempts, once the hub has recorded the last
    // answers: the receiver counts a delivery when it replies, a moment before that.
    let id = created["id"].as_str().unwrap();
    let started = Instant::now();
    let page = loop {
        let page = call(&app, &admin, "query($w: ID!) { webhookDeliveries(webhook: $w, first: 100) { edges { node { id messageId eventType status attempts lastStatus } } pageInfo { hasNextPage } } }", json!({"w": id})).await;
        let settled = page["webhookDeliveries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["status"] != "PENDING");
        if settled || started.elapsed() > Duration::from_secs(30) {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let nodes: Vec<&Value> = page["webhookDeliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert_eq!(nodes.len(), expected.len());
    assert!(
        nodes
            .iter()
            .all(|n| n["status"] == "DELIVERED" && n["lastStatus"].as_i64().unwrap() < 300),
        "{nodes:#?}"
    );
    let attempts: i64 = nodes.iter().map(|n| n["attempts"].as_i64().unwrap()).sum();
    assert_eq!(attempts, expected.len() as i64 + 3);

    // Redelivery sends the same message again, signed with the rotated secret too.
    let rotated = call(
        &app,
        &admin,
        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret previousSecretExpiresAt } }",
        json!({"id": id}),
    )
    .await;
    assert_ne!(rotated["rotateWebhookSecret"]["secret"], created["secret"]);
    assert!(rotated["rotateWebhookSecret"]["previousSecretExpiresAt"].is_string());
    let again = nodes[0];
    call(
        &app,
        &admin,
        "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status } }",
        json!({"d": again["id"]}),
    )
    .await;
    let before = received.len();
    let started = Instant::now();
    while receiver.received().len() == before {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not redelivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = receiver.received().last().unwrap().clone();
    assert_eq!(last.id, again["messageId"].as_str().unwrap());
    assert!(
        last.verified,
        "the old secret still verifies during the overlap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_delivered_signed_through_500_and_429_sqlite() {
    a_burst_is_delivered_signed_through_500_and_429(spawn(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_delivered_signed_through_500_and_429_postgres() {
    if let Some(app) = spawn(Backend::Postgres).await {
        a_burst_is_delivered_signed_through_500_and_429(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_and_metadata_targets_are_refused_at_creation() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let admin = app.token("admin", None).await;
    for (url, what) in [
        ("http://10.0.0.1/hook", "10.0.0.1, a private address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254, a cloud metadata address",
        ),
        ("http://127.0.0.1:9/hook", "127.0.0.1, a loopback address"),
        ("http://[::1]/hook", "::1, a loopback address"),
        (
            "ftp://partner.example/hook",
            "the scheme must be http or https",
        ),
    ] {
        let (_, body) = app
            .as_caller(
                Some(&admin),
                CREATE_WEBHOOK,
                json!({"input": {"url": url, "events": ["record.created"]}}),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let error = &body["errors"][0];
        assert!(
            error["message"].as_str().unwrap().contains(what),
            "{url}: {body}"
        );
        assert_eq!(error["extensions"]["field"], "input.url", "{body}");
    }
    let (_, body) = app
        .as_caller(
            Some(&admin),
            CREATE_WEBHOOK,
            json!({"input": {"url": "https://partner.example/", "events": ["record.deleted"]}}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"record.deleted\" is not an event"),
        "{body}"
    );
    assert_eq!(app.count_rows("webhooks").await, 0, "nothing was created");

    // The command line refuses the same way.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args([
            "webhook",
            "create",
            "--url",
            "http://10.0.0.1/hook",
            "--events",
            "record.created",
        ])
        .env("DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("10.0.0.1, a private address"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agencies_manage_their_own_and_receive_what_they_may_read() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let khcn = app.token("agency", Some("so-khcn")).await;
    let nn = app.token("agency", Some("so-nn-ptnt")).await;
    let analyst = app.token("analyst", None).await;
    let (mine, theirs) = (Receiver::default(), Receiver::default());
    let events = json!(["record.created", "record.archived"]);
    let hook = |url: String| json!({"input": {"url": url, "events": events}});
    let own =
        call(&app, &khcn, CREATE_WEBHOOK, hook(mine.start().await)).await["createWebhook"].clone();
    assert_eq!(own["agency"]["code"], "so-khcn");
    *mine.secret.lock().unwrap() = own["secret"].as_str().unwrap().to_owned();
    let other =
        call(&app, &nn, CREATE_WEBHOOK, hook(theirs.start().await)).await["createWebhook"].clone();
    *theirs.secret.lock().unwrap() = other["secret"].as_str().unwrap().to_owned();

    // Another agency's endpoint is out of sight; analysts and anonymous callers manage none.
    let listed = call(&app, &khcn, "{ webhooks { id } }", json!({})).await;
    assert_eq!(listed["webhooks"], json!([{"id": own["id"]}]));
    let (_, body) = app
        .as_caller(
            Some(&khcn),
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({"id": other["id"]}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let (_, body) = app
        .as_caller(Some(&analyst), "{ webhooks { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let (_, body) = app.as_caller(None, "{ webhooks { id } }", json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let (_, body) = app.as_caller(Some(&khcn), CREATE_WEBHOOK, json!({"input": {"url": "https://x.example/", "events": ["record.created"], "agency": "so-nn-ptnt"}})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // so-nn-ptnt creates a product and archives it: the creation is public, the archived
    // record is its own.
    let created = call(
        &app,
        &nn,
        CREATE_PRODUCT,
        json!({"name": "Quýt Hồng Lai Vung"}),
    )
    .await;
    let id = created["createOcopProduct"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &app,
        &nn,
        "mutation($id: ID!) { archiveOcopProduct(id: $id, expectedVersion: 1) { id } }",
        json!({"id": id}),
    )
    .await;
    let got = theirs.delivered(2).await;
    let types: BTreeSet<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(["record.created", "record.archived"]));
    let got = mine.delivered(1).await;
    assert!(got.iter().all(|r| r.verified));
    // Give the archive's event time to arrive, were it (wrongly) sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let types: Vec<String> = mine
        .received()
        .iter()
        .map(|r| r.body["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        ["record.created"],
        "the archived record is not so-khcn's to read"
    );
}

backend_test! {
    async fn report_reminders_go_to_bodies_that_owe_and_are_sent_once(app) {
        use khcn_hub::db::entities::webhook_deliveries;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let admin = app.token("admin", None).await;
        // Admins see every body's reminder; an agency its own.
        call(&app, &admin, CREATE_WEBHOOK, json!({"input": {"url": "https://ops.example/hooks", "events": ["report.due", "report.submitted"]}})).await;
        let khcn = app.token("agency", Some("so-khcn")).await;
        call(&app, &khcn, CREATE_WEBHOOK, json!({"input": {"url": "https://khcn.example/hooks", "events": ["report.due"]}})).await;
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let now = chrono::Utc::now().fixed_offset();
        let owing = khcn_hub::store::reporting::yearly_report_duties(&app.db, 2026).await.unwrap()
            .into_iter()
            .filter(|d| d.duty == khcn_hub::domain::reporting::Duty::Owes && d.submitted_on.is_none())
            .count() as u64;
        assert!(owing > 1);
        // 7 days before: every body that owes, once, plus so-khcn's own endpoint.
        assert_eq!(khcn_hub::webhooks::remind(&app.db, day(8), now).await.unwrap(), owing + 1);
        assert_eq!(khcn_hub::webhooks::remind(&app.db, day(9), now).await.unwrap(), 0, "the same reminder is not sent twice");
        // so-khcn submits; the last reminder skips it.
        call(&app, &khcn, "mutation { submitAnnualReport(input: {agency: \"so-khcn\", year: 2026, summary: \"Báo cáo năm 2026\", submittedOn: \"2026-12-10\"}) { id } }", json!({})).await;
        assert_eq!(khcn_hub::webhooks::remind(&app.db, day(14), now).await.unwrap(), owing - 1);
        let due = webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::EventType.eq("report.due"))
            .order_by_asc(webhook_deliveries::Column::Id)
            .all(&app.db).await.unwrap();
        let payload: Value = serde_json::from_str(&due.last().unwrap().payload).unwrap();
        assert_eq!(payload["data"]["dueDate"], "2026-12-15");
        assert_eq!(payload["data"]["daysLeft"], 1);
        assert_eq!(khcn_hub::webhooks::remind(&app.db, day(15), now).await.unwrap(), 0);
        // The submission itself is announced, from the change log.
        let started = Instant::now();
        loop {
            let submitted = webhook_deliveries::Entity::find()
                .filter(webhook_deliveries::Column::EventType.eq("report.submitted"))
                .all(&app.db).await.unwrap();
            if let Some(delivery) = submitted.first() {
                assert_eq!(submitted.len(), 1);
                let payload: Value = serde_json::from_str(&delivery.payload).unwrap();
                assert_eq!(payload["data"]["kind"], "ANNUAL_REPORT");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "report.submitted was not queued");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The hub is killed while an attempt is in flight (committed, not delivered); the
/// next process delivers the same message.
#[tokio::test]
async fn a_delivery_cut_by_kill_9_is_made_after_restart() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    khcn_hub::sync::http::install_crypto_provider();
    let receiver = Receiver::default();
    *receiver.hold.lock().unwrap() = true;
    let url = receiver.start().await;
    let dir = tempfile::tempdir().unwrap();
    let connectors = dir.path().join("connectors");
    std::fs::create_dir(&connectors).unwrap();
    let connectors = connectors.to_str().unwrap().to_owned();
    let env = [
        ("KHCN_HUB_CONNECTORS", connectors.as_str()),
        ("KHCN_HUB_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("KHCN_HUB_WEBHOOK_TIMEOUT_SECS", "1"),
    ];
    let mut first = HubProcess::start(&database.url, &env, &dir.path().join("first.log")).await;
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    let token = khcn_hub::store::tokens::create_token(
        &db,
        khcn_hub::domain::auth::Role::Admin,
        None,
        None,
        None,
    )
    .await
    .unwrap()
    .token;
    let client = reqwest::Client::new();
    let created = graphql(
        &client,
        &first.base,
        &token,
        CREATE_WEBHOOK,
        json!({"input": {"url": url, "events": ["record.created"]}}),
    )
    .await;
    *receiver.secret.lock().unwrap() = created["createWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let product = graphql(
        &client,
        &first.base,
        &token,
        CREATE_PRODUCT,
        json!({"name": "Sen Đồng Tháp"}),
    )
    .await;
    let product = product["createOcopProduct"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The attempt is under way (the receiver holds it); kill the hub there.
    let started = Instant::now();
    while receiver.arrived.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no attempt was made:\n{}",
            first.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();
    *receiver.hold.lock().unwrap() = false;
    // Only an answer recorded after the restart counts as the new process's delivery,
    // whatever became of the request the dead one left behind.
    let restarted = Instant::now();
    let second = HubProcess::start(&database.url, &env, &dir.path().join("second.log")).await;
    let started = Instant::now();
    let (delivered, received) = loop {
        let received = receiver.received();
        if let Some(found) = received.iter().find(|r| r.at > restarted && r.status < 300) {
            break (found.clone(), received);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not delivered after the restart:\n{}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(delivered.verified);
    assert_eq!(delivered.body["type"], "record.created");
    assert_eq!(delivered.body["data"]["id"], product.as_str());
    // One message, attempted by the dead process and again by the new one.
    let ids: BTreeSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1, "{received:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_creates_lists_and_deletes_webhooks() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
            .args(args)
            .env("DATABASE_URL", app.database_url())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let created = run(&[
        "webhook",
        "create",
        "--url",
        "https://partner.example/hooks",
        "--events",
        "record.created,link.created",
        "--kinds",
        "OCOP_PRODUCT",
        "--agency",
        "so-khcn",
    ]);
    let secret = created.lines().last().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    let listed = run(&["webhook", "list"]);
    assert!(
        listed.contains("https://partner.example/hooks\trecord.created,link.created\tOCOP_PRODUCT"),
        "{listed}"
    );
    assert!(!listed.contains(secret), "secrets are not listed");
    let khcn = app.token("agency", Some("so-khcn")).await;
    let mine = call(&app, &khcn, "{ webhooks { id url kinds } }", json!({})).await;
    assert_eq!(mine["webhooks"][0]["kinds"], json!(["OCOP_PRODUCT"]));
    let id = mine["webhooks"][0]["id"].as_str().unwrap().to_owned();
    assert!(run(&["webhook", "delete", &id]).contains("deleted"));
    assert_eq!(app.count_rows("webhooks").await, 0);
}

backend_test! {
    async fn an_endpoint_failing_for_3_days_is_disabled_and_its_owner_sees_why(app) {
        use khcn_hub::store::webhooks as store;
        let admin = app.token("admin", None).await;
        let now = chrono::Utc::now().fixed_offset();
        // Its address turned private after creation: deliveries refuse it too.
        let webhook = store::create(&app.db, store::NewWebhook {
            url: "http://10.0.0.1/hook".into(),
            description: None,
            events: vec![khcn_hub::domain::webhooks::EventType::RecordCreated],
            kinds: vec![],
            owner_agency_id: None,
            created_by: "test".into(),
        }, now).await.unwrap();
        app.execute_sql(&format!(
            "UPDATE webhooks SET failing_since = '{}' WHERE id = {}",
            (now - chrono::Duration::days(4)).to_rfc3339(), webhook.id
        )).await;
        call(&app, &admin, CREATE_PRODUCT, json!({"name": "Sen Tháp Mười"})).await;
        let query = "query($id: ID!) { webhook(id: $id) { enabled disabledReason failingSince } webhookDeliveries(webhook: $id) { edges { node { status attempts lastError nextAttemptAt } } } }";
        let id = webhook.id.to_string();
        let started = Instant::now();
        let data = loop {
            let data = call(&app, &admin, query, json!({"id": id})).await;
            if data["webhook"]["enabled"] == false {
                break data;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "not disabled: {data}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let reason = data["webhook"]["disabledReason"].as_str().unwrap();
        assert!(reason.contains("every attempt failed since"), "{reason}");
        assert!(reason.contains("10.0.0.1, a private address"), "{reason}");
        let delivery = &data["webhookDeliveries"]["edges"][0]["node"];
        assert_eq!(delivery["status"], "PENDING", "kept for when the endpoint is back");
        assert_eq!(delivery["attempts"], 1);
        // Re-enabled by its owner, it is tried again.
        let data = call(&app, &admin, "mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: true}) { enabled disabledReason failingSince } }", json!({"id": id})).await;
        assert_eq!(data["updateWebhook"], json!({"enabled": true, "disabledReason": null, "failingSince": null}));
    }
}
