//! Partner agencies' writes: roles and scope, versions, bulk imports, idempotent
//! retries, validation and the audit log — against the running server on both backends.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

/// Every record kind: its GraphQL type, table, plural (for imports) and a valid input.
struct Kind {
    type_name: &'static str,
    table: &'static str,
    plural: &'static str,
}

const KINDS: [Kind; 8] = [
    Kind {
        type_name: "IpRight",
        table: "ip_rights",
        plural: "IpRights",
    },
    Kind {
        type_name: "OcopProduct",
        table: "ocop_products",
        plural: "OcopProducts",
    },
    Kind {
        type_name: "Startup",
        table: "startups",
        plural: "Startups",
    },
    Kind {
        type_name: "TraceabilityEntry",
        table: "traceability_entries",
        plural: "TraceabilityEntries",
    },
    Kind {
        type_name: "ScienceTask",
        table: "science_tasks",
        plural: "ScienceTasks",
    },
    Kind {
        type_name: "ApplicationModel",
        table: "application_models",
        plural: "ApplicationModels",
    },
    Kind {
        type_name: "TechnologyAssessment",
        table: "technology_assessments",
        plural: "TechnologyAssessments",
    },
    Kind {
        type_name: "AnnualReport",
        table: "annual_reports",
        plural: "AnnualReports",
    },
];

/// A valid input of a kind; `n` makes it distinct.
fn input(type_name: &str, n: u32) -> Value {
    match type_name {
        "IpRight" => {
            json!({"name": format!("Nhãn hiệu thử {n}"), "kind": "TRADEMARK", "jurisdiction": "VN"})
        }
        "OcopProduct" => {
            json!({"name": format!("Bánh phồng tôm {n}"), "stars": 4, "district": "Lai Vung"})
        }
        "Startup" => json!({"name": format!("Công ty khởi nghiệp {n}")}),
        "TraceabilityEntry" => json!({
            "eventId": format!("urn:uuid:test-{n}"),
            "eventType": "ObjectEvent",
            "eventTime": "2024-05-01T08:00:00+07:00"
        }),
        "ScienceTask" => json!({"title": format!("Đề tài thử {n}")}),
        "ApplicationModel" => json!({"title": format!("Mô hình thử {n}")}),
        "TechnologyAssessment" => json!({"enterprise": {"name": format!("Doanh nghiệp {n}")}}),
        "AnnualReport" => {
            json!({"agency": "so-khcn", "year": 2000 + n as i32 % 100, "summary": format!("Báo cáo {n}")})
        }
        other => panic!("no input for {other}"),
    }
}

fn create(type_name: &str) -> String {
    format!(
        "mutation($input: {type_name}Input!) {{ create{type_name}(input: $input) {{ id version source }} }}"
    )
}

fn update(type_name: &str) -> String {
    format!(
        "mutation($id: ID!, $v: BigInt!, $input: {type_name}Input!) {{ update{type_name}(id: $id, expectedVersion: $v, input: $input) {{ id version }} }}"
    )
}

fn archive(type_name: &str) -> String {
    format!(
        "mutation($id: ID!, $v: BigInt!) {{ archive{type_name}(id: $id, expectedVersion: $v) {{ id version archivedAt }} }}"
    )
}

fn upsert(type_name: &str) -> String {
    format!(
        "mutation($key: String!, $input: {type_name}Input!) {{ upsert{type_name}(externalId: $key, input: $input) {{ action record {{ id version externalId }} }} }}"
    )
}

fn import(kind: &Kind) -> String {
    format!(
        "mutation($records: [{t}ImportRecord!]!, $dry: Boolean) {{ import{p}(records: $records, dryRun: $dry) {{ committed dryRun created updated unchanged rows {{ index externalId action id version changes {{ field before after }} }} errors {{ index field message }} }} }}",
        t = kind.type_name,
        p = kind.plural
    )
}

/// Asserts a FORBIDDEN refusal.
fn assert_forbidden(status: u16, body: &Value) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(body), "FORBIDDEN", "{body}");
}

/// A kind's version of a record, read straight from the database.
async fn version_of(app: &TestApp, table: &str, id: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let number: i32 = id.rsplit(':').next().unwrap().parse().unwrap();
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT version FROM {table} WHERE id = {number}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "version").unwrap()
}

