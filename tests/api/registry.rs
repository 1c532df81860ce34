//! Fake external registries for connector tests: axum servers on 127.0.0.1 that replay
//! fixtures and misbehave on cue.

use std::sync::{Arc, Mutex};

use axum::Router;
use khcn_hub::sync::definition::{Definition, parse};
use khcn_hub::sync::{Engine, RunReport, Trigger};

use crate::helpers::TestApp;

/// Starts `router` on an ephemeral port and returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{address}")
}

/// A definition from TOML text, with `{url}` replaced.
pub fn definition(text: &str, url: &str) -> Definition {
    parse(
        std::path::Path::new("test.toml"),
        &text.replace("{url}", url),
    )
    .unwrap()
}

/// Runs a definition once against the app's database.
pub async fn sync_once(app: &TestApp, definition: &Definition) -> RunReport {
    let engine = Engine::new(app.db.clone(), app.feed.clone());
    engine.run(definition, Trigger::Cli, None).await.unwrap()
}

/// A switch tests flip to change a fake's behaviour between runs.
#[derive(Clone, Default)]
pub struct Script<T: Clone + Default>(pub Arc<Mutex<T>>);

impl<T: Clone + Default> Script<T> {
    pub fn set(&self, value: T) {
        *self.0.lock().unwrap() = value;
    }

    pub fn get(&self) -> T {
        self.0.lock().unwrap().clone()
    }
}

/// Fast retries for tests: short timeouts and backoff.
pub const FAST_HTTP: &str = "[http]\nconnect_timeout_secs = 2\ntimeout_secs = 1\nmax_attempts = 3\nbackoff_secs = 0.05\nretry_after_cap_secs = 3\n";
