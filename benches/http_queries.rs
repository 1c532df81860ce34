//! End-to-end HTTP benchmark of the hub: the release binary serving a freshly seeded
//! database per backend, `KHCN_BENCH_CONCURRENCY` clients POSTing named GraphQL queries
//! over keep-alive connections to 127.0.0.1.
//!
//! Run with `cargo bench --bench http_queries` (`-- Q1 Q3` measures only those queries).
//! Environment: `KHCN_BENCH_BACKENDS` (default `sqlite,postgres`), `KHCN_BENCH_SECONDS`
//! (default 10), `KHCN_BENCH_WARMUP_SECONDS` (default 2), `KHCN_BENCH_CONCURRENCY`
//! (default 32), `KHCN_BENCH_SCALE` (default 1: `seed --sample --scale N`, N times the
//! sample's records and links), `KHCN_HUB_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`; databases are made with `psql`),
//! `KHCN_BENCH_AFTER_WRITE=1` (each query is measured a second time with every request
//! right after a write, sent with an admin token and not timed, so nothing read before
//! it can be reused: what a query costs the first time after data changed).
//! Results go to stdout and, as Markdown, to `<target dir>/bench-http-queries.md`.
//!
//! `-- --soak` runs the soak instead (`tools/soak`): Q2 sent at a fixed rate,
//! `KHCN_BENCH_SOAK_RATE` per second (default 300), for `KHCN_BENCH_SOAK_SECONDS` (default
//! 60), open loop, reporting p50/p99, errors and the server's memory; the figures go to
//! `<target dir>/bench-soak.md`.

// A measurement tool: a broken setup should fail loudly, and the results belong on stdout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

// ---------------------------------------------------------------------------------------
// The query table. Add a query with one more line in `QUERIES`.
// ---------------------------------------------------------------------------------------

const Q1: &str = r#"query { task(code: "II.3") { code text leadAgency { code name } } }"#;

const Q2: &str = r#"query {
  tasks(filter: { leadAgency: { eq: "so-khcn" } }, first: 50) {
    nodes {
      code
      leadAgency { code name }
      coordinators { ... on Agency { code } ... on AgencyGroup { code } }
      linkedRecords(kinds: [OCOP_PRODUCT], first: 10) {
        ... on OcopProduct { name stars district producer { name } }
      }
    }
  }
  plan(code: "136/KH-UBND") { targets { key targetValue actualValue progress onTrack } }
}"#;

const Q3: &str = r#"query { ocopProducts(filter: { stars: { gte: 4 }, district: { eq: "Lai Vung" } }, orderBy: [{ field: CERTIFIED_ON, direction: DESC }], first: 100) { totalCount nodes { id name stars certifiedOn producer { name } } } }"#;

const A1: &str = r#"query { ocopProductsAggregate(groupBy: [DISTRICT, STARS], metrics: [STARS]) { keys { dimension value label } count avg } }"#;

// The shape of `search` results is not final: `score` when it exists, else `__typename`.
const Q4_SCORE: &str = r#"query { search(text: "xoai cao lanh", first: 20) { score } }"#;
const Q4_TYPENAME: &str = r#"query { search(text: "xoai cao lanh", first: 20) { __typename } }"#;

/// One named query. The variants are tried in order against the running server and the
/// first one it accepts is measured; `variables` is the JSON sent with it.
struct BenchQuery {
    id: &'static str,
    name: &'static str,
    variants: &'static [&'static str],
    variables: &'static str,
}

const fn q(id: &'static str, name: &'static str, variants: &'static [&'static str]) -> BenchQuery {
    BenchQuery {
        id,
        name,
        variants,
        variables: "{}",
    }
}

const QUERIES: &[BenchQuery] = &[
    q("Q1", "task by code with its lead agency", &[Q1]),
    q(
        "Q2",
        "tasks led by Sở KHCN with linked OCOP products ≥4★ in Lai Vung, and target progress",
        &[Q2],
    ),
    q(
        "Q3",
        "OCOP products ≥4★ in one district by certification date, first 100",
        &[Q3],
    ),
    q("Q4", "search xoai cao lanh", &[Q4_SCORE, Q4_TYPENAME]),
    q(
        "A1",
        "OCOP aggregate: district × stars (the BI refresh)",
        &[A1],
    ),
];

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const SEED_TIMEOUT: Duration = Duration::from_secs(600);
const PSQL_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_GRACE: Duration = Duration::from_secs(10);

struct Config {
    backends: Vec<String>,
    measure: Duration,
    warmup: Duration,
    concurrency: usize,
    scale: u32,
    after_write: bool,
    postgres_admin_url: String,
    only: Vec<String>,
}

