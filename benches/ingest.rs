//! Ingest benchmark: the sync engine pulling EPCIS events and CSV rows from a local fake
//! registry into a fresh database, reporting records/s and the process's peak memory.
//!
//! Run with `cargo bench --bench ingest`. Environment: `KHCN_BENCH_ROWS` (default
//! 200000), `KHCN_BENCH_BACKENDS` (default `sqlite`; add `postgres` to measure it too),
//! `KHCN_HUB_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Memory flatness is shown by running a quarter of the feed first and the whole feed
//! after it: the peak resident set should barely move.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream;
use khcn_hub::store::feed::ChangeFeed;
use khcn_hub::sync::definition::parse;
use khcn_hub::sync::{Engine, Trigger};
use sea_orm::ConnectionTrait;
use serde_json::json;

type Params = Query<std::collections::HashMap<String, String>>;

#[derive(Clone, Copy)]
struct Feed {
    rows: usize,
}

fn event(feed: usize, i: usize) -> serde_json::Value {
    let minute = i / 60;
    json!({
        "eventID": format!("urn:uuid:00000000-0000-4000-{feed:04x}-{i:012}"),
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": format!("2024-05-01T{:02}:{:02}:{:02}+07:00", (minute / 60) % 24, minute % 60, i % 60),
        "eventTimeZoneOffset": "+07:00",
        "recordTime": format!("2024-05-01T00:00:00.{:06}Z", i % 1_000_000),
        "epcList": [format!("urn:epc:id:sgtin:8930000.012345.{i}")],
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:8930000.00001.0"},
        "bizLocation": {"id": "urn:epc:id:sgln:8930000.00002.0"}
    })
}

async fn events(State(feed): State<Feed>, Query(q): Params) -> Response {
    let per_page: usize = q["perPage"].parse().unwrap();
    let start: usize = q.get("nextPageToken").map_or(0, |t| t.parse().unwrap());
    let end = (start + per_page).min(feed.rows);
    let list: Vec<serde_json::Value> = (start..end).map(|i| event(feed.rows % 0xffff, i)).collect();
    let mut response = axum::Json(json!({
        "type": "EPCISQueryDocument",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": list}}}
    }))
    .into_response();
    if end < feed.rows {
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&format!(
                "</events?perPage={per_page}&nextPageToken={end}>; rel=\"next\""
            ))
            .unwrap(),
        );
    }
    response
}

fn tax_code(n: usize) -> String {
    khcn_hub::domain::validate::next_valid_tax_code(300_000_000 + 2 * n as u64)
}

/// The CSV body, generated as it is sent (the server holds no copy of it either).
async fn startups(State(feed): State<Feed>) -> Response {
    let header_row = "ma_so_thue,ten_doanh_nghiep,linh_vuc,nam_thanh_lap,nam_ho_tro,hinh_thuc_ho_tro,kinh_phi_ho_tro\n";
    let chunks = stream::iter((0..feed.rows).step_by(1_000).map(move |start| {
        let mut text = if start == 0 { header_row.to_owned() } else { String::new() };
        for n in start..(start + 1_000).min(feed.rows) {
            text.push_str(&format!(
                "{},Công ty Khởi nghiệp Đổi mới Sáng tạo {n},Nông nghiệp công nghệ cao,2021,2023,Ươm tạo,\"150.000.000\"\n",
                tax_code(n)
            ));
        }
        Ok::<_, std::convert::Infallible>(text)
    }));
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// Peak resident set of this process so far, in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn database(
    backend: &str,
    dir: &std::path::Path,
) -> (sea_orm::DatabaseConnection, Option<String>) {
    let (url, drop_name) = match backend {
        "postgres" => {
            let admin = std::env::var("KHCN_HUB_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("khcn_ingest_{}", std::process::id());
            let admin_db = sea_orm::Database::connect(&admin).await.unwrap();
            admin_db
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let (without_query, query) = admin
                .split_once('?')
                .map_or((admin.as_str(), None), |(a, q)| (a, Some(q)));
            let (base, _) = without_query.rsplit_once('/').unwrap();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            (format!("{base}/{name}{query}"), Some(name))
        }
        _ => (
            format!("sqlite://{}?mode=rwc", dir.join("ingest.db").display()),
            None,
        ),
    };
    let settings = khcn_hub::config::Settings::with_database(&url);
    let db = khcn_hub::app::open_database(&settings).await.unwrap();
    khcn_hub::app::seed_plan(&db).await.unwrap();
    (db, drop_name)
}

const EPCIS: &str = r#"
name = "bench-epcis"
kind = "epcis"
record_kind = "TRACEABILITY_ENTRY"
schedule = "0 * * * *"
url = "{url}"
mode = "incremental"
[epcis]
per_page = 1000
"#;

const CSV: &str = r#"
name = "bench-csv"
kind = "csv"
record_kind = "STARTUP"
schedule = "0 3 * * 1"
url = "{url}/startups.csv"
[csv]
batch_size = 1000
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

async fn serve(rows: usize) -> String {
    let feed = Feed { rows };
    let router = Router::new()
        .route("/events", get(events))
        .route("/startups.csv", get(startups))
        .with_state(feed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

async fn measure(
    db: &sea_orm::DatabaseConnection,
    text: &str,
    url: &str,
    name: &str,
) -> (usize, f64) {
    let definition = parse(
        std::path::Path::new("bench.toml"),
        &text.replace("{url}", url).replace("bench-", name),
    )
    .unwrap();
    let engine = Engine::new(db.clone(), ChangeFeed::new());
    let started = Instant::now();
    let report = engine.run(&definition, Trigger::Cli, None).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(report.succeeded, "{:?}", report.error);
    (report.counts.created as usize, seconds)
}

#[tokio::main]
async fn main() {
    khcn_hub::sync::http::install_crypto_provider();
    let rows: usize = std::env::var("KHCN_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let backends = std::env::var("KHCN_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    println!("# Ingest benchmark: {rows} EPCIS events and {rows} CSV rows per backend\n");
    println!("| backend | feed | rows | seconds | records/s | peak RSS after |");
    println!("|---|---|---:|---:|---:|---:|");
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let dir = tempfile::tempdir().unwrap();
        let (db, drop_name) = database(backend, dir.path()).await;
        let quarter = serve(rows / 4).await;
        let whole = serve(rows).await;
        for (feed, text) in [("EPCIS", EPCIS), ("CSV", CSV)] {
            for (label, url, prefix) in [("quarter", &quarter, "q-"), ("whole", &whole, "w-")] {
                let (created, seconds) = measure(&db, text, url, prefix).await;
                println!(
                    "| {backend} | {feed} ({label}) | {created} | {seconds:.1} | {:.0} | {:.0} MB |",
                    created as f64 / seconds,
                    peak_rss_mb()
                );
            }
        }
        drop(db);
        if let Some(name) = drop_name {
            let admin = std::env::var("KHCN_HUB_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let admin_db = sea_orm::Database::connect(&admin).await.unwrap();
            let _ = admin_db
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}
