//! Aggregates, target series and exports, checked against counts worked out from the
//! fixture's known data, on both backends.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::fixtures::{self, OCOP};
use crate::helpers::error_code;

/// `keys.value` of each row, joined, with the row's count.
fn counts(rows: &Value) -> BTreeMap<String, i64> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not a list of rows: {rows}"))
        .iter()
        .map(|row| {
            let key = row["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["value"].as_str().unwrap_or("∅").to_owned())
                .collect::<Vec<_>>()
                .join("|");
            (key, row["count"].as_i64().unwrap())
        })
        .collect()
}

backend_test! {
    async fn ocop_products_group_by_district_and_stars(app) {
        fixtures::load(&app.db).await;
        let data = app
            .query(
                r#"{ ocopProductsAggregate(groupBy: [DISTRICT, STARS]) {
                    keys { dimension value label } count } }"#,
            )
            .await;
        let rows = &data["ocopProductsAggregate"];
        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for (_, _, code, stars, _) in OCOP {
            *expected.entry(format!("{code}|{stars}")).or_default() += 1;
        }
        assert_eq!(counts(rows), expected, "{rows}");
        let first = &rows[0]["keys"];
        assert_eq!(first[0]["dimension"], "district");
        assert_eq!(first[0]["value"], "lai-vung");
        assert_eq!(first[0]["label"], "Huyện Lai Vung");
        assert_eq!(first[1]["dimension"], "stars");
        assert_eq!(first[1]["value"], "3");
    }
}