impl Config {
    fn from_env(args: &[String]) -> Self {
        let backends = env_or("KHCN_BENCH_BACKENDS", "sqlite,postgres")
            .split(',')
            .map(|b| b.trim().to_ascii_lowercase())
            .filter(|b| !b.is_empty())
            .collect();
        let concurrency: usize = env_parse("KHCN_BENCH_CONCURRENCY", 32);
        assert!(concurrency > 0, "KHCN_BENCH_CONCURRENCY must be at least 1");
        Self {
            backends,
            measure: Duration::from_secs(env_parse("KHCN_BENCH_SECONDS", 10)),
            warmup: Duration::from_secs(env_parse("KHCN_BENCH_WARMUP_SECONDS", 2)),
            concurrency,
            scale: env_parse("KHCN_BENCH_SCALE", 1),
            after_write: env_parse::<u8>("KHCN_BENCH_AFTER_WRITE", 0) != 0,
            postgres_admin_url: env_or("KHCN_HUB_TEST_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL),
            // Anything cargo passes after `--` that is not a flag selects queries by id.
            only: args
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(|a| a.to_ascii_uppercase())
                .collect(),
        }
    }

    fn selected(&self) -> impl Iterator<Item = &'static BenchQuery> + '_ {
        QUERIES
            .iter()
            .filter(|q| self.only.is_empty() || self.only.iter().any(|o| o == q.id))
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid number")),
        _ => default,
    }
}

// ---------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------

fn main() -> ExitCode {
    khcn_hub::sync::http::install_crypto_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs bench targets without `--bench`: nothing to test.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("http_queries: a load benchmark; run it with `cargo bench --bench http_queries`");
        return ExitCode::SUCCESS;
    }
    let config = Config::from_env(&args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if args.iter().any(|a| a == "--soak") {
        let passed = runtime.block_on(async {
            tokio::select! {
                passed = soak::run(&config) => passed,
                _ = tokio::signal::ctrl_c() => false,
            }
        });
        runtime.shutdown_timeout(Duration::from_secs(5));
        return if passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut report = Report::default();
    let outcome = runtime.block_on(async {
        tokio::select! {
            () = run(&config, &mut report) => Ok(()),
            _ = tokio::signal::ctrl_c() => Err(()),
        }
    });
    // Every guard (servers, databases) of an interrupted run has been dropped by now.
    runtime.shutdown_timeout(Duration::from_secs(5));
    if outcome.is_err() {
        eprintln!("http_queries: interrupted; partial results follow");
    }
    report.print_and_save(&config);
    if outcome.is_err() || report.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(config: &Config, report: &mut Report) {
    let hub = Path::new(env!("CARGO_BIN_EXE_khcn-hub"));
    report.seed_mode = Some(SeedMode::detect(hub).await);
    for backend in &config.backends {
        let result = match backend.as_str() {
            "sqlite" => bench_sqlite(hub, config, report).await,
            "postgres" | "postgresql" => bench_postgres(hub, config, report).await,
            other => Err(format!(
                "unknown backend {other:?} in KHCN_BENCH_BACKENDS (sqlite, postgres)"
            )),
        };
        let outcome = result.unwrap_or_else(|message| {
            eprintln!("[{backend}] failed: {message}");
            report.failed = true;
            BackendOutcome::Failed(message)
        });
        report.backends.push((backend.clone(), outcome));
    }
}

async fn bench_sqlite(
    hub: &Path,
    config: &Config,
    report: &mut Report,
) -> Result<BackendOutcome, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary dir: {e}"))?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    eprintln!("[sqlite] database {url}");
    let peak = bench_backend("sqlite", hub, &url, config, report).await?;
    drop(dir);
    Ok(BackendOutcome::Ran(peak))
}

async fn bench_postgres(
    hub: &Path,
    config: &Config,
    report: &mut Report,
) -> Result<BackendOutcome, String> {
    let admin = &config.postgres_admin_url;
    let shown = redact(admin);
    let skip = |why: String| {
        eprintln!("[postgres] skipped: {why}");
        Ok(BackendOutcome::Skipped(why))
    };
    if !is_loopback_url(admin) {
        return skip(format!(
            "{shown} is not on 127.0.0.1 (this bench only talks to 127.0.0.1)"
        ));
    }
    match run_async(
        psql(admin, "SELECT 1"),
        "psql SELECT 1",
        Duration::from_secs(15),
    )
    .await
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return skip(format!(
                "{shown} is not reachable: {}",
                shorten(&out.stderr, 300)
            ));
        }
        Err(e) => return skip(format!("{shown} is not reachable: {e}")),
    }
    let database = PgDatabase::create(admin).await?;
    eprintln!("[postgres] database {}", redact(&database.url));
    let peak = bench_backend("postgres", hub, &database.url, config, report).await?;
    drop(database);
    Ok(BackendOutcome::Ran(peak))
}

