//! `TestApp`: a running hub on 127.0.0.1 with a database of its own, dropped afterwards.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use khcn_hub::app::App;
use khcn_hub::config::Settings;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("KHCN_HUB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether a missing PostgreSQL fails the suite (CI) or skips its tests.
fn postgres_required() -> bool {
    std::env::var("KHCN_HUB_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A database owned by one test: a temporary SQLite file, or a uniquely named
/// PostgreSQL database dropped when this value is.
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("khcn-hub.db");
                Some(Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    backend,
                    name: path.display().to_string(),
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match connect_admin(&admin_url).await {
                    Some(admin) => admin,
                    None if postgres_required() => {
                        panic!(
                            "PostgreSQL at {admin_url} is required (KHCN_HUB_TEST_REQUIRE_POSTGRES) but not reachable"
                        )
                    }
                    None => {
                        eprintln!("skipped: PostgreSQL at {admin_url} is not reachable");
                        return None;
                    }
                };
                let stamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let name = format!(
                    "khcn_test_{stamp}_{}",
                    uuid::Uuid::new_v4().simple().to_string().get(..12).unwrap()
                );
                sweep_stale_databases(&admin, stamp).await;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                Some(Self {
                    url: format!("{base}/{name}"),
                    backend,
                    name,
                    _dir: None,
                })
            }
        }
    }
}

async fn connect_admin(url: &str) -> Option<DatabaseConnection> {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(3))
        .max_connections(1)
        .sqlx_logging(false);
    let db = Database::connect(options).await.ok()?;
    db.execute_unprepared("SELECT 1").await.ok()?;
    Some(db)
}

/// Drops test databases left behind by runs that were killed (older than an hour).
async fn sweep_stale_databases(admin: &DatabaseConnection, now: u64) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'khcn\\_test\\_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let stamp = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(now);
        if now.saturating_sub(stamp) > 3600 {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.backend != Backend::Postgres {
            return;
        }
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a thread with its own runtime may block.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Some(admin) = connect_admin(&postgres_admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// A running hub.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub db: DatabaseConnection,
    /// The server's change feed, for writes made beside it (connector runs).
    pub feed: khcn_hub::store::feed::ChangeFeed,
    stop: Option<oneshot::Sender<()>>,
    // Declared last: dropped after the server has been told to stop.
    _database: TestDatabase,
}

impl TestApp {
    /// Starts the hub on a fresh database; `None` when the backend is unavailable here.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, with settings adjusted first (limits, …).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        let mut settings = Settings::with_database(&database.url);
        settings.bind = "127.0.0.1:0".parse().unwrap();
        adjust(&mut settings);
        let app = App::build(&settings).await.expect("the hub starts");
        let address = format!("http://{}", app.local_addr().unwrap());
        let db = app.database().clone();
        let feed = app.feed().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Some(Self {
            address,
            client: {
                khcn_hub::sync::http::install_crypto_provider();
                reqwest::Client::new()
            },
            backend,
            db,
            feed,
            stop: Some(stop),
            _database: database,
        })
    }

    /// The database URL the hub runs on (for driving the CLI against it).
    pub fn database_url(&self) -> String {
        self._database.url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a GraphQL request and returns the HTTP response.
    pub async fn post_graphql(&self, body: &Value, accept: &str) -> reqwest::Response {
        self.client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn query(&self, query: &str) -> Value {
        self.query_with(query, json!({})).await
    }

    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        let response = self
            .post_graphql(
                &json!({ "query": query, "variables": variables }),
                "application/graphql-response+json",
            )
            .await;
        assert_eq!(response.status(), 200, "query failed: {query}");
        let body: Value = response.json().await.unwrap();
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs a query and returns the whole response body, errors included.
    pub async fn query_body(&self, query: &str) -> (u16, Value) {
        let response = self
            .post_graphql(
                &json!({ "query": query }),
                "application/graphql-response+json",
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

impl TestApp {
    /// A fresh token: `role` is admin, agency or analyst; `agency` an agency code.
    pub async fn token(&self, role: &str, agency: Option<&str>) -> String {
        let role = khcn_hub::domain::auth::Role::parse(role).unwrap();
        khcn_hub::store::tokens::create_token(&self.db, role, agency, None, None)
            .await
            .unwrap()
            .token
    }

    /// POSTs a GraphQL request with a token (and optionally an Idempotency-Key).
    pub async fn send_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(json!({ "query": query, "variables": variables }).to_string());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.unwrap()
    }

    /// Runs a request as `token` and returns status and body.
    pub async fn as_caller(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let response = self.send_as(token, query, variables, None).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Counts rows of a table straight from the database, to see what was written.
    pub async fn count_rows(&self, table: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// Runs a statement straight on the database (to set up records a connector would own).
    pub async fn execute_sql(&self, sql: &str) {
        use sea_orm::ConnectionTrait;
        self.db
            .execute_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap();
    }
}

/// The `extensions.code` of the first error of a response body.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Defines a test that runs once on SQLite and once on PostgreSQL.
macro_rules! backend_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn run($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                run(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await
                {
                    run(app).await;
                }
            }
        }
    };
}

/// A `khcn-hub serve` process of its own (for signals, `kill -9` and several replicas),
/// its log in a file; killed when dropped.
pub struct HubProcess {
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub port: u16,
    log: std::path::PathBuf,
}

impl HubProcess {
    /// Starts `serve` on `database_url` with `env` set, and waits until `/readyz` says 200.
    pub async fn start(database_url: &str, env: &[(&str, &str)], log: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("KHCN_HUB_BIND", format!("127.0.0.1:{port}"))
            .env("KHCN_HUB_LOG", "info")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let process = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            log: log.to_owned(),
        };
        for _ in 0..300 {
            if process.readyz().await == Some(200) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the hub did not start:\n{}", process.log());
    }

    /// `/readyz`'s status, or `None` when nothing answers.
    pub async fn readyz(&self) -> Option<u16> {
        khcn_hub::sync::http::install_crypto_provider();
        reqwest::Client::new()
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok()
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the process is running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }
}

/// Runs `query` on `base` (a hub process) as `token` and returns its data, failing on any error.
pub async fn graphql(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let body: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}