backend_test! {
    async fn aggregates_take_the_list_filter_and_metrics(app) {
        fixtures::load(&app.db).await;
        let data = app
            .query(
                r#"{ ocopProductsAggregate(
                    filter: { district: { eq: "Lai Vung" }, stars: { gte: 4 } },
                    groupBy: [CERTIFIED_ON_YEAR], metrics: [STARS]) {
                    keys { value } count sum avg min max metrics { metric sum } } }"#,
            )
            .await;
        let rows = data["ocopProductsAggregate"].as_array().unwrap().clone();
        let lai_vung_4plus: Vec<_> = OCOP
            .iter()
            .filter(|(_, _, code, stars, _)| *code == "lai-vung" && *stars >= 4)
            .collect();
        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for (_, _, _, _, certified) in &lai_vung_4plus {
            let year = certified.map_or("∅".to_owned(), |(y, _, _)| y.to_string());
            *expected.entry(year).or_default() += 1;
        }
        assert_eq!(counts(&Value::Array(rows.clone())), expected);

        // No dimension: one row for everything the filter matches.
        let data = app
            .query(
                r#"{ ocopProductsAggregate(filter: { district: { eq: "Lai Vung" } }, metrics: [STARS]) {
                    keys { value } count sum avg min max } }"#,
            )
            .await;
        let row = &data["ocopProductsAggregate"][0];
        let stars: Vec<f64> = OCOP
            .iter()
            .filter(|(_, _, code, _, _)| *code == "lai-vung")
            .map(|(_, _, _, s, _)| f64::from(*s))
            .collect();
        assert_eq!(row["keys"], json!([]));
        assert_eq!(row["count"].as_i64().unwrap(), stars.len() as i64);
        assert_eq!(row["sum"].as_f64().unwrap(), stars.iter().sum::<f64>());
        let avg = stars.iter().sum::<f64>() / stars.len() as f64;
        assert!((row["avg"].as_f64().unwrap() - avg).abs() < 1e-9);
        assert_eq!(row["min"].as_f64().unwrap(), 3.0);
        assert_eq!(row["max"].as_f64().unwrap(), 5.0);

        // Only the figures asked for are computed, and a query asking for others is not
        // answered with the first one's kept rows.
        let one = |figures: &'static str| {
            let app = &app;
            async move {
                let query = format!(
                    r#"{{ ocopProductsAggregate(filter: {{ district: {{ eq: "Lai Vung" }} }}, metrics: [STARS]) {{
                        ... on AggregateRow {{ {figures} }} }} }}"#
                );
                app.query(&query).await["ocopProductsAggregate"][0].clone()
            }
        };
        let only_avg = one("avg").await;
        assert!((only_avg["avg"].as_f64().unwrap() - avg).abs() < 1e-9, "{only_avg}");
        let from_metrics = one("total: sum metrics { lowest: min }").await;
        assert_eq!(from_metrics["total"].as_f64().unwrap(), stars.iter().sum::<f64>(), "{from_metrics}");
        assert_eq!(from_metrics["metrics"][0]["lowest"].as_f64().unwrap(), 3.0, "{from_metrics}");
        let highest = one("max").await;
        assert_eq!(highest["max"].as_f64().unwrap(), 5.0, "{highest}");

        // Quarters and months of a date.
        let data = app
            .query(r#"{ ocopProductsAggregate(groupBy: [CERTIFIED_ON_QUARTER]) { keys { value } count } }"#)
            .await;
        let quarters = counts(&data["ocopProductsAggregate"]);
        assert_eq!(quarters.get("2024-Q1"), Some(&1), "{quarters:?}");
        assert_eq!(quarters.get("2021-Q4"), Some(&1), "{quarters:?}");
        assert_eq!(quarters.get("∅"), Some(&1), "{quarters:?}");

        // A bad filter names its field; a repeated dimension is refused.
        let (_, body) = app
            .query_body(r#"{ ocopProductsAggregate(filter: { stars: { eq: 7 } }) { count } }"#)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("stars"), "{body}");
        let (_, body) = app
            .query_body(r#"{ ocopProductsAggregate(groupBy: [STARS, STARS]) { count } }"#)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("groupBy[1]"), "{body}");
    }
}

backend_test! {
    async fn tasks_group_by_section_like_the_task_list(app) {
        let data = app
            .query(r#"{ tasksAggregate(groupBy: [SECTION]) { keys { value label } count }
                        tasks { totalCount } }"#)
            .await;
        let rows = data["tasksAggregate"].as_array().unwrap().clone();
        let total: i64 = rows.iter().map(|r| r["count"].as_i64().unwrap()).sum();
        assert_eq!(total, data["tasks"]["totalCount"].as_i64().unwrap());
        for row in &rows {
            let numeral = row["keys"][0]["value"].as_str().unwrap();
            assert!(row["keys"][0]["label"].as_str().is_some_and(|l| !l.is_empty()));
            let listed = app
                .query_with(
                    "query($n: String!) { tasks(filter: { section: { eq: $n } }) { totalCount } }",
                    json!({ "n": numeral }),
                )
                .await;
            assert_eq!(
                listed["tasks"]["totalCount"], row["count"],
                "section {numeral}"
            );
        }
        let by_agency = app
            .query(r#"{ tasksAggregate(groupBy: [LEAD_AGENCY], filter: { leadAgency: { eq: "so-khcn" } }) {
                keys { value label } count } }"#)
            .await;
        let row = &by_agency["tasksAggregate"][0];
        assert_eq!(row["keys"][0]["value"], "so-khcn");
        assert_eq!(row["keys"][0]["label"], "Sở Khoa học và Công nghệ");
    }
}

backend_test! {
    async fn event_months_are_read_in_vietnam_time_and_follow_writes(app) {
        let admin = app.token("admin", None).await;
        let create = r#"mutation($input: TraceabilityEntryInput!) {
            createTraceabilityEntry(input: $input) { id } }"#;
        for (i, time) in [
            "2024-03-31T23:30:00+07:00",
            "2024-03-31T17:30:00Z",
            "2024-04-02T08:00:00+07:00",
        ]
        .iter()
        .enumerate()
        {
            let (status, body) = app
                .as_caller(
                    Some(&admin),
                    create,
                    json!({ "input": { "eventId": format!("urn:uuid:e-{i}"),
                        "eventType": "ObjectEvent", "eventTime": time, "quantity": 10.5 } }),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert!(body["errors"].is_null(), "{body}");
            // Ask between writes, so a kept result would show up stale.
            let data = app
                .query(r#"{ traceabilityEntriesAggregate(groupBy: [EVENT_TIME_MONTH]) { count } }"#)
                .await;
            let total: i64 = data["traceabilityEntriesAggregate"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["count"].as_i64().unwrap())
                .sum();
            assert_eq!(total, i as i64 + 1, "a write shows in the next aggregate");
        }
        let data = app
            .query(
                r#"{ traceabilityEntriesAggregate(groupBy: [EVENT_TIME_MONTH], metrics: [QUANTITY]) {
                    keys { value } count sum } }"#,
            )
            .await;
        let rows = &data["traceabilityEntriesAggregate"];
        let months = counts(rows);
        // 17:30Z on 31 March is 00:30 on 1 April in Vietnam.
        assert_eq!(
            months,
            BTreeMap::from([("2024-03".to_owned(), 1), ("2024-04".to_owned(), 2)])
        );
        assert_eq!(rows[1]["sum"].as_f64().unwrap(), 21.0);
    }
}