/// Seeds, serves and measures one database; returns the server's peak resident memory (kB).
async fn bench_backend(
    backend: &str,
    hub: &Path,
    url: &str,
    config: &Config,
    report: &mut Report,
) -> Result<u64, String> {
    let seed_mode = report.seed_mode.unwrap_or(SeedMode::Plain);
    seed(backend, hub, url, seed_mode, config.scale).await?;
    let writer = if config.after_write {
        Some(Writer::create(hub, url).await?)
    } else {
        None
    };
    let mut server = Server::start(backend, hub, url).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(config.concurrency * 2)
        .connect_timeout(Duration::from_secs(5))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let endpoint = format!("http://{}/graphql", server.address);
    let mut peak_kb = 0;
    let modes = std::iter::once(None).chain(writer.as_ref().map(Some));
    let runs: Vec<_> = modes
        .flat_map(|writer| config.selected().map(move |query| (query, writer)))
        .collect();
    for (query, writer) in runs {
        server.ensure_running()?;
        let result = bench_query(backend, &client, &endpoint, query, config, writer).await;
        peak_kb = peak_kb.max(server.peak_rss_kb().unwrap_or(0));
        let result = result.map(|mut m| {
            m.peak_kb = peak_kb;
            m
        });
        match &result {
            Ok(m) => eprintln!(
                "[{backend}] {}{}: {:.1} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                query.id,
                if writer.is_some() {
                    " after a write"
                } else {
                    ""
                },
                m.rps,
                m.p50_ms,
                m.p99_ms,
                m.errors
            ),
            Err(message) => eprintln!("[{backend}] {}: not available: {message}", query.id),
        }
        report.rows.push(Row {
            backend: backend.to_owned(),
            query,
            after_write: writer.is_some(),
            peak_kb,
            result,
        });
    }
    server.ensure_running()?;
    Ok(peak_kb)
}

// ---------------------------------------------------------------------------------------
// Measuring one query
// ---------------------------------------------------------------------------------------

struct Measured {
    variant: usize,
    requests: u64,
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_kb: u64,
}

/// Probes the variants, warms up, measures. `Err` is "not available" with the reason.
async fn bench_query(
    backend: &str,
    client: &reqwest::Client,
    endpoint: &str,
    query: &BenchQuery,
    config: &Config,
    writer: Option<&Writer>,
) -> Result<Measured, String> {
    let variables: Value = serde_json::from_str(query.variables)
        .unwrap_or_else(|e| panic!("{}: variables are not JSON: {e}", query.id));
    let mut last_error = String::from("no query text");
    let mut chosen = None;
    for (index, text) in query.variants.iter().enumerate() {
        let body = serde_json::json!({ "query": text, "variables": variables }).to_string();
        match probe(client, endpoint, &body).await {
            Ok(()) => {
                chosen = Some((index, body));
                break;
            }
            Err(message) => last_error = message,
        }
    }
    let (variant, body) = chosen.ok_or(last_error)?;
    // Leaked once per query: every request then sends the same bytes without copying.
    let body: &'static str = Box::leak(body.into_boxed_str());

    eprintln!(
        "[{backend}] {}: warm-up {} s, then {} s at concurrency {}",
        query.id,
        config.warmup.as_secs(),
        config.measure.as_secs(),
        config.concurrency
    );
    // Warm-up errors are neither counted nor shown.
    load(
        client,
        endpoint,
        body,
        config.warmup,
        config.concurrency,
        None,
        writer,
    )
    .await;
    let first_error = FirstError {
        label: format!("[{backend}] {}", query.id),
        shown: OnceLock::new(),
    };
    let run = load(
        client,
        endpoint,
        body,
        config.measure,
        config.concurrency,
        Some(Arc::new(first_error)),
        writer,
    )
    .await;
    let mut latencies = run.latencies_ns;
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    Ok(Measured {
        variant,
        requests,
        errors: run.errors,
        rps: requests as f64 / run.elapsed.as_secs_f64().max(f64::EPSILON),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        peak_kb: 0,
    })
}

/// One request before measuring: the server must answer 200 with no `errors`.
async fn probe(client: &reqwest::Client, endpoint: &str, body: &str) -> Result<(), String> {
    let response = post(client, endpoint, body.to_owned())
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("reading the response failed: {e}"))?;
    let json: Option<Value> = serde_json::from_str(&text).ok();
    let message = json.as_ref().and_then(|j| j.get("errors")).map(|errors| {
        let first = &errors[0];
        let message = first["message"].as_str().unwrap_or("(no message)");
        match first["extensions"]["code"].as_str() {
            Some(code) => format!("{message} [{code}]"),
            None => message.to_owned(),
        }
    });
    match (status.as_u16(), message) {
        (200, None) if json.is_some() => Ok(()),
        (_, Some(message)) => Err(message),
        (status, None) => Err(format!("HTTP {status}: {}", shorten(&text, 300))),
    }
}

