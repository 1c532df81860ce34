//! GraphQL over HTTP as the spec and the hub's limits require.

use serde_json::{Value, json};

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

backend_test! {
    async fn get_runs_queries_from_url_parameters(app) {
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", "query($c: String!) { task(code: $c) { code } }"), ("variables", r#"{"c":"IV.1"}"#)])
            .header("accept", GQL)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with(GQL));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "data": { "task": { "code": "IV.1" } } }));
    }
}

backend_test! {
    async fn mutations_over_get_are_refused_with_405(app) {
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", "mutation { doSomething }")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "POST");
        let body: Value = response.json().await.unwrap();
        assert_eq!(first_code(&body), "METHOD_NOT_ALLOWED");
    }
}

backend_test! {
    async fn an_unparseable_document_is_a_request_error(app) {
        let response = app.post_graphql(&json!({ "query": "{ plan(code: }" }), GQL).await;
        assert_eq!(response.status(), 400);
        assert!(content_type(&response).starts_with(GQL));
        let body: Value = response.json().await.unwrap();
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(first_code(&body), "GRAPHQL_PARSE_FAILED");
        assert_eq!(body["errors"][0]["locations"][0]["line"], 1);

        // The legacy media type keeps 200 for a well-formed HTTP request.
        let response = app.post_graphql(&json!({ "query": "{ plan(code: }" }), JSON).await;
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with(JSON));
        let body: Value = response.json().await.unwrap();
        assert!(body.get("data").is_none());
        assert_eq!(first_code(&body), "GRAPHQL_PARSE_FAILED");
    }
}

backend_test! {
    async fn a_document_that_does_not_validate_is_a_request_error(app) {
        let response = app.post_graphql(&json!({ "query": "{ plan(code: \"136/KH-UBND\") { nosuchfield } }" }), GQL).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body.get("data").is_none());
        assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("nosuchfield"));

        let response = app.post_graphql(&json!({ "query": "query A { plans { code } } query B { plans { code } }", "operationName": "C" }), GQL).await;
        assert_eq!(response.status(), 400);
    }
}

backend_test! {
    async fn a_request_validated_before_is_validated_again_when_its_variables_change(app) {
        let query = "query Tasks($n: Int!) { tasks(first: $n) { nodes { code } } }";
        let ask = |variables: Value| {
            let request = json!({ "query": query, "variables": variables, "operationName": "Tasks" });
            let app = &app;
            async move {
                let response = app.post_graphql(&request, GQL).await;
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            }
        };
        // A variable of the wrong type is refused before anything runs...
        let (status, refused) = ask(json!({ "n": "ten" })).await;
        assert_eq!(status, 400, "{refused}");
        assert!(refused.get("data").is_none(), "{refused}");
        // ...the same document with good variables runs, every time...
        for _ in 0..3 {
            let (status, body) = ask(json!({ "n": 2 })).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["tasks"]["nodes"].as_array().unwrap().len(), 2, "{body}");
        }
        let (_, body) = ask(json!({ "n": 3 })).await;
        assert_eq!(body["data"]["tasks"]["nodes"].as_array().unwrap().len(), 3, "{body}");
        // ...and the bad variable is still refused the same way once it has.
        let (status, again) = ask(json!({ "n": "ten" })).await;
        assert_eq!(status, 400, "{again}");
        assert!(again.get("data").is_none(), "{again}");
        assert_eq!(again["errors"][0]["message"], refused["errors"][0]["message"]);
        assert_eq!(first_code(&again), first_code(&refused));
        // A document that does not validate is refused every time it comes.
        for _ in 0..2 {
            let (status, body) = app.query_body("{ tasks { nodes { nosuchfield } } }").await;
            assert_eq!(status, 400, "{body}");
            assert_eq!(first_code(&body), "GRAPHQL_VALIDATION_FAILED");
        }
    }
}

backend_test! {
    async fn the_response_type_follows_accept(app) {
        let query = json!({ "query": "{ plans { code } }" });
        for (accept, expected) in [(GQL, GQL), (JSON, JSON), ("*/*", JSON), ("application/graphql-response+json, application/json;q=0.9", GQL)] {
            let response = app.post_graphql(&query, accept).await;
            assert_eq!(response.status(), 200, "{accept}");
            assert!(content_type(&response).starts_with(expected), "{accept} → {}", content_type(&response));
        }
        let response = app.post_graphql(&query, "text/csv").await;
        assert_eq!(response.status(), 406);
    }
}

