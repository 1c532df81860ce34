//! Property-based fuzzing of the whole schema with schemathesis (PyPI): every query and
//! mutation gets generated documents, valid and invalid, sent with an agency token. No
//! response may be a 5xx or carry `INTERNAL_SERVER_ERROR`.
//!
//! `.ci/run` installs the pinned tool (`tools/schemathesis/install`) and sets
//! `KHCN_HUB_TEST_REQUIRE_SCHEMATHESIS=1`, so in CI this test cannot skip.

use std::path::Path;
use std::process::Command;

use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error() {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/schemathesis");
    let venv = std::env::var("KHCN_HUB_SCHEMATHESIS_VENV").map_or_else(
        |_| {
            Path::new(&std::env::var("HOME").unwrap_or_default())
                .join(".cache/khcn-hub/schemathesis-venv")
        },
        Into::into,
    );
    if !venv.join("bin/st").exists() {
        assert!(
            std::env::var("KHCN_HUB_TEST_REQUIRE_SCHEMATHESIS").is_err(),
            "KHCN_HUB_TEST_REQUIRE_SCHEMATHESIS is set but schemathesis is not installed \
             (tools/schemathesis/install)"
        );
        eprintln!("skipping: schemathesis is not installed (tools/schemathesis/install)");
        return;
    }
    // The fuzzer sends about 60 requests a second: no rate limit in its way.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.rate_limit_per_minute = 0)
        .await
        .unwrap();
    let token = app.token("agency", Some("so-khcn")).await;
    let url = app.url("/graphql");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(tool.join("run"))
            .arg(url)
            .arg(token)
            .env("KHCN_HUB_SCHEMATHESIS_VENV", venv)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{stdout}");
}
