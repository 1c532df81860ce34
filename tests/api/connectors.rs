//! Connectors over real HTTP against fake registries on 127.0.0.1: every kind and
//! pagination style, faults, quarantine, withdrawal, resumption, and the GraphQL and CLI
//! surfaces.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::registry::{FAST_HTTP, Script, definition, serve, sync_once};

type Params = Query<std::collections::HashMap<String, String>>;

// ---------------------------------------------------------------------------------------
// CKAN
// ---------------------------------------------------------------------------------------

fn ocop_row(i: usize) -> Value {
    json!({
        "_id": i + 1,
        "ma_san_pham": format!("DT-{i:03}"),
        "ten_san_pham": format!("Sản phẩm OCOP {i}"),
        "chu_the": format!("HTX số {}", i % 5),
        "xa": "Tân Thành",
        "huyen": if i.is_multiple_of(2) { "Lai Vung" } else { "huyện Tháp Mười" },
        "so_sao": if i.is_multiple_of(3) { json!(4) } else { json!(format!("{} sao", 3 + i % 3)) },
        "ngay_cong_nhan": format!("{:02}/03/2023", 1 + i % 28),
        "nam_danh_gia": 2023
    })
}

#[derive(Clone, Default)]
struct Ckan {
    rows: Vec<Value>,
    refuse: bool,
}

async fn ckan_search(State(script): State<Script<Ckan>>, Query(q): Params) -> Response {
    let state = script.get();
    if state.refuse {
        return axum::Json(json!({"success": false, "error": {"message": "Resource not found", "__type": "Not Found Error"}})).into_response();
    }
    assert_eq!(q.get("sort").map(String::as_str), Some("_id"));
    // This server clamps every page to 10 rows, whatever `limit` asks.
    let limit = q["limit"].parse::<usize>().unwrap().min(10);
    let offset = q["offset"].parse::<usize>().unwrap();
    let records: Vec<Value> = state
        .rows
        .iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    axum::Json(json!({"success": true, "result": {
        "resource_id": q["resource_id"], "limit": limit, "offset": offset,
        "total": state.rows.len(), "records": records
    }}))
    .into_response()
}

/// The same CKAN, behind a bearer token.
async fn ckan_search_authed(
    state: State<Script<Ckan>>,
    query: Params,
    headers: HeaderMap,
) -> Response {
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some("Bearer s3cret")
    {
        return (StatusCode::UNAUTHORIZED, "token required").into_response();
    }
    ckan_search(state, query).await
}

const OCOP_CKAN: &str = r#"
name = "ocop-test"
kind = "ckan_datastore"
record_kind = "OCOP_PRODUCT"
schedule = "0 2 * * *"
url = "{url}"
[ckan]
resource_id = "ocop-2023"
page_size = 100
[fields]
externalId = "ma_san_pham"
name = "ten_san_pham"
"producer.name" = "chu_the"
commune = "xa"
district = "huyen"
stars = { from = "so_sao", parse = "stars" }
certifiedOn = { from = "ngay_cong_nhan", parse = "date" }
evaluationYear = "nam_danh_gia"
[[links]]
task = "V.4"
"#;

backend_test! {
    async fn a_ckan_snapshot_is_synced_updated_and_withdrawn(app) {
        let script = Script::<Ckan>::default();
        script.set(Ckan { rows: (0..25).map(ocop_row).collect(), refuse: false });
        let url = serve(Router::new().route("/api/3/action/datastore_search", get(ckan_search)).with_state(script.clone())).await;
        let definition = definition(OCOP_CKAN, &url);

        let first = sync_once(&app, &definition).await;
        assert!(first.succeeded, "{:?}", first.error);
        assert_eq!((first.counts.fetched, first.counts.created), (25, 25));
        let data = app.query(r#"{ ocopProducts(filter: {district: {eq: "Lai Vung"}}, first: 50) { totalCount nodes { externalId source stars certifiedOn producer { name } tasks { code } } } }"#).await;
        assert_eq!(data["ocopProducts"]["totalCount"], 13);
        let node = &data["ocopProducts"]["nodes"][0];
        assert_eq!(node["source"], "connector:ocop-test");
        assert_eq!(node["tasks"][0]["code"], "V.4");
        let dt000 = data["ocopProducts"]["nodes"].as_array().unwrap().iter().find(|n| n["externalId"] == "DT-000").unwrap();
        assert_eq!(dt000["stars"], 4);
        assert_eq!(dt000["certifiedOn"], "2023-03-01");
        assert_eq!(dt000["producer"]["name"], "HTX số 0");

        // Nothing new: nothing is written, not even the audit log.
        let audit = app.count_rows("audit_log").await;
        let second = sync_once(&app, &definition).await;
        assert_eq!((second.counts.created, second.counts.updated, second.counts.unchanged), (0, 0, 25));
        assert_eq!(app.count_rows("audit_log").await, audit);

        // One row changes, two leave the registry: one update, two withdrawals.
        let mut rows: Vec<Value> = (0..23).map(ocop_row).collect();
        rows[5]["so_sao"] = json!("5 sao");
        rows[5]["so_sao"] = json!(if rows[5]["so_sao"] == "5 sao" { "3 sao" } else { "5 sao" });
        script.set(Ckan { rows, refuse: false });
        let third = sync_once(&app, &definition).await;
        assert_eq!((third.counts.updated, third.counts.withdrawn, third.counts.created), (1, 2, 0), "{:?}", third);
        let data = app.query(r#"{ ocopProducts(first: 50) { totalCount } all: ocopProducts(first: 50, includeInactive: true) { nodes { externalId withdrawnAt } } }"#).await;
        assert_eq!(data["ocopProducts"]["totalCount"], 23);
        let withdrawn: Vec<&str> = data["all"]["nodes"].as_array().unwrap().iter()
            .filter(|n| n["withdrawnAt"].is_string()).map(|n| n["externalId"].as_str().unwrap()).collect();
        assert_eq!(withdrawn.len(), 2);
        assert!(withdrawn.contains(&"DT-023") && withdrawn.contains(&"DT-024"));

        // CKAN's `success: false` fails the run even with HTTP 200.
        script.set(Ckan { rows: Vec::new(), refuse: true });
        let refused = sync_once(&app, &definition).await;
        assert!(!refused.succeeded);
        assert!(refused.error.unwrap().contains("Resource not found"));
        assert_eq!(app.count_rows("ocop_products").await, 25, "a refused run writes nothing");
    }
}

// ---------------------------------------------------------------------------------------
// http_json: every pagination style
// ---------------------------------------------------------------------------------------

fn ip_row(i: usize) -> Value {
    json!({"so_don": format!("4-2023-{i:05}"), "ten": format!("Nhãn hiệu {i}"), "loai": "TRADEMARK",
           "quoc_gia": "VN", "ngay_nop_don": "02/01/2023", "nong_san": if i.is_multiple_of(2) { "có" } else { "không" }})
}

const ROWS: usize = 7;
const PER_PAGE: usize = 3;

async fn by_offset(Query(q): Params) -> Response {
    let offset: usize = q["offset"].parse().unwrap();
    let limit: usize = q["limit"].parse().unwrap();
    axum::Json(
        json!({"data": (offset..(offset + limit).min(ROWS)).map(ip_row).collect::<Vec<_>>()}),
    )
    .into_response()
}

async fn by_page(Query(q): Params) -> Response {
    let page: usize = q["page"].parse().unwrap();
    let size: usize = q["per_page"].parse().unwrap();
    let start = (page - 1) * size;
    axum::Json(json!({"data": (start..(start + size).min(ROWS)).map(ip_row).collect::<Vec<_>>()}))
        .into_response()
}

async fn by_cursor(Query(q): Params) -> Response {
    let start: usize = q
        .get("after")
        .map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
    let end = (start + PER_PAGE).min(ROWS);
    let next = (end < ROWS).then(|| format!("c{end}"));
    axum::Json(json!({"data": (start..end).map(ip_row).collect::<Vec<_>>(), "meta": {"next_cursor": next}})).into_response()
}

async fn by_next_url(Query(q): Params) -> Response {
    let start: usize = q.get("from").map_or(0, |c| c.parse().unwrap());
    let end = (start + PER_PAGE).min(ROWS);
    let next = (end < ROWS).then(|| format!("/next-url?from={end}"));
    axum::Json(
        json!({"data": (start..end).map(ip_row).collect::<Vec<_>>(), "links": {"next": next}}),
    )
    .into_response()
}

async fn by_link_header(Query(q): Params) -> Response {
    let start: usize = q.get("from").map_or(0, |c| c.parse().unwrap());
    let end = (start + PER_PAGE).min(ROWS);
    let mut response =
        axum::Json(json!({"data": (start..end).map(ip_row).collect::<Vec<_>>()})).into_response();
    if end < ROWS {
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&format!(
                "</link-header?from=0>; rel=\"first\", </link-header?from={end}>; rel=\"next\""
            ))
            .unwrap(),
        );
    }
    response
}