backend_test! {
    async fn malformed_http_requests_say_what_is_wrong(app) {
        let post = |body: &'static str, content_type: &'static str| {
            app.client
                .post(app.url("/graphql"))
                .header("content-type", content_type)
                .header("accept", GQL)
                .body(body)
                .send()
        };
        let response = post("{not json", JSON).await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(first_code(&body), "BAD_REQUEST");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("not valid JSON"));

        let response = post(r#"{"query": 42}"#, JSON).await.unwrap();
        assert_eq!(response.status(), 400);
        let response = post(r#"{"variables": {}}"#, JSON).await.unwrap();
        assert_eq!(response.status(), 400);
        let response = post(r#"{"query": "{ plans { code } }", "variables": [1]}"#, JSON).await.unwrap();
        assert_eq!(response.status(), 400);
        let response = post(r#"[{"query": "{ plans { code } }"}]"#, JSON).await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("batched"));

        let response = post("{ plans { code } }", "text/plain").await.unwrap();
        assert_eq!(response.status(), 415);
        let body: Value = response.json().await.unwrap();
        assert_eq!(first_code(&body), "UNSUPPORTED_MEDIA_TYPE");
    }
}

/// A query nested `levels` deep through task → parent → parent … (cheap but deep).
fn deep_query(levels: usize) -> String {
    let mut query = String::from("code");
    for _ in 0..levels {
        query = format!("code parent {{ {query} }}");
    }
    format!("{{ task(code: \"II.3.i\") {{ {query} }} }}")
}

/// A query nested `levels` deep through lists: cheap to write, costly to run.
fn nested_lists_query(levels: usize) -> String {
    let mut query = String::from("code");
    for _ in 0..levels {
        query = format!("code children {{ {query} }}");
    }
    format!("{{ task(code: \"II.3\") {{ {query} }} }}")
}

backend_test! {
    async fn limits_refuse_documents_and_name_the_limit(app) {
        let (status, body) = app.query_body(&deep_query(20)).await;
        assert_eq!(status, 400);
        assert_eq!(first_code(&body), "DEPTH_LIMIT_EXCEEDED");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("12"), "{body}");

        // Deep nested lists price beyond any limit without overflowing.
        let (status, body) = app.query_body(&nested_lists_query(30)).await;
        assert_eq!(status, 400);
        assert_eq!(first_code(&body), "COMPLEXITY_LIMIT_EXCEEDED");

        let wide: String = (0..30)
            .map(|i| format!("a{i}: plan(code: \"136/KH-UBND\") {{ sections {{ tasks {{ code text number }} }} }}"))
            .collect::<Vec<_>>()
            .join(" ");
        let (status, body) = app.query_body(&format!("{{ {wide} }}")).await;
        assert_eq!(status, 400);
        assert_eq!(first_code(&body), "COMPLEXITY_LIMIT_EXCEEDED");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("5000"), "{body}");

        let directives = (0..11).map(|_| "@include(if: true)").collect::<Vec<_>>().join(" ");
        let (status, body) = app.query_body(&format!("{{ plans {directives} {{ code }} }}")).await;
        assert_eq!(status, 400);
        assert_eq!(first_code(&body), "DIRECTIVE_LIMIT_EXCEEDED");

        let huge = format!("{{ plans {{ code }} }} #{}", "x".repeat(1_100_000));
        let response = app.post_graphql(&json!({ "query": huge }), GQL).await;
        assert_eq!(response.status(), 413);
        assert_eq!(response.headers()["connection"], "close", "the unread body ends the connection");
        let body: Value = response.json().await.unwrap();
        assert_eq!(first_code(&body), "BODY_TOO_LARGE");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("1048576"));

        // A query within every limit still runs.
        app.query(&deep_query(3)).await;
    }
}

