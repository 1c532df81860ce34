//! Faults: the database going away under load, a crash (`kill -9`) in the middle of a
//! bulk import and of a connector page, and a full disk. Each must end with nothing lost
//! and nothing half-written, and with the hub working again by itself.
//!
//! A database that stops applies to PostgreSQL only (SQLite is a file inside the
//! process); the others run on both backends.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::helpers::{Backend, TestApp, error_code};

const GQL: &str = "application/graphql-response+json";

// ---------------------------------------------------------------------------------------
// The database stops under load.

/// A TCP proxy in front of PostgreSQL that the test can cut and restore: cutting it
/// closes every connection and refuses new ones, as a stopped server does.
struct Proxy {
    address: SocketAddr,
    upstream: String,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(forward(listener, upstream.clone()));
        Self {
            address,
            upstream,
            task: Some(task),
        }
    }

    /// Closes every connection and the listening socket.
    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same address.
    async fn resume(&mut self) {
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.task = Some(tokio::spawn(forward(listener, self.upstream.clone())));
    }
}

async fn forward(listener: TcpListener, upstream: String) {
    // Owned here, so aborting this task drops (closes) every proxied connection.
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let upstream = upstream.clone();
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

/// `postgres://user@host:port/db` split into the server's address and the URL with the
/// address replaced by `via`.
fn through(url: &str, via: Option<SocketAddr>) -> (String, String) {
    let (scheme_user, rest) = url.split_once('@').unwrap();
    let (server, database) = rest.split_once('/').unwrap();
    let address = via.map_or_else(|| server.to_owned(), |a| a.to_string());
    (
        server.to_owned(),
        format!("{scheme_user}@{address}/{database}"),
    )
}

/// One request of the load and what came back.
#[derive(Debug, Clone)]
struct Sample {
    started: Instant,
    finished: Instant,
    status: u16,
    code: String,
    retryable: bool,
    retry_after: bool,
}

async fn load(app_url: String, client: reqwest::Client, until: Arc<Mutex<bool>>) -> Vec<Sample> {
    let query = json!({"query": "{ ocopProducts(first: 3) { nodes { id name } } }"});
    let mut samples = Vec::new();
    while !*until.lock().unwrap() {
        let started = Instant::now();
        let response = client
            .post(&app_url)
            .header("accept", GQL)
            .json(&query)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().contains_key("retry-after");
        let body: Value = response.json().await.unwrap();
        samples.push(Sample {
            started,
            finished: Instant::now(),
            status,
            code: error_code(&body).to_owned(),
            retryable: body["errors"][0]["extensions"]["retryable"] == true,
            retry_after,
        });
    }
    samples
}

async fn ready(app: &TestApp) -> (u16, Duration) {
    let started = Instant::now();
    let status = app
        .client
        .get(app.url("/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_database_fails_requests_fast_and_the_hub_recovers_by_itself() {
    let (upstream, _) = through(&crate::helpers::postgres_admin_url(), None);
    let mut proxy = Proxy::start(upstream).await;
    let via = proxy.address;
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| {
        s.database_url = through(&s.database_url, Some(via)).1;
    })
    .await
    else {
        return;
    };
    let until = Arc::new(Mutex::new(false));
    let workers: Vec<_> = (0..6)
        .map(|_| tokio::spawn(load(app.url("/graphql"), app.client.clone(), until.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    // The database stops. A request cut while the proxy is stopping may finish before
    // `stop` returns: "before the stop" ends when stopping begins.
    let stopping = Instant::now();
    proxy.stop().await;
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, took) = ready(&app).await;
    assert_eq!(status, 503, "/readyz with the database gone");
    assert!(took < Duration::from_secs(5), "/readyz took {took:?}");
    tokio::time::sleep(Duration::from_secs(6)).await;

    // It comes back: the hub recovers without a restart.
    proxy.resume().await;
    let back = Instant::now();
    let recovered = loop {
        let (status, _) = ready(&app).await;
        if status == 200 {
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "not ready 30 s after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    *until.lock().unwrap() = true;
    let mut samples = Vec::new();
    for worker in workers {
        samples.extend(worker.await.unwrap());
    }

    let before: Vec<_> = samples.iter().filter(|s| s.finished < stopping).collect();
    assert!(
        before.len() > 10 && before.iter().all(|s| s.status == 200 && s.code.is_empty()),
        "healthy before the stop: {before:?}"
    );
    // Every request made while the database was gone failed fast, as retryable.
    let during: Vec<_> = samples
        .iter()
        .filter(|s| s.started > stopped + Duration::from_millis(500) && s.finished < back)
        .collect();
    assert!(
        during.len() >= 6,
        "{} requests during the outage",
        during.len()
    );
    for sample in &during {
        assert_eq!(
            (
                sample.status,
                sample.code.as_str(),
                sample.retryable,
                sample.retry_after
            ),
            (503, "SERVICE_UNAVAILABLE", true, true),
            "{sample:?}"
        );
    }
    let slowest = samples
        .iter()
        .map(|s| s.finished - s.started)
        .max()
        .unwrap();
    assert!(
        slowest < Duration::from_secs(5),
        "a request took {slowest:?}"
    );
    assert!(
        samples
            .iter()
            .all(|s| s.status != 500 && s.code != "INTERNAL_SERVER_ERROR"),
        "no internal errors"
    );
    // Within 30 s of its return, and from then on, every request succeeds.
    let settled = back + recovered + Duration::from_millis(500);
    let after: Vec<_> = samples.iter().filter(|s| s.started > settled).collect();
    assert!(
        !after.is_empty() && after.iter().all(|s| s.status == 200 && s.code.is_empty()),
        "recovered"
    );
    eprintln!(
        "outage: {} requests failed within {slowest:?} each; ready again {recovered:?} after the database returned",
        during.len()
    );
}

// ---------------------------------------------------------------------------------------
// A crash in the middle of a write.

/// The hub binary running `serve` as a child process, to be killed with SIGKILL.
struct Process {
    child: std::process::Child,
    url: String,
}

impl Process {
    async fn serve(database_url: &str) -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("KHCN_HUB_BIND", format!("127.0.0.1:{port}"))
            .env("KHCN_HUB_SCHEDULES", "false")
            .env("KHCN_HUB_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let process = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/readyz", process.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return process;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the hub did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown hook, no rollback by the process itself.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `khcn-hub sync <name>` on a database, with connector definitions from `folder`.
fn sync_command(name: &str, database_url: &str, folder: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"));
    command
        .args(["sync", name])
        .env("DATABASE_URL", database_url)
        .env("KHCN_HUB_CONNECTORS", folder)
        .env("KHCN_HUB_LOG", "warn");
    command
}

/// A GraphQL POST to the hub at `base` as `token`.
fn graphql_post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("accept", GQL)
        .json(body)
        .timeout(Duration::from_secs(120))
}

/// Sends a request and reads its status and JSON body.
async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A connection of the test's own, beside the hub's.
async fn open(database_url: &str) -> DatabaseConnection {
    khcn_hub::db::connect(database_url).await.unwrap()
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Whether another connection holds a write transaction on `table` right now; `db` is
/// the test's own connection.
async fn writing(db: &DatabaseConnection, database_url: &str, table: &str) -> bool {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let sql = format!(
                "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                 WHERE c.relname = '{table}' AND l.mode = 'RowExclusiveLock' AND l.granted \
                 AND l.pid <> pg_backend_pid()"
            );
            scalar(db, &sql).await > 0
        }
        _ => {
            // SQLite has one writer: when an immediate transaction cannot start at once,
            // another connection is in the middle of writing.
            use sea_orm::sqlx::ConnectOptions as _;
            use sea_orm::sqlx::Connection as _;
            let options: sea_orm::sqlx::sqlite::SqliteConnectOptions =
                database_url.parse().unwrap();
            let mut connection = options
                .busy_timeout(Duration::ZERO)
                .connect()
                .await
                .unwrap();
            let busy = sea_orm::sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut connection)
                .await
                .is_err();
            if !busy {
                sea_orm::sqlx::query("ROLLBACK")
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
            let _ = connection.close().await;
            busy
        }
    }
}

fn import_body(from: usize, count: usize) -> Value {
    let records: Vec<Value> = (from..from + count)
        .map(|i| json!({"externalId": format!("BULK-{i:05}"), "input": {"name": format!("Bánh phồng tôm Sa Đéc {i}"), "stars": 3 + (i % 3) as i64, "district": "Lai Vung"}}))
        .collect();
    json!({
        "query": "mutation($records: [OcopProductImportRecord!]!) { importOcopProducts(records: $records) { created committed } }",
        "variables": {"records": records}
    })
}

backend_test! {
    async fn a_bulk_import_killed_midway_is_all_or_nothing(app) {
        // The hub under test is a child process on this test's database.
        let url = app.database_url();
        let token = app.token("agency", Some("so-khcn")).await;
        let mut hub = Process::serve(&url).await;
        let client = reqwest::Client::new();
        let (_, first) = answer(graphql_post(&client, &hub.url, &token, &import_body(0, 100))).await;
        assert_eq!(first["data"]["importOcopProducts"]["created"], 100, "{first}");

        // A large import, killed once its transaction has begun writing.
        let pending = tokio::spawn(graphql_post(&client, &hub.url, &token, &import_body(100, 2_000)).send());
        let watcher = open(&url).await;
        let started = Instant::now();
        loop {
            if writing(&watcher, &url, "ocop_products").await {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the import never began writing");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        hub.kill();
        assert!(pending.await.unwrap().is_err(), "the import finished before the kill");

        // After a restart: none of the killed import, all of the earlier one.
        let hub = Process::serve(&url).await;
        let db = open(&url).await;
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM ocop_products").await, 100);
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM audit_log WHERE record_kind = 'OCOP_PRODUCT'").await, 100);
        if app.backend == Backend::Sqlite {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), "PRAGMA integrity_check".to_owned()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok");
        }
        // The same import, sent again, is written whole.
        let (_, retried) = answer(graphql_post(&client, &hub.url, &token, &import_body(100, 2_000))).await;
        assert_eq!(retried["data"]["importOcopProducts"]["created"], 2_000, "{retried}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM ocop_products").await, 2_100);
    }
}

/// A GS1 EPCIS repository whose third page starts and then stalls, until told to serve.
#[derive(Clone)]
struct StallingRepo {
    events: Arc<Vec<Value>>,
    stall: Arc<Mutex<bool>>,
    stalled: Arc<tokio::sync::Notify>,
}

const PER_PAGE: usize = 10;

fn epcis_event(i: usize) -> Value {
    json!({
        "type": "ObjectEvent", "eventID": format!("urn:uuid:6ab7f6c0-0000-4000-8000-{i:012}"),
        "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
        "eventTime": format!("2024-06-01T{:02}:{:02}:00+07:00", 8 + i / 60, i % 60),
        "eventTimeZoneOffset": "+07:00",
        "recordTime": format!("2024-06-01T{:02}:{:02}:30Z", 1 + i / 60, i % 60),
        "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{}", 1000 + i)]
    })
}

async fn stalling_events(
    State(repo): State<StallingRepo>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let since = q.get("GE_recordTime").cloned();
    let selected: Vec<&Value> = repo
        .events
        .iter()
        .filter(|e| {
            since
                .as_deref()
                .is_none_or(|s| e["recordTime"].as_str().unwrap() >= s)
        })
        .collect();
    let start: usize = q
        .get("nextPageToken")
        .map_or(0, |t| t.trim_start_matches('t').parse().unwrap());
    let end = (start + PER_PAGE).min(selected.len());
    let document = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": "2024-06-01T09:00:00Z",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": selected[start..end]}}}
    })
    .to_string();
    let link = (end < selected.len()).then(|| {
        let mut next = format!("</events?perPage={PER_PAGE}&nextPageToken=t{end}");
        if let Some(since) = &since {
            next.push_str(&format!("&GE_recordTime={}", since.replace('+', "%2B")));
        }
        format!("{next}>; rel=\"next\"")
    });
    let body = if start == 2 * PER_PAGE && *repo.stall.lock().unwrap() {
        // Half the page, then nothing: the connector is in the middle of this page.
        let half = document.as_bytes()[..document.len() / 2].to_vec();
        repo.stalled.notify_one();
        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(half)])
            .chain(futures_util::stream::pending());
        axum::body::Body::from_stream(stream)
    } else {
        axum::body::Body::from(document)
    };
    let mut response = ([("content-type", "application/json")], body).into_response();
    if let Some(link) = link {
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    response
}

