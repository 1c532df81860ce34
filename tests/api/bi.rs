//! The read-only SQL views for BI tools: they answer what GraphQL answers, leave out what
//! anonymous readers may not see, and the `khcn_bi` role reads them and nothing else.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{Backend, TestDatabase};

fn view(db: &DatabaseConnection, name: &str) -> String {
    match db.get_database_backend() {
        DbBackend::Postgres => format!("bi.{name}"),
        _ => format!("bi_{name}"),
    }
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The targets view as key → (actual, target, on track), once the hub has written it.
async fn target_view(db: &DatabaseConnection) -> BTreeMap<String, (i64, Option<i32>, bool)> {
    let sql = format!(
        "SELECT key, actual_value, target_value, on_track FROM {} WHERE plan_code = '136/KH-UBND'",
        view(db, "targets")
    );
    rows(db, &sql)
        .await
        .iter()
        .map(|r| {
            (
                r.try_get("", "key").unwrap(),
                (
                    r.try_get("", "actual_value").unwrap(),
                    r.try_get("", "target_value").unwrap(),
                    r.try_get("", "on_track").unwrap(),
                ),
            )
        })
        .collect()
}

async fn target_graphql(
    app: &crate::helpers::TestApp,
) -> BTreeMap<String, (i64, Option<i32>, bool)> {
    let data = app
        .query(
            r#"{ plan(code: "136/KH-UBND") { targets { key actualValue targetValue onTrack } } }"#,
        )
        .await;
    data["plan"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap().to_owned(),
                (
                    t["actualValue"].as_i64().unwrap(),
                    t["targetValue"].as_i64().map(|v| v as i32),
                    t["onTrack"].as_bool().unwrap(),
                ),
            )
        })
        .collect()
}