backend_test! {
    async fn each_role_writes_exactly_what_it_may_for_every_kind(app) {
        let admin = app.token("admin", None).await;
        let agency = app.token("agency", Some("so-khcn")).await;
        let analyst = app.token("analyst", None).await;
        let audit_before = app.count_rows("audit_log").await;
        let mut writes = 0;

        for (k, kind) in KINDS.iter().enumerate() {
            let t = kind.type_name;
            let n = 10 * k as u32;
            let rows = app.count_rows(kind.table).await;

            // Anonymous callers get 401; analysts get FORBIDDEN; neither writes.
            let (status, body) = app.as_caller(None, &create(t), json!({"input": input(t, n)})).await;
            assert_eq!(status, 401, "{t}: {body}");
            assert_eq!(error_code(&body), "UNAUTHENTICATED");
            let (status, body) = app.as_caller(Some(&analyst), &create(t), json!({"input": input(t, n)})).await;
            assert_forbidden(status, &body);
            assert_eq!(app.count_rows(kind.table).await, rows, "{t}: an analyst wrote");

            // The agency creates, updates, upserts, imports and archives its own records.
            let (status, body) = app.as_caller(Some(&agency), &create(t), json!({"input": input(t, n + 1)})).await;
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{t}: {body}");
            let created = &body["data"][format!("create{t}")];
            assert_eq!(created["source"], "agency:so-khcn");
            assert_eq!(created["version"], 1);
            let id = created["id"].as_str().unwrap().to_owned();
            writes += 1;

            // An analyst may not touch it either.
            for (query, vars) in [
                (update(t), json!({"id": id, "v": 1, "input": input(t, n + 2)})),
                (archive(t), json!({"id": id, "v": 1})),
                (upsert(t), json!({"key": "X", "input": input(t, n + 2)})),
                (import(kind), json!({"records": [{"externalId": "Y", "input": input(t, n + 2)}]})),
            ] {
                let (status, body) = app.as_caller(Some(&analyst), &query, vars).await;
                assert_forbidden(status, &body);
            }
            assert_eq!(version_of(&app, kind.table, &id).await, 1, "{t}: an analyst changed it");

            let (_, body) = app.as_caller(Some(&agency), &update(t), json!({"id": id, "v": 1, "input": input(t, n + 2)})).await;
            assert!(body.get("errors").is_none(), "{t}: {body}");
            assert_eq!(body["data"][format!("update{t}")]["version"], 2);
            writes += 1;

            let (_, body) = app.as_caller(Some(&agency), &upsert(t), json!({"key": format!("E-{n}"), "input": input(t, n + 3)})).await;
            assert!(body.get("errors").is_none(), "{t}: {body}");
            assert_eq!(body["data"][format!("upsert{t}")]["action"], "CREATED");
            assert_eq!(body["data"][format!("upsert{t}")]["record"]["externalId"], format!("E-{n}"));
            writes += 1;
            let (_, body) = app.as_caller(Some(&agency), &upsert(t), json!({"key": format!("E-{n}"), "input": input(t, n + 3)})).await;
            assert_eq!(body["data"][format!("upsert{t}")]["action"], "UNCHANGED", "{body}");

            let (_, body) = app.as_caller(
                Some(&agency),
                &import(kind),
                json!({"records": [{"externalId": format!("I-{n}"), "input": input(t, n + 4)}]}),
            ).await;
            assert!(body.get("errors").is_none(), "{t}: {body}");
            assert_eq!(body["data"][format!("import{}", kind.plural)]["created"], 1, "{body}");
            assert_eq!(body["data"][format!("import{}", kind.plural)]["committed"], true);
            writes += 1;

            let (_, body) = app.as_caller(Some(&agency), &archive(t), json!({"id": id, "v": 2})).await;
            assert!(body.get("errors").is_none(), "{t}: {body}");
            assert!(body["data"][format!("archive{t}")]["archivedAt"].is_string());
            assert_eq!(body["data"][format!("archive{t}")]["version"], 3);
            writes += 1;

            // Admins write anything.
            let (_, body) = app.as_caller(Some(&admin), &create(t), json!({"input": input(t, n + 5)})).await;
            assert!(body.get("errors").is_none(), "{t}: {body}");
            assert_eq!(body["data"][format!("create{t}")]["source"], "admin");
            writes += 1;

            assert_eq!(app.count_rows(kind.table).await, rows + 4, "{t}");
        }
        // Every write, and nothing else, left an audit entry.
        assert_eq!(app.count_rows("audit_log").await, audit_before + writes);
    }
}

