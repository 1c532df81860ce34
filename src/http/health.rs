//! Liveness and readiness probes.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::state::AppState;
use crate::db;

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long readiness waits for the database: probes time out quickly, and an answer
/// of "not ready" is better than none.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /readyz`: the database answers, every migration is applied, and the replica is
/// not shutting down.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = db::backend_name(&state.db);
    if state.shutdown.is_started() {
        // Tells the load balancer to send nothing new while in-flight requests finish.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "shutting down", "database": backend })),
        );
    }
    let Ok(applied) = tokio::time::timeout(READY_TIMEOUT, db::migrations_applied(&state.db)).await
    else {
        tracing::warn!("readiness check: the database did not answer within 2 s");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "database unreachable", "database": backend })),
        );
    };
    match applied {
        Ok(true) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": backend })),
        ),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "migrations pending", "database": backend })),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check could not reach the database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database unreachable", "database": backend })),
            )
        }
    }
}
