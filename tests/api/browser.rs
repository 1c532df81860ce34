//! The dashboard and GraphiQL in a real headless Chromium, driven over the DevTools
//! protocol: the pages load with no failed request and no script error, and the
//! dashboard shows the API's figures. Screenshots are kept under the target folder.
//!
//! Chromium is Debian's `chromium` (or `KHCN_HUB_CHROMIUM`); `.ci/run` installs it and
//! sets `KHCN_HUB_TEST_REQUIRE_BROWSER=1`, so in CI these tests cannot skip.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::fixtures;
use crate::helpers::{Backend, TestApp};

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("KHCN_HUB_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A headless Chromium with one page attached.
struct Browser {
    child: tokio::process::Child,
    outgoing: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: Arc<Mutex<Vec<Value>>>,
    next_id: std::sync::atomic::AtomicU64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn launch() -> Option<Self> {
        let Some(binary) = chromium() else {
            assert!(
                std::env::var("KHCN_HUB_TEST_REQUIRE_BROWSER").is_err(),
                "KHCN_HUB_TEST_REQUIRE_BROWSER is set but no Chromium was found"
            );
            eprintln!("skipping: no Chromium here (install Debian's chromium)");
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let mut child = tokio::process::Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--window-size=1280,1600",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("Chromium starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let endpoint = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("Chromium exited before opening DevTools");
        })
        .await
        .expect("Chromium opens DevTools within 30 s");
        // Keep draining stderr so Chromium never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let (socket, _) = tokio_tungstenite::connect_async(endpoint.as_str())
            .await
            .unwrap();
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (p, e) = (pending.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).unwrap();
                match value["id"].as_u64() {
                    Some(id) => {
                        if let Some(reply) = p.lock().unwrap().remove(&id) {
                            let _ = reply.send(value);
                        }
                    }
                    None => e.lock().unwrap().push(value),
                }
            }
        });
        let mut browser = Self {
            child,
            outgoing,
            pending,
            events,
            next_id: 1.into(),
            session: String::new(),
            _profile: profile,
        };
        let target = browser
            .call("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in [
            "Page.enable",
            "Network.enable",
            "Runtime.enable",
            "Log.enable",
        ] {
            browser.call(domain, json!({})).await;
        }
        Some(browser)
    }

    /// Sends one command (to the page once attached) and returns its result.
    async fn call(&self, method: &str, params: Value) -> Value {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let (reply, answer) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, reply);
        self.outgoing
            .send(Message::Text(message.to_string().into()))
            .unwrap();
        let value = tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .unwrap_or_else(|_| panic!("{method} answered within 30 s"))
            .unwrap();
        assert!(value["error"].is_null(), "{method}: {value}");
        value["result"].clone()
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    async fn eval(&self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    async fn wait_for(&self, expression: &str) {
        // The page may still be loading: a missing element is "not yet", not an error.
        let guarded = format!(
            "(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"
        );
        for _ in 0..300 {
            if self.eval(&guarded).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "timed out waiting for `{expression}`; events: {:#?}",
            self.problems()
        );
    }

    async fn open(&self, url: &str) {
        self.events.lock().unwrap().clear();
        self.call("Page.navigate", json!({ "url": url })).await;
    }

    /// Failed requests, HTTP errors, uncaught exceptions and console errors so far.
    fn problems(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|event| {
                let params = &event["params"];
                match event["method"].as_str()? {
                    "Network.loadingFailed" => Some(format!(
                        "request failed: {} ({})",
                        params["requestId"], params["errorText"]
                    )),
                    "Network.responseReceived"
                        if params["response"]["status"].as_u64().unwrap_or(0) >= 400 =>
                    {
                        Some(format!(
                            "HTTP {} for {}",
                            params["response"]["status"], params["response"]["url"]
                        ))
                    }
                    "Runtime.exceptionThrown" => {
                        Some(format!("script error: {}", params["exceptionDetails"]))
                    }
                    "Runtime.consoleAPICalled" if params["type"] == "error" => {
                        Some(format!("console error: {}", params["args"]))
                    }
                    "Log.entryAdded" if params["entry"]["level"] == "error" => {
                        Some(format!("log error: {}", params["entry"]["text"]))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The URLs the page requested.
    fn requested(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_owned))
            .collect()
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true }),
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_apis_figures() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    fixtures::load(&app.db).await;

    browser.open(&app.url("/")).await;
    browser
        .wait_for(
            "document.body.dataset.state === 'ready' || document.body.dataset.state === 'error'",
        )
        .await;
    let state = browser.eval("document.body.dataset.state").await;
    let error = browser
        .eval("document.getElementById('error').textContent")
        .await;
    assert_eq!(state, "ready", "{error}");
    let problems = browser.problems();
    assert!(problems.is_empty(), "{problems:#?}");
    let origin = app.url("");
    for url in browser.requested() {
        assert!(
            url.starts_with(&origin) || url.starts_with("data:"),
            "the page reached outside the hub: {url}"
        );
    }

    // The numbers shown are the API's.
    let shown = browser
        .eval(
            "[...document.querySelectorAll('.target')].map(e => ({ key: e.dataset.key, \
             actual: Number(e.dataset.actual), goal: Number(e.dataset.goal), \
             onTrack: e.dataset.onTrack === 'true', text: e.querySelector('.actual').textContent }))",
        )
        .await;
    let api = app
        .query(r#"{ plan(code: "136/KH-UBND") { targets { key kind targetValue actualValue onTrack } } }"#)
        .await;
    let targets = api["plan"]["targets"].as_array().unwrap();
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), targets.len());
    assert_eq!(targets.len(), 5);
    for (target, row) in targets.iter().zip(shown) {
        assert_eq!(row["key"], target["key"]);
        assert_eq!(row["actual"], target["actualValue"], "{row}");
        assert_eq!(row["onTrack"], target["onTrack"], "{row}");
        if target["kind"] == "COUNT" {
            let expected = format!("{} / {}", target["actualValue"], target["targetValue"]);
            assert!(
                row["text"].as_str().unwrap().starts_with(&expected),
                "{row}"
            );
        }
    }

    // The charts are drawn from the aggregates.
    let bars = browser
        .eval("document.querySelectorAll('#ocop-chart svg rect').length")
        .await;
    assert!(bars.as_u64().unwrap() >= 3, "OCOP bars: {bars}");
    let tasks_bars = browser
        .eval("document.querySelectorAll('#tasks-chart svg rect').length")
        .await;
    assert!(tasks_bars.as_u64().unwrap() >= 1);

    // A click on a target lists the records that count.
    browser
        .eval("document.querySelector('.target[data-key=\"STARTUPS\"]').click()")
        .await;
    browser
        .wait_for("document.querySelectorAll('#contributing-list li[data-id]').length > 0")
        .await;
    let listed = browser
        .eval("[...document.querySelectorAll('#contributing-list li[data-id]')].map(li => li.textContent)")
        .await;
    assert_eq!(listed, json!(["Khởi nghiệp A", "Khởi nghiệp C"]));

    // Who owes the yearly report follows the plan's rule: the lists are the API's.
    let year = browser
        .eval("Number(document.getElementById('overdue').dataset.year)")
        .await;
    let api = app
        .query_with(
            "query($y: Int!) { overdueReports(year: $y) { code } reportingObligations(year: $y, status: [CEASED]) { agency { code } } }",
            json!({ "y": year }),
        )
        .await;
    let codes = |list: &Value, path: &[&str]| -> Vec<Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| path.iter().fold(v.clone(), |v, key| v[*key].clone()))
            .collect()
    };
    let overdue = browser
        .eval("[...document.querySelectorAll('#overdue li[data-code]')].map(li => li.dataset.code)")
        .await;
    assert_eq!(
        codes(&overdue, &[]),
        codes(&api["overdueReports"], &["code"])
    );
    assert!(!codes(&overdue, &[]).contains(&json!("mttq")));
    let ceased = browser
        .eval("[...document.querySelectorAll('#ceased li[data-code]')].map(li => li.dataset.code)")
        .await;
    assert_eq!(
        codes(&ceased, &[]),
        codes(&api["reportingObligations"], &["agency", "code"])
    );

    let path = browser.screenshot("dashboard-vi.png").await;
    assert!(std::fs::metadata(&path).unwrap().len() > 10_000);

    // The English switch.
    browser
        .eval("document.getElementById('lang').click()")
        .await;
    let heading = browser
        .eval("document.querySelector('h1').textContent")
        .await;
    assert_eq!(heading, "Progress of plan 136/KH-UBND");
    browser.screenshot("dashboard-en.png").await;
    let problems = browser.problems();
    assert!(problems.is_empty(), "{problems:#?}");

    // The yearly report, fetched with a token: a refusal is shown, then the file comes.
    let analyst = app.token("analyst", None).await;
    browser
        .eval(
            "document.getElementById('report-year').value = '2024'; \
             document.getElementById('report-token').value = 'not-a-token'; \
             document.querySelector('#report-form button[value=pdf]').click()",
        )
        .await;
    browser
        .wait_for(
            "['done', 'error'].includes(document.getElementById('report-status').dataset.state)",
        )
        .await;
    let status = browser
        .eval("document.getElementById('report-status').textContent")
        .await;
    assert!(
        status
            .as_str()
            .unwrap()
            .starts_with("Could not download the report: "),
        "{status}"
    );
    browser
        .eval(&format!(
            "document.getElementById('report-token').value = '{analyst}'; \
             document.querySelector('#report-form button[value=pdf]').click()"
        ))
        .await;
    browser
        .wait_for("document.getElementById('report-status').dataset.state === 'done'")
        .await;
    let status = browser
        .eval("document.getElementById('report-status').textContent")
        .await;
    assert!(
        status
            .as_str()
            .unwrap()
            .starts_with("Downloaded bao-cao-2024-plan.pdf ("),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_loads_from_the_hub_alone() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    browser.open(&app.url("/graphql")).await;
    browser
        .wait_for("!!document.querySelector('.graphiql-container')")
        .await;
    // GraphiQL fetches the schema by introspection once it has rendered.
    browser
        .wait_for("!!document.querySelector('.graphiql-container .graphiql-editor')")
        .await;
    // The schema loaded: the documentation explorer lists the root query type, and the
    // response pane shows no error (an introspection refusal would appear there).
    browser
        .eval("document.querySelector('[aria-label=\"Show Documentation Explorer\"]').click()")
        .await;
    browser
        .wait_for("document.querySelector('.graphiql-doc-explorer').textContent.includes('Query')")
        .await;
    let response = browser
        .eval("document.querySelector('.graphiql-response').textContent")
        .await;
    assert!(
        !response.as_str().unwrap_or_default().contains("error"),
        "{response}"
    );
    let problems = browser.problems();
    assert!(problems.is_empty(), "{problems:#?}");
    let origin = app.url("");
    for url in browser.requested() {
        assert!(
            url.starts_with(&origin) || url.starts_with("data:") || url.starts_with("blob:"),
            "GraphiQL reached outside the hub: {url}"
        );
    }
    browser.screenshot("graphiql.png").await;
}