backend_test! {
    async fn an_agency_cannot_touch_another_agencys_or_a_connectors_records(app) {
        let khcn = app.token("agency", Some("so-khcn")).await;
        let cong_thuong = app.token("agency", Some("so-cong-thuong")).await;
        let nn = app.token("agency", Some("so-nn-ptnt")).await;
        let admin = app.token("admin", None).await;

        let (_, body) = app.as_caller(Some(&khcn), &create("OcopProduct"), json!({"input": input("OcopProduct", 1)})).await;
        let id = body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();

        // Another agency may not update, archive or link it.
        let (status, body) = app.as_caller(Some(&cong_thuong), &update("OcopProduct"), json!({"id": id, "v": 1, "input": input("OcopProduct", 2)})).await;
        assert_forbidden(status, &body);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("another agency"), "{body}");
        let (status, body) = app.as_caller(Some(&cong_thuong), &archive("OcopProduct"), json!({"id": id, "v": 1})).await;
        assert_forbidden(status, &body);
        assert_eq!(version_of(&app, "ocop_products", &id).await, 1);

        // Links: only to tasks the agency leads or coordinates.
        let link = "mutation($t: String!, $r: ID!) { linkRecord(taskCode: $t, recordId: $r) { created linkedBy task { code } } }";
        let links = app.count_rows("record_links").await;
        let (status, body) = app.as_caller(Some(&cong_thuong), link, json!({"t": "II.1", "r": id})).await;
        assert_forbidden(status, &body);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("II.1"), "{body}");
        assert_eq!(app.count_rows("record_links").await, links);
        let (_, body) = app.as_caller(Some(&nn), link, json!({"t": "II.1", "r": id})).await;
        assert_eq!(body["data"]["linkRecord"]["created"], true, "{body}");
        assert_eq!(body["data"]["linkRecord"]["linkedBy"], "agency:so-nn-ptnt");
        let (_, body) = app.as_caller(Some(&nn), link, json!({"t": "II.1", "r": id})).await;
        assert_eq!(body["data"]["linkRecord"]["created"], false, "linking twice is harmless: {body}");
        let unlink = "mutation($t: String!, $r: ID!) { unlinkRecord(taskCode: $t, recordId: $r) }";
        let (status, body) = app.as_caller(Some(&cong_thuong), unlink, json!({"t": "II.1", "r": id})).await;
        assert_forbidden(status, &body);
        assert_eq!(app.count_rows("record_links").await, links + 1);
        let (_, body) = app.as_caller(Some(&khcn), unlink, json!({"t": "II.1", "r": id})).await;
        assert_eq!(body["data"]["unlinkRecord"], true, "{body}");

        // A connector's record is read-only to every agency, and the error names the registry.
        app.execute_sql(
            "INSERT INTO ocop_products (source, external_id, created_at, updated_at, version, search_key, name, stars) \
             VALUES ('connector:ocop-ckan', 'DT-001', '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00', 1, 'xoai', 'Xoài', 4)",
        ).await;
        let data = app.query(r#"{ ocopProducts(first: 500) { nodes { id source } } }"#).await;
        let connector_id = data["ocopProducts"]["nodes"].as_array().unwrap().iter()
            .find(|n| n["source"] == "connector:ocop-ckan").unwrap()["id"].as_str().unwrap().to_owned();
        let (status, body) = app.as_caller(Some(&khcn), &update("OcopProduct"), json!({"id": connector_id, "v": 1, "input": input("OcopProduct", 3)})).await;
        assert_forbidden(status, &body);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("\"ocop-ckan\""), "{body}");
        let (_, body) = app.as_caller(Some(&admin), &update("OcopProduct"), json!({"id": connector_id, "v": 1, "input": input("OcopProduct", 3)})).await;
        assert!(body.get("errors").is_none(), "admins may correct any record: {body}");

        // Seeded IP rights belong to their managing agency: MADE IN DONG THAP to Sở Công
        // Thương (VII.1). A right whose managing body the plan does not name (the lotus GI)
        // is no agency's.
        let data = app.query("{ ipRights(first: 50) { nodes { id version managingAgency { code } } } }").await;
        let rights = data["ipRights"]["nodes"].as_array().unwrap().clone();
        let managed = rights.iter().find(|r| r["managingAgency"]["code"] == "so-cong-thuong").expect("a right managed by so-cong-thuong");
        let other = rights.iter().find(|r| r["managingAgency"]["code"] != "so-cong-thuong" && r["managingAgency"].is_object()).expect("a right managed by someone else");
        let unmanaged = rights.iter().find(|r| r["managingAgency"].is_null()).expect("a right with no known managing agency");
        let right_input = |agency: &str| json!({"name": "Xoài Cao Lãnh", "kind": "GEOGRAPHICAL_INDICATION", "jurisdiction": "VN", "farmProduct": true, "managingAgency": agency});
        let (_, body) = app.as_caller(Some(&cong_thuong), &update("IpRight"), json!({"id": managed["id"], "v": managed["version"], "input": right_input("so-cong-thuong")})).await;
        assert!(body.get("errors").is_none(), "{body}");
        let (status, body) = app.as_caller(Some(&cong_thuong), &update("IpRight"), json!({"id": other["id"], "v": other["version"], "input": right_input("so-cong-thuong")})).await;
        assert_forbidden(status, &body);
        let (status, body) = app.as_caller(Some(&khcn), &update("IpRight"), json!({"id": unmanaged["id"], "v": unmanaged["version"], "input": right_input("so-khcn")})).await;
        assert_forbidden(status, &body);

        // Annual reports: an agency submits only its own.
        let (status, body) = app.as_caller(Some(&cong_thuong), &create("AnnualReport"), json!({"input": {"agency": "so-khcn", "year": 2024}})).await;
        assert_forbidden(status, &body);
        let submit = "mutation($input: AnnualReportInput!) { submitAnnualReport(input: $input) { id year submittedOn agency { code } } }";
        let (_, body) = app.as_caller(Some(&cong_thuong), submit, json!({"input": {"year": 2024, "summary": "Báo cáo năm 2024"}})).await;
        assert_eq!(body["data"]["submitAnnualReport"]["agency"]["code"], "so-cong-thuong", "{body}");
        assert!(body["data"]["submitAnnualReport"]["submittedOn"].is_string());
        let first_id = body["data"]["submitAnnualReport"]["id"].clone();
        let (_, body) = app.as_caller(Some(&cong_thuong), submit, json!({"input": {"year": 2024, "summary": "Báo cáo năm 2024 (bản sửa)"}})).await;
        assert_eq!(body["data"]["submitAnnualReport"]["id"], first_id, "a second submission replaces the first: {body}");
    }
}

