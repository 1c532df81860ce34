//! The registry of record kinds is the one list: every surface offers exactly the kinds
//! it lists, so a kind is never half-added (the GraphQL list, by-id, aggregate and
//! mutations, the `RecordKind` enum, the search kinds, the export routes and the
//! connector definitions).

use std::collections::BTreeSet;

use khcn_hub::domain::records::RecordKind;
use khcn_hub::records::spec_of;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

fn names(values: &Value) -> BTreeSet<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().unwrap().to_lowercase();
    first.chain(chars).collect()
}

const INTROSPECTION: &str = r#"{
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
  kinds: __type(name: "RecordKind") { enumValues { name } }
  hitKinds: __type(name: "SearchHitKind") { enumValues { name } }
  linked: __type(name: "LinkedRecord") { possibleTypes { name } }
}"#;

#[tokio::test]
async fn every_surface_offers_exactly_the_registered_kinds() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let data = app.query(INTROSPECTION).await;
    let query = names(&data["query"]["fields"]);
    let mutation = names(&data["mutation"]["fields"]);
    let kinds: BTreeSet<String> = RecordKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    let type_names: BTreeSet<String> = RecordKind::ALL
        .iter()
        .map(|k| k.type_name().to_owned())
        .collect();

    // The enums and the union name every kind and nothing else.
    assert_eq!(names(&data["kinds"]["enumValues"]), kinds);
    let hit_kinds: BTreeSet<String> = names(&data["hitKinds"]["enumValues"])
        .into_iter()
        .filter(|k| k != "TASK" && k != "AGENCY")
        .collect();
    assert_eq!(hit_kinds, kinds);
    assert_eq!(names(&data["linked"]["possibleTypes"]), type_names);

    // Each kind's root fields, and no record root field without a kind.
    let mut expected_queries = BTreeSet::new();
    let mut expected_mutations = BTreeSet::new();
    for kind in RecordKind::ALL {
        let spec = spec_of(*kind);
        let name = kind.type_name();
        let list = lower_first(spec.plural);
        expected_queries.extend([list.clone(), lower_first(name), format!("{list}Aggregate")]);
        expected_mutations.extend([
            format!("create{name}"),
            format!("update{name}"),
            format!("archive{name}"),
            format!("upsert{name}"),
            format!("import{}", spec.plural),
        ]);
    }
    assert!(query.is_superset(&expected_queries), "{query:?}");
    assert!(mutation.is_superset(&expected_mutations), "{mutation:?}");
    let record_like = |n: &String| {
        n.starts_with("create")
            || n.starts_with("update")
            || n.starts_with("archive")
            || n.starts_with("upsert")
            || n.starts_with("import")
    };
    let offered: BTreeSet<String> = mutation
        .iter()
        .filter(|n| record_like(n) && *n != "updateTaskProgress" && !n.ends_with("Webhook"))
        .cloned()
        .collect();
    assert_eq!(offered, expected_mutations);
    let aggregates: BTreeSet<String> = query
        .iter()
        .filter(|n| n.ends_with("Aggregate") && *n != "tasksAggregate")
        .cloned()
        .collect();
    let expected_aggregates: BTreeSet<String> = expected_queries
        .iter()
        .filter(|n| n.ends_with("Aggregate"))
        .cloned()
        .collect();
    assert_eq!(aggregates, expected_aggregates);

    // Search takes every kind.
    for kind in RecordKind::ALL {
        let (status, body) = app
            .query_body(&format!(
                r#"{{ search(text: "xoai", kinds: [{}]) {{ kind }} }}"#,
                kind.as_str()
            ))
            .await;
        assert_eq!(status, 200, "{kind}: {body}");
        assert!(body["errors"].is_null(), "{kind}: {body}");
    }

    // Every kind has its export, and only registered names are exported.
    for kind in RecordKind::ALL {
        let name = spec_of(*kind).export_name;
        let response = app
            .client
            .get(app.url(&format!("/export/{name}.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "/export/{name}.csv");
        let response = app
            .client
            .get(app.url(&format!("/export/aggregate/{name}.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "/export/aggregate/{name}.csv");
    }
    let unknown = app
        .client
        .get(app.url("/export/publications.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[test]
fn a_connector_may_bring_every_registered_kind_and_no_other() {
    for kind in RecordKind::ALL {
        let text = format!(
            r#"
name = "any"
kind = "http_json"
record_kind = "{}"
schedule = "0 2 * * *"
url = "http://127.0.0.1:9/"

[http_json]
pagination = {{ style = "none" }}

[fields]
externalId = "id"
"#,
            kind.as_str()
        );
        let definition = khcn_hub::sync::definition::parse(std::path::Path::new("any.toml"), &text)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(definition.record_kind, *kind);
    }
    let text = r#"
name = "any"
kind = "http_json"
record_kind = "PUBLICATION"
schedule = "0 2 * * *"
url = "http://127.0.0.1:9/"

[http_json]
pagination = { style = "none" }

[fields]
externalId = "id"
"#;
    let error =
        khcn_hub::sync::definition::parse(std::path::Path::new("any.toml"), text).unwrap_err();
    assert_eq!(error.key, "record_kind");
}