/// Waits until the targets view shows what GraphQL does.
async fn targets_agree(
    app: &crate::helpers::TestApp,
) -> BTreeMap<String, (i64, Option<i32>, bool)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (viewed, answered) = (target_view(&app.db).await, target_graphql(app).await);
        if viewed == answered {
            return viewed;
        }
        assert!(
            Instant::now() < deadline,
            "the view {viewed:?} never matched GraphQL {answered:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

backend_test! {
    async fn the_bi_views_answer_what_graphql_answers(app) {
        let admin = app.token("admin", None).await;

        // Targets: the hub's own figures, kept in step with writes.
        let before = targets_agree(&app).await;
        assert_eq!(before.len(), 5, "{before:?}");
        let (_, body) = app
            .as_caller(Some(&admin), "mutation { createApplicationModel(input: {title: \"Mô hình sấy quýt\", yearTransferred: 2024}) { id } }", json!({}))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let after = targets_agree(&app).await;
        assert_eq!(after["APPLICATION_MODELS"].0, before["APPLICATION_MODELS"].0 + 1);

        // Records written straight to the tables (not through the hub) for the rest.
        fixtures::load(&app.db).await;

        // Tasks, with their section and lead agency.
        let task = app.query(r#"{ task(code: "II.3") { status leadAgency { code } } }"#).await;
        let sql = format!("SELECT section_numeral, lead_agency_code, status FROM {} WHERE code = 'II.3'", view(&app.db, "tasks"));
        let row = &rows(&app.db, &sql).await[0];
        assert_eq!(row.try_get::<String>("", "section_numeral").unwrap(), "II");
        assert_eq!(Value::from(row.try_get::<Option<String>>("", "lead_agency_code").unwrap()), task["task"]["leadAgency"]["code"]);
        assert_eq!(Value::from(row.try_get::<Option<String>>("", "status").unwrap()), task["task"]["status"]);

        // OCOP products by stars: the view's groups are GraphQL's aggregate, and an
        // archived product leaves both.
        let by_stars = |app: &crate::helpers::TestApp| {
            let sql = format!("SELECT stars, COUNT(*) AS n FROM {} GROUP BY stars ORDER BY stars", view(&app.db, "ocop_products"));
            let db = app.db.clone();
            async move {
                rows(&db, &sql)
                    .await
                    .iter()
                    .map(|r| (r.try_get::<i16>("", "stars").unwrap().to_string(), r.try_get::<i64>("", "n").unwrap()))
                    .collect::<BTreeMap<String, i64>>()
            }
        };
        let aggregate = |data: Value| {
            data["ocopProductsAggregate"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| (row["keys"][0]["value"].as_str().unwrap().to_owned(), row["count"].as_i64().unwrap()))
                .collect::<BTreeMap<String, i64>>()
        };
        let query = "{ ocopProductsAggregate(groupBy: [STARS]) { keys { value } count } }";
        let viewed = by_stars(&app).await;
        assert!(!viewed.is_empty());
        assert_eq!(viewed, aggregate(app.query(query).await));
        let product = rows(&app.db, &format!("SELECT record_id, district_name, producer_name FROM {} WHERE district_code = 'lai-vung' ORDER BY id", view(&app.db, "ocop_products"))).await;
        assert_eq!(product[0].try_get::<Option<String>>("", "district_name").unwrap().as_deref(), Some("Huyện Lai Vung"), "the place's name");
        let id: String = product[0].try_get("", "record_id").unwrap();
        let (_, body) = app.as_caller(Some(&admin), "mutation($id: ID!) { archiveOcopProduct(id: $id, expectedVersion: 1) { id } }", json!({"id": id})).await;
        assert!(body.get("errors").is_none(), "{body}");
        let archived = by_stars(&app).await;
        assert_eq!(archived.values().sum::<i64>(), viewed.values().sum::<i64>() - 1);
        assert_eq!(archived, aggregate(app.query(query).await));

        // Links to an archived record are left out with it.
        let linked = |app: &crate::helpers::TestApp, id: String| {
            let sql = format!("SELECT COUNT(*) AS n FROM {} WHERE record_id = '{id}'", view(&app.db, "task_record_links"));
            let db = app.db.clone();
            async move { rows(&db, &sql).await[0].try_get::<i64>("", "n").unwrap() }
        };
        let other: String = rows(&app.db, &format!("SELECT record_id FROM {} ORDER BY id", view(&app.db, "ocop_products"))).await[0].try_get("", "record_id").unwrap();
        let (_, body) = app.as_caller(Some(&admin), "mutation($id: ID!) { linkRecord(taskCode: \"II.3\", recordId: $id) { created } }", json!({"id": other})).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert!(linked(&app, other.clone()).await >= 1);
        let version = app.query_with("query($id: ID!) { ocopProduct(id: $id) { version } }", json!({"id": other})).await["ocopProduct"]["version"].clone();
        app.as_caller(Some(&admin), "mutation($id: ID!, $v: BigInt!) { archiveOcopProduct(id: $id, expectedVersion: $v) { id } }", json!({"id": other, "v": version})).await;
        assert_eq!(linked(&app, other).await, 0);

        // Every view answers.
        for name in ["ip_rights", "startups", "traceability_entries", "science_tasks", "application_models", "technology_assessments", "annual_reports"] {
            rows(&app.db, &format!("SELECT * FROM {}", view(&app.db, name))).await;
        }
    }
}

/// PostgreSQL only: the `khcn_bi` role, given a login, reads the views and nothing else.
#[tokio::test]
async fn the_bi_role_reads_the_views_and_nothing_else() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    khcn_hub::db::migrate(&db, &database.url).await.unwrap();
    khcn_hub::app::seed_plan(&db).await.unwrap();
    db.execute_unprepared("ALTER ROLE khcn_bi LOGIN")
        .await
        .unwrap();
    let (base, name) = database.url.rsplit_once('/').unwrap();
    let (scheme, rest) = base.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let bi = sea_orm::Database::connect(format!("{scheme}://khcn_bi@{host}/{name}"))
        .await
        .unwrap();
    let tasks = rows(&bi, "SELECT COUNT(*) AS n FROM bi.tasks").await[0]
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(tasks > 26, "{tasks}");
    for sql in [
        "SELECT * FROM bi.ocop_products",
        "SELECT * FROM bi.targets",
        "SELECT * FROM bi.task_record_links",
    ] {
        rows(&bi, sql).await;
    }
    for refused in [
        "SELECT * FROM tasks",
        "SELECT * FROM public.api_tokens",
        "SELECT * FROM change_log",
        "DELETE FROM bi.targets",
        "INSERT INTO target_values (plan_code) VALUES ('x')",
        "UPDATE tasks SET text = ''",
        "CREATE TABLE bi.mine (a integer)",
    ] {
        let error = bi
            .execute_unprepared(refused)
            .await
            .expect_err(refused)
            .to_string();
        assert!(error.contains("permission denied"), "{refused}: {error}");
    }
    bi.close().await.unwrap();
    db.execute_unprepared("ALTER ROLE khcn_bi NOLOGIN")
        .await
        .unwrap();
}