backend_test! {
    async fn concurrent_updates_with_expected_versions_lose_nothing(app) {
        let token = app.token("agency", Some("so-khcn")).await;
        let (_, body) = app.as_caller(Some(&token), &create("OcopProduct"), json!({"input": {"name": "Quýt hồng", "stars": 3, "category": "0"}})).await;
        let id = body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();

        let client = |app: &TestApp| {
            let (address, token, id) = (app.address.clone(), token.clone(), id.clone());
            async move {
                let http = {
                khcn_hub::sync::http::install_crypto_provider();
                reqwest::Client::new()
            };
                let send = |query: &str, variables: Value| {
                    let body = json!({"query": query, "variables": variables}).to_string();
                    let (http, address, token) = (&http, &address, &token);
                    async move {
                        loop {
                            let response = http.post(format!("{address}/graphql"))
                                .header("content-type", "application/json")
                                .header("authorization", format!("Bearer {token}"))
                                .body(body.clone())
                                .send()
                                .await?;
                            if response.status() != 429 {
                                return Ok::<_, reqwest::Error>(response);
                            }
                            // Retrying on conflict can outrun the token's rate limit; a
                            // well-behaved client waits as told.
                            let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                        }
                    }
                };
                let mut conflicts = 0;
                for _ in 0..200 {
                    loop {
                        let read: Value = send("query($id: ID!) { ocopProduct(id: $id) { version category } }", json!({"id": id}))
                            .await.unwrap().json().await.unwrap();
                        let version = read["data"]["ocopProduct"]["version"].as_i64().unwrap();
                        let count: i64 = read["data"]["ocopProduct"]["category"].as_str().unwrap().parse().unwrap();
                        let written: Value = send(&update("OcopProduct"), json!({
                            "id": id, "v": version,
                            "input": {"name": "Quýt hồng", "stars": 3, "category": (count + 1).to_string()}
                        })).await.unwrap().json().await.unwrap();
                        match written.get("errors") {
                            None => break,
                            Some(_) => {
                                assert_eq!(error_code(&written), "CONFLICT", "{written}");
                                assert!(written["errors"][0]["extensions"]["currentVersion"].as_i64().unwrap() > version);
                                conflicts += 1;
                            }
                        }
                    }
                }
                conflicts
            }
        };
        let (a, b) = tokio::join!(tokio::spawn(client(&app)), tokio::spawn(client(&app)));
        let conflicts = a.unwrap() + b.unwrap();
        let data = app.query_with("query($id: ID!) { ocopProduct(id: $id) { version category } }", json!({"id": id})).await;
        assert_eq!(data["ocopProduct"]["category"], "400", "{conflicts} conflicts were retried");
        assert_eq!(data["ocopProduct"]["version"], 401);
    }
}

