//! Linked records: filters, ordering, pages, links both ways, targets, reports, search.

use serde_json::{Value, json};

use crate::fixtures;

fn names(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn ocop(app: &crate::helpers::TestApp, filter: Value) -> Value {
    let data = app
        .query_with(
            "query($f: OcopProductFilter) { ocopProducts(filter: $f, orderBy: [{ field: NAME }], first: 50) { totalCount nodes { name } } }",
            json!({ "f": filter }),
        )
        .await;
    data["ocopProducts"].clone()
}

async fn error_of(app: &crate::helpers::TestApp, query: &str, variables: Value) -> Value {
    let response = app
        .post_graphql(
            &json!({ "query": query, "variables": variables }),
            "application/graphql-response+json",
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"].is_array(), "expected an error: {body}");
    body["errors"][0].clone()
}

backend_test! {
    async fn every_filter_operator_selects_what_it_says(app) {
        fixtures::load(&app.db).await;
        let cases = [
            (json!({ "stars": { "eq": 4 } }), vec!["Nem Lai Vung", "Sen Tháp Mười"]),
            (json!({ "stars": { "ne": 3 } }), vec!["Nem Lai Vung", "Quýt hồng sấy dẻo", "Sen Tháp Mười", "Trà tim sen"]),
            (json!({ "stars": { "in": [3, 5] } }), vec!["Hủ tiếu Sa Đéc", "Quýt hồng Lai Vung", "Quýt hồng sấy dẻo", "Trà tim sen"]),
            (json!({ "stars": { "gt": 4 } }), vec!["Quýt hồng sấy dẻo", "Trà tim sen"]),
            (json!({ "stars": { "gte": 4 }, "district": { "eq": "Lai Vung" } }), vec!["Nem Lai Vung", "Quýt hồng sấy dẻo"]),
            (json!({ "stars": { "lt": 4 } }), vec!["Hủ tiếu Sa Đéc", "Quýt hồng Lai Vung"]),
            (json!({ "stars": { "lte": 3 }, "district": { "eq": "TP Sa Đéc" } }), vec!["Hủ tiếu Sa Đéc"]),
            (json!({ "name": { "contains": "QUYT HONG" } }), vec!["Quýt hồng Lai Vung", "Quýt hồng sấy dẻo"]),
            (json!({ "certifiedOn": { "isNull": true } }), vec!["Sen Tháp Mười"]),
            (json!({ "certifiedOn": { "gte": "2023-01-01", "lt": "2024-01-01" } }), vec!["Hủ tiếu Sa Đéc", "Nem Lai Vung"]),
            (json!({ "district": { "in": ["huyện Tháp Mười", "Sa Đéc"] } }), vec!["Hủ tiếu Sa Đéc", "Sen Tháp Mười", "Trà tim sen"]),
            (json!({ "or": [{ "stars": { "eq": 5 } }, { "name": { "contains": "nem" } }] }), vec!["Nem Lai Vung", "Quýt hồng sấy dẻo", "Trà tim sen"]),
            (json!({ "not": { "district": { "eq": "Lai Vung" } }, "stars": { "gte": 4 } }), vec!["Sen Tháp Mười", "Trà tim sen"]),
            (json!({ "and": [{ "stars": { "gte": 4 } }, { "stars": { "lte": 4 } }] }), vec!["Nem Lai Vung", "Sen Tháp Mười"]),
            (json!({ "linkedTask": { "eq": "VII.4" } }), vec!["Nem Lai Vung", "Quýt hồng Lai Vung", "Quýt hồng sấy dẻo"]),
            (json!({ "source": { "eq": "test" }, "externalId": { "eq": "T-5" } }), vec!["Hủ tiếu Sa Đéc"]),
        ];
        for (filter, expected) in cases {
            let result = ocop(&app, filter.clone()).await;
            assert_eq!(names(&result), expected, "filter {filter}");
            assert_eq!(result["totalCount"], expected.len(), "filter {filter}");
        }
    }
}

backend_test! {
    async fn invalid_filters_name_the_offending_field(app) {
        let query = "query($f: OcopProductFilter) { ocopProducts(filter: $f) { totalCount } }";
        let cases = [
            (json!({ "stars": { "eq": 7 } }), "filter.stars.eq"),
            (json!({ "district": { "eq": "Atlantis" } }), "filter.district.eq"),
            (json!({ "certifiedOn": { "gte": "2024-01-01", "lte": "2023-01-01" } }), "filter.certifiedOn"),
            (json!({ "or": [{ "stars": { "gte": 6 } }] }), "filter.or[0].stars.gte"),
            (json!({ "stars": { "contains": "4" } }), "filter.stars"),
        ];
        for (filter, path) in cases {
            let response = app
                .post_graphql(&json!({ "query": query, "variables": { "f": filter } }), "application/graphql-response+json")
                .await;
            let body: Value = response.json().await.unwrap();
            let error = &body["errors"][0];
            if path == "filter.stars" {
                // `contains` is not part of IntFilter: refused by validation, naming it.
                assert!(error["message"].as_str().unwrap().contains("contains"), "{body}");
                continue;
            }
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
            assert_eq!(error["extensions"]["field"], path, "{body}");
            assert!(error["message"].as_str().unwrap().starts_with(path), "{body}");
        }
        let error = error_of(&app, r#"{ tasks(filter: { section: { eq: "VIII0" } }) { totalCount } }"#, json!({})).await;
        assert_eq!(error["extensions"]["field"], "filter.section.eq");
        let error = error_of(&app, r#"{ ipRights(filter: { status: { eq: "LOST" } }) { totalCount } }"#, json!({})).await;
        assert!(error["message"].as_str().unwrap().contains("REGISTERED"), "{error}");
    }
}

backend_test! {
    async fn ordering_is_stable_and_puts_nulls_last(app) {
        fixtures::load(&app.db).await;
        let data = app
            .query(r#"{ ocopProducts(orderBy: [{ field: CERTIFIED_ON, direction: DESC }]) { nodes { name certifiedOn } } }"#)
            .await;
        let dates: Vec<Value> = data["ocopProducts"]["nodes"].as_array().unwrap().iter().map(|n| n["certifiedOn"].clone()).collect();
        assert_eq!(dates, [json!("2024-03-15"), json!("2023-08-01"), json!("2023-01-02"), json!("2022-05-10"), json!("2021-12-31"), Value::Null]);
        let data = app
            .query(r#"{ ocopProducts(orderBy: [{ field: STARS, direction: DESC }, { field: NAME }]) { nodes { name stars } } }"#)
            .await;
        assert_eq!(
            names(&data["ocopProducts"]),
            ["Quýt hồng sấy dẻo", "Trà tim sen", "Nem Lai Vung", "Sen Tháp Mười", "Hủ tiếu Sa Đéc", "Quýt hồng Lai Vung"]
        );
    }
}

backend_test! {
    async fn pages_walk_forward_and_back_without_gaps(app) {
        fixtures::load(&app.db).await;
        let page = |args: String| {
            let app = &app;
            async move {
                app.query(&format!(
                    "{{ ocopProducts(orderBy: [{{ field: NAME }}] {args}) {{ totalCount edges {{ cursor node {{ name }} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
                ))
                .await["ocopProducts"]
                    .clone()
            }
        };
        let first = page(", first: 4".into()).await;
        assert_eq!(first["edges"].as_array().unwrap().len(), 4);
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
        let end = first["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let last_page = page(format!(", first: 4, after: \"{end}\"")).await;
        assert_eq!(last_page["edges"].as_array().unwrap().len(), 2);
        assert_eq!(last_page["pageInfo"]["hasNextPage"], false);
        assert_eq!(last_page["pageInfo"]["hasPreviousPage"], true);
        let after_end = last_page["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let empty = page(format!(", first: 4, after: \"{after_end}\"")).await;
        assert_eq!(empty["edges"], json!([]));
        assert_eq!(empty["pageInfo"]["hasNextPage"], false);
        assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);
        assert_eq!(empty["totalCount"], 6);

        let tail = page(", last: 2".into()).await;
        let tail_names: Vec<&str> = tail["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
        assert_eq!(tail_names, ["Sen Tháp Mười", "Trà tim sen"]);
        assert_eq!(tail["pageInfo"]["hasPreviousPage"], true);
        let before = tail["pageInfo"]["startCursor"].as_str().unwrap().to_owned();
        let previous = page(format!(", last: 3, before: \"{before}\"")).await;
        let previous_names: Vec<&str> = previous["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
        assert_eq!(previous_names, ["Nem Lai Vung", "Quýt hồng Lai Vung", "Quýt hồng sấy dẻo"]);
        assert_eq!(previous["pageInfo"]["hasNextPage"], true);

        let error = error_of(&app, r#"{ ocopProducts(after: "not-a-cursor") { totalCount } }"#, json!({})).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
        assert!(error["message"].as_str().unwrap().starts_with("after:"), "{error}");
        let error = error_of(&app, "{ ocopProducts(first: 501) { totalCount } }", json!({})).await;
        assert!(error["message"].as_str().unwrap().contains("at most 500"), "{error}");
    }
}

backend_test! {
    async fn links_are_traversed_both_ways(app) {
        let fixture = fixtures::load(&app.db).await;
        let data = app
            .query(r#"{ task(code: "VII.4") { linkedRecords { __typename ... on OcopProduct { name producer { name taxCode } } ... on IpRight { name } } } }"#)
            .await;
        let linked = data["task"]["linkedRecords"].as_array().unwrap();
        // The seeded "Quýt Hồng Lai Vung" mark and the three Lai Vung products.
        assert_eq!(linked.len(), 4, "{linked:?}");
        assert_eq!(linked[0], json!({ "__typename": "IpRight", "name": "Quýt Hồng Lai Vung" }));
        assert_eq!(linked[1]["producer"]["taxCode"], "1400123456");

        let with_provenance = app
            .query(r#"{ task(code: "VII.4") { recordLinks(first: 2) { linkedBy linkedAt record { __typename } } } }"#)
            .await;
        let links = with_provenance["task"]["recordLinks"].as_array().unwrap();
        assert_eq!(links[0]["linkedBy"], "seed");
        assert_eq!(links[0]["record"]["__typename"], "IpRight");
        assert_eq!(links[1]["linkedBy"], "test");
        // The same instant on both backends (PostgreSQL answers in UTC).
        let linked_at = chrono::DateTime::parse_from_rfc3339(links[1]["linkedAt"].as_str().unwrap()).unwrap();
        assert_eq!(linked_at, chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00+07:00").unwrap());

        let only_ocop = app
            .query(r#"{ task(code: "VII.4") { linkedRecords(kinds: [OCOP_PRODUCT], first: 2) { __typename } } }"#)
            .await;
        assert_eq!(only_ocop["task"]["linkedRecords"].as_array().unwrap().len(), 2);

        let id = format!("OcopProduct:{}", fixture.ocop_ids[0]);
        let data = app
            .query_with("query($id: ID!) { ocopProduct(id: $id) { id name source version tasks { code } } }", json!({ "id": id }))
            .await;
        assert_eq!(data["ocopProduct"]["id"], id);
        assert_eq!(data["ocopProduct"]["source"], "test");
        assert_eq!(data["ocopProduct"]["version"], 1);
        assert_eq!(data["ocopProduct"]["tasks"], json!([{ "code": "V.4" }, { "code": "VII.4" }]));

        let data = app.query(r#"{ ipRights(filter: { name: { contains: "cao lanh" }, source: { eq: "seed" } }) { nodes { name kind jurisdiction status managingAgency { code } tasks { code } } } }"#).await;
        assert_eq!(
            data["ipRights"]["nodes"][0],
            json!({ "name": "Cao Lãnh", "kind": "GEOGRAPHICAL_INDICATION", "jurisdiction": "VN", "status": "REGISTERED", "managingAgency": { "code": "so-nn-ptnt" }, "tasks": [{ "code": "II.3.i" }, { "code": "II.3.ii" }, { "code": "VII.3" }] })
        );
        let unknown = app.query(r#"{ ocopProduct(id: "OcopProduct:999999") { name } }"#).await;
        assert_eq!(unknown["ocopProduct"], Value::Null);
        let error = error_of(&app, r#"{ ocopProduct(id: "IpRight:1") { name } }"#, json!({})).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    }
}

backend_test! {
    async fn the_seven_ip_rights_the_plan_names_are_seeded(app) {
        let data = app
            .query(r#"{ ipRights(filter: { source: { eq: "seed" } }, first: 20) { totalCount nodes { name number filedOn registeredOn holder managingAgency { code } } } }"#)
            .await;
        assert_eq!(data["ipRights"]["totalCount"], 7);
        let nodes = data["ipRights"]["nodes"].as_array().unwrap();
        assert!(nodes.iter().all(|n| n["number"].is_null() && n["filedOn"].is_null() && n["registeredOn"].is_null() && n["holder"].is_null()));
        let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
        for name in ["MADE IN DONG THAP", "ĐỒNG THÁP - THUẦN KHIẾT NHƯ HỒN SEN", "Cao Lãnh", "Xoài Cát Chu Cao Lãnh", "Quýt Hồng Lai Vung", "Khô Phú Thọ", "Đồng Tháp"] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        // The plan names no managing body for the lotus GI (IV.1 only registers it).
        let lotus = nodes.iter().find(|n| n["name"] == "Đồng Tháp").unwrap();
        assert_eq!(lotus["managingAgency"], Value::Null, "{lotus}");
    }
}

backend_test! {
    async fn target_progress_is_computed_from_records(app) {
        fixtures::load(&app.db).await;
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { targets { key targetValue actualValue progress onTrack byYear { year value } contributingRecords { __typename } breakdown { key count records countsTowardsTarget } } } }"#)
            .await;
        let targets = data["plan"]["targets"].as_array().unwrap();
        let by_key = |key: &str| targets.iter().find(|t| t["key"] == key).unwrap().clone();
        let st = by_key("ST_TASKS");
        assert_eq!(st["actualValue"], 1, "one linked, not cancelled S&T task: {st}");
        assert_eq!(st["byYear"], json!([{ "year": 2022, "value": 0 }, { "year": 2023, "value": 1 }, { "year": 2024, "value": 1 }, { "year": 2025, "value": 1 }]));
        assert_eq!(st["onTrack"], false);
        assert_eq!(st["contributingRecords"], json!([{ "__typename": "ScienceTask" }]));
        let models = by_key("APPLICATION_MODELS");
        assert_eq!(models["actualValue"], 1, "the 2019 model is before the plan");
        let startups = by_key("STARTUPS");
        assert_eq!(startups["actualValue"], 2, "A once (2022) and C (2025); B was only supported in 2021");
        assert_eq!(startups["byYear"][0]["value"], 1);
        assert_eq!(startups["byYear"][3]["value"], 2);
        let abroad = by_key("IP_ABROAD");
        assert_eq!(abroad["actualValue"], 1, "registered in Japan counts, filed in the US does not");
        assert_eq!(abroad["onTrack"], true);
        assert_eq!(abroad["progress"], 1.0);
        assert_eq!(
            abroad["breakdown"],
            json!([
                { "key": "GRANTED", "count": 1, "records": 1, "countsTowardsTarget": true },
                { "key": "FILED", "count": 1, "records": 1, "countsTowardsTarget": false },
            ])
        );
        // One assessment, its industry not stated, and no key industry recorded: coverage
        // is shown, the target is not done.
        let assessment = by_key("TECHNOLOGY_ASSESSMENT");
        assert_eq!((assessment["actualValue"].clone(), assessment["progress"].clone(), assessment["onTrack"].clone()), (json!(0), json!(0.0), json!(false)));
        assert_eq!(assessment["breakdown"], json!([{ "key": null, "count": 1, "records": 1, "countsTowardsTarget": false }]));
        assert_eq!(by_key("STARTUPS")["breakdown"], json!([]));

        // During the period, on track follows the straight line.
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { target(key: STARTUPS) { onTrack(asOf: "2022-06-01") expectedValue(asOf: "2022-06-01") } } }"#)
            .await;
        assert_eq!(data["plan"]["target"]["onTrack"], true);
    }
}

backend_test! {
    async fn targets_start_at_zero_without_records(app) {
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { targets { key actualValue progress onTrack } } }"#)
            .await;
        for target in data["plan"]["targets"].as_array().unwrap() {
            assert_eq!(target["actualValue"], 0, "{target}");
            assert_eq!(target["onTrack"], false, "{target}");
        }
    }
}

backend_test! {
    async fn overdue_reports_turn_on_15_december(app) {
        fixtures::load(&app.db).await;
        let overdue = |as_of: &'static str| {
            let app = &app;
            async move {
                let data = app
                    .query_with("query($d: Date) { overdueReports(year: 2024, asOf: $d) { code } }", json!({ "d": as_of }))
                    .await;
                data["overdueReports"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(overdue("2024-12-14").await, Vec::<String>::new(), "nothing is overdue before the deadline");
        let after = overdue("2024-12-15").await;
        assert!(!after.contains(&"so-khcn".to_owned()), "submitted on 14 December: on time");
        assert!(after.contains(&"so-cong-thuong".to_owned()), "submitted on 15 December: late");
        assert!(after.contains(&"ubnd-lai-vung".to_owned()), "no report at all");
        assert!(after.contains(&"so-tai-chinh".to_owned()), "a department, though it leads no task");

        let data = app.query("{ annualReports(year: 2024) { totalCount nodes { agency { code } onTime } } }").await;
        assert_eq!(data["annualReports"]["totalCount"], 2);
        assert_eq!(data["annualReports"]["nodes"][0], json!({ "agency": { "code": "so-khcn" }, "onTime": true }));
        assert_eq!(data["annualReports"]["nodes"][1]["onTime"], false);
    }
}

backend_test! {
    async fn the_plan_obliges_departments_and_district_committees_and_nobody_else(app) {
        let overdue = |year: i32| {
            let app = &app;
            async move {
                let data = app
                    .query_with(
                        "query($y: Int!) { overdueReports(year: $y, asOf: \"2026-01-01\") { code kind } }",
                        json!({ "y": year }),
                    )
                    .await;
                data["overdueReports"].as_array().unwrap().clone()
            }
        };
        let codes = |list: &[Value]| list.iter().map(|a| a["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let in_2024 = overdue(2024).await;
        let kinds = |list: &[Value], kind: &str| list.iter().filter(|a| a["kind"] == kind).count();
        assert_eq!(kinds(&in_2024, "DISTRICT_COMMITTEE"), 12, "{in_2024:?}");
        assert_eq!(kinds(&in_2024, "DEPARTMENT"), 17, "{in_2024:?}");
        assert_eq!(in_2024.len(), 29, "departments and district committees only");
        let in_2024 = codes(&in_2024);
        for department in ["so-khcn", "so-tai-chinh", "so-nn-ptnt", "so-kh-dt", "so-tt-tt", "thanh-tra-tinh"] {
            assert!(in_2024.contains(&department.to_owned()), "{department}");
        }
        for asked_only in ["mttq", "hoi-nong-dan", "hoi-lhpn", "hoi-ccb", "doan-thanh-nien", "lhh-khkt", "ubnd-tinh", "cuc-thong-ke", "ttxt-tm-dl-dt", "cd-cong-dong-dong-thap", "lm-htx"] {
            assert!(!in_2024.contains(&asked_only.to_owned()), "{asked_only} owes no report");
        }
        assert!(!in_2024.contains(&"so-nn-mt".to_owned()), "founded 1 March 2025");

        let in_2025 = codes(&overdue(2025).await);
        assert!(!in_2025.iter().any(|c| c.starts_with("ubnd-") && c != "ubnd-tinh"), "districts ceased: {in_2025:?}");
        for merged in ["so-nn-ptnt", "so-tn-mt", "so-kh-dt", "so-tt-tt", "so-gtvt", "so-ld-tb-xh"] {
            assert!(!in_2025.contains(&merged.to_owned()), "{merged} ceased on 28 February 2025");
        }
        assert!(in_2025.contains(&"so-nn-mt".to_owned()));
        assert_eq!(in_2025.len(), 12);

        let data = app
            .query(r#"{ reportingObligations(year: 2025, asOf: "2026-01-01") { agency { code } status ceasedOn successor { code } } }"#)
            .await;
        let obligations = data["reportingObligations"].as_array().unwrap();
        let of = |code: &str| obligations.iter().find(|o| o["agency"]["code"] == code).cloned().unwrap_or(Value::Null);
        assert_eq!(of("ubnd-lai-vung"), json!({ "agency": { "code": "ubnd-lai-vung" }, "status": "CEASED", "ceasedOn": "2025-06-30", "successor": null }));
        assert_eq!(of("so-nn-ptnt"), json!({ "agency": { "code": "so-nn-ptnt" }, "status": "CEASED", "ceasedOn": "2025-02-28", "successor": { "code": "so-nn-mt" } }));
        assert_eq!(of("so-khcn")["status"], "OVERDUE");
        assert_eq!(of("mttq"), Value::Null, "owes nothing, ever");
        assert_eq!(obligations.iter().filter(|o| o["status"] == "CEASED").count(), 18);
        assert_eq!(obligations.len(), 30);

        let data = app
            .query(r#"{ agency(code: "so-kh-dt") { name kind existsFrom existsUntil successor { name } owes2024: owesYearlyReport(year: 2024) owes2025: owesYearlyReport(year: 2025) facts { fact source } } }"#)
            .await;
        let agency = &data["agency"];
        assert_eq!(agency["name"], "Sở Kế hoạch và Đầu tư");
        assert_eq!(agency["kind"], "DEPARTMENT");
        assert_eq!(agency["existsUntil"], "2025-02-28");
        assert_eq!(agency["successor"]["name"], "Sở Tài chính");
        assert_eq!((agency["owes2024"].clone(), agency["owes2025"].clone()), (json!(true), json!(false)));
        let facts = agency["facts"].as_array().unwrap();
        assert!(facts.iter().all(|f| !f["source"].as_str().unwrap().is_empty()));
        assert!(facts.iter().any(|f| f["source"].as_str().unwrap().contains("45/2025/NĐ-CP")), "{facts:?}");
    }
}

backend_test! {
    async fn search_ignores_case_tone_marks_and_normal_form(app) {
        fixtures::load(&app.db).await;
        let search = |text: String| {
            let app = &app;
            async move {
                app.query_with("query($t: String!) { search(text: $t, first: 10) { score kind title node { __typename } } }", json!({ "t": text }))
                    .await["search"]
                    .clone()
            }
        };
        let hits = search("xoai cao lanh".into()).await;
        let titles: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"Xoài Cát Chu Cao Lãnh"), "{titles:?}");
        assert!(titles.contains(&"Cao Lãnh"), "the GI for mangoes: {titles:?}");

        let hits = search("dong thap".into()).await;
        let kinds: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"IP_RIGHT") && kinds.contains(&"AGENCY") && kinds.contains(&"TASK"), "{kinds:?}");

        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "Quýt hồng".nfd().collect();
        let nfd_hits = search(nfd).await;
        let nfc_hits = search("Quýt hồng".into()).await;
        assert_eq!(nfd_hits, nfc_hits);
        assert_eq!(nfc_hits[0]["title"], "Quýt hồng Lai Vung");
        assert_eq!(nfc_hits[0]["node"]["__typename"], "OcopProduct");
        let scores: Vec<f64> = nfc_hits.as_array().unwrap().iter().map(|h| h["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked: {scores:?}");

        let only = app.query(r#"{ search(text: "sen", kinds: [OCOP_PRODUCT]) { kind } }"#).await;
        assert!(only["search"].as_array().unwrap().iter().all(|h| h["kind"] == "OCOP_PRODUCT"));
        let agency = app.query(r#"{ search(text: "SO KHCN") { kind title } }"#).await;
        assert_eq!(agency["search"][0], json!({ "kind": "AGENCY", "title": "Sở Khoa học và Công nghệ" }));
        let nothing = app.query(r#"{ search(text: "   ") { kind } }"#).await;
        assert_eq!(nothing["search"], json!([]));

        // Traceability entries are searched by default, and alone when asked for.
        let default = app.query(r#"{ search(text: "08936000000017") { kind } }"#).await;
        assert_eq!(default["search"], json!([{ "kind": "TRACEABILITY_ENTRY" }]));
        let asked = app.query(r#"{ search(text: "08936000000017", kinds: [TRACEABILITY_ENTRY]) { kind node { ... on TraceabilityEntry { eventId gtin } } } }"#).await;
        assert_eq!(asked["search"], json!([{ "kind": "TRACEABILITY_ENTRY", "node": { "eventId": "urn:uuid:test-1", "gtin": "08936000000017" } }]));

        // Hits are kept between writes, never past one: a new record is found at once,
        // an archived one is gone at once.
        let admin = app.token("admin", None).await;
        let find = || app.query(r#"{ search(text: "sen hong thap muoi", kinds: [OCOP_PRODUCT]) { title } }"#);
        assert_eq!(find().await["search"], json!([]));
        let (_, body) = app.as_caller(Some(&admin), r#"mutation { createOcopProduct(input: {name: "Sen hồng Tháp Mười", stars: 3}) { id } }"#, json!({})).await;
        let id = body["data"]["createOcopProduct"]["id"].clone();
        assert_eq!(find().await["search"], json!([{ "title": "Sen hồng Tháp Mười" }]));
        // Words in any order; one too short for a trigram index still narrows the hits.
        let mixed = app.query(r#"{ search(text: "MƯỜI sen h", kinds: [OCOP_PRODUCT]) { title } }"#).await;
        let titles: Vec<&str> = mixed["search"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"Sen hồng Tháp Mười"), "{titles:?}");
        let narrowed = app.query(r#"{ search(text: "muoi sen x", kinds: [OCOP_PRODUCT]) { title } }"#).await;
        assert!(!narrowed["search"].as_array().unwrap().iter().any(|h| h["title"] == "Sen hồng Tháp Mười"), "{narrowed}");
        let (_, body) = app.as_caller(Some(&admin), "mutation($id: ID!) { archiveOcopProduct(id: $id, expectedVersion: 1) { id } }", json!({ "id": id })).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(find().await["search"], json!([]));
    }
}

backend_test! {
    async fn search_hits_are_carried_across_writes_that_cannot_change_them(app) {
        fixtures::load(&app.db).await;
        let admin = app.token("admin", None).await;
        let search = || async {
            app.query(r#"{ search(text: "xoai cao lanh", first: 3) { kind title } }"#).await["search"].clone()
        };
        // What the search finds now, read past every cache.
        let fresh = || async {
            let hits = khcn_hub::store::search::search(&app.db, "xoai cao lanh", None, 3).await.unwrap();
            Value::Array(
                hits.into_iter()
                    .map(|hit| json!({ "kind": hit.kind.as_str(), "title": hit.title }))
                    .collect(),
            )
        };
        let write = |query: &'static str| {
            let admin = admin.clone();
            let app = &app;
            async move {
                let (_, body) = app.as_caller(Some(&admin), query, json!({})).await;
                assert!(body.get("errors").is_none(), "{body}");
                body
            }
        };
        let before = search().await;
        assert_eq!(before, fresh().await);
        assert_eq!(before.as_array().unwrap().len(), 3, "{before}");

        // An edit made outside the hub, which the change log does not see, tells whether
        // a search is run again or its hits are carried.
        let edited = before[1]["title"].as_str().unwrap().to_owned();
        app.execute_sql(&format!(
            "UPDATE search_entries SET title = 'sửa ngoài hub' WHERE kind = '{}' AND title = '{edited}'",
            before[1]["kind"].as_str().unwrap()
        ))
        .await;

        // A write that matches nothing searched: the hits are carried.
        let startup = write(r#"mutation { createStartup(input: { name: "Khởi nghiệp ghi thử" }) { id version } }"#).await;
        assert_eq!(search().await, before, "carried across a write that cannot change them");

        // A new exact match: the search runs again, finds it first, and shows the edit.
        let mango = write(r#"mutation { createOcopProduct(input: { name: "Xoài Cao Lãnh", stars: 3 }) { id } }"#).await;
        let now = search().await;
        assert_eq!(now, fresh().await);
        assert_eq!(now[0], json!({ "kind": "OCOP_PRODUCT", "title": "Xoài Cao Lãnh" }), "{now}");
        assert!(now.as_array().unwrap().iter().any(|hit| hit["title"] == "sửa ngoài hub"), "{now}");

        // An update of a record that matches neither before nor after: carried, and right.
        let id = startup["data"]["createStartup"]["id"].as_str().unwrap().to_owned();
        let (_, body) = app
            .as_caller(
                Some(&admin),
                r#"mutation($id: ID!) { updateStartup(id: $id, expectedVersion: 1, input: { name: "Khởi nghiệp ghi lại" }) { id } }"#,
                json!({ "id": id }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(search().await, now);
        assert_eq!(search().await, fresh().await);

        // A hit archived: the search runs again and it is gone.
        let id = mango["data"]["createOcopProduct"]["id"].as_str().unwrap().to_owned();
        let (_, body) = app
            .as_caller(Some(&admin), "mutation($id: ID!) { archiveOcopProduct(id: $id, expectedVersion: 1) { id } }", json!({ "id": id }))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let after = search().await;
        assert_eq!(after, fresh().await);
        assert!(after.as_array().unwrap().iter().all(|hit| hit["title"] != "Xoài Cao Lãnh"), "{after}");

        // A record that did not match renamed into one: the search runs again and finds it.
        let (_, body) = app
            .as_caller(
                Some(&admin),
                r#"mutation($id: ID!) { updateStartup(id: $id, expectedVersion: 2, input: { name: "Xoài Cao Lãnh xuất khẩu" }) { id } }"#,
                json!({ "id": startup["data"]["createStartup"]["id"] }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let renamed = search().await;
        assert_eq!(renamed, fresh().await);
        assert_eq!(renamed[0], json!({ "kind": "STARTUP", "title": "Xoài Cao Lãnh xuất khẩu" }), "{renamed}");
    }
}

backend_test! {
    async fn tasks_are_listed_with_the_common_filter_vocabulary(app) {
        fixtures::load(&app.db).await;
        let codes = |data: &Value| -> Vec<String> {
            data["tasks"]["nodes"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap().to_owned()).collect()
        };
        let data = app.query(r#"{ tasks(filter: { section: { eq: "VII" } }) { totalCount nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["VII.1", "VII.2", "VII.3", "VII.4", "VII.5"]);
        let data = app.query(r#"{ tasks(filter: { leadAgency: { eq: "Sở KHCN" }, topLevel: true }, first: 100) { totalCount } }"#).await;
        assert_eq!(data["tasks"]["totalCount"], 17);
        let data = app.query(r#"{ tasks(filter: { leadAgency: { eq: "so-cong-thuong" } }) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["III.2", "VII.1"]);
        let data = app.query(r#"{ tasks(filter: { coordinator: { eq: "Trung tâm Xúc tiến Thương mại, Du lịch và Đầu tư" } }) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["VII.2"]);
        let data = app.query(r#"{ tasks(filter: { coordinator: { eq: "cac-so-nganh-tinh" }, section: { eq: "I" } }) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["I.1", "I.2", "I.3"]);
        let data = app.query(r#"{ tasks(filter: { linkedRecordKind: { eq: "SCIENCE_TASK" } }) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["II.1"]);
        let data = app.query(r#"{ tasks(filter: { section: { eq: "II" }, topLevel: false }) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["II.3.i", "II.3.ii", "II.3.iii", "II.3.iv", "II.3.v"]);
        let data = app.query(r#"{ tasks(filter: { text: { contains: "truy xuat nguon goc" } }) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["II.1", "IV.2"]);
        let data = app.query(r#"{ tasks(filter: { status: { isNull: true } }, last: 1) { nodes { code } } }"#).await;
        assert_eq!(codes(&data), ["VII.5"]);
    }
}

backend_test! {
    async fn the_districts_records_name_are_listed(app) {
        let data = app.query("{ districts { code name shortName validUntil } }").await;
        let districts = data["districts"].as_array().unwrap();
        assert_eq!(districts.len(), 12);
        assert!(districts.contains(&json!({ "code": "lai-vung", "name": "Huyện Lai Vung", "shortName": "Lai Vung", "validUntil": "2025-06-30" })));
    }
}

backend_test! {
    async fn totals_follow_writes_at_once(app) {
        let count = r#"{ ocopProducts(filter: {stars: {gte: 4}}) { totalCount } }"#;
        let before = app.query(count).await["ocopProducts"]["totalCount"].as_i64().unwrap();
        // Asked twice: the second answer may come from the cache.
        assert_eq!(app.query(count).await["ocopProducts"]["totalCount"].as_i64().unwrap(), before);
        let token = app.token("agency", Some("so-khcn")).await;
        let (_, body) = app
            .as_caller(
                Some(&token),
                r#"mutation { createOcopProduct(input: {name: "Mắm cá linh", stars: 4}) { id } }"#,
                serde_json::json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(
            app.query(count).await["ocopProducts"]["totalCount"].as_i64().unwrap(),
            before + 1,
            "a write in this process is counted at once"
        );
    }
}

backend_test! {
    async fn kept_records_pages_links_and_producers_follow_every_write(app) {
        // Records, pages, a task's links and producers read at one head of the change log
        // are kept for the next requests; every acknowledged write must show at once.
        let fixture = fixtures::load(&app.db).await;
        let admin = app.token("admin", None).await;
        let id = format!("OcopProduct:{}", fixture.ocop_ids[0]);
        let page = r#"{ ocopProducts(filter: { district: { eq: "Lai Vung" } }, orderBy: [{ field: NAME }], first: 10) { nodes { id name producer { name } } } }"#;
        let one = "query($id: ID!) { ocopProduct(id: $id) { name version producer { name } tasks { code } } }";
        let linked = r#"{ task(code: "VII.4") { linkedRecords(kinds: [OCOP_PRODUCT], first: 10) { ... on OcopProduct { name producer { name } } } } }"#;
        let read = || async {
            (
                app.query(page).await,
                app.query_with(one, json!({ "id": id })).await,
                app.query(linked).await,
            )
        };
        let (first_page, first_one, first_linked) = read().await;
        assert_eq!(read().await, (first_page.clone(), first_one.clone(), first_linked.clone()), "reads at one head agree");
        assert_eq!(first_one["ocopProduct"]["name"], "Quýt hồng Lai Vung");
        assert_eq!(first_one["ocopProduct"]["producer"]["name"], "HTX Quýt hồng Long Hậu");
        assert_eq!(first_one["ocopProduct"]["tasks"], json!([{ "code": "V.4" }, { "code": "VII.4" }]));
        assert_eq!(first_linked["task"]["linkedRecords"][0]["name"], "Quýt hồng Lai Vung");

        // An update with a new producer: the page, the record and the task's links show it.
        let update = r#"mutation($id: ID!) { updateOcopProduct(id: $id, expectedVersion: 1, input: { name: "Quýt hồng Lai Vung loại 1", stars: 3, district: "Lai Vung", producer: { name: "HTX Nem Tân Thành" } }) { id } }"#;
        let (_, body) = app.as_caller(Some(&admin), update, json!({ "id": id })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let (page_now, one_now, linked_now) = read().await;
        let row = page_now["ocopProducts"]["nodes"].as_array().unwrap().iter().find(|n| n["id"] == json!(id)).cloned().unwrap();
        assert_eq!(row["name"], "Quýt hồng Lai Vung loại 1");
        assert_eq!(row["producer"]["name"], "HTX Nem Tân Thành");
        assert_eq!(one_now["ocopProduct"]["version"], 2);
        assert_eq!(one_now["ocopProduct"]["producer"]["name"], "HTX Nem Tân Thành");
        assert_eq!(linked_now["task"]["linkedRecords"][0], json!({ "name": "Quýt hồng Lai Vung loại 1", "producer": { "name": "HTX Nem Tân Thành" } }));

        // Unlinking: the task's links and the record's tasks drop it at once.
        let unlink = r#"mutation($r: ID!) { unlinkRecord(taskCode: "VII.4", recordId: $r) }"#;
        let (_, body) = app.as_caller(Some(&admin), unlink, json!({ "r": id })).await;
        assert_eq!(body["data"]["unlinkRecord"], true, "{body}");
        let (_, one_now, linked_now) = read().await;
        assert_eq!(one_now["ocopProduct"]["tasks"], json!([{ "code": "V.4" }]));
        assert!(linked_now["task"]["linkedRecords"].as_array().unwrap().iter().all(|r| r["name"] != "Quýt hồng Lai Vung loại 1"), "{linked_now}");

        // Archived: gone from the anonymous page and by id at once.
        let archive = "mutation($id: ID!) { archiveOcopProduct(id: $id, expectedVersion: 2) { id } }";
        let (_, body) = app.as_caller(Some(&admin), archive, json!({ "id": id })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let (page_now, one_now, _) = read().await;
        assert!(page_now["ocopProducts"]["nodes"].as_array().unwrap().iter().all(|n| n["id"] != json!(id)), "{page_now}");
        assert_eq!(one_now["ocopProduct"], Value::Null);
        // An admin still reads it (one kept row, another caller's view).
        let (_, body) = app.as_caller(Some(&admin), one, json!({ "id": id })).await;
        assert_eq!(body["data"]["ocopProduct"]["version"], 3, "{body}");
    }
}