backend_test! {
    async fn target_series_run_from_the_issue_year_to_the_due_year(app) {
        fixtures::load(&app.db).await;
        let data = app
            .query(
                r#"{ plan(code: "136/KH-UBND") { target(key: STARTUPS) {
                    targetValue actualValue onTrackRule
                    byYear { year value planned onTrack } } } }"#,
            )
            .await;
        let target = &data["plan"]["target"];
        let years: Vec<i64> = target["byYear"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["year"].as_i64().unwrap())
            .collect();
        assert_eq!(years, [2022, 2023, 2024, 2025]);
        // Startup A counts in 2022, C in 2025 (B was supported before the plan).
        let values: Vec<i64> = target["byYear"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_i64().unwrap())
            .collect();
        assert_eq!(values, [1, 1, 1, 2]);
        let last = &target["byYear"][3];
        assert_eq!(last["planned"].as_f64().unwrap(), 20.0);
        assert_eq!(last["onTrack"], false);
        assert!(target["onTrackRule"].as_str().unwrap().contains("straight-line"));
    }
}

/// An export's body as CSV records, after checking the BOM.
async fn csv_rows(response: reqwest::Response) -> Vec<Vec<String>> {
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a BOM for Excel");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

backend_test! {
    async fn a_csv_export_matches_the_list_row_for_row(app) {
        fixtures::load(&app.db).await;
        let response = app
            .client
            .get(app.url("/export/ocop-products.csv?stars.gte=4&district.eq=Lai%20Vung&orderBy=certifiedOn:desc"))
            .send()
            .await
            .unwrap();
        let rows = csv_rows(response).await;
        let header = &rows[0];
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let listed = app
            .query(
                r#"{ ocopProducts(filter: { stars: { gte: 4 }, district: { eq: "Lai Vung" } },
                    orderBy: [{ field: CERTIFIED_ON, direction: DESC }]) {
                    nodes { id name stars certifiedOn producer { name } tasks { code } } } }"#,
            )
            .await;
        let nodes = listed["ocopProducts"]["nodes"].as_array().unwrap();
        assert_eq!(rows.len() - 1, nodes.len());
        assert!(!nodes.is_empty());
        for (row, node) in rows[1..].iter().zip(nodes) {
            assert_eq!(row[column("id")], node["id"].as_str().unwrap());
            assert_eq!(row[column("name")], node["name"].as_str().unwrap());
            assert_eq!(row[column("stars")], node["stars"].to_string());
            assert_eq!(
                row[column("certifiedOn")],
                node["certifiedOn"].as_str().unwrap_or_default()
            );
            assert_eq!(
                row[column("producer.name")],
                node["producer"]["name"].as_str().unwrap()
            );
            let codes: Vec<&str> = node["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["code"].as_str().unwrap())
                .collect();
            assert_eq!(row[column("tasks.code")], codes.join("; "));
        }
        // Vietnamese text arrives byte for byte.
        assert!(rows.iter().any(|r| r[column("name")] == "Quýt hồng sấy dẻo"));
    }
}