const IP_JSON: &str = r#"
name = "{name}"
kind = "http_json"
record_kind = "IP_RIGHT"
schedule = "0 4 1 * *"
url = "{url}/{path}"
[http_json]
records_pointer = "/data"
pagination = {pagination}
[fields]
externalId = "/so_don"
name = "/ten"
kind = "/loai"
jurisdiction = "/quoc_gia"
filedOn = { from = "/ngay_nop_don", parse = "date" }
farmProduct = { from = "/nong_san", parse = "bool" }
"#;

backend_test! {
    async fn http_json_reads_every_pagination_style(app) {
        let url = serve(Router::new()
            .route("/offset", get(by_offset))
            .route("/page", get(by_page))
            .route("/cursor", get(by_cursor))
            .route("/next-url", get(by_next_url))
            .route("/link-header", get(by_link_header))).await;
        let styles = [
            ("offset", r#"{ style = "offset", limit = 3 }"#),
            ("page", r#"{ style = "page", size = 3 }"#),
            ("cursor", r#"{ style = "cursor", cursor_param = "after", cursor_pointer = "/meta/next_cursor" }"#),
            ("next-url", r#"{ style = "next_url", next_pointer = "/links/next" }"#),
            ("link-header", r#"{ style = "link_header" }"#),
        ];
        let farm = r#"{ ipRights(filter: {farmProduct: {eq: true}}, first: 100) { totalCount nodes { filedOn jurisdiction } } }"#;
        let before = app.query(farm).await["ipRights"]["totalCount"].as_i64().unwrap();
        for (path, pagination) in styles {
            let text = IP_JSON.replace("{name}", &format!("ip-{path}")).replace("{path}", path).replace("{pagination}", pagination);
            let report = sync_once(&app, &definition(&text, &url)).await;
            assert!(report.succeeded, "{path}: {:?}", report.error);
            assert_eq!((report.counts.fetched, report.counts.created), (ROWS as i64, ROWS as i64), "{path}");
        }
        let data = app.query(farm).await;
        assert_eq!(data["ipRights"]["totalCount"].as_i64().unwrap() - before, 4 * styles.len() as i64);
        assert!(data["ipRights"]["nodes"].as_array().unwrap().iter().any(|n| n["filedOn"] == "2023-01-02"));
    }
}

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
enum Fault {
    #[default]
    None,
    /// 500 on the first attempt of each request.
    FlakyServerError,
    /// 429 with Retry-After: 1 on the first attempt.
    RateLimited,
    /// Never answers.
    Hang,
    Malformed,
    Truncated,
    HtmlPage,
    /// The second page always fails with 500.
    SecondPageDown,
}

#[derive(Clone)]
struct Faulty {
    fault: Script<Fault>,
    attempts: Arc<AtomicUsize>,
}

async fn faulty(State(state): State<Faulty>, Query(q): Params) -> Response {
    let attempt = state.attempts.fetch_add(1, Ordering::SeqCst);
    let page: usize = q["page"].parse().unwrap();
    let body = || {
        axum::Json(json!({"data": (((page - 1) * 3)..(page * 3).min(ROWS)).map(ip_row).collect::<Vec<_>>()})).into_response()
    };
    match state.fault.get() {
        Fault::None => body(),
        Fault::FlakyServerError if attempt % 2 == 0 => {
            (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
        }
        Fault::RateLimited if attempt % 2 == 0 => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Fault::FlakyServerError | Fault::RateLimited => body(),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            body()
        }
        Fault::Malformed => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"data\": [1, 2,, ]}",
        )
            .into_response(),
        Fault::Truncated => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"data\": [{\"so_don\": \"4-2",
        )
            .into_response(),
        Fault::HtmlPage => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Hệ thống đang bảo trì</body></html>",
        )
            .into_response(),
        Fault::SecondPageDown if page >= 2 => {
            (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response()
        }
        Fault::SecondPageDown => body(),
    }
}

backend_test! {
    async fn faults_are_retried_or_fail_the_run_without_advancing(app) {
        let state = Faulty { fault: Script::default(), attempts: Arc::new(AtomicUsize::new(0)) };
        let url = serve(Router::new().route("/ip", get(faulty)).with_state(state.clone())).await;
        let text = IP_JSON.replace("{name}", "ip-faulty").replace("{path}", "ip")
            .replace("{pagination}", r#"{ style = "page", size = 3 }"#)
            + FAST_HTTP + "pause_after_failures = 3\n";
        // `pause_after_failures` must sit before the tables: move it up.
        let text = text.replace("pause_after_failures = 3\n", "").replacen("[http_json]", "pause_after_failures = 3\n[http_json]", 1);
        let definition = definition(&text, &url);
        // An admin's endpoint for connector events: failures are announced in the
        // transaction that records them.
        khcn_hub::store::webhooks::create(&app.db, khcn_hub::store::webhooks::NewWebhook {
            url: "https://ops.example/hooks".into(),
            description: None,
            events: vec![khcn_hub::domain::webhooks::EventType::ConnectorRunFailed, khcn_hub::domain::webhooks::EventType::ConnectorPaused],
            kinds: vec![],
            owner_agency_id: None,
            created_by: "test".into(),
        }, chrono::Utc::now().fixed_offset()).await.unwrap();

        // Retried: a 500, and a 429 whose Retry-After is waited for.
        state.fault.set(Fault::FlakyServerError);
        let report = sync_once(&app, &definition).await;
        assert!(report.succeeded, "{:?}", report.error);
        assert_eq!(report.counts.created, ROWS as i64);
        state.fault.set(Fault::RateLimited);
        let started = Instant::now();
        let report = sync_once(&app, &definition).await;
        assert!(report.succeeded, "{:?}", report.error);
        assert!(started.elapsed() >= Duration::from_secs(3), "three pages each waited 1 s: {:?}", started.elapsed());

        // Failures: each named, nothing written, the position not advanced.
        let rights = app.count_rows("ip_rights").await;
        for (fault, expected) in [
            (Fault::Malformed, "did not answer JSON"),
            (Fault::Truncated, "did not answer JSON"),
            (Fault::HtmlPage, "text/html"),
            (Fault::Hang, "did not answer within"),
        ] {
            state.fault.set(fault);
            let report = sync_once(&app, &definition).await;
            assert!(!report.succeeded, "{fault:?}");
            assert!(report.error.as_deref().unwrap().contains(expected), "{fault:?}: {:?}", report.error);
            assert_eq!(app.count_rows("ip_rights").await, rights);
        }
        // Four failures in a row (threshold 3): paused, and visible as such.
        let data = app.query(r#"{ syncRuns(connector: "ip-faulty", first: 1) { edges { node { status error } } } }"#).await;
        assert_eq!(data["syncRuns"]["edges"][0]["node"]["status"], "FAILED");
        use sea_orm::EntityTrait;
        let state_row = khcn_hub::db::entities::connector_state::Entity::find_by_id("ip-faulty".to_owned()).one(&app.db).await.unwrap().unwrap();
        assert!(state_row.paused, "{state_row:?}");
        assert!(state_row.paused_reason.unwrap().contains("4 failed runs"));
        assert!(state_row.running_since.is_none());
        // Each failed run announced once, the pause once (when it began).
        let announced = |event: &'static str| {
            let db = app.db.clone();
            async move {
                use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
                use khcn_hub::db::entities::webhook_deliveries::{Column, Entity};
                Entity::find().filter(Column::EventType.eq(event)).order_by_asc(Column::Id).all(&db).await.unwrap()
            }
        };
        let failed = announced("connector.run.failed").await;
        assert_eq!(failed.len(), 4, "{failed:?}");
        let payload: Value = serde_json::from_str(&failed[0].payload).unwrap();
        assert_eq!(payload["data"]["connector"], "ip-faulty");
        assert!(payload["data"]["error"].as_str().unwrap().contains("did not answer JSON"), "{payload}");
        let paused = announced("connector.paused").await;
        assert_eq!(paused.len(), 1, "{paused:?}");
        let payload: Value = serde_json::from_str(&paused[0].payload).unwrap();
        assert!(payload["data"]["reason"].as_str().unwrap().contains("3 failed runs"), "{payload}");
    }
}

backend_test! {
    async fn an_interrupted_snapshot_resumes_and_ends_like_an_uninterrupted_one(app) {
        let state = Faulty { fault: Script::default(), attempts: Arc::new(AtomicUsize::new(0)) };
        let url = serve(Router::new().route("/ip", get(faulty)).with_state(state.clone())).await;
        let text = IP_JSON.replace("{name}", "ip-resume").replace("{path}", "ip")
            .replace("{pagination}", r#"{ style = "page", size = 3 }"#) + FAST_HTTP;
        let definition = definition(&text, &url);

        state.fault.set(Fault::SecondPageDown);
        let broken = sync_once(&app, &definition).await;
        assert!(!broken.succeeded);
        assert_eq!(broken.counts.created, 3, "the first page was committed");
        use sea_orm::EntityTrait;
        let saved = khcn_hub::db::entities::connector_state::Entity::find_by_id("ip-resume".to_owned()).one(&app.db).await.unwrap().unwrap();
        assert_eq!(saved.cursor.as_deref(), Some("2"), "the cursor points at the page that failed");

        state.fault.set(Fault::None);
        let resumed = sync_once(&app, &definition).await;
        assert!(resumed.succeeded, "{:?}", resumed.error);
        assert_eq!(resumed.counts.fetched, 4, "only pages 2 and 3 were fetched again");
        assert_eq!(resumed.counts.withdrawn, 0, "rows of the first attempt are not taken for withdrawn");
        let data = app.query(r#"{ ipRights(filter: {name: {contains: "Nhãn hiệu"}}, first: 50) { totalCount } }"#).await;
        assert_eq!(data["ipRights"]["totalCount"], ROWS);
    }
}

backend_test! {
    async fn a_run_stops_at_a_page_on_shutdown_and_another_replica_resumes_it(app) {
        let state = Faulty { fault: Script::default(), attempts: Arc::new(AtomicUsize::new(0)) };
        let url = serve(Router::new().route("/ip", get(faulty)).with_state(state.clone())).await;
        let text = IP_JSON.replace("{name}", "ip-shutdown").replace("{path}", "ip")
            .replace("{pagination}", r#"{ style = "page", size = 3 }"#) + FAST_HTTP;
        let definition = definition(&text, &url);

        // Replica A shuts down once its first page is committed.
        let shutdown = khcn_hub::shutdown::Shutdown::default();
        let mut replica_a = khcn_hub::sync::Engine::new(app.db.clone(), app.feed.clone());
        replica_a.shutdown = shutdown.signal();
        let run = replica_a.begin_run(&definition, khcn_hub::sync::Trigger::Schedule).await.unwrap();
        let stop_after_first_page = |counts: &khcn_hub::store::sync::Counts| {
            if counts.fetched >= 3 {
                shutdown.start();
            }
        };
        let stopped = replica_a.continue_run(&definition, run, Some(&stop_after_first_page)).await.unwrap();
        assert!(!stopped.succeeded);
        assert!(stopped.error.as_deref().unwrap().starts_with("interrupted"), "{:?}", stopped.error);
        assert_eq!(stopped.counts.created, 3, "the first page was committed, no more");
        assert_eq!(replica_a.runs.count(), 0);
        let refused = replica_a.begin_run(&definition, khcn_hub::sync::Trigger::Schedule).await;
        assert!(matches!(refused, Err(khcn_hub::sync::SyncError::Interrupted)), "no new run once shutting down: {refused:?}");
        use sea_orm::EntityTrait;
        let saved = khcn_hub::db::entities::connector_state::Entity::find_by_id("ip-shutdown".to_owned()).one(&app.db).await.unwrap().unwrap();
        assert_eq!(saved.running_since, None, "the claim was let go");
        assert_eq!(saved.consecutive_failures, 0, "an interrupted run is not a failed one");
        assert_eq!(saved.cursor.as_deref(), Some("2"));

        // Replica B takes it over at once, from the page after the last committed one.
        let replica_b = khcn_hub::sync::Engine::new(app.db.clone(), app.feed.clone());
        let resumed = replica_b.run(&definition, khcn_hub::sync::Trigger::Schedule, None).await.unwrap();
        assert!(resumed.succeeded, "{:?}", resumed.error);
        assert_eq!(resumed.counts.fetched, 4, "pages 2 and 3 only");
        let data = app.query(r#"{ ipRights(filter: {name: {contains: "Nhãn hiệu"}}, first: 50) { totalCount } }"#).await;
        assert_eq!(data["ipRights"]["totalCount"], ROWS, "nothing lost, nothing twice");
    }
}

// ---------------------------------------------------------------------------------------
// EPCIS
// ---------------------------------------------------------------------------------------

/// The project's own EPCIS documents (`tests/api/data/epcis/`) that make the feed.
const OWN_FEED: [&str; 6] = [
    "object-events.jsonld",
    "aggregation.jsonld",
    "transformation.jsonld",
    "transactions.jsonld",
    "sensor-data.jsonld",
    "query-document.jsonld",
];

fn own_epcis_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/data/epcis")
}

/// The events of EPCIS documents in `dir`, in order, whether capture or query documents.
fn events_of(dir: &std::path::Path, files: &[&str]) -> Vec<Value> {
    let mut events = Vec::new();
    for file in files {
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let list = document
            .pointer("/epcisBody/eventList")
            .or_else(|| document.pointer("/epcisBody/queryResults/resultsBody/eventList"))
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{file} holds no event list"));
        events.extend(list.iter().cloned());
    }
    events
}

/// The repository stamps `recordTime` in arrival order, after `hour`:00 on 1 May 2024.
fn stamped(mut events: Vec<Value>, hour: u32) -> Vec<Value> {
    for (i, event) in events.iter_mut().enumerate() {
        event["recordTime"] = json!(format!("2024-05-01T{hour:02}:{i:02}:00Z"));
    }
    events
}

fn fixture_events() -> Vec<Value> {
    stamped(events_of(&own_epcis_dir(), &OWN_FEED), 8)
}

#[derive(Clone, Default)]
struct EpcisRepo {
    events: Vec<Value>,
    /// Tokens handed out; a used token is forgotten (it expires) when set.
    expire_tokens: bool,
    issued: Vec<String>,
}

async fn epcis_events(
    State(script): State<Script<EpcisRepo>>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    assert!(headers.get(header::AUTHORIZATION).is_none());
    let mut repo = script.get();
    let per_page: usize = q["perPage"].parse().unwrap();
    let since = q.get("GE_recordTime").cloned();
    let selected: Vec<Value> = repo
        .events
        .iter()
        .filter(|e| {
            since
                .as_deref()
                .is_none_or(|s| e["recordTime"].as_str().unwrap() >= s)
        })
        .cloned()
        .collect();
    let start = match q.get("nextPageToken") {
        Some(token) => {
            if !repo.issued.contains(token) {
                return (StatusCode::NOT_FOUND, axum::Json(json!({"type": "epcisException:QueryTooComplexException", "title": "nextPageToken expired"}))).into_response();
            }
            if repo.expire_tokens {
                repo.issued.retain(|t| t != token);
                repo.expire_tokens = false;
                script.set(repo.clone());
                return (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"title": "nextPageToken expired"})),
                )
                    .into_response();
            }
            token.trim_start_matches("t").parse::<usize>().unwrap()
        }
        None => 0,
    };
    let end = (start + per_page).min(selected.len());
    let page: Vec<Value> = selected[start..end].to_vec();
    let mut response = axum::Json(json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": "2024-05-01T09:00:00Z",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": page}}}
    })).into_response();
    if end < selected.len() {
        let token = format!("t{end}");
        repo.issued.push(token.clone());
        script.set(repo);
        let mut next = format!("/events?perPage={per_page}&nextPageToken={token}");
        if let Some(since) = since {
            next.push_str(&format!("&GE_recordTime={}", since.replace('+', "%2B")));
        }
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")).unwrap(),
        );
    }
    response
}