backend_test! {
    async fn a_bulk_import_is_all_or_nothing_and_safe_to_retry(app) {
        let token = app.token("agency", Some("so-khcn")).await;
        let kind = &KINDS[1];
        let mut records: Vec<Value> = (0..5)
            .map(|i| json!({"externalId": format!("OCOP-{i}"), "input": input("OcopProduct", i)}))
            .collect();
        records[3]["input"]["stars"] = json!(6);
        let audit = app.count_rows("audit_log").await;

        // One bad row: refused whole, the row and field named, nothing written.
        let (_, body) = app.as_caller(Some(&token), &import(kind), json!({"records": records})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(extensions["field"], "records[3].input.stars");
        assert_eq!(extensions["errors"][0]["index"], 3);
        assert!(body["data"]["importOcopProducts"].is_null());
        assert_eq!(app.count_rows("ocop_products").await, 0);

        // A dry run reports the same problem as data, and writes nothing either.
        let (_, body) = app.as_caller(Some(&token), &import(kind), json!({"records": records, "dry": true})).await;
        let result = &body["data"]["importOcopProducts"];
        assert_eq!(result["committed"], false, "{body}");
        assert_eq!(result["errors"][0]["index"], 3);
        assert_eq!(result["created"], 4);
        assert_eq!(app.count_rows("ocop_products").await, 0);
        assert_eq!(app.count_rows("audit_log").await, audit);

        // Fixed: every row is written, once, even when the request is retried.
        records[3]["input"]["stars"] = json!(5);
        let variables = json!({"records": records});
        let first = app.send_as(Some(&token), &import(kind), variables.clone(), Some("import-2024-11-29")).await;
        assert_eq!(first.headers()["idempotent-replayed"], "false");
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["data"]["importOcopProducts"]["created"], 5, "{first}");
        assert_eq!(app.count_rows("ocop_products").await, 5);
        let audit_after = app.count_rows("audit_log").await;
        assert_eq!(audit_after, audit + 5);

        let again = app.send_as(Some(&token), &import(kind), variables.clone(), Some("import-2024-11-29")).await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again, first, "a retry returns the first result");
        assert_eq!(app.count_rows("ocop_products").await, 5);
        assert_eq!(app.count_rows("audit_log").await, audit_after, "a retry writes nothing");

        // The same key for a different request is refused.
        let other = app.send_as(Some(&token), &import(kind), json!({"records": [records[0]]}), Some("import-2024-11-29")).await;
        assert_eq!(other.status(), 422);
        let other: Value = other.json().await.unwrap();
        assert_eq!(error_code(&other), "IDEMPOTENCY_KEY_REUSED");

        // Without the key, the same import again changes nothing; a dry run shows a diff.
        let (_, body) = app.as_caller(Some(&token), &import(kind), variables).await;
        assert_eq!(body["data"]["importOcopProducts"]["unchanged"], 5, "{body}");
        records[0]["input"]["stars"] = json!(3);
        let (_, body) = app.as_caller(Some(&token), &import(kind), json!({"records": records, "dry": true})).await;
        let result = &body["data"]["importOcopProducts"];
        assert_eq!(result["updated"], 1, "{body}");
        assert_eq!(result["rows"][0]["action"], "UPDATED");
        assert_eq!(result["rows"][0]["changes"], json!([{"field": "stars", "before": 4, "after": 3}]));
        let data = app.query(r#"{ ocopProducts(filter: {stars: {eq: 3}}) { totalCount } }"#).await;
        assert_eq!(data["ocopProducts"]["totalCount"], 0, "a dry run wrote");
    }
}