backend_test! {
    async fn exports_page_through_everything_and_keep_permissions(app) {
        // More rows than one page of the export.
        let admin = app.token("admin", None).await;
        let records: Vec<Value> = (0..620)
            .map(|i| json!({ "externalId": format!("E-{i}"),
                "input": { "name": format!("Sản phẩm {i:04}"), "stars": 3 + i % 3, "district": "Lai Vung" } }))
            .collect();
        let (status, body) = app
            .as_caller(
                Some(&admin),
                "mutation($r: [OcopProductImportRecord!]!) { importOcopProducts(records: $r) { created } }",
                json!({ "r": records }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["importOcopProducts"]["created"], 620, "{body}");
        let rows = csv_rows(
            app.client
                .get(app.url("/export/ocop-products.csv"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(rows.len(), 621);

        // An archived record is the admin's to see, not an anonymous reader's.
        let listed = app
            .query(r#"{ ocopProducts(first: 1) { nodes { id version } } }"#)
            .await;
        let node = &listed["ocopProducts"]["nodes"][0];
        let (_, body) = app
            .as_caller(
                Some(&admin),
                "mutation($id: ID!, $v: BigInt!) { archiveOcopProduct(id: $id, expectedVersion: $v) { id } }",
                json!({ "id": node["id"], "v": node["version"] }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let url = app.url("/export/ocop-products.csv?includeInactive=true");
        let anonymous = csv_rows(app.client.get(&url).send().await.unwrap()).await;
        let as_admin = csv_rows(
            app.client
                .get(&url)
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(anonymous.len(), 620);
        assert_eq!(as_admin.len(), 621);

        // A bad filter is a 400 with a GraphQL error naming the field, before any CSV.
        let response = app
            .client
            .get(app.url("/export/ocop-products.csv?stars.eq=7"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("stars"), "{body}");
        let response = app
            .client
            .get(app.url("/export/nothing.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
}

backend_test! {
    async fn aggregates_and_spreadsheets_export_too(app) {
        fixtures::load(&app.db).await;
        let rows = csv_rows(
            app.client
                .get(app.url("/export/aggregate/ocop-products.csv?groupBy=district,stars&metrics=stars"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            rows[0],
            [
                "district", "districtLabel", "stars", "starsLabel", "count", "starsSum",
                "starsAvg", "starsMin", "starsMax"
            ]
        );
        let data = app
            .query(r#"{ ocopProductsAggregate(groupBy: [DISTRICT, STARS]) { count } }"#)
            .await;
        assert_eq!(
            rows.len() - 1,
            data["ocopProductsAggregate"].as_array().unwrap().len()
        );
        assert_eq!(rows[1][..5], ["lai-vung", "Huyện Lai Vung", "3", "3", "1"]);

        let response = app
            .client
            .get(app.url("/export/tasks.xlsx"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let bytes = response.bytes().await.unwrap();
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        use calamine::Reader;
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let total = app.query("{ tasks { totalCount } }").await["tasks"]["totalCount"]
            .as_i64()
            .unwrap();
        assert_eq!(sheet.height() as i64, total + 1);
        assert_eq!(sheet.get((0, 0)).unwrap().to_string(), "code");
        let texts: Vec<String> = (1..sheet.height())
            .map(|r| sheet.get((r, 3)).map(|c| c.to_string()).unwrap_or_default())
            .collect();
        assert!(texts.iter().any(|t| t.contains("khoa học")), "Vietnamese intact");
    }
}

backend_test! {
    async fn spreadsheets_hold_numbers_dates_and_booleans_as_such(app) {
        fixtures::load(&app.db).await;
        use calamine::{Data, Reader};
        use chrono::Datelike;
        let workbook = |path: &'static str| {
            let app = &app;
            async move {
                let response = app.client.get(app.url(path)).send().await.unwrap();
                assert_eq!(response.status(), 200, "{path}");
                response.bytes().await.unwrap().to_vec()
            }
        };
        let bytes = workbook("/export/ocop-products.xlsx").await;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(book.sheet_names(), ["ocop-products"]);
        let sheet = book.worksheet_range("ocop-products").unwrap();
        let header: Vec<String> = (0..sheet.width()).map(|c| sheet.get((0, c)).unwrap().to_string()).collect();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (stars, certified, year, name) = (column("stars"), column("certifiedOn"), column("evaluationYear"), column("name"));
        let mut dates = 0;
        for row in 1..sheet.height() {
            assert!(matches!(sheet.get((row, stars)), Some(Data::Float(_))), "stars: {:?}", sheet.get((row, stars)));
            assert!(matches!(sheet.get((row, name)), Some(Data::String(_))));
            match sheet.get((row, certified)) {
                Some(Data::DateTime(at)) => {
                    dates += 1;
                    assert!(matches!(sheet.get((row, year)), Some(Data::Float(y)) if *y as i32 == at.as_datetime().unwrap().date().year()));
                }
                Some(Data::Empty) | None => {}
                other => panic!("certifiedOn is not a date: {other:?}"),
            }
        }
        assert!(dates > 0, "some products have a certification date");
        // The header row is frozen and the columns have widths.
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut xml).unwrap();
        assert!(xml.contains(r#"ySplit="1""#) && xml.contains(r#"state="frozen""#), "{}", &xml[..xml.len().min(600)]);
        assert!(xml.contains("<col "), "column widths");

        // Booleans as booleans.
        let bytes = workbook("/export/ip-rights.xlsx").await;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let farm = (0..sheet.width()).find(|c| *sheet.get((0, *c)).unwrap() == "farmProduct").unwrap();
        assert!((1..sheet.height()).all(|r| matches!(sheet.get((r, farm)), Some(Data::Bool(_)))));

        // Aggregates too: counts and averages are numbers.
        let bytes = workbook("/export/aggregate/ocop-products.xlsx?groupBy=district&metrics=stars").await;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.get((0, 2)).unwrap().to_string(), "count");
        for row in 1..sheet.height() {
            assert!(matches!(sheet.get((row, 2)), Some(Data::Float(n)) if *n >= 1.0));
            assert!(matches!(sheet.get((row, 4)), Some(Data::Float(_))), "starsAvg");
        }
    }
}

backend_test! {
    async fn a_group_by_over_200_000_rows_runs_in_the_database(app) {
        // 200,000 events, one a day through 2024 (366 days), written in one statement.
        let sql = match app.backend {
            crate::helpers::Backend::Sqlite => {
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199999)
                 INSERT INTO traceability_entries
                   (source, created_at, updated_at, version, search_key, event_id, event_type,
                    event_time, quantity)
                 SELECT 'test', '2025-01-01T00:00:00+07:00', '2025-01-01T00:00:00+07:00', 1, '',
                   'urn:uuid:bulk-' || i, 'ObjectEvent',
                   strftime('%Y-%m-%dT12:00:00+07:00', '2024-01-01', '+' || (i % 366) || ' days'),
                   1.0
                 FROM n"
            }
            crate::helpers::Backend::Postgres => {
                "INSERT INTO traceability_entries
                   (source, created_at, updated_at, version, search_key, event_id, event_type,
                    event_time, quantity)
                 SELECT 'test', now(), now(), 1, '', 'urn:uuid:bulk-' || i, 'ObjectEvent',
                   timestamptz '2024-01-01 12:00:00+07' + (i % 366) * interval '1 day', 1.0
                 FROM generate_series(0, 199999) AS n(i)"
            }
        };
        app.execute_sql(sql).await;
        assert_eq!(app.count_rows("traceability_entries").await, 200_000);

        let data = app
            .query(
                r#"{ traceabilityEntriesAggregate(groupBy: [EVENT_TIME_MONTH], metrics: [QUANTITY]) {
                    keys { value } count sum } }"#,
            )
            .await;
        let rows = data["traceabilityEntriesAggregate"].as_array().unwrap();
        let months: Vec<&str> = rows
            .iter()
            .map(|r| r["keys"][0]["value"].as_str().unwrap())
            .collect();
        assert_eq!(months.len(), 12, "{months:?}");
        assert_eq!(months[0], "2024-01");
        assert_eq!(months[11], "2024-12");
        let total: i64 = rows.iter().map(|r| r["count"].as_i64().unwrap()).sum();
        assert_eq!(total, 200_000);
        // 200,000 = 546 × 366 + 164: each day gets 546 events and days 0–163 one more,
        // so each of January's 31 days has 547.
        let january = 31 * (200_000 / 366 + 1);
        assert_eq!(rows[0]["count"].as_i64().unwrap(), january);
        assert_eq!(rows[0]["sum"].as_f64().unwrap(), january as f64);

        // The grouping is one statement, and only the twelve groups come back.
        use std::sync::{Arc, Mutex};
        let mut db = khcn_hub::db::connect(&app.database_url()).await.unwrap();
        let statements: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = statements.clone();
        db.set_metric_callback(move |info| seen.lock().unwrap().push(info.statement.sql.clone()));
        use khcn_hub::domain::aggregate::{AggregateQuery, DatePart, Dimension};
        let scope = khcn_hub::store::records::ListQuery {
            filter: khcn_hub::domain::filter::Filter::All(vec![]),
            sort: vec![],
            offset: 0,
            limit: 0,
            include_inactive: false,
            archived_scope: Default::default(),
        };
        let query = AggregateQuery {
            filter: scope.filter.clone(),
            dimensions: vec![Dimension::time("eventTimeMonth", "event_time", DatePart::Month)],
            metrics: vec![],
            figures: khcn_hub::domain::aggregate::Figures::ALL,
        };
        let groups =
            khcn_hub::store::aggregate::aggregate(&db, "traceability_entries", &scope, &query)
                .await
                .unwrap();
        assert_eq!(groups.len(), 12);
        {
            let statements = statements.lock().unwrap();
            assert_eq!(statements.len(), 1, "{statements:?}");
            assert!(statements[0].contains("GROUP BY"), "{}", statements[0]);
        }

        // A figure the query does not read is not computed: only the average is asked.
        let query = AggregateQuery {
            metrics: vec![khcn_hub::domain::aggregate::Metric {
                name: "quantity",
                column: "quantity",
            }],
            figures: khcn_hub::domain::aggregate::Figures {
                sum: false,
                avg: true,
                min: false,
                max: false,
            },
            ..query
        };
        let groups =
            khcn_hub::store::aggregate::aggregate(&db, "traceability_entries", &scope, &query)
                .await
                .unwrap();
        assert_eq!(groups.len(), 12);
        assert!(groups.iter().all(|g| g.metrics[0].sum.is_none() && g.metrics[0].min.is_none()));
        let statements = statements.lock().unwrap();
        let sql = &statements[1];
        assert!(sql.contains("AVG(") && !sql.contains("SUM(") && !sql.contains("MIN(") && !sql.contains("MAX("), "{sql}");
    }
}

/// Groups the values of `field` in a list's nodes the way an aggregate should.
fn group_nodes(nodes: &Value, field: &str) -> BTreeMap<String, i64> {
    let mut groups = BTreeMap::new();
    for node in nodes.as_array().unwrap() {
        let value = match &node[field] {
            Value::Null => "∅".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        *groups.entry(value).or_default() += 1;
    }
    groups
}

backend_test! {
    async fn every_kinds_aggregate_agrees_with_its_list(app) {
        fixtures::load(&app.db).await;
        // (list field, aggregate field, node field, dimension)
        let cases = [
            ("ipRights", "ipRightsAggregate", "jurisdiction", "JURISDICTION"),
            ("ipRights", "ipRightsAggregate", "kind", "KIND"),
            ("ipRights", "ipRightsAggregate", "status", "STATUS"),
            ("startups", "startupsAggregate", "foundedYear", "FOUNDED_YEAR"),
            ("traceabilityEntries", "traceabilityEntriesAggregate", "eventType", "EVENT_TYPE"),
            ("scienceTasks", "scienceTasksAggregate", "status", "STATUS"),
            ("scienceTasks", "scienceTasksAggregate", "level", "LEVEL"),
            ("applicationModels", "applicationModelsAggregate", "yearTransferred", "YEAR_TRANSFERRED"),
            ("technologyAssessments", "technologyAssessmentsAggregate", "year", "YEAR"),
            ("annualReports", "annualReportsAggregate", "year", "YEAR"),
            ("ocopProducts", "ocopProductsAggregate", "commune", "COMMUNE"),
            ("ocopProducts", "ocopProductsAggregate", "evaluationYear", "EVALUATION_YEAR"),
        ];
        let mut non_empty = 0;
        for (list, aggregate, field, dimension) in cases {
            let data = app
                .query(&format!(
                    "{{ list: {list}(first: 500) {{ totalCount nodes {{ {field} }} }}
                       groups: {aggregate}(groupBy: [{dimension}]) {{ keys {{ value }} count }}
                       all: {aggregate} {{ count }} }}"
                ))
                .await;
            let expected = group_nodes(&data["list"]["nodes"], field);
            assert_eq!(counts(&data["groups"]), expected, "{aggregate} by {dimension}");
            assert_eq!(data["all"][0]["count"], data["list"]["totalCount"], "{aggregate}");
            non_empty += usize::from(!expected.is_empty());
        }
        assert!(non_empty >= 10, "the fixture leaves too many kinds empty");
    }
}
