//! Automatic Persisted Queries (Apollo's protocol) over POST and GET, and the allow-list
//! mode of public deployments.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

fn sha256(text: &str) -> String {
    khcn_hub::store::persisted::hash(text)
}

fn extensions(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(app: &TestApp, query: Option<&str>, hash: &str) -> (u16, Value) {
    let mut params = vec![("extensions", extensions(hash).to_string())];
    if let Some(query) = query {
        params.push(("query", query.to_owned()));
    }
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "application/json")
        .query(&params)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

backend_test! {
    async fn apq_registers_a_document_once_and_runs_it_by_hash(app) {
        let query = "query Plans { plans { code } }";
        let hash = sha256(query);
        // Hash only: unknown yet.
        let (status, body) = post(&app, json!({ "extensions": extensions(&hash) }), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
        // Hash and document: runs and is kept.
        let (status, body) = post(&app, json!({ "query": query, "extensions": extensions(&hash) }), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["plans"][0]["code"], "136/KH-UBND");
        // Hash only, now over GET too.
        let (status, body) = post(&app, json!({ "extensions": extensions(&hash) }), None).await;
        assert_eq!((status, body["data"]["plans"][0]["code"].clone()), (200, json!("136/KH-UBND")));
        let (status, body) = get(&app, None, &hash).await;
        assert_eq!((status, body["data"]["plans"][0]["code"].clone()), (200, json!("136/KH-UBND")), "{body}");

        // The same round trip over GET from the start.
        let other = "{ plan(code: \"136/KH-UBND\") { code } }";
        let other_hash = sha256(other);
        let (_, body) = get(&app, None, &other_hash).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
        let (_, body) = get(&app, Some(other), &other_hash).await;
        assert_eq!(body["data"]["plan"]["code"], "136/KH-UBND");
        let (_, body) = get(&app, None, &other_hash).await;
        assert_eq!(body["data"]["plan"]["code"], "136/KH-UBND");

        // A hash that is not the document's is refused.
        let (status, body) = post(&app, json!({ "query": query, "extensions": extensions(&"0".repeat(64)) }), None).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        let (status, _) = post(&app, json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": hash } } }), None).await;
        assert_eq!(status, 400);
    }
}

// The CLI runs synchronously beside the in-process hub: the hub needs a worker of its own,
// or a write lock it holds at that moment (SQLite) is never released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_list_runs_only_registered_documents() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| s.persisted_only = true).await else {
        return;
    };
    let query = "query Plans { plans { code } }";
    let (status, body) = post(&app, json!({ "query": query }), None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("khcn-hub persisted add")
    );
    // An anonymous client cannot register one through APQ either.
    let (status, _) = post(
        &app,
        json!({ "query": query, "extensions": extensions(&sha256(query)) }),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // An operator allows it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plans.graphql");
    std::fs::write(&file, query).unwrap();
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args(["persisted", "add"])
        .arg(&file)
        .env("DATABASE_URL", app.database_url())
        .env("KHCN_HUB_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let printed = String::from_utf8(added.stdout).unwrap();
    assert!(printed.starts_with(&sha256(query)), "{printed}");

    let (status, body) = post(
        &app,
        json!({ "extensions": extensions(&sha256(query)) }),
        None,
    )
    .await;
    assert_eq!(
        (status, body["data"]["plans"][0]["code"].clone()),
        (200, json!("136/KH-UBND"))
    );
    let (status, _) = post(&app, json!({ "query": query }), None).await;
    assert_eq!(status, 200, "the registered document as text");
    let (status, _) = post(
        &app,
        json!({ "query": "{ plans { code issuedOn } }" }),
        None,
    )
    .await;
    assert_eq!(status, 403, "another document");

    // A document that does not parse is refused by the CLI.
    std::fs::write(&file, "{ plans { ").unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_khcn-hub"))
        .args(["persisted", "add"])
        .arg(&file)
        .env("DATABASE_URL", app.database_url())
        .env("KHCN_HUB_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a GraphQL document"));
}

backend_test! {
    async fn anonymous_get_answers_can_be_cached_by_etag(app) {
        let url = app.url("/graphql?query=%7B%20plans%20%7B%20code%20%7D%20%7D");
        let first = app.client.get(&url).header("accept", "application/json").send().await.unwrap();
        assert_eq!(first.status(), 200);
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(tag.starts_with('"') && tag.len() == 34, "{tag}");
        assert_eq!(first.headers()["cache-control"], "public, max-age=5");
        let again = app.client.get(&url).header("accept", "application/json").header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.bytes().await.unwrap().is_empty());
        // An answer with errors, or one for a token, is not marked cacheable.
        let failed = app.client.get(app.url("/graphql?query=%7B%20nope%20%7D")).header("accept", "application/json").send().await.unwrap();
        assert!(failed.headers().get("etag").is_none());
        let token = app.token("analyst", None).await;
        let private = app.client.get(&url).header("accept", "application/json").bearer_auth(token).send().await.unwrap();
        assert_eq!(private.status(), 200);
        assert!(private.headers().get("etag").is_none());
    }
}
