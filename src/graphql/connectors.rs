//! Connector health over GraphQL: definitions with their state and last run, runs and
//! quarantined rows as connections, and `runConnector` / `resumeConnector` for admins.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};

use super::context::caller;
use super::context::database;
use super::error::{ApiError, ApiResult};
use super::scalars::{BigInt, DateTime};
use crate::db::entities::{connector_state, quarantine, sync_runs};
use crate::domain::auth::{Caller, Role};
use crate::sync::Trigger;
use crate::sync::definition::Definition;
use crate::sync::scheduler::Connectors;

const MAX_PAGE: i32 = 500;

fn connectors<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Connectors> {
    ctx.data::<Connectors>()
}

fn admin_only(ctx: &Context<'_>, what: &'static str) -> async_graphql::Result<()> {
    match caller(ctx) {
        Caller::Token {
            role: Role::Admin, ..
        } => Ok(()),
        Caller::Anonymous => {
            Err(ApiError::Unauthenticated(format!("{what} needs an admin token")).into_graphql())
        }
        _ => Err(ApiError::Forbidden {
            message: format!("only admins may {what}"),
            path: None,
        }
        .into_graphql()),
    }
}

fn admins_and_analysts(ctx: &Context<'_>, message: &str) -> async_graphql::Result<()> {
    match caller(ctx) {
        Caller::Token {
            role: Role::Admin | Role::Analyst,
            ..
        } => Ok(()),
        _ => Err(ApiError::Forbidden {
            message: message.to_owned(),
            path: None,
        }
        .into_graphql()),
    }
}

fn page_size(first: Option<i32>) -> async_graphql::Result<u64> {
    let first = first.unwrap_or(20);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::BadUserInputAt {
            path: "first".into(),
            message: format!("must be between 0 and {MAX_PAGE}"),
        }
        .into_graphql());
    }
    Ok(first as u64)
}

fn cursor<T: std::str::FromStr>(after: Option<String>) -> async_graphql::Result<Option<T>> {
    after
        .map(|c| {
            c.parse().map_err(|_| {
                ApiError::BadUserInputAt {
                    path: "after".into(),
                    message: format!("{c:?} is not a cursor of this list"),
                }
                .into_graphql()
            })
        })
        .transpose()
}

/// One run of a connector.
pub struct SyncRun(pub sync_runs::Model);