backend_test! {
    async fn oversized_documents_aliases_and_nul_are_refused_before_running(app) {
        let aliases = |n: usize| {
            let fields: Vec<String> = (0..n).map(|i| format!("a{i}: plans {{ code }}")).collect();
            format!("{{ {} }}", fields.join(" "))
        };
        app.query(&aliases(30)).await;
        let (status, body) = app.query_body(&aliases(31)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(first_code(&body), "ALIAS_LIMIT_EXCEEDED");
        assert!(body.get("data").is_none(), "a request error has no data: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("30"), "{body}");

        let long = format!("{{ plans {{ code }} }} #{}", "x".repeat(15_000));
        let (status, body) = app.query_body(&long).await;
        assert_eq!(status, 400);
        assert_eq!(first_code(&body), "DOCUMENT_TOO_LARGE");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("15000"), "{body}");

        // Under 15,000 characters but over 2,000 tokens.
        let many = format!("{{ plans {{ {} }} }}", "code ".repeat(2_100));
        assert!(many.len() < 15_000);
        let (status, body) = app.query_body(&many).await;
        assert_eq!(status, 400);
        assert_eq!(first_code(&body), "DOCUMENT_TOO_LARGE");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("2000 tokens"), "{body}");

        // NUL never reaches a resolver or the database.
        let admin = app.token("admin", None).await;
        let before = app.count_rows("ocop_products").await;
        let (status, body) = app
            .as_caller(
                Some(&admin),
                "mutation($i: OcopProductInput!) { createOcopProduct(input: $i) { id } }",
                json!({ "i": { "name": "Xoài\u{0}", "stars": 4 } }),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(first_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "i.name", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("NUL"), "{body}");
        let (status, _) = app.query_body("{ search(text: \"a\\u0000b\") { __typename } }").await;
        assert_eq!(status, 400);
        assert_eq!(app.count_rows("ocop_products").await, before);
    }
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_switched_off() {
    let open = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let (_, body) = open.query_body("{ __schema { queryType { name } } }").await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let (_, body) = open.query_body("{ plans { cod } }").await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{body}"
    );

    let closed = crate::helpers::TestApp::spawn_with(crate::helpers::Backend::Sqlite, |s| {
        s.introspection = false;
        s.suggestions = false;
    })
    .await
    .unwrap();
    let (_, body) = closed
        .query_body("{ __schema { queryType { name } } }")
        .await;
    // async-graphql answers a disabled introspection field with null: nothing leaks.
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection is off: {body}"
    );
    let (_, body) = closed.query_body("{ plans { cod } }").await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
}

#[tokio::test]
async fn limits_are_configurable() {
    let app = crate::helpers::TestApp::spawn_with(crate::helpers::Backend::Sqlite, |s| {
        s.max_depth = 3;
        s.max_body_bytes = 2_000;
    })
    .await
    .unwrap();
    let (status, body) = app.query_body(&deep_query(3)).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 levels"),
        "{body}"
    );
    let response = app
        .post_graphql(
            &json!({ "query": format!("{{ plans {{ code }} }} #{}", "x".repeat(3_000)) }),
            GQL,
        )
        .await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn writers_may_send_larger_bodies_for_bulk_imports() {
    let app = crate::helpers::TestApp::spawn_with(crate::helpers::Backend::Sqlite, |s| {
        s.max_body_bytes = 4_000;
        s.max_import_body_bytes = 200_000;
    })
    .await
    .unwrap();
    let agency = app.token("agency", Some("so-khcn")).await;
    let analyst = app.token("analyst", None).await;
    let import = "mutation($records: [OcopProductImportRecord!]!) { importOcopProducts(records: $records) { created } }";
    let records = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"externalId": format!("BULK-{i}"), "input": {"name": format!("Sen sấy {i}"), "stars": 4, "district": "Cao Lãnh"}}))
            .collect()
    };
    let send = |token: Option<String>, body: Vec<u8>, chunked: bool| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", GQL);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = if chunked {
            // No Content-Length: the limit must hold while the body streams in.
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                body.chunks(1_000).map(|c| Ok(c.to_vec())).collect();
            request.body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
        } else {
            request.body(body)
        };
        request.send()
    };
    let body = |n: usize| {
        serde_json::to_vec(&json!({"query": import, "variables": {"records": records(n)}})).unwrap()
    };

    // About 100 KB: past the ordinary limit, within the import limit.
    let bulk = body(1_000);
    assert!(
        bulk.len() > 50_000 && bulk.len() < 200_000,
        "{}",
        bulk.len()
    );
    let response = send(Some(agency.clone()), bulk.clone(), false)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let result: Value = response.json().await.unwrap();
    assert_eq!(
        result["data"]["importOcopProducts"]["created"], 1_000,
        "{result}"
    );

    // Anonymous and read-only callers keep the ordinary limit, told of the larger one.
    for token in [None, Some(analyst.clone())] {
        for chunked in [false, true] {
            let response = send(token.clone(), bulk.clone(), chunked).await.unwrap();
            assert_eq!(response.status(), 413, "chunked: {chunked}");
            let refusal: Value = response.json().await.unwrap();
            assert_eq!(first_code(&refusal), "BODY_TOO_LARGE");
            let message = refusal["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("4000") && message.contains("200000"),
                "{message}"
            );
        }
    }

    // Writers are bounded too, streamed or not, and nothing of a refused body is kept.
    let huge = body(3_000);
    assert!(huge.len() > 200_000);
    for chunked in [false, true] {
        let response = send(Some(agency.clone()), huge.clone(), chunked)
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "chunked: {chunked}");
        let refusal: Value = response.json().await.unwrap();
        assert_eq!(first_code(&refusal), "BODY_TOO_LARGE");
    }
    assert_eq!(app.count_rows("ocop_products").await, 1_000);
}