backend_test! {
    async fn bad_input_is_refused_with_the_path_of_the_field(app) {
        let token = app.token("agency", Some("so-khcn")).await;
        let cases = [
            ("OcopProduct", json!({"name": "Sen", "stars": 4, "certifiedOn": "2024-05-01", "validUntil": "2023-05-01"}), "input.validUntil"),
            ("OcopProduct", json!({"name": "Sen", "stars": 4, "producer": {"name": "HTX", "taxCode": "1400000007"}}), "input.producer.taxCode"),
            ("OcopProduct", json!({"name": "  ", "stars": 4}), "input.name"),
            ("OcopProduct", json!({"name": "Sen\u{0000}", "stars": 4}), "input.name"),
            ("OcopProduct", json!({"name": "x".repeat(501), "stars": 4}), "input.name"),
            ("TraceabilityEntry", json!({"eventType": "ObjectEvent", "eventTime": "2024-05-01T08:00:00+07:00", "gtin": "09521234543214"}), "input.gtin"),
            ("TraceabilityEntry", json!({"eventType": "Happening", "eventTime": "2024-05-01T08:00:00+07:00"}), "input.eventType"),
            ("IpRight", json!({"name": "Sen", "kind": "PATENT", "jurisdiction": "VN"}), "input.kind"),
            ("IpRight", json!({"name": "Sen", "kind": "TRADEMARK", "jurisdiction": "Vietnam"}), "input.jurisdiction"),
            ("ScienceTask", json!({"title": "Đề tài", "startOn": "2024-01-01", "endOn": "2023-01-01"}), "input.endOn"),
            ("Startup", json!({"name": "A", "supportEvents": [{"year": 2024, "kind": "vốn", "amountVnd": -5}]}), "input.supportEvents[0].amountVnd"),
        ];
        for (type_name, value, path) in cases {
            let (status, body) = app.as_caller(Some(&token), &create(type_name), json!({"input": value})).await;
            // NUL is refused before the document runs: a request error, with the same path.
            let expected = if value.to_string().contains("\\u0000") { 400 } else { 200 };
            assert_eq!(status, expected, "{body}");
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{type_name} {value}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], path, "{body}");
        }
        assert_eq!(app.count_rows("ocop_products").await, 0);
        assert_eq!(app.count_rows("traceability_entries").await, 0);
        assert_eq!(app.count_rows("organisations").await, 0, "no half-written producer");

        // Text is stored NFC; codes are checked and kept canonical.
        let (_, body) = app.as_caller(
            Some(&token),
            "mutation($input: OcopProductInput!) { createOcopProduct(input: $input) { name districtCode producer { taxCode } } }",
            json!({"input": {"name": "Xoa\u{0300}i ca\u{0301}t", "stars": 5, "district": "huyện Lai Vung", "producer": {"name": "HTX Xoài", "taxCode": "1400000006"}}}),
        ).await;
        let created = &body["data"]["createOcopProduct"];
        assert_eq!(created["name"], "Xoài cát", "{body}");
        assert_eq!(created["districtCode"], "lai-vung");
        assert_eq!(created["producer"]["taxCode"], "1400000006");

        // A stale version is a CONFLICT carrying the current one.
        let (_, body) = app.as_caller(Some(&token), &create("OcopProduct"), json!({"input": input("OcopProduct", 9)})).await;
        let id = body["data"]["createOcopProduct"]["id"].clone();
        let (_, body) = app.as_caller(Some(&token), &update("OcopProduct"), json!({"id": id, "v": 7, "input": input("OcopProduct", 10)})).await;
        assert_eq!(error_code(&body), "CONFLICT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 1);
        assert_eq!(body["errors"][0]["extensions"]["expectedVersion"], 7);
    }
}