fn post(
    client: &reqwest::Client,
    endpoint: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    client
        .post(endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/graphql-response+json")
        .body(body)
}

/// Where the first failed request of a run is shown (once).
struct FirstError {
    label: String,
    shown: OnceLock<()>,
}

struct LoadRun {
    latencies_ns: Vec<u64>,
    errors: u64,
    elapsed: Duration,
}

/// `concurrency` tasks, each sending requests back to back until `duration` has passed.
/// Every completed request's latency is recorded, errors included.
async fn load(
    client: &reqwest::Client,
    endpoint: &str,
    body: &'static str,
    duration: Duration,
    concurrency: usize,
    first_error: Option<Arc<FirstError>>,
    writer: Option<&Writer>,
) -> LoadRun {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let endpoint = endpoint.to_owned();
        let first_error = first_error.clone();
        let writer = writer.cloned();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(16 * 1024);
            let mut errors = 0_u64;
            while Instant::now() < deadline {
                if let Some(writer) = &writer {
                    writer.write(&client, &endpoint).await;
                }
                let sent = Instant::now();
                let outcome = request_once(&client, &endpoint, body).await;
                latencies.push(u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX));
                if let Err(message) = outcome {
                    errors += 1;
                    if let Some(first) = &first_error
                        && first.shown.set(()).is_ok()
                    {
                        eprintln!("{} first error: {message}", first.label);
                    }
                }
            }
            (latencies, errors)
        });
    }
    let mut run = LoadRun {
        latencies_ns: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    // Each request is bounded by REQUEST_TIMEOUT, so this is a safety net only.
    let limit = tokio::time::Instant::from_std(deadline) + REQUEST_TIMEOUT * 2;
    loop {
        match tokio::time::timeout_at(limit, tasks.join_next()).await {
            Ok(Some(Ok((latencies, errors)))) => {
                run.latencies_ns.extend(latencies);
                run.errors += errors;
            }
            Ok(Some(Err(e))) => panic!("a load task failed: {e}"),
            Ok(None) => break,
            Err(_) => {
                eprintln!("load tasks did not finish in time; aborting them");
                tasks.abort_all();
                break;
            }
        }
    }
    run.elapsed = start.elapsed();
    run
}

/// Moves the change log's head before a measured request: creates a startup with an
/// admin token (`token create` on the seeded database).
#[derive(Clone)]
struct Writer {
    authorization: String,
}

const WRITE: &str =
    r#"{"query":"mutation { createStartup(input: { name: \"Khởi nghiệp ghi thử\" }) { id } }"}"#;

impl Writer {
    async fn create(hub: &Path, url: &str) -> Result<Self, String> {
        let mut command = hub_command(hub, url);
        command.args([
            "token",
            "create",
            "--role",
            "admin",
            "--label",
            "http_queries bench",
        ]);
        let out = run_async(command, "khcn-hub token create", PSQL_TIMEOUT).await?;
        let token = out
            .stdout
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !out.status.success() || token.is_empty() {
            return Err(format!(
                "khcn-hub token create failed: {}",
                shorten(&out.stderr, 300)
            ));
        }
        Ok(Self {
            authorization: format!("Bearer {token}"),
        })
    }

    /// One write; a failed one stops the run, since what follows would not be measured
    /// after a write.
    async fn write(&self, client: &reqwest::Client, endpoint: &str) {
        let response = post(client, endpoint, WRITE)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .send()
            .await
            .expect("the write before a measured request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status == reqwest::StatusCode::OK && !text.contains("\"errors\""),
            "the write before a measured request failed: HTTP {status}: {}",
            shorten(&text, 300)
        );
    }
}

async fn request_once(
    client: &reqwest::Client,
    endpoint: &str,
    body: &'static str,
) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errors: Option<serde::de::IgnoredAny>,
    }
    let response = post(client, endpoint, body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading the response failed: {e}"))?;
    let show = || shorten(&String::from_utf8_lossy(&bytes), 2000);
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {status}: {}", show()));
    }
    match serde_json::from_slice::<Envelope>(&bytes) {
        Ok(Envelope { errors: None }) => Ok(()),
        Ok(Envelope { errors: Some(_) }) => Err(format!("HTTP 200 with errors: {}", show())),
        Err(e) => Err(format!("HTTP 200, body is not JSON ({e}): {}", show())),
    }
}

/// Nearest-rank percentile of sorted nanosecond latencies, in milliseconds.
fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index] as f64 / 1e6
}

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/// A child process that is ended on every exit path: SIGTERM first when `graceful`
/// (so the hub closes its database cleanly), SIGKILL after `STOP_GRACE`.
struct ChildGuard {
    child: Child,
    graceful: bool,
}

