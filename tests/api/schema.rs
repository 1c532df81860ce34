//! `schema/schema.graphql` is exactly the SDL the server serves.

use std::path::PathBuf;

#[test]
fn the_committed_sdl_matches_the_served_schema() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let served = khcn_hub::graphql::sdl();
    if std::env::var("KHCN_HUB_UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == served,
        "schema/schema.graphql is out of date: run `KHCN_HUB_UPDATE_SCHEMA=1 cargo test schema` \
         (or `cargo run -- schema > schema/schema.graphql`) and commit the result"
    );
}

backend_test! {
    /// Introspection over HTTP agrees with the SDL (the served schema is the built one).
    async fn introspection_lists_the_contract_fields(app) {
        let data = app
            .query(r#"{ __type(name: "Query") { fields { name } } }"#)
            .await;
        let names: Vec<&str> = data["__type"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        for field in ["plan", "plans", "task", "agencies"] {
            assert!(names.contains(&field), "Query.{field} missing from {names:?}");
        }
    }
}
