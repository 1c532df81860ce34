//! API tokens: created by the CLI, shown once, stored as hashes, refused clearly.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

fn hub(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("KHCN_HUB_LOG", "warn")
        .output()
        .unwrap()
}

/// Creates a token with the CLI and returns it (the last line of the output).
fn create_token(app: &TestApp, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    let output = hub(&app.database_url(), &all);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().last().unwrap().trim().to_owned()
}

async fn with_token(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(json!({ "query": "{ plans { code } }" }).to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let www = response.headers().get("www-authenticate").cloned();
    let body: Value = response.json().await.unwrap();
    if status == 401 {
        assert_eq!(www.unwrap(), "Bearer");
    }
    (status, body)
}

backend_test! {
    async fn tokens_are_created_once_hashed_and_refused_when_revoked(app) {
        let token = create_token(&app, &["--agency", "so-khcn", "--role", "agency", "--label", "test"]);
        assert!(token.starts_with("khcn_"), "{token}");
        let (status, body) = with_token(&app, &token).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["plans"][0]["code"], "136/KH-UBND");

        // Only a hash is kept, and listings never show the secret.
        let list = hub(&app.database_url(), &["token", "list"]);
        let listing = String::from_utf8(list.stdout).unwrap();
        assert!(listing.contains("agency") && !listing.contains(&token), "{listing}");
        let id = listing.lines().nth(1).unwrap().split('\t').next().unwrap().to_owned();

        let revoke = hub(&app.database_url(), &["token", "revoke", &id]);
        assert!(revoke.status.success());
        let (status, body) = with_token(&app, &token).await;
        assert_eq!(status, 401);
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("revoked"), "{body}");
    }
}

backend_test! {
    async fn unknown_expired_and_malformed_tokens_get_401(app) {
        let (status, body) = with_token(&app, "khcn_not-a-real-token").await;
        assert_eq!(status, 401);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("not known"));

        let short = create_token(&app, &["--role", "analyst", "--expires", "1s"]);
        tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
        let (status, body) = with_token(&app, &short).await;
        assert_eq!(status, 401);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("expired"), "{body}");

        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("authorization", "Basic dXNlcjpwYXNz")
            .body(json!({ "query": "{ plans { code } }" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
}

#[test]
fn the_cli_refuses_roles_and_agencies_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
    for (args, expected) in [
        (
            vec!["token", "create", "--role", "agency"],
            "needs --agency",
        ),
        (
            vec!["token", "create", "--role", "admin", "--agency", "so-khcn"],
            "leave out --agency",
        ),
        (vec!["token", "create", "--role", "root"], "unknown role"),
        (
            vec!["token", "create", "--role", "agency", "--agency", "nope"],
            "no agency has the code",
        ),
        (
            vec!["token", "create", "--role", "analyst", "--expires", "soon"],
            "not a duration",
        ),
    ] {
        let output = hub(&url, &args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

// Two workers: the CLI below blocks its thread while the hub in this process runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reads_can_be_switched_off() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.anonymous_reads = false)
        .await
        .unwrap();
    let response = app
        .post_graphql(
            &json!({ "query": "{ plans { code } }" }),
            "application/json",
        )
        .await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("authentication required")
    );
    let token = create_token(&app, &["--role", "analyst"]);
    let (status, _) = with_token(&app, &token).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn tokens_never_appear_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
    assert!(hub(&url, &["seed"]).status.success());
    let create = |args: &[&str]| {
        let mut all = vec!["token", "create"];
        all.extend_from_slice(args);
        let created = hub(&url, &all);
        assert!(created.status.success());
        String::from_utf8(created.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_owned()
    };
    let token = create(&["--role", "analyst"]);
    let agency_token = create(&["--role", "agency", "--agency", "so-khcn"]);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("hub.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args(["serve"])
        .env("DATABASE_URL", &url)
        .env("KHCN_HUB_BIND", format!("127.0.0.1:{port}"))
        .env("KHCN_HUB_LOG", "trace")
        .stderr(log)
        .spawn()
        .unwrap();
    let client = {
        khcn_hub::sync::http::install_crypto_provider();
        reqwest::Client::new()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut statuses = Vec::new();
    if ready {
        for bearer in [token.as_str(), "khcn_wrong-token-value"] {
            let response = client
                .post(format!("{base}/graphql"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {bearer}"))
                .body(r#"{"query":"{ plans { code } }"}"#)
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        // A write, retried with the same Idempotency-Key.
        for _ in 0..2 {
            let response = client
                .post(format!("{base}/graphql"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {agency_token}"))
                .header("idempotency-key", "log-test")
                .body(r#"{"query":"mutation { createOcopProduct(input: {name: \"Sen\", stars: 4}) { id } }"}"#)
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(ready, "the hub did not start");
    assert_eq!(statuses, [200, 401, 200, 200]);
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged.len() > 100,
        "trace logging wrote almost nothing: {logged}"
    );
    assert!(
        !logged.contains(&token[5..]),
        "the token appears in the log"
    );
    assert!(
        !logged.contains(&agency_token[5..]),
        "the agency token appears in the log"
    );
    assert!(
        logged.matches("finished processing request").count() >= 4,
        "every request was traced"
    );
    assert!(
        !logged.contains("wrong-token-value"),
        "a refused token appears in the log"
    );
}

#[tokio::test]
async fn a_token_over_its_rate_limit_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 3;
    })
    .await
    .unwrap();
    let busy = app.token("analyst", None).await;
    let quiet = app.token("analyst", None).await;
    for _ in 0..3 {
        let (status, _) = app
            .as_caller(Some(&busy), "{ plans { code } }", json!({}))
            .await;
        assert_eq!(status, 200);
    }
    let response = app
        .send_as(Some(&busy), "{ plans { code } }", json!({}), None)
        .await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Exports count against the same token.
    let export = app
        .client
        .get(app.url("/export/tasks.csv"))
        .bearer_auth(&busy)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 429);
    // Other callers are not held back.
    let (status, _) = app
        .as_caller(Some(&quiet), "{ plans { code } }", json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.as_caller(None, "{ plans { code } }", json!({})).await;
    assert_eq!(status, 200);
    // After the wait, the token is served again.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    let (status, _) = app
        .as_caller(Some(&busy), "{ plans { code } }", json!({}))
        .await;
    assert_eq!(status, 200);
}