impl ChildGuard {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        if self.graceful {
            let sent = Command::new("kill")
                .args(["-TERM", &self.pid().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if sent {
                let deadline = Instant::now() + STOP_GRACE;
                while Instant::now() < deadline {
                    match self.child.try_wait() {
                        Ok(Some(_)) => return,
                        Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                        Err(_) => break,
                    }
                }
                eprintln!("process {} ignored SIGTERM; killing it", self.pid());
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Captured {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs a command to completion within `timeout`, capturing its output (through
/// temporary files, so a chatty child can never block on a full pipe).
async fn run_async(
    mut command: Command,
    what: &str,
    timeout: Duration,
) -> Result<Captured, String> {
    let (mut guard, out, err) = spawn_captured(&mut command, what)?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = guard.exited() {
            return Ok(collect(status, out, err));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{what} did not finish within {} s",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `run_async` for places that cannot await (destructors).
fn run_blocking(mut command: Command, what: &str, timeout: Duration) -> Result<Captured, String> {
    let (mut guard, out, err) = spawn_captured(&mut command, what)?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = guard.exited() {
            return Ok(collect(status, out, err));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{what} did not finish within {} s",
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn spawn_captured(command: &mut Command, what: &str) -> Result<(ChildGuard, File, File), String> {
    let out = tempfile::tempfile().map_err(|e| format!("temporary file: {e}"))?;
    let err = tempfile::tempfile().map_err(|e| format!("temporary file: {e}"))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(err.try_clone().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    Ok((
        ChildGuard {
            child,
            graceful: false,
        },
        out,
        err,
    ))
}

fn collect(status: ExitStatus, mut out: File, mut err: File) -> Captured {
    let read = |file: &mut File| {
        let mut bytes = Vec::new();
        let _ = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes));
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Captured {
        status,
        stdout: read(&mut out),
        stderr: read(&mut err),
    }
}

fn hub_command(hub: &Path, url: &str) -> Command {
    let mut command = Command::new(hub);
    command.env("DATABASE_URL", url).env("KHCN_HUB_LOG", "warn");
    command
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeedMode {
    Sample,
    Plain,
}

impl SeedMode {
    async fn detect(hub: &Path) -> Self {
        let mut command = Command::new(hub);
        command.args(["seed", "--help"]);
        match run_async(command, "khcn-hub seed --help", Duration::from_secs(30)).await {
            Ok(out) if out.stdout.contains("--sample") => Self::Sample,
            Ok(_) => {
                eprintln!(
                    "note: `khcn-hub seed --sample` is not available yet; seeding the plan only"
                );
                Self::Plain
            }
            Err(e) => {
                eprintln!("note: `khcn-hub seed --help` failed ({e}); seeding the plan only");
                Self::Plain
            }
        }
    }
}

async fn seed(
    backend: &str,
    hub: &Path,
    url: &str,
    mode: SeedMode,
    scale: u32,
) -> Result<(), String> {
    let mut command = hub_command(hub, url);
    command.arg("seed");
    let mut shown = String::new();
    if mode == SeedMode::Sample {
        command.arg("--sample");
        shown.push_str(" --sample");
        if scale > 1 {
            command.args(["--scale", &scale.to_string()]);
            let _ = write!(shown, " --scale {scale}");
        }
    }
    eprintln!("[{backend}] khcn-hub seed{shown}");
    let started = Instant::now();
    let out = run_async(command, "khcn-hub seed", SEED_TIMEOUT * scale.max(1)).await?;
    if !out.status.success() {
        return Err(format!(
            "khcn-hub seed failed ({}): {}",
            out.status,
            out.stderr.trim()
        ));
    }
    eprintln!(
        "[{backend}] seeded in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        out.stdout.trim().replace('\n', "; ")
    );
    Ok(())
}

/// `khcn-hub serve` on a free port of 127.0.0.1, stopped when dropped.
struct Server {
    guard: ChildGuard,
    pid: u32,
    address: String,
}

impl Server {
    async fn start(backend: &str, hub: &Path, url: &str) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = hub_command(hub, url)
            .arg("serve")
            .env("KHCN_HUB_BIND", &address)
            // The after-a-write mode writes with one token as fast as it measures.
            .env("KHCN_HUB_RATE_LIMIT_PER_MINUTE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", hub.display()))?;
        let pid = child.id();
        let mut server = Self {
            guard: ChildGuard {
                child,
                graceful: true,
            },
            pid,
            address,
        };
        eprintln!(
            "[{backend}] khcn-hub serve (pid {pid}) on {}",
            server.address
        );
        server.wait_ready().await?;
        eprintln!("[{backend}] ready");
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("http://{}/readyz", self.address);
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            self.ensure_running()?;
            match client.get(&url).send().await {
                Ok(r) if r.status() == reqwest::StatusCode::OK => return Ok(()),
                Ok(r) => last = format!("HTTP {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "GET {url} did not answer 200 within {} s (last: {last})",
            READY_TIMEOUT.as_secs()
        ))
    }

    fn ensure_running(&mut self) -> Result<(), String> {
        match self.guard.exited() {
            None => Ok(()),
            Some(status) => Err(format!(
                "khcn-hub serve exited ({status}); its stderr is above"
            )),
        }
    }

    /// `VmHWM` of the server: its peak resident set, in kB.
    fn peak_rss_kb(&self) -> Option<u64> {
        self.proc_status_kb("VmHWM:")
    }

    /// `VmRSS` of the server: its resident set now, in kB.
    fn rss_kb(&self) -> Option<u64> {
        self.proc_status_kb("VmRSS:")
    }

    fn proc_status_kb(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL databases, through psql
// ---------------------------------------------------------------------------------------

fn psql(admin_url: &str, sql: &str) -> Command {
    let mut command = Command::new("psql");
    command
        .args([
            "-X",
            "-w",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            admin_url,
            "-c",
            sql,
        ])
        .env("PGCONNECT_TIMEOUT", "5");
    command
}

/// `khcn_bench_<random>` on the admin server, dropped (forcefully) with this value.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Result<Self, String> {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("khcn_bench_{}", &random[..12]);
        let out = run_async(
            psql(admin_url, &format!("CREATE DATABASE {name}")),
            "psql CREATE DATABASE",
            PSQL_TIMEOUT,
        )
        .await?;
        if !out.status.success() {
            return Err(format!(
                "CREATE DATABASE {name} failed: {}",
                out.stderr.trim()
            ));
        }
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: database_url_for(admin_url, &name),
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        match run_blocking(
            psql(&self.admin_url, &sql),
            "psql DROP DATABASE",
            PSQL_TIMEOUT,
        ) {
            Ok(out) if out.status.success() => eprintln!("[postgres] dropped {}", self.name),
            Ok(out) => eprintln!(
                "[postgres] could not drop {}: {}",
                self.name,
                out.stderr.trim()
            ),
            Err(e) => eprintln!("[postgres] could not drop {}: {e}", self.name),
        }
    }
}

/// The admin URL with its database name replaced (query parameters kept).
fn database_url_for(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// The host of a `postgres://user[:password]@host[:port]/db` URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split_once(']').map(|(h, _)| h);
    }
    Some(host_port.split(':').next().unwrap_or(host_port))
}

fn is_loopback_url(url: &str) -> bool {
    matches!(url_host(url), Some("127.0.0.1" | "localhost" | "::1"))
}

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

struct Row {
    backend: String,
    query: &'static BenchQuery,
    /// Measured with every request right after a write.
    after_write: bool,
    peak_kb: u64,
    result: Result<Measured, String>,
}

enum BackendOutcome {
    /// Measured; the server's peak resident memory in kB.
    Ran(u64),
    Skipped(String),
    Failed(String),
}

#[derive(Default)]
struct Report {
    seed_mode: Option<SeedMode>,
    rows: Vec<Row>,
    backends: Vec<(String, BackendOutcome)>,
    failed: bool,
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn shorten(text: &str, max_chars: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

impl Row {
    fn title(&self) -> String {
        let title = self.plain_title();
        if self.after_write {
            format!("{title} — after a write")
        } else {
            title
        }
    }

    fn plain_title(&self) -> String {
        match &self.result {
            Ok(m) if self.query.variants.len() > 1 => format!(
                "{} (variant {}/{})",
                self.query.name,
                m.variant + 1,
                self.query.variants.len()
            ),
            Ok(_) => self.query.name.to_owned(),
            Err(message) => format!(
                "{} — not available: {}",
                self.query.name,
                shorten(message, 200)
            ),
        }
    }
}

impl Report {
    fn print_and_save(&self, config: &Config) {
        let plain = self.plain();
        println!();
        print!("{plain}");
        let markdown = self.markdown(config);
        let path = report_path();
        match std::fs::write(&path, markdown) {
            Ok(()) => eprintln!("http_queries: report written to {}", path.display()),
            Err(e) => eprintln!("http_queries: cannot write {}: {e}", path.display()),
        }
    }

    fn plain(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<9} {:<4} {:>9} {:>10} {:>8} {:>8} {:>7} {:>8}  query",
            "backend", "id", "requests", "req/s", "p50 ms", "p99 ms", "errors", "peak MB"
        );
        for row in &self.rows {
            match &row.result {
                Ok(m) => {
                    let _ = writeln!(
                        out,
                        "{:<9} {:<4} {:>9} {:>10.1} {:>8.2} {:>8.2} {:>7} {:>8.1}  {}",
                        row.backend,
                        row.query.id,
                        m.requests,
                        m.rps,
                        m.p50_ms,
                        m.p99_ms,
                        m.errors,
                        mb(m.peak_kb),
                        row.title()
                    );
                }
                Err(_) => {
                    let _ = writeln!(
                        out,
                        "{:<9} {:<4} {:>9} {:>10} {:>8} {:>8} {:>7} {:>8.1}  {}",
                        row.backend,
                        row.query.id,
                        "-",
                        "-",
                        "-",
                        "-",
                        "-",
                        mb(row.peak_kb),
                        row.title()
                    );
                }
            }
        }
        for (backend, outcome) in &self.backends {
            let _ = match outcome {
                BackendOutcome::Ran(kb) => {
                    writeln!(
                        out,
                        "{backend}: server peak memory {:.1} MB (VmHWM)",
                        mb(*kb)
                    )
                }
                BackendOutcome::Skipped(why) => writeln!(out, "{backend}: skipped, {why}"),
                BackendOutcome::Failed(message) => writeln!(out, "{backend}: failed: {message}"),
            };
        }
        if self.seed_mode == Some(SeedMode::Plain) {
            let _ = writeln!(
                out,
                "data: the plan only (`khcn-hub seed --sample` is not available yet)"
            );
        }
        out
    }

    fn markdown(&self, config: &Config) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = String::new();
        let _ = writeln!(out, "# khcn-hub HTTP query benchmark\n");
        let _ = writeln!(
            out,
            "- run: {} (`cargo bench --bench http_queries`)",
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        let _ = writeln!(
            out,
            "- load: {} s per query after a {} s warm-up, {} concurrent clients sharing one \
             keep-alive HTTP/1.1 connection pool, `POST /graphql` on 127.0.0.1; latencies \
             include failed requests",
            config.measure.as_secs(),
            config.warmup.as_secs(),
            config.concurrency
        );
        if config.after_write {
            let _ = writeln!(
                out,
                "- rows marked \"after a write\" (`KHCN_BENCH_AFTER_WRITE=1`): every \
                 measured request right after a write, so nothing read before it is reused"
            );
        }
        let _ = writeln!(
            out,
            "- data: `seed --sample --scale {}` ({} × the sample's records and links)",
            config.scale, config.scale
        );
        let _ = writeln!(
            out,
            "- machine: {} CPUs shared by the load generator and the server",
            std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
        );
        let _ = writeln!(
            out,
            "- data: {}\n",
            match self.seed_mode {
                Some(SeedMode::Sample) => "`khcn-hub seed --sample`",
                _ => "`khcn-hub seed` (the plan only; `--sample` not available)",
            }
        );
        let _ = writeln!(
            out,
            "| backend | query | requests | req/s | p50 ms | p99 ms | errors | peak MB | description |"
        );
        let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|---|");
        for row in &self.rows {
            let _ = match &row.result {
                Ok(m) => writeln!(
                    out,
                    "| {} | {} | {} | {:.1} | {:.2} | {:.2} | {} | {:.1} | {} |",
                    row.backend,
                    row.query.id,
                    m.requests,
                    m.rps,
                    m.p50_ms,
                    m.p99_ms,
                    m.errors,
                    mb(m.peak_kb),
                    cell(&row.title())
                ),
                Err(_) => writeln!(
                    out,
                    "| {} | {} | – | – | – | – | – | {:.1} | {} |",
                    row.backend,
                    row.query.id,
                    mb(row.peak_kb),
                    cell(&row.title())
                ),
            };
        }
        let _ = writeln!(out);
        for (backend, outcome) in &self.backends {
            let _ = match outcome {
                BackendOutcome::Ran(kb) => {
                    writeln!(
                        out,
                        "- {backend}: server peak memory {:.1} MB (VmHWM)",
                        mb(*kb)
                    )
                }
                BackendOutcome::Skipped(why) => {
                    writeln!(out, "- {backend}: skipped, {}", cell(why))
                }
                BackendOutcome::Failed(message) => {
                    writeln!(out, "- {backend}: failed: {}", cell(message))
                }
            };
        }
        let _ = writeln!(out, "\n## Queries\n");
        for query in QUERIES {
            let _ = writeln!(out, "### {} — {}\n", query.id, query.name);
            for text in query.variants {
                let _ = writeln!(out, "```graphql\n{text}\n```\n");
            }
        }
        out
    }
}

/// `<target dir>/bench-http-queries.md` (`CARGO_TARGET_TMPDIR` is `<target dir>/tmp`).
fn report_path() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("bench-http-queries.md")
}

// ---------------------------------------------------------------------------------------
// Soak: a fixed rate for a minute
// ---------------------------------------------------------------------------------------

mod soak {
    use super::*;

    /// The soak's targets.
    const P99_TARGET_MS: f64 = 250.0;
    const GROWTH_TARGET: f64 = 0.20;
    /// Memory is compared between the first and the last this many seconds.
    const WINDOW: usize = 10;

    struct Settings {
        rate: u32,
        duration: Duration,
        warmup: Duration,
    }

    struct Outcome {
        backend: String,
        sent: usize,
        errors: u64,
        p50_ms: f64,
        p99_ms: f64,
        max_ms: f64,
        first_kb: u64,
        last_kb: u64,
        rss_kb: Vec<u64>,
    }

    impl Outcome {
        fn growth(&self) -> f64 {
            self.last_kb as f64 / self.first_kb.max(1) as f64 - 1.0
        }

        fn passed(&self) -> bool {
            self.errors == 0 && self.p99_ms <= P99_TARGET_MS && self.growth() <= GROWTH_TARGET
        }
    }

    /// Soaks every configured backend; true when each met every target.
    pub async fn run(config: &Config) -> bool {
        let settings = Settings {
            rate: env_parse("KHCN_BENCH_SOAK_RATE", 300),
            duration: Duration::from_secs(env_parse("KHCN_BENCH_SOAK_SECONDS", 60)),
            warmup: Duration::from_secs(env_parse("KHCN_BENCH_WARMUP_SECONDS", 5)),
        };
        assert!(settings.rate > 0, "KHCN_BENCH_SOAK_RATE must be at least 1");
        let hub = Path::new(env!("CARGO_BIN_EXE_khcn-hub"));
        let mode = SeedMode::detect(hub).await;
        let mut outcomes = Vec::new();
        let mut passed = true;
        for backend in &config.backends {
            let result = match backend.as_str() {
                "sqlite" => {
                    let dir = tempfile::tempdir().expect("a temporary dir");
                    let url = format!("sqlite://{}?mode=rwc", dir.path().join("soak.db").display());
                    soak_backend("sqlite", hub, &url, mode, &settings).await
                }
                "postgres" | "postgresql" => {
                    match PgDatabase::create(&config.postgres_admin_url).await {
                        Ok(database) => {
                            soak_backend("postgres", hub, &database.url, mode, &settings).await
                        }
                        Err(e) => Err(e),
                    }
                }
                other => Err(format!("unknown backend {other:?}")),
            };
            match result {
                Ok(outcome) => {
                    passed &= outcome.passed();
                    outcomes.push(outcome);
                }
                Err(message) => {
                    eprintln!("[{backend}] soak failed: {message}");
                    passed = false;
                }
            }
        }
        let table = markdown(&settings, &outcomes);
        println!("{table}");
        let path = report_path().with_file_name("bench-soak.md");
        match std::fs::write(&path, &table) {
            Ok(()) => eprintln!("written to {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
        passed
    }

    async fn soak_backend(
        backend: &str,
        hub: &Path,
        url: &str,
        mode: SeedMode,
        settings: &Settings,
    ) -> Result<Outcome, String> {
        seed(backend, hub, url, mode, 1).await?;
        let mut server = Server::start(backend, hub, url).await?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(256)
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let endpoint = format!("http://{}/graphql", server.address);
        let body = serde_json::json!({ "query": Q2 }).to_string();
        probe(&client, &endpoint, &body).await?;
        let body: &'static str = Box::leak(body.into_boxed_str());
        eprintln!(
            "[{backend}] soak: Q2 at {} req/s, warm-up {} s, then {} s",
            settings.rate,
            settings.warmup.as_secs(),
            settings.duration.as_secs()
        );
        fixed_rate(
            &client,
            &endpoint,
            body,
            settings.rate,
            settings.warmup,
            &server,
        )
        .await;
        let (latencies, errors, rss_kb) = fixed_rate(
            &client,
            &endpoint,
            body,
            settings.rate,
            settings.duration,
            &server,
        )
        .await;
        server.ensure_running()?;
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        let window = |samples: &[u64]| samples.iter().sum::<u64>() / samples.len().max(1) as u64;
        let n = rss_kb.len();
        let outcome = Outcome {
            backend: backend.to_owned(),
            sent: latencies.len(),
            errors,
            p50_ms: percentile_ms(&sorted, 0.50),
            p99_ms: percentile_ms(&sorted, 0.99),
            max_ms: sorted.last().map_or(f64::NAN, |&ns| ns as f64 / 1e6),
            first_kb: window(&rss_kb[..WINDOW.min(n)]),
            last_kb: window(&rss_kb[n.saturating_sub(WINDOW)..]),
            rss_kb,
        };
        eprintln!(
            "[{backend}] soak: {} requests, {} errors, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, memory {} → {} kB ({:+.1} %)",
            outcome.sent,
            outcome.errors,
            outcome.p50_ms,
            outcome.p99_ms,
            outcome.max_ms,
            outcome.first_kb,
            outcome.last_kb,
            outcome.growth() * 100.0
        );
        Ok(outcome)
    }

    /// Sends one request every 1/`rate` s for `duration`, whether or not earlier ones
    /// have answered (open loop), and samples the server's memory once a second. Each
    /// latency runs from when the request was due, so a stalled server cannot hide its
    /// queue. Returns latencies (ns), errors and the memory samples (kB).
    async fn fixed_rate(
        client: &reqwest::Client,
        endpoint: &str,
        body: &'static str,
        rate: u32,
        duration: Duration,
        server: &Server,
    ) -> (Vec<u64>, u64, Vec<u64>) {
        let start = tokio::time::Instant::now();
        let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut memory = tokio::time::interval(Duration::from_secs(1));
        let mut requests = tokio::task::JoinSet::new();
        let mut rss_kb = Vec::new();
        let total = u64::from(rate) * duration.as_secs();
        let mut sent = 0;
        while sent < total {
            tokio::select! {
                due = ticks.tick() => {
                    sent += 1;
                    let client = client.clone();
                    let endpoint = endpoint.to_owned();
                    requests.spawn(async move {
                        let outcome = request_once(&client, &endpoint, body).await;
                        (u64::try_from(due.elapsed().as_nanos()).unwrap_or(u64::MAX), outcome.is_ok())
                    });
                }
                _ = memory.tick() => {
                    if start.elapsed() >= Duration::from_millis(500) || rss_kb.is_empty() {
                        rss_kb.extend(server.rss_kb());
                    }
                }
            }
        }
        let mut latencies = Vec::with_capacity(total as usize);
        let mut errors = 0;
        while let Some(joined) = requests.join_next().await {
            let (latency, ok) = joined.expect("a request task");
            latencies.push(latency);
            errors += u64::from(!ok);
        }
        (latencies, errors, rss_kb)
    }

    fn markdown(settings: &Settings, outcomes: &[Outcome]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## Soak: Q2 at {} req/s for {} s (open loop)\n",
            settings.rate,
            settings.duration.as_secs()
        );
        let _ = writeln!(
            out,
            "| backend | requests | errors | p50 ms | p99 ms (≤ {P99_TARGET_MS}) | max ms | memory first {WINDOW} s | last {WINDOW} s | growth (≤ {:.0} %) | verdict |",
            GROWTH_TARGET * 100.0
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for o in outcomes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} MB | {:.1} MB | {:+.1} % | {} |",
                o.backend,
                o.sent,
                o.errors,
                o.p50_ms,
                o.p99_ms,
                o.max_ms,
                o.first_kb as f64 / 1024.0,
                o.last_kb as f64 / 1024.0,
                o.growth() * 100.0,
                if o.passed() { "met" } else { "missed" }
            );
        }
        for o in outcomes {
            let samples: Vec<String> = o
                .rss_kb
                .iter()
                .map(|kb| format!("{:.0}", *kb as f64 / 1024.0))
                .collect();
            let _ = writeln!(
                out,
                "\n{} memory, MB per second: {}",
                o.backend,
                samples.join(" ")
            );
        }
        out
    }
}