use futures_util::StreamExt as _;

backend_test! {
    async fn a_connector_killed_mid_page_never_moves_its_watermark_past_its_rows(app) {
        let url = app.database_url();
        let repo = StallingRepo {
            events: Arc::new((0..35).map(epcis_event).collect()),
            stall: Arc::new(Mutex::new(true)),
            stalled: Arc::new(tokio::sync::Notify::new()),
        };
        let registry = crate::registry::serve(
            Router::new().route("/events", get(stalling_events)).with_state(repo.clone()),
        )
        .await;
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(
            folder.path().join("epcis-crash.toml"),
            format!(
                "name = \"epcis-crash\"\nkind = \"epcis\"\nrecord_kind = \"TRACEABILITY_ENTRY\"\n\
                 schedule = \"*/15 * * * *\"\nurl = \"{registry}\"\nmode = \"incremental\"\n\
                 [epcis]\nper_page = {PER_PAGE}\n[http]\ntimeout_secs = 120\n"
            ),
        )
        .unwrap();

        // `khcn-hub sync` in a process of its own, killed while page 3 is arriving.
        let mut sync = sync_command("epcis-crash", &url, folder.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(60), repo.stalled.notified())
            .await
            .expect("the connector reached the third page");
        tokio::time::sleep(Duration::from_millis(300)).await;
        sync.kill().unwrap();
        sync.wait().unwrap();

        let db = open(&url).await;
        let rows = scalar(&db, "SELECT COUNT(*) FROM traceability_entries WHERE source = 'connector:epcis-crash'").await;
        assert_eq!(rows, 2 * PER_PAGE as i64, "two whole pages, nothing of the third");
        let state = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT watermark FROM connector_state WHERE name = 'epcis-crash'".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        let watermark: Option<String> = state.try_get_by_index(0).unwrap();
        let last_committed = epcis_event(2 * PER_PAGE - 1)["recordTime"].as_str().unwrap().to_owned();
        let watermark = watermark.expect("the committed pages moved the watermark");
        assert!(
            chrono::DateTime::parse_from_rfc3339(&watermark).unwrap()
                <= chrono::DateTime::parse_from_rfc3339(&last_committed).unwrap(),
            "watermark {watermark} is ahead of the last committed event {last_committed}"
        );

        // A killed run keeps its claim until it goes stale; once it has, the next run
        // picks up from the watermark and completes without duplicates.
        let busy = sync_command("epcis-crash", &url, folder.path()).output().unwrap();
        assert!(!busy.status.success(), "a fresh claim is respected");
        db.execute_unprepared(&format!(
            "UPDATE connector_state SET running_since = '{}' WHERE name = 'epcis-crash'",
            (chrono::Utc::now() - chrono::Duration::minutes(16)).to_rfc3339()
        ))
        .await
        .unwrap();
        *repo.stall.lock().unwrap() = false;
        let resumed = sync_command("epcis-crash", &url, folder.path()).output().unwrap();
        assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
        assert_eq!(
            scalar(&db, "SELECT COUNT(DISTINCT event_id) FROM traceability_entries WHERE source = 'connector:epcis-crash'").await,
            35
        );
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) FROM traceability_entries WHERE source = 'connector:epcis-crash'").await,
            35
        );
    }
}