backend_test! {
    async fn every_write_is_audited_with_who_when_before_and_after(app) {
        let admin = app.token("admin", None).await;
        let khcn = app.token("agency", Some("so-khcn")).await;
        let analyst = app.token("analyst", None).await;
        let other = app.token("agency", Some("so-cong-thuong")).await;

        let (_, body) = app.as_caller(Some(&khcn), &create("OcopProduct"), json!({"input": input("OcopProduct", 1)})).await;
        let id = body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();
        app.as_caller(Some(&khcn), &update("OcopProduct"), json!({"id": id, "v": 1, "input": {"name": "Bánh phồng tôm 1", "stars": 5}})).await;
        app.as_caller(Some(&khcn), "mutation($r: ID!) { linkRecord(taskCode: \"II.3\", recordId: $r) { created } }", json!({"r": id})).await;
        let history = "query($id: ID!) { ocopProduct(id: $id) { history { operation actor tokenId agency { code } before after occurredAt } } }";
        // History is private: not for anonymous callers nor other agencies.
        let (_, body) = app.as_caller(Some(&other), history, json!({"id": id})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
        let (_, body) = app.as_caller(None, history, json!({"id": id})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

        app.as_caller(Some(&khcn), &archive("OcopProduct"), json!({"id": id, "v": 2})).await;
        let (_, body) = app.as_caller(Some(&analyst), history, json!({"id": id})).await;
        let entries = body["data"]["ocopProduct"]["history"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
        let operations: Vec<&str> = entries.iter().map(|e| e["operation"].as_str().unwrap()).collect();
        assert_eq!(operations, ["CREATE", "UPDATE", "LINK", "ARCHIVE"]);
        assert!(entries[0]["before"].is_null());
        assert_eq!(entries[1]["before"]["stars"], 4);
        assert_eq!(entries[1]["after"]["stars"], 5);
        assert_eq!(entries[1]["agency"]["code"], "so-khcn");
        assert!(entries[1]["actor"].as_str().unwrap().starts_with("agency:so-khcn (token "));
        assert!(entries[3]["after"]["archived_at"].is_string());

        // An archived record is hidden from the public, and the owner still sees it.
        let single = "query($id: ID!) { ocopProduct(id: $id) { id archivedAt } }";
        let (_, body) = app.as_caller(None, single, json!({"id": id})).await;
        assert!(body["data"]["ocopProduct"].is_null(), "{body}");
        let (_, body) = app.as_caller(Some(&other), single, json!({"id": id})).await;
        assert!(body["data"]["ocopProduct"].is_null(), "{body}");
        let (_, body) = app.as_caller(Some(&khcn), single, json!({"id": id})).await;
        assert!(body["data"]["ocopProduct"]["archivedAt"].is_string(), "{body}");
        // Nor through the task it is linked to.
        let linked = r#"{ task(code: "II.3") { linkedRecords { ... on OcopProduct { id } } recordLinks { record { ... on OcopProduct { id } } } } }"#;
        let (_, body) = app.as_caller(Some(&other), linked, json!({})).await;
        assert_eq!(body["data"]["task"]["linkedRecords"], json!([]), "{body}");
        assert_eq!(body["data"]["task"]["recordLinks"], json!([]), "{body}");
        let (_, body) = app.as_caller(Some(&analyst), linked, json!({})).await;
        assert_eq!(body["data"]["task"]["linkedRecords"][0]["id"], id.as_str(), "{body}");

        // The audit log: admins only, filterable, newest first, paged.
        let log = "query($f: AuditLogFilter, $after: String) { auditLog(filter: $f, first: 2, after: $after) { edges { cursor node { operation recordId taskCode } } pageInfo { hasNextPage endCursor } } }";
        let (_, body) = app.as_caller(Some(&analyst), log, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN");
        let (_, body) = app.as_caller(Some(&admin), log, json!({"f": {"recordId": id}})).await;
        let page = &body["data"]["auditLog"];
        assert_eq!(page["edges"][0]["node"]["operation"], "ARCHIVE", "{body}");
        assert_eq!(page["edges"][1]["node"]["operation"], "LINK");
        assert_eq!(page["edges"][1]["node"]["taskCode"], "II.3");
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        let (_, body) = app.as_caller(Some(&admin), log, json!({"f": {"recordId": id}, "after": page["pageInfo"]["endCursor"]})).await;
        let ops: Vec<&str> = body["data"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["operation"].as_str().unwrap()).collect();
        assert_eq!(ops, ["UPDATE", "CREATE"]);
        let (_, body) = app.as_caller(Some(&admin), log, json!({"f": {"agency": "so-cong-thuong"}})).await;
        assert_eq!(body["data"]["auditLog"]["edges"], json!([]));
    }
}

backend_test! {
    async fn task_progress_is_reported_by_the_lead_agency_alone(app) {
        let lead = app.token("agency", Some("so-nn-ptnt")).await;
        let coordinator = app.token("agency", Some("so-khcn")).await;
        let progress = "mutation($input: TaskProgressInput!, $v: BigInt) { updateTaskProgress(taskCode: \"VII.3\", input: $input, expectedVersion: $v) { code status progressNote progressEvidence progressVersion progressUpdatedBy } }";
        let report = json!({"status": "IN_PROGRESS", "note": "Đã nộp hồ sơ", "evidence": ["https://dost.dongthap.gov.vn/tin-tuc/1"]});

        let (status, body) = app.as_caller(Some(&coordinator), progress, json!({"input": report})).await;
        assert_forbidden(status, &body);
        let (_, body) = app.as_caller(Some(&lead), progress, json!({"input": {"status": "FINISHED"}})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.status");

        let (_, body) = app.as_caller(Some(&lead), progress, json!({"input": report, "v": 0})).await;
        let task = &body["data"]["updateTaskProgress"];
        assert_eq!(task["status"], "IN_PROGRESS", "{body}");
        assert_eq!(task["progressVersion"], 1);
        assert_eq!(task["progressUpdatedBy"], "agency:so-nn-ptnt");
        assert_eq!(task["progressEvidence"], json!(["https://dost.dongthap.gov.vn/tin-tuc/1"]));
        // Visible at once to every reader, from the plan cache too.
        let data = app.query(r#"{ task(code: "VII.3") { status progressNote } }"#).await;
        assert_eq!(data["task"]["status"], "IN_PROGRESS");
        // A stale expected version is a conflict.
        let (_, body) = app.as_caller(Some(&lead), progress, json!({"input": report, "v": 0})).await;
        assert_eq!(error_code(&body), "CONFLICT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 1);
    }
}

backend_test! {
    async fn plan_writes_are_refused_to_readers_and_allowed_to_admins(app) {
        let admin = app.token("admin", None).await;
        let analyst = app.token("analyst", None).await;
        let (_, body) = app.as_caller(Some(&admin), &create("OcopProduct"), json!({"input": input("OcopProduct", 1)})).await;
        let id = body["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();
        let audit = app.count_rows("audit_log").await;
        let writes = [
            ("mutation($r: ID!) { linkRecord(taskCode: \"II.3\", recordId: $r) { created } }", json!({"r": id})),
            ("mutation($r: ID!) { unlinkRecord(taskCode: \"II.3\", recordId: $r) }", json!({"r": id})),
            ("mutation { submitAnnualReport(input: {agency: \"so-khcn\", year: 2024}) { id } }", json!({})),
            ("mutation { updateTaskProgress(taskCode: \"II.3\", input: {status: \"IN_PROGRESS\"}) { code } }", json!({})),
        ];
        for (query, variables) in &writes {
            let (status, body) = app.as_caller(None, query, variables.clone()).await;
            assert_eq!(status, 401, "{query}: {body}");
            let (status, body) = app.as_caller(Some(&analyst), query, variables.clone()).await;
            assert_forbidden(status, &body);
        }
        assert_eq!(app.count_rows("audit_log").await, audit, "a refused write was audited");
        assert_eq!(app.count_rows("annual_reports").await, 0);
        for (query, variables) in &writes {
            let (_, body) = app.as_caller(Some(&admin), query, variables.clone()).await;
            assert!(body.get("errors").is_none(), "{query}: {body}");
        }
        assert_eq!(app.count_rows("audit_log").await, audit + 4);
    }
}
