//! Keeps `target_values`, behind the `bi.targets` view, equal to what GraphQL answers:
//! the figures come from the hub's target rules, so they are computed by running the
//! same query an analyst would, after every change to the log (once a burst settles)
//! and every hour (on-track depends on the day).

use std::time::Duration;

use sea_orm::sea_query::{Alias, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;
use serde_json::json;
use thiserror::Error;
use tokio::sync::broadcast::error::RecvError;

use super::HubSchema;
use crate::domain::auth::Caller;
use crate::store::feed::ChangeFeed;

const TARGETS: &str = "{ plans { code targets { key kind position description targetValue \
                       unit dueYear actualValue progress expectedValue onTrack } } }";

/// How long a burst of changes may go on before the figures are computed again.
const SETTLE: Duration = Duration::from_secs(1);
/// How often they are computed when nothing changes.
const EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, Error)]
pub enum BiError {
    #[error("the targets query failed: {0}")]
    Query(String),
    #[error("cannot write the targets' figures")]
    Db(#[from] sea_orm::DbErr),
    #[error("cannot write the targets' figures: {0}")]
    Values(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Plans {
    plans: Vec<PlanTargets>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlanTargets {
    code: String,
    targets: Vec<TargetRow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetRow {
    key: String,
    kind: String,
    position: i32,
    description: String,
    target_value: Option<i32>,
    unit: Option<String>,
    due_year: i32,
    actual_value: i64,
    progress: f64,
    expected_value: f64,
    on_track: bool,
}

/// Computes every plan's targets and writes them; returns how many rows.
pub async fn refresh_targets(
    schema: &HubSchema,
    db: &DatabaseConnection,
) -> Result<usize, BiError> {
    let caller = Caller::Token {
        token_id: 0,
        role: crate::domain::auth::Role::Admin,
        agency_id: None,
        agency_code: None,
    };
    let response = schema
        .execute(super::context::request_as(TARGETS, json!({}), caller))
        .await;
    if let Some(error) = response.errors.first() {
        return Err(BiError::Query(error.message.clone()));
    }
    let data = response
        .data
        .into_json()
        .map_err(|e| BiError::Query(e.to_string()))?;
    let plans: Plans = serde_json::from_value(data).map_err(|e| BiError::Query(e.to_string()))?;
    let now = chrono::Utc::now().fixed_offset();
    let today = now.date_naive();
    let columns = [
        "plan_code",
        "key",
        "kind",
        "position",
        "description",
        "target_value",
        "unit",
        "due_year",
        "actual_value",
        "progress",
        "expected_value",
        "on_track",
        "as_of",
        "computed_at",
    ];
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("target_values"))
        .columns(columns.map(Alias::new));
    let mut rows = 0;
    for plan in &plans.plans {
        for target in &plan.targets {
            insert
                .values([
                    plan.code.clone().into(),
                    target.key.clone().into(),
                    target.kind.clone().into(),
                    target.position.into(),
                    target.description.clone().into(),
                    target.target_value.into(),
                    target.unit.clone().into(),
                    target.due_year.into(),
                    target.actual_value.into(),
                    target.progress.into(),
                    target.expected_value.into(),
                    target.on_track.into(),
                    today.into(),
                    now.into(),
                ])
                .map_err(|e| BiError::Values(e.to_string()))?;
            rows += 1;
        }
    }
    if rows == 0 {
        return Ok(0);
    }
    insert.on_conflict(
        OnConflict::columns([Alias::new("plan_code"), Alias::new("key")])
            .update_columns(columns[2..].iter().map(|c| Alias::new(*c)))
            .to_owned(),
    );
    db.execute_raw(db.get_database_backend().build(&insert))
        .await?;
    Ok(rows)
}

/// Refreshes the figures at start, after changes and every hour, until dropped.
pub async fn keep_targets_current(schema: HubSchema, db: DatabaseConnection, feed: ChangeFeed) {
    let mut changes = feed.subscribe();
    loop {
        if let Err(error) = refresh_targets(&schema, &db).await {
            tracing::warn!(error = %crate::store::error_chain(&error), "cannot refresh the targets for the bi views");
        }
        tokio::select! {
            received = changes.recv() => {
                if matches!(received, Err(RecvError::Closed)) {
                    return;
                }
                tokio::time::sleep(SETTLE).await;
                // What came meanwhile is covered by the next computation.
                changes = changes.resubscribe();
            }
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