const EPCIS: &str = r#"
name = "epcis-test"
kind = "epcis"
record_kind = "TRACEABILITY_ENTRY"
schedule = "*/15 * * * *"
url = "{url}"
mode = "incremental"
[epcis]
per_page = 3
"#;

const HARVEST: &str = "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e01";
const MANDARIN_SHIPPING: &str = "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e02";
const CORRECTIVE: &str = "urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e12";

backend_test! {
    async fn epcis_events_are_read_incrementally_through_expired_tokens(app) {
        let events = fixture_events();
        let total = events.len();
        assert_eq!(total, 12);
        let script = Script::<EpcisRepo>::default();
        script.set(EpcisRepo { events: events.clone(), expire_tokens: true, issued: Vec::new() });
        let url = serve(Router::new().route("/events", get(epcis_events)).with_state(script.clone())).await;
        let definition = definition(EPCIS, &url);

        // The first page's token expires when used: the run starts again from its watermark.
        let first = sync_once(&app, &definition).await;
        assert!(first.succeeded, "{:?}", first.error);
        assert_eq!(first.counts.created, total as i64);
        let data = app.query(r#"{ traceabilityEntries(first: 50) { totalCount nodes { eventId eventType eventTimeZoneOffset action bizStep disposition epc gtin serial lot quantity uom readPoint bizLocation } } }"#).await;
        assert_eq!(data["traceabilityEntries"]["totalCount"], total);
        let nodes = data["traceabilityEntries"]["nodes"].as_array().unwrap();
        let by_id = |id: &str| nodes.iter().find(|n| n["eventId"] == id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(
            by_id(HARVEST),
            &json!({ "eventId": HARVEST, "eventType": "ObjectEvent", "eventTimeZoneOffset": "+07:00",
                     "action": "ADD", "bizStep": "commissioning", "disposition": "active",
                     "epc": "urn:epc:id:sgtin:8934567.000001.XCL0001", "gtin": "08934567000017",
                     "serial": "XCL0001", "lot": null, "quantity": null, "uom": null,
                     "readPoint": "urn:epc:id:sgln:8934567.00010.0", "bizLocation": "urn:epc:id:sgln:8934567.00010.0" })
        );
        // CBV URNs and GS1 Web URIs are stored as the bare word.
        let shipping = by_id(MANDARIN_SHIPPING);
        assert_eq!((&shipping["bizStep"], &shipping["disposition"]), (&json!("shipping"), &json!("in_transit")));
        assert_eq!((&shipping["gtin"], &shipping["lot"], &shipping["quantity"], &shipping["uom"]),
                   (&json!("08934567000055"), &json!("QHLV-2401"), &json!(120.5), &json!("KGM")));
        let receiving = by_id("urn:uuid:3f1e6b52-8a0c-4b7e-9d5f-1c2a3b4d5e03");
        assert_eq!((&receiving["bizStep"], &receiving["disposition"]), (&json!("receiving"), &json!("in_progress")));
        // Events without eventID (two transactions, one position report) are kept under a
        // derived hash.
        let hashed: Vec<&Value> = nodes.iter().filter(|n| n["eventId"].as_str().unwrap().starts_with("ni:///sha-256;")).collect();
        assert_eq!(hashed.len(), 3, "{hashed:#?}");
        assert_eq!(hashed.iter().filter(|n| n["eventType"] == "TransactionEvent").count(), 2);
        for kind in ["ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent"] {
            assert!(nodes.iter().any(|n| n["eventType"] == kind), "{kind}");
        }
        let tea = nodes.iter().filter(|n| n["gtin"] == "08934567000048").count();
        assert_eq!(tea, 3, "lotus tea: made, received, sold");

        // Nothing new since the watermark: nothing written.
        let audit = app.count_rows("audit_log").await;
        let second = sync_once(&app, &definition).await;
        assert!(second.succeeded);
        assert_eq!((second.counts.created, second.counts.updated), (0, 0));
        assert!(second.counts.fetched < total as i64, "only events from the watermark on were asked for");
        assert_eq!(app.count_rows("audit_log").await, audit);

        // An error declaration arrives with its corrective event. The declaration repeats
        // the erroneous event's eventID, so it updates that entry rather than adding one.
        let mut more = events;
        more.extend(stamped(events_of(&own_epcis_dir(), &["error-declaration.jsonld"]), 9));
        script.set(EpcisRepo { events: more, expire_tokens: false, issued: script.get().issued });
        let third = sync_once(&app, &definition).await;
        assert!(third.succeeded, "{:?}", third.error);
        assert_eq!((third.counts.created, third.counts.updated), (1, 1), "{third:?}");
        let data = app.query(r#"{ traceabilityEntries(filter: {lot: {eq: "QHLV-2401"}, eventType: {eq: "ObjectEvent"}}) { nodes { eventId quantity bizStep } } }"#).await;
        let shipments = data["traceabilityEntries"]["nodes"].as_array().unwrap();
        let ids: Vec<&str> = shipments.iter().map(|n| n["eventId"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(ids.contains(&MANDARIN_SHIPPING) && ids.contains(&CORRECTIVE), "{ids:?}");
        let corrective = shipments.iter().find(|n| n["eventId"] == CORRECTIVE).unwrap();
        assert_eq!((&corrective["quantity"], &corrective["bizStep"]), (&json!(102.5), &json!("shipping")));
    }
}

/// GS1's example documents, where they sit beside the clone at `../shared` (they are not
/// openly licensed, so not part of it).
fn gs1_example_events() -> Option<Vec<Value>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/epcis");
    if !dir.is_dir() {
        eprintln!(
            "skipped: GS1 example documents not found at {}",
            dir.display()
        );
        return None;
    }
    let files = [
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.3-AggregationEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
        "Example-TransactionEvents-2020_07_03y.jsonld",
        "SensorDataExample8.jsonld",
        "SensorDataExample14.jsonld",
    ];
    Some(stamped(events_of(&dir, &files), 8))
}

backend_test! {
    /// An extra conformance check: GS1's own examples go through the connector too.
    async fn gs1_example_events_sync_through_the_epcis_connector(app) {
        let Some(events) = gs1_example_events() else {
            return;
        };
        let total = events.len();
        let script = Script::<EpcisRepo>::default();
        script.set(EpcisRepo { events, expire_tokens: false, issued: Vec::new() });
        let url = serve(Router::new().route("/events", get(epcis_events)).with_state(script.clone())).await;
        let report = sync_once(&app, &definition(EPCIS, &url)).await;
        assert!(report.succeeded, "{:?}", report.error);
        assert_eq!(report.counts.created, total as i64);
        let data = app.query(r#"{ traceabilityEntries(first: 50) { totalCount nodes { eventId eventType bizStep gtin serial lot } } }"#).await;
        assert_eq!(data["traceabilityEntries"]["totalCount"], total);
        let nodes = data["traceabilityEntries"]["nodes"].as_array().unwrap();
        let object = nodes.iter().find(|n| n["serial"] == "2017" && n["bizStep"] == "shipping").expect("the sgtin example");
        assert_eq!(object["gtin"], "10614141073464");
        let hashed = nodes.iter().filter(|n| n["eventType"] == "TransactionEvent").count();
        assert_eq!(hashed, 2, "events without eventID are kept under a derived hash");
        for kind in ["ObjectEvent", "AggregationEvent", "TransformationEvent"] {
            assert!(nodes.iter().any(|n| n["eventType"] == kind), "{kind}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

const STARTUPS_CSV: &str = r#"
name = "startups-test"
kind = "csv"
record_kind = "STARTUP"
schedule = "0 3 * * 1"
url = "{url}/startups.csv"
max_invalid_share = 0.3
[csv]
batch_size = 4
[fields]
externalId = "ma_so_thue"
"organisation.taxCode" = "ma_so_thue"
"organisation.name" = "ten_doanh_nghiep"
name = "ten_doanh_nghiep"
sector = "linh_vuc"
foundedYear = "nam_thanh_lap"
"supportEvents.year" = "nam_ho_tro"
"supportEvents.kind" = "hinh_thuc_ho_tro"
"supportEvents.amountVnd" = { from = "kinh_phi_ho_tro", parse = "vnd" }
[[links]]
task = "V.2"
"#;

fn tax_code(n: u32) -> String {
    khcn_hub::domain::validate::next_valid_tax_code(140_200_000 + 2 * u64::from(n))
}

fn startups_csv() -> String {
    let mut text = String::from(
        "ma_so_thue,ten_doanh_nghiep,linh_vuc,nam_thanh_lap,nam_ho_tro,hinh_thuc_ho_tro,kinh_phi_ho_tro\n",
    );
    for n in 0..8 {
        text.push_str(&format!(
            "{},Công ty Khởi nghiệp Sen Hồng {n},Nông nghiệp,2021,2023,Ươm tạo,\"1.500.000\"\n",
            tax_code(n)
        ));
    }
    // The same startup supported again: a second support event, not a second startup.
    text.push_str(&format!(
        "{},Công ty Khởi nghiệp Sen Hồng 0,Nông nghiệp,2021,2024,Kết nối đầu tư,\"20.000.000\"\n",
        tax_code(0)
    ));
    // A bad tax code: quarantined with its reason and the raw row.
    text.push_str("1400000007,Công ty Sai Mã,Dịch vụ,2020,2023,Ươm tạo,0\n");
    text
}

/// Text as Windows-1258 writes Vietnamese: letters with circumflex, breve or horn
/// precomposed, tone marks as separate combining characters.
fn tones_apart(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    let mut out = String::new();
    for c in text.chars() {
        let decomposed: Vec<char> = c.nfd().collect();
        let base: String = decomposed.iter().filter(|d| !TONES.contains(d)).collect();
        out.extend(base.nfc());
        out.extend(decomposed.iter().filter(|d| TONES.contains(d)));
    }
    out
}

#[derive(Clone, Default)]
struct CsvFile {
    body: Vec<u8>,
}

async fn csv_file(State(script): State<Script<CsvFile>>) -> Response {
    ([(header::CONTENT_TYPE, "text/csv")], script.get().body).into_response()
}

backend_test! {
    async fn csv_in_any_vietnamese_encoding_is_read_and_bad_rows_quarantined(app) {
        let script = Script::<CsvFile>::default();
        let url = serve(Router::new().route("/startups.csv", get(csv_file)).with_state(script.clone())).await;
        let definition = definition(STARTUPS_CSV, &url);

        // Windows-1258, the legacy Vietnamese code page (tone marks as combining characters).
        let text = startups_csv();
        let legacy = tones_apart(&text);
        let (encoded, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&legacy);
        assert!(!unmappable);
        script.set(CsvFile { body: encoded.into_owned() });
        let report = sync_once(&app, &definition).await;
        assert!(report.succeeded, "{:?}", report.error);
        assert_eq!((report.counts.fetched, report.counts.created, report.counts.quarantined), (10, 8, 1), "{report:?}");
        let data = app.query(r#"{ startups(filter: {name: {contains: "sen hong 0"}}) { nodes { name sector supportEvents { year kind amountVnd } organisation { taxCode } tasks { code } } } }"#).await;
        let startup = &data["startups"]["nodes"][0];
        assert_eq!(startup["name"], "Công ty Khởi nghiệp Sen Hồng 0", "stored NFC, byte for byte");
        assert_eq!(startup["sector"], "Nông nghiệp");
        assert_eq!(startup["supportEvents"], json!([
            {"year": 2023, "kind": "Ươm tạo", "amountVnd": 1_500_000},
            {"year": 2024, "kind": "Kết nối đầu tư", "amountVnd": 20_000_000}
        ]));
        assert_eq!(startup["tasks"][0]["code"], "V.2");
        let admin = app.token("admin", None).await;
        let (_, body) = app.as_caller(Some(&admin), r#"{ quarantine(connector: "startups-test") { edges { node { position externalId reason payload } } } }"#, json!({})).await;
        let row = &body["data"]["quarantine"]["edges"][0]["node"];
        assert_eq!(row["externalId"], "1400000007", "{body}");
        assert!(row["reason"].as_str().unwrap().contains("check digit"), "{row}");
        assert!(row["payload"].as_str().unwrap().contains("Công ty Sai Mã"));
        assert_eq!(row["position"], "line 11");

        // UTF-8 with a BOM, the same content: nothing changes.
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend(text.as_bytes());
        script.set(CsvFile { body: with_bom });
        let again = sync_once(&app, &definition).await;
        // Nine valid rows (one startup listed twice, in another batch) for eight startups.
        assert_eq!((again.counts.created, again.counts.updated, again.counts.unchanged), (0, 0, 9), "{again:?}");

        // Schema drift: most rows invalid fails the run loudly and writes nothing of it.
        let drifted = "ma_so_thue,ten\n1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n7,g\n8,h\n9,i\n10,j\n11,k\n".to_owned();
        script.set(CsvFile { body: drifted.into_bytes() });
        let definition_wide = definition.clone();
        let mut big = definition_wide;
        if let khcn_hub::sync::definition::KindOptions::Csv(options) = &mut big.options {
            options.batch_size = 100;
        }
        let drift = sync_once(&app, &big).await;
        assert!(!drift.succeeded);
        assert!(drift.error.as_deref().unwrap().starts_with("schema drift"), "{:?}", drift.error);
        assert_eq!(app.count_rows("startups").await, 8);
    }
}

// ---------------------------------------------------------------------------------------
// GraphQL, scheduling surface and the command line
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_are_visible_and_run_by_admins_over_graphql() {
    let script = Script::<Ckan>::default();
    script.set(Ckan {
        rows: (0..12).map(ocop_row).collect(),
        refuse: false,
    });
    let url = serve(
        Router::new()
            .route("/api/3/action/datastore_search", get(ckan_search))
            .with_state(script.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ocop.toml"),
        OCOP_CKAN.replace("{url}", &url),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("off.toml"),
        OCOP_CKAN
            .replace("ocop-test", "ocop-off")
            .replace("url = \"{url}\"", "url_env = \"KHCN_HUB_TEST_NEVER_SET\""),
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, move |settings| {
        settings.connectors = path;
        settings.schedules = false;
    })
    .await
    .unwrap();
    let admin = app.token("admin", None).await;
    let analyst = app.token("analyst", None).await;

    let data = app.query("{ connectors { name kind recordKind schedule enabled disabledReason paused nextRunAt lastRun { status } } }").await;
    let list = data["connectors"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let off = list.iter().find(|c| c["name"] == "ocop-off").unwrap();
    assert_eq!(off["enabled"], false);
    assert!(
        off["disabledReason"]
            .as_str()
            .unwrap()
            .contains("KHCN_HUB_TEST_NEVER_SET")
    );
    let on = list.iter().find(|c| c["name"] == "ocop-test").unwrap();
    assert_eq!(on["enabled"], true);
    assert!(
        on["nextRunAt"]
            .as_str()
            .unwrap()
            .ends_with("T19:00:00+00:00"),
        "02:00 in Hồ Chí Minh City: {on}"
    );

    let mutation = r#"mutation { runConnector(name: "ocop-test") { status trigger } }"#;
    let (_, body) = app.as_caller(Some(&analyst), mutation, json!({})).await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");
    let (_, body) = app.as_caller(Some(&admin), mutation, json!({})).await;
    assert_eq!(body["data"]["runConnector"]["trigger"], "MANUAL", "{body}");
    let mut status = String::new();
    for _ in 0..100 {
        let data = app.query(r#"{ syncRuns(connector: "ocop-test") { edges { node { status created fetched } } } }"#).await;
        status = data["syncRuns"]["edges"][0]["node"]["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status != "RUNNING" {
            assert_eq!(data["syncRuns"]["edges"][0]["node"]["created"], 12);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "SUCCEEDED");
    let (_, body) = app
        .as_caller(
            Some(&admin),
            r#"mutation { runConnector(name: "ocop-off") { status } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&body),
        "BAD_USER_INPUT",
        "{body}"
    );
}

#[test]
fn a_bad_definition_stops_the_hub_and_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        OCOP_CKAN
            .replace("page_size = 100", "page_size = 100\npagesize = 5")
            .replace("{url}", "http://127.0.0.1:9"),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args(["serve"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()),
        )
        .env("KHCN_HUB_CONNECTORS", dir.path())
        .env("KHCN_HUB_BIND", "127.0.0.1:0")
        .env("KHCN_HUB_LOG", "warn")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml:10: pagesize"), "{stderr}");
}

#[test]
fn the_command_line_runs_a_connector_and_prints_a_summary() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let script = Script::<Ckan>::default();
    script.set(Ckan {
        rows: (0..15).map(ocop_row).collect(),
        refuse: false,
    });
    let url = runtime.block_on(serve(
        Router::new()
            .route("/api/3/action/datastore_search", get(ckan_search_authed))
            .with_state(script),
    ));
    let dir = tempfile::tempdir().unwrap();
    let with_auth = OCOP_CKAN.replace("{url}", &url).replace(
        "[ckan]",
        "[auth]\nscheme = \"Bearer\"\ntoken_env = \"KHCN_HUB_TEST_CKAN_TOKEN\"\n[ckan]",
    );
    std::fs::write(dir.path().join("ocop.toml"), with_auth).unwrap();
    let hub = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
            .args(args)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()),
            )
            .env("KHCN_HUB_CONNECTORS", dir.path())
            .env("KHCN_HUB_LOG", "warn")
            .env("KHCN_HUB_TEST_CKAN_TOKEN", "s3cret")
            .output()
            .unwrap()
    };
    let output = hub(&["sync", "ocop-test"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("connector") && lines[0].contains("quarantined"),
        "{stdout}"
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&row[..5], ["ocop-test", "ok", "15", "15", "0"], "{stdout}");
    let output = hub(&["sync", "nope"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("no connector is named \"nope\""));
    drop(runtime);
}

// ---------------------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------------------

fn ocop_workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (col, name) in [
        "ma_san_pham",
        "ten_san_pham",
        "huyen",
        "so_sao",
        "ngay_cong_nhan",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    let rows = [
        ("X-1", "Khô cá lóc Phú Thọ", "Tam Nông", 4.0, 15),
        ("X-2", "Quýt hồng Lai Vung", "Lai Vung", 5.0, 20),
    ];
    for (i, (code, name, district, stars, day)) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, *code).unwrap();
        sheet.write_string(row, 1, *name).unwrap();
        sheet.write_string(row, 2, *district).unwrap();
        sheet.write_number(row, 3, *stars).unwrap();
        sheet
            .write_datetime_with_format(
                row,
                4,
                ExcelDateTime::from_ymd(2023, 6, *day).unwrap(),
                &date,
            )
            .unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

backend_test! {
    async fn xlsx_workbooks_are_read_like_csv(app) {
        let script = Script::<CsvFile>::default();
        script.set(CsvFile { body: ocop_workbook() });
        let url = serve(Router::new().route("/ocop.xlsx", get(csv_file)).with_state(script)).await;
        let text = r#"
name = "ocop-xlsx"
kind = "csv"
record_kind = "OCOP_PRODUCT"
schedule = "0 2 * * *"
url = "{url}/ocop.xlsx"
[fields]
externalId = "ma_san_pham"
name = "ten_san_pham"
district = "huyen"
stars = "so_sao"
certifiedOn = "ngay_cong_nhan"
"#;
        let report = sync_once(&app, &definition(text, &url)).await;
        assert!(report.succeeded, "{:?}", report.error);
        assert_eq!(report.counts.created, 2);
        let data = app.query(r#"{ ocopProducts(filter: {district: {eq: "Lai Vung"}}) { nodes { name stars certifiedOn districtCode } } }"#).await;
        assert_eq!(data["ocopProducts"]["nodes"], json!([{"name": "Quýt hồng Lai Vung", "stars": 5, "certifiedOn": "2023-06-20", "districtCode": "lai-vung"}]));
    }
}

backend_test! {
    async fn a_connector_never_runs_twice_at_once(app) {
        let script = Script::<Ckan>::default();
        script.set(Ckan { rows: (0..3).map(ocop_row).collect(), refuse: false });
        let url = serve(Router::new().route("/api/3/action/datastore_search", get(ckan_search)).with_state(script)).await;
        let definition = definition(OCOP_CKAN, &url);
        let engine = khcn_hub::sync::Engine::new(app.db.clone(), khcn_hub::store::feed::ChangeFeed::new());
        let first = engine.begin_run(&definition, khcn_hub::sync::Trigger::Manual).await.unwrap();
        let second = engine.begin_run(&definition, khcn_hub::sync::Trigger::Schedule).await;
        assert!(matches!(second, Err(khcn_hub::sync::SyncError::Busy(_))), "{second:?}");
        let report = engine.continue_run(&definition, first, None).await.unwrap();
        assert!(report.succeeded);
        let again = engine.run(&definition, khcn_hub::sync::Trigger::Schedule, None).await.unwrap();
        assert!(again.succeeded, "the claim is released after a run");
        assert_eq!(again.counts.unchanged, 3);
    }
}

backend_test! {
    async fn values_from_two_sources_are_both_kept_and_reported(app) {
        let script = Script::<Ckan>::default();
        script.set(Ckan { rows: (0..2).map(ocop_row).collect(), refuse: false });
        let url = serve(Router::new().route("/api/3/action/datastore_search", get(ckan_search)).with_state(script)).await;
        assert!(sync_once(&app, &definition(OCOP_CKAN, &url)).await.succeeded);
        // The department pushes the same product code with another rating.
        let agency = app.token("agency", Some("so-khcn")).await;
        let (_, body) = app.as_caller(
            Some(&agency),
            r#"mutation { upsertOcopProduct(externalId: "DT-000", input: {name: "Sản phẩm OCOP 0", stars: 5}) { action } }"#,
            json!({}),
        ).await;
        assert_eq!(body["data"]["upsertOcopProduct"]["action"], "CREATED", "{body}");
        let analyst = app.token("analyst", None).await;
        let (_, body) = app.as_caller(
            Some(&analyst),
            "{ sourceConflicts(kind: OCOP_PRODUCT) { externalId first { source } second { source } changes { field before after } } }",
            json!({}),
        ).await;
        let conflicts = body["data"]["sourceConflicts"].as_array().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(conflicts.len(), 1, "{body}");
        assert_eq!(conflicts[0]["externalId"], "DT-000");
        assert_eq!(conflicts[0]["first"]["source"], "agency:so-khcn");
        assert_eq!(conflicts[0]["second"]["source"], "connector:ocop-test");
        let stars = conflicts[0]["changes"].as_array().unwrap().iter().find(|c| c["field"] == "stars").unwrap();
        assert_eq!((stars["before"].clone(), stars["after"].clone()), (json!(5), json!(4)));
        // Neither overwrote the other.
        let data = app.query(r#"{ ocopProducts(first: 10) { nodes { externalId source stars } } }"#).await;
        let both: Vec<&Value> = data["ocopProducts"]["nodes"].as_array().unwrap().iter().filter(|n| n["externalId"] == "DT-000").collect();
        assert_eq!(both.len(), 2);
    }
}

/// The CSV file with an `ETag`; a matching `If-None-Match` gets 304.
async fn csv_file_etag(State(script): State<Script<CsvFile>>, headers: HeaderMap) -> Response {
    let body = script.get().body;
    let etag = format!("\"{}\"", body.len());
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

backend_test! {
    async fn an_unchanged_file_is_not_downloaded_again_and_nothing_is_withdrawn(app) {
        let script = Script::<CsvFile>::default();
        script.set(CsvFile { body: startups_csv().into_bytes() });
        let url = serve(Router::new().route("/startups.csv", get(csv_file_etag)).with_state(script.clone())).await;
        let definition = definition(STARTUPS_CSV, &url);
        let first = sync_once(&app, &definition).await;
        assert_eq!(first.counts.created, 8, "{first:?}");
        let second = sync_once(&app, &definition).await;
        assert!(second.succeeded, "{:?}", second.error);
        assert_eq!((second.counts.fetched, second.counts.withdrawn), (0, 0), "304: nothing read, nothing withdrawn");
        let data = app.query("{ startups(first: 50) { totalCount } }").await;
        assert_eq!(data["startups"]["totalCount"], 8);
        // A changed file is downloaded in full again.
        let mut changed = startups_csv();
        changed.push_str(&format!("{},Công ty Mới,Dịch vụ,2024,2024,Ươm tạo,0\n", tax_code(50)));
        script.set(CsvFile { body: changed.into_bytes() });
        let third = sync_once(&app, &definition).await;
        assert_eq!(third.counts.created, 1, "{third:?}");
    }
}