#[Object]
impl SyncRun {
    async fn id(&self) -> ID {
        ID(format!("SyncRun:{}", self.0.id))
    }
    async fn connector(&self) -> &str {
        &self.0.connector
    }
    /// SCHEDULE, CATCH_UP, MANUAL or CLI.
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }
    /// RUNNING, SUCCEEDED or FAILED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn started_at(&self) -> DateTime {
        DateTime(self.0.started_at)
    }
    async fn finished_at(&self) -> Option<DateTime> {
        self.0.finished_at.map(DateTime)
    }
    async fn fetched(&self) -> BigInt {
        BigInt(self.0.fetched)
    }
    async fn created(&self) -> BigInt {
        BigInt(self.0.created)
    }
    async fn updated(&self) -> BigInt {
        BigInt(self.0.updated)
    }
    async fn unchanged(&self) -> BigInt {
        BigInt(self.0.unchanged)
    }
    /// Records gone from the registry's snapshot, marked withdrawn.
    async fn withdrawn(&self) -> BigInt {
        BigInt(self.0.withdrawn)
    }
    async fn quarantined(&self) -> BigInt {
        BigInt(self.0.quarantined)
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// A row a connector could not use, with why and what it was.
pub struct QuarantinedRow(pub quarantine::Model);

#[Object]
impl QuarantinedRow {
    async fn id(&self) -> ID {
        ID(format!("QuarantinedRow:{}", self.0.id))
    }
    async fn connector(&self) -> &str {
        &self.0.connector
    }
    async fn run_id(&self) -> ID {
        ID(format!("SyncRun:{}", self.0.run_id))
    }
    /// Where the row was: `line 12`, `record 340`, `event 3 of <url>`.
    async fn position(&self) -> &str {
        &self.0.position
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The row as received, in JSON.
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// A connector: its definition, state and last run.
pub struct Connector {
    definition: Definition,
    state: Option<connector_state::Model>,
}

#[Object]
impl Connector {
    async fn name(&self) -> &str {
        &self.definition.name
    }
    /// http_json, csv, ckan_datastore or epcis.
    async fn kind(&self) -> &str {
        self.definition.kind.as_str()
    }
    async fn record_kind(&self) -> crate::domain::records::RecordKind {
        self.definition.record_kind
    }
    async fn description(&self) -> Option<&str> {
        self.definition.description.as_deref()
    }
    /// The cron expression, read in Asia/Ho_Chi_Minh time.
    async fn schedule(&self) -> &str {
        &self.definition.schedule_text
    }
    /// False when its definition disables it or its base URL is not configured.
    async fn enabled(&self) -> bool {
        self.definition.disabled_reason().is_none()
    }
    async fn disabled_reason(&self) -> Option<String> {
        self.definition.disabled_reason()
    }
    /// Paused after repeated failures; an admin resumes it.
    async fn paused(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.paused)
    }
    async fn paused_reason(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.paused_reason.as_deref())
    }
    async fn consecutive_failures(&self) -> i32 {
        self.state.as_ref().map_or(0, |s| s.consecutive_failures)
    }
    /// Where an incremental connector has read up to.
    async fn watermark(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.watermark.as_deref())
    }
    /// Whether a run is going now.
    async fn running(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(|s| s.running_since.is_some())
    }
    async fn next_run_at(&self) -> Option<DateTime> {
        if self.definition.disabled_reason().is_some()
            || self.state.as_ref().is_some_and(|s| s.paused)
        {
            return None;
        }
        self.definition
            .next_run_after(chrono::Utc::now())
            .map(|at| DateTime(at.fixed_offset()))
    }
    async fn last_run(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SyncRun>> {
        let runs = crate::store::sync::runs(database(ctx)?, Some(&self.definition.name), None, 1)
            .await
            .api()?;
        Ok(runs.into_iter().next().map(SyncRun))
    }
}

#[derive(Default)]
pub struct ConnectorQuery;

#[Object]
impl ConnectorQuery {
    /// Every connector defined in the connectors folder.
    async fn connectors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Connector>> {
        let set = connectors(ctx)?;
        let states = crate::store::sync::states(database(ctx)?).await.api()?;
        Ok(set
            .definitions
            .iter()
            .map(|definition| Connector {
                definition: definition.clone(),
                state: states.iter().find(|s| s.name == definition.name).cloned(),
            })
            .collect())
    }

    /// Runs, newest first; `after` is the previous page's `endCursor`.
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        connector: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, SyncRun>> {
        let limit = page_size(first)?;
        let before = cursor::<i32>(after)?;
        let rows =
            crate::store::sync::runs(database(ctx)?, connector.as_deref(), before, limit + 1)
                .await
                .api()?;
        Ok(super::list::keyset_page(
            rows,
            limit as usize,
            before.is_some(),
            |r| r.id.to_string(),
            SyncRun,
        ))
    }

    /// Rows connectors rejected, newest first, with the reason and the raw payload
    /// (admins and analysts).
    async fn quarantine(
        &self,
        ctx: &Context<'_>,
        connector: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, QuarantinedRow>> {
        admins_and_analysts(ctx, "quarantined rows are read by admins and analysts")?;
        let limit = page_size(first)?;
        let before = cursor::<i64>(after)?;
        let rows = crate::store::sync::quarantined(
            database(ctx)?,
            connector.as_deref(),
            before,
            limit + 1,
        )
        .await
        .api()?;
        Ok(super::list::keyset_page(
            rows,
            limit as usize,
            before.is_some(),
            |r| r.id.to_string(),
            QuarantinedRow,
        ))
    }
}

#[derive(Default)]
pub struct ConnectorMutation;

#[Object]
impl ConnectorMutation {
    /// Starts a run now (admins); returns it while it runs. A connector already running
    /// is a CONFLICT.
    async fn run_connector(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<SyncRun> {
        admin_only(ctx, "run connectors")?;
        let set = connectors(ctx)?;
        let run_id = set.start(&name, Trigger::Manual).await.api()?;
        let runs = crate::store::sync::runs(database(ctx)?, Some(&name), Some(run_id + 1), 1)
            .await
            .api()?;
        runs.into_iter()
            .next()
            .map(SyncRun)
            .ok_or_else(|| ApiError::Internal("a started run is missing".into()).into_graphql())
    }

    /// Lifts a pause after repeated failures (admins).
    async fn resume_connector(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Connector> {
        admin_only(ctx, "resume connectors")?;
        let set = connectors(ctx)?;
        let definition = set.find(&name).api()?.clone();
        let db = database(ctx)?;
        crate::store::sync::resume(db, &name, chrono::Utc::now().fixed_offset())
            .await
            .api()?;
        let state = crate::store::sync::states(db)
            .await
            .api()?
            .into_iter()
            .find(|s| s.name == name);
        Ok(Connector { definition, state })
    }
}

/// One side of a conflict: a record and the source that published it.
#[derive(async_graphql::SimpleObject)]
pub struct ConflictSide {
    pub record_id: ID,
    pub source: String,
}

/// Two sources publishing the same external id with different values; both records are
/// kept with their provenance.
#[derive(async_graphql::SimpleObject)]
pub struct SourceConflict {
    pub external_id: String,
    pub first: ConflictSide,
    pub second: ConflictSide,
    /// The fields that differ (`before` is the first source's value).
    pub changes: Vec<super::records::results::FieldChange>,
}

#[derive(Default)]
pub struct ConflictQuery;

#[Object]
impl ConflictQuery {
    /// Records of `kind` that different sources publish under the same external id with
    /// different values (admins and analysts).
    async fn source_conflicts(
        &self,
        ctx: &Context<'_>,
        kind: crate::domain::records::RecordKind,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<SourceConflict>> {
        admins_and_analysts(ctx, "source conflicts are read by admins and analysts")?;
        let limit = page_size(Some(first))?;
        let db = database(ctx)?;
        let found = crate::records::with_kind!(kind, |K| {
            crate::store::sync::conflicts::<K>(db, limit).await
        })
        .api()?;
        Ok(found
            .into_iter()
            .map(|c| SourceConflict {
                external_id: c.external_id,
                first: ConflictSide {
                    record_id: ID(c.first.0.to_string()),
                    source: c.first.1,
                },
                second: ConflictSide {
                    record_id: ID(c.second.0.to_string()),
                    source: c.second.1,
                },
                changes: c.changes.into_iter().map(Into::into).collect(),
            })
            .collect())
    }
}