backend_test! {
    async fn graphiql_is_served_from_the_hub_itself(app) {
        let response = app
            .client
            .get(app.url("/graphql"))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with("text/html"));
        let page = response.text().await.unwrap();
        assert!(page.contains("GraphiQL"));
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("//unpkg"), "the page must not load from a CDN");
        let scripts: Vec<&str> = page
            .split("src=\"")
            .skip(1)
            .chain(page.split("href=\"").skip(1))
            .map(|rest| rest.split('"').next().unwrap())
            .filter(|link| link.starts_with("/graphql/assets/"))
            .collect();
        assert_eq!(scripts.len(), 4, "{scripts:?}");
        for asset in scripts {
            let response = app.client.get(app.url(asset)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            assert!(response.bytes().await.unwrap().len() > 1_000, "{asset}");
        }
        let missing = app.client.get(app.url("/graphql/assets/nope.js")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
    }
}

backend_test! {
    async fn health_and_readiness_probes_answer(app) {
        let response = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        let response = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ready");
        let expected = match app.backend {
            crate::helpers::Backend::Sqlite => "sqlite",
            crate::helpers::Backend::Postgres => "postgres",
        };
        assert_eq!(body["database"], expected);
    }
}

backend_test! {
    async fn response_fields_follow_the_order_of_the_query(app) {
        let response = app
            .post_graphql(&json!({ "query": r#"{ task(code: "I.1") { text code number } plans { code } }"# }), GQL)
            .await;
        let raw = response.text().await.unwrap();
        let positions: Vec<usize> = ["\"task\"", "\"text\"", "\"code\"", "\"number\"", "\"plans\""]
            .iter()
            .map(|key| raw.find(key).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{raw}");
    }
}

backend_test! {
    async fn every_error_carries_the_request_id_and_stays_small(app) {
        // A parse error, a validation error, a field error and an HTTP-level refusal.
        for body in [
            json!({ "query": "{ plans { code" }),
            json!({ "query": "{ nope }" }),
            json!({ "query": "{ ocopProduct(id: \"Startup:1\") { id } }" }),
            json!({ "query": 42 }),
        ] {
            let response = app.post_graphql(&body, GQL).await;
            let header = response.headers()["x-request-id"].to_str().unwrap().to_owned();
            assert_eq!(header.len(), 16, "{header}");
            let text = response.text().await.unwrap();
            assert!(text.len() < 1024, "an error body over 1 KiB: {text}");
            let parsed: Value = serde_json::from_str(&text).unwrap();
            let errors = parsed["errors"].as_array().unwrap();
            assert!(!errors.is_empty(), "{text}");
            for error in errors {
                assert_eq!(error["extensions"]["requestId"], header.as_str(), "{text}");
                assert!(error["extensions"]["code"].is_string(), "{text}");
            }
        }
        // A caller's own id is kept, so a client can correlate its logs with ours.
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("x-request-id", "client-req-7")
            .body(r#"{"query":"{ nope }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "client-req-7");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["requestId"], "client-req-7");
    }
}

backend_test! {
    async fn the_standard_introspection_query_answers_despite_the_depth_limit(app) {
        // graphql-js's getIntrospectionQuery(), as GraphiQL and code generators send it:
        // its TypeRef fragment nests `ofType` deeper than ordinary queries may go.
        let introspection = include_str!("data/introspection.graphql");
        let (status, body) = app.query_body(introspection).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{body}");
        let types = body["data"]["__schema"]["types"].as_array().unwrap();
        assert!(types.iter().any(|t| t["name"] == "OcopProduct"));
        // Mixed with ordinary fields, the document gets the ordinary limits.
        let (status, body) = app.query_body(&deep_query(20).replacen('{', "{ __typename ", 1)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(first_code(&body), "DEPTH_LIMIT_EXCEEDED");
    }
}

backend_test! {
    async fn malformed_input_is_a_4xx_never_a_500_and_never_stored(app) {
        let admin = app.token("admin", None).await;
        let post_raw = |body: Vec<u8>| {
            app.client
                .post(app.url("/graphql"))
                .header("content-type", "application/json")
                .header("accept", GQL)
                .bearer_auth(&admin)
                .body(body)
                .send()
        };
        let create = "mutation($i: OcopProductInput!) { createOcopProduct(input: $i) { id } }";
        let with_name = |name: &str| {
            format!(r#"{{"query":"{}","variables":{{"i":{{"name":{name},"stars":4}}}}}}"#, create)
                .into_bytes()
        };
        let mut invalid_utf8 = with_name("\"Xo\"");
        let at = invalid_utf8.iter().position(|b| *b == b'X').unwrap();
        invalid_utf8.insert(at + 1, 0xFF);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("invalid UTF-8", invalid_utf8),
            ("a lone surrogate", with_name(r#""Xo\ud800ài""#)),
            ("a control character", with_name(r#""Xo\u0007ài""#)),
        ];
        for (what, body) in cases {
            let response = post_raw(body).await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert!((400..500).contains(&status) || (status == 200 && body["data"].is_null()),
                "{what}: {status} {body}");
            assert!(body["errors"][0]["extensions"]["code"].is_string(), "{what}: {body}");
        }
        let (status, body) = app
            .as_caller(
                Some(&admin),
                create,
                json!({ "i": { "name": "Sen", "stars": 4, "certifiedOn": "2024-02-30" } }),
            )
            .await;
        assert!(status < 500, "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("certifiedOn")
            || body["errors"][0]["message"].as_str().unwrap().contains("Date"), "{body}");
        let (status, body) = app
            .as_caller(
                Some(&admin),
                "mutation($v: BigInt!) { archiveOcopProduct(id: \"OcopProduct:1\", expectedVersion: $v) { id } }",
                json!({ "v": "99999999999999999999" }),
            )
            .await;
        assert!(status < 500, "{body}");
        assert!(body["errors"].is_array(), "a version past 64 bits is refused: {body}");
        let (status, body) = app
            .as_caller(Some(&admin), create, json!({ "i": { "name": "Sen", "stars": 4_000_000_000_u64 } }))
            .await;
        assert!(status < 500, "{body}");
        assert!(body["errors"].is_array(), "{body}");
        // Literal arguments past their type's range are refused with a code too.
        for query in ["{ ocopProducts(last: 79367777481) { totalCount } }", "{ ocopProducts(first: -3000000000) { totalCount } }"] {
            let (status, body) = app.query_body(query).await;
            assert!(status < 500, "{body}");
            assert_eq!(crate::helpers::error_code(&body), "BAD_USER_INPUT", "{body}");
        }
        // A tax code with a multi-byte character across its tenth byte (schemathesis
        // found it panicking) is refused as input.
        let (status, body) = app
            .as_caller(
                Some(&admin),
                "mutation($t: String!) { createStartup(input: {name: \"x\", organisation: {name: \"x\", taxCode: $t}}) { id } }",
                json!({ "t": "123456789é12" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(crate::helpers::error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(app.count_rows("startups").await, 0);
        assert_eq!(app.count_rows("ocop_products").await, 0, "nothing was stored");
        // The same request with clean text is written: the refusals above were the input's.
        let response = post_raw(with_name("\"Xoài\"")).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert!(body["data"]["createOcopProduct"]["id"].is_string(), "{body}");
        assert_eq!(app.count_rows("ocop_products").await, 1);
    }
}