// ---------------------------------------------------------------------------------------
// A full disk.

// PostgreSQL's disk is the server's, not the hub's; its disk_full error (SQLSTATE
// 53100) takes the same path to STORAGE_FULL, checked in the unit tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_file_refuses_the_write_whole_and_works_once_space_is_freed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let url = app.database_url();
    let db = open(&url).await;
    let pages = scalar(&db, "PRAGMA page_count").await;
    // A quota of the current size plus about 1 MiB.
    let size_mb = (pages * 4096) / (1024 * 1024) + 2;
    let mut settings = khcn_hub::config::Settings::with_database(&url);
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.sqlite_max_size_mb = size_mb as u64;
    settings.schedules = false;
    let hub = khcn_hub::app::App::build(&settings).await.unwrap();
    let address = format!("http://{}", hub.local_addr().unwrap());
    tokio::spawn(hub.run_until_stopped(std::future::pending()));
    let token = app.token("agency", Some("so-khcn")).await;
    let client = reqwest::Client::new();
    let send = |body: Value| answer(graphql_post(&client, &address, &token, &body));

    // Imports of 500 rows until the file is full.
    let mut imported = 0;
    let refusal = loop {
        let (status, body) = send(import_body(imported, 500)).await;
        if body["errors"].is_array() {
            break (status, body);
        }
        assert_eq!(body["data"]["importOcopProducts"]["created"], 500, "{body}");
        imported += 500;
        assert!(imported < 50_000, "the quota never filled");
    };
    let (status, body) = refusal;
    assert_eq!(status, 507, "{body}");
    assert_eq!(error_code(&body), "STORAGE_FULL", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryable"], true);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("no space left") && !message.contains("SQLITE"),
        "{message}"
    );
    // Nothing of the refused import was kept.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM ocop_products").await,
        imported as i64
    );
    assert!(imported > 0, "some imports fit first");

    // Reads still work on a full database.
    let (_, read) = send(json!({"query": "{ ocopProducts(first: 1) { totalCount } }"})).await;
    assert_eq!(
        read["data"]["ocopProducts"]["totalCount"], imported,
        "{read}"
    );

    // Space is freed (the first import's rows and their history are dropped): the
    // same import now succeeds, with no restart.
    db.execute_unprepared("DELETE FROM audit_log")
        .await
        .unwrap();
    db.execute_unprepared("DELETE FROM ocop_products WHERE external_id < 'BULK-00500'")
        .await
        .unwrap();
    let (_, retried) = send(import_body(imported, 500)).await;
    assert_eq!(
        retried["data"]["importOcopProducts"]["created"], 500,
        "{retried}"
    );
}
