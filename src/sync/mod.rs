//! The sync engine: runs a connector definition page by page. Each page is mapped,
//! validated with the same rules as mutations, and committed in one transaction
//! together with the connector's new position, so the watermark is never ahead of the
//! rows it covers. Invalid rows are quarantined; too many of them fail the run as schema
//! drift; repeated failures pause the connector.

pub mod cli;
pub mod definition;
pub mod error;
pub mod http;
pub mod kinds;
pub mod mapping;
pub mod scheduler;

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::DatabaseConnection;

pub use self::error::SyncError;

use self::definition::{Definition, KindOptions, Mode, SourceKind};
use self::http::Fetcher;
use self::kinds::{Page, Source};
use self::mapping::{Mapped, map_row, rule_applies};
use crate::domain::scope::Writer;
use crate::domain::validate::Checker;
use crate::records::draft::Refs;
use crate::records::{Kind, with_kind};
use crate::store::feed::ChangeFeed;
use tracing::Instrument as _;

use crate::store::StoreError;
use crate::store::sync::{self as store, Counts, Rejected, StagedRow};
use crate::store::writes::begin;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    CatchUp,
    Manual,
    Cli,
    /// Carrying on a run a stopped replica left.
    TakeOver,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "SCHEDULE",
            Trigger::CatchUp => "CATCH_UP",
            Trigger::Manual => "MANUAL",
            Trigger::Cli => "CLI",
            Trigger::TakeOver => "TAKE_OVER",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: i32,
    pub succeeded: bool,
    pub counts: Counts,
    pub error: Option<String>,
    pub paused: bool,
}

/// Called after each committed page with the run's counts so far.
pub type Progress<'a> = &'a (dyn Fn(&Counts) + Send + Sync);

/// What the engine needs besides the definition.
#[derive(Clone)]
pub struct Engine {
    pub db: DatabaseConnection,
    pub feed: ChangeFeed,
    /// Raised when the server shuts down: runs stop at their next page.
    pub shutdown: crate::shutdown::ShutdownSignal,
    /// The runs going in this process.
    pub runs: crate::shutdown::InFlight,
    /// How long a run's claim stands unrenewed before another replica takes it over.
    pub lease: std::time::Duration,
}

enum AnySource {
    HttpJson(kinds::http_json::HttpJsonSource),
    Csv(kinds::csv::CsvSource),
    Ckan(kinds::ckan::CkanSource),
    Epcis(kinds::epcis::EpcisSource),
}

impl AnySource {
    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SyncError> {
        match self {
            AnySource::HttpJson(s) => s.fetch(cursor).await,
            AnySource::Csv(s) => s.fetch(cursor).await,
            AnySource::Ckan(s) => s.fetch(cursor).await,
            AnySource::Epcis(s) => s.fetch(cursor).await,
        }
    }

    fn restartable(&self) -> bool {
        match self {
            AnySource::HttpJson(s) => s.restartable(),
            AnySource::Csv(s) => s.restartable(),
            AnySource::Ckan(s) => s.restartable(),
            AnySource::Epcis(s) => s.restartable(),
        }
    }

    fn unchanged(&self) -> bool {
        match self {
            AnySource::Csv(s) => s.unchanged(),
            AnySource::HttpJson(s) => s.unchanged(),
            AnySource::Ckan(s) => s.unchanged(),
            AnySource::Epcis(s) => s.unchanged(),
        }
    }

    fn validators(&self) -> http::Validators {
        match self {
            AnySource::Csv(s) => s.validators(),
            AnySource::HttpJson(s) => s.validators(),
            AnySource::Ckan(s) => s.validators(),
            AnySource::Epcis(s) => s.validators(),
        }
    }
}

fn open_source(
    definition: &Definition,
    watermark: Option<String>,
    validators: http::Validators,
) -> Result<AnySource, SyncError> {
    let fetcher = Fetcher::new(definition)?;
    let base = definition.base_url();
    let need_base = || {
        base.clone().ok_or_else(|| SyncError::Disabled {
            name: definition.name.clone(),
            reason: definition
                .disabled_reason()
                .unwrap_or_else(|| "no base URL".into()),
        })
    };
    Ok(match &definition.options {
        KindOptions::HttpJson(options) => AnySource::HttpJson(
            kinds::http_json::HttpJsonSource::new(fetcher, need_base()?, options.clone())?,
        ),
        KindOptions::Csv(options) => AnySource::Csv(kinds::csv::CsvSource::new(
            fetcher,
            base.clone(),
            options.clone(),
            validators,
        )),
        KindOptions::Ckan(options) => {
            let resource = options
                .resource_id
                .clone()
                .or_else(|| {
                    options
                        .resource_id_env
                        .as_deref()
                        .and_then(|name| std::env::var(name).ok())
                        .filter(|v| !v.trim().is_empty())
                })
                .ok_or_else(|| SyncError::Disabled {
                    name: definition.name.clone(),
                    reason: match &options.resource_id_env {
                        Some(name) => format!("set {name} to the CKAN resource id"),
                        None => "the definition names no CKAN resource".into(),
                    },
                })?;
            AnySource::Ckan(kinds::ckan::CkanSource::new(
                fetcher,
                need_base()?,
                resource,
                options.page_size,
            ))
        }
        KindOptions::Epcis(options) => AnySource::Epcis(kinds::epcis::EpcisSource::new(
            fetcher,
            need_base()?,
            options.clone(),
            watermark,
        )),
    })
}

/// Maps a raw row (or an EPCIS event) to its external id and input JSON.
fn map(definition: &Definition, row: &serde_json::Value) -> Result<Mapped, String> {
    match definition.kind {
        SourceKind::Epcis => kinds::epcis::to_input(row),
        _ => map_row(row, &definition.fields),
    }
}

/// A page split into rows to write and rows to quarantine.
fn stage<K: Kind>(
    definition: &Definition,
    page: &Page,
    refs: &Refs,
    tasks: &HashMap<String, i32>,
) -> (Vec<StagedRow<K::Content>>, Vec<Rejected>) {
    let mut staged = Vec::with_capacity(page.rows.len());
    let mut rejected = Vec::new();
    for row in &page.rows {
        let reject = |external_id: Option<String>, reason: String| Rejected {
            position: row.position.clone(),
            external_id,
            reason,
            payload: row.value.to_string(),
        };
        let mapped = match map(definition, &row.value) {
            Ok(mapped) => mapped,
            Err(reason) => {
                rejected.push(reject(None, reason));
                continue;
            }
        };
        let task_ids: Vec<i32> = definition
            .links
            .iter()
            .filter(|rule| rule_applies(rule, &mapped.input))
            .filter_map(|rule| tasks.get(&rule.task).copied())
            .collect();
        let input: K::Input = match serde_json::from_value(mapped.input) {
            Ok(input) => input,
            Err(error) => {
                rejected.push(reject(Some(mapped.external_id), error.to_string()));
                continue;
            }
        };
        match K::draft(&input, Checker::new(""), refs) {
            Ok(draft) => {
                staged.push(StagedRow {
                    external_id: mapped.external_id,
                    draft,
                    task_ids,
                });
            }
            Err(errors) => {
                let reason = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                rejected.push(reject(Some(mapped.external_id), reason));
            }
        }
    }
    (staged, rejected)
}

/// The later of two RFC 3339 watermarks.
fn later(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok();
            match (parse(&a), parse(&b)) {
                (Some(x), Some(y)) if y > x => Some(b),
                _ => Some(a),
            }
        }
        (a, b) => a.or(b),
    }
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

impl Engine {
    pub fn new(db: DatabaseConnection, feed: ChangeFeed) -> Self {
        Self {
            db,
            feed,
            shutdown: Default::default(),
            runs: Default::default(),
            lease: store::DEFAULT_LEASE,
        }
    }
    /// Runs a connector once; a failed run is reported, not returned as an error.
    pub async fn run(
        &self,
        definition: &Definition,
        trigger: Trigger,
        progress: Option<Progress<'_>>,
    ) -> Result<RunReport, SyncError> {
        let run_id = self.begin_run(definition, trigger).await?;
        self.continue_run(definition, run_id, progress).await
    }

    /// Claims the connector and records the start of a run; refuses a disabled or busy
    /// connector.
    pub async fn begin_run(
        &self,
        definition: &Definition,
        trigger: Trigger,
    ) -> Result<i32, SyncError> {
        if self.shutdown.is_started() {
            return Err(SyncError::Interrupted);
        }
        if let Some(reason) = definition.disabled_reason() {
            return Err(SyncError::Disabled {
                name: definition.name.clone(),
                reason,
            });
        }
        if !store::claim(&self.db, &definition.name, now(), self.lease).await? {
            return Err(SyncError::Busy(definition.name.clone()));
        }
        // Holding the claim, no other run is alive: any run still open was a dead
        // replica's, and this one carries on from its last committed page.
        let closed = store::close_abandoned_runs(&self.db, &definition.name, now()).await?;
        if closed > 0 {
            tracing::warn!(
                connector = definition.name,
                runs = closed,
                "taking over a run a stopped replica left; resuming from its last committed page"
            );
        }
        match store::start_run(&self.db, &definition.name, trigger.as_str(), now()).await {
            Ok(run) => Ok(run.id),
            Err(error) => {
                let _ =
                    store::finish(&self.db, &definition.name, false, u32::MAX, None, now()).await;
                Err(error.into())
            }
        }
    }

    /// Runs a begun run to its end.
    pub async fn continue_run(
        &self,
        definition: &Definition,
        run_id: i32,
        progress: Option<Progress<'_>>,
    ) -> Result<RunReport, SyncError> {
        let _running = self.runs.enter();
        let _heartbeat = self.heartbeat(&definition.name);
        let mut counts = Counts::default();
        let result = self.pages(definition, run_id, &mut counts, progress).await;
        if let Err(SyncError::Interrupted) = result {
            // Not the registry's fault: no failure is counted, and the claim is let go
            // so another replica resumes from the last committed page at its next tick.
            tracing::info!(
                connector = definition.name,
                "a connector run stopped for shutdown"
            );
            record_run(&definition.name, "INTERRUPTED", counts);
            let error = SyncError::Interrupted.to_string();
            store::update_run(
                &self.db,
                run_id,
                counts,
                Some("FAILED"),
                Some(&error),
                Some(now()),
            )
            .await?;
            store::release(&self.db, &definition.name, now()).await?;
            return Ok(RunReport {
                run_id,
                succeeded: false,
                counts,
                error: Some(error),
                paused: false,
            });
        }
        let (succeeded, error) = match &result {
            Ok(()) => (true, None),
            Err(error) => (false, Some(error.to_string())),
        };
        if let Some(error) = &error {
            tracing::warn!(connector = definition.name, %error, "a connector run failed");
        }
        let status = if succeeded { "SUCCEEDED" } else { "FAILED" };
        record_run(&definition.name, status, counts);
        // The run's end, its connector's state and the webhooks announcing a failure
        // commit together: no event without the failure, no failure without its event.
        let txn = begin(&self.db).await.map_err(StoreError::from)?;
        store::update_run(
            &txn,
            run_id,
            counts,
            Some(status),
            error.as_deref(),
            Some(now()),
        )
        .await
        .map_err(StoreError::from)?;
        let was_paused = store::state(&txn, &definition.name, now())
            .await
            .map_err(StoreError::from)?
            .paused;
        let state = store::finish(
            &txn,
            &definition.name,
            succeeded,
            definition.pause_after_failures,
            error.as_deref(),
            now(),
        )
        .await?;
        if let Some(error) = &error {
            let events = failure_events(definition, run_id, error, &state, was_paused);
            crate::store::webhooks::enqueue(&txn, &events, now())
                .await
                .map_err(StoreError::from)?;
        }
        txn.commit().await.map_err(StoreError::from)?;
        Ok(RunReport {
            run_id,
            succeeded,
            counts,
            error,
            paused: state.paused,
        })
    }

    /// Renews the run's claim until dropped, so a slow page does not look like a dead
    /// replica, and a dead replica's claim lapses within the lease.
    fn heartbeat(&self, name: &str) -> crate::shutdown::AbortOnDrop {
        let db = self.db.clone();
        let name = name.to_owned();
        let every = store::heartbeat(self.lease);
        crate::shutdown::AbortOnDrop(vec![tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = store::renew(&db, &name, now()).await {
                    tracing::warn!(connector = name, error = %crate::store::error_chain(&error), "cannot renew a connector's claim");
                }
            }
        })])
    }

    async fn pages(
        &self,
        definition: &Definition,
        run_id: i32,
        counts: &mut Counts,
        progress: Option<Progress<'_>>,
    ) -> Result<(), SyncError> {
        with_kind!(definition.record_kind, |K| {
            self.pages_typed::<K>(definition, run_id, counts, progress)
                .await
        })
    }

    async fn pages_typed<K: Kind>(
        &self,
        definition: &Definition,
        run_id: i32,
        counts: &mut Counts,
        progress: Option<Progress<'_>>,
    ) -> Result<(), SyncError> {
        let mut run = self.prepare(definition, run_id).await?;
        let mut source = open_source(definition, run.watermark.clone(), run.validators.clone())?;
        let mut restarted = false;
        loop {
            if self.shutdown.is_started() {
                return Err(SyncError::Interrupted);
            }
            // One span per page (fetch and commit), the run's statements beneath it.
            let page_span = tracing::info_span!(
                "connector.page",
                otel.name = %format!("connector page {}", definition.name),
                connector = %definition.name,
                cursor = run.cursor.as_deref().unwrap_or(""),
            );
            let page = match source
                .fetch(run.cursor.as_deref())
                .instrument(page_span.clone())
                .await
            {
                Ok(page) => page,
                Err(SyncError::Fetch(error))
                    if source.restartable()
                        && run.cursor.is_some()
                        && !restarted
                        && error.page_token_refused() =>
                {
                    tracing::info!(connector = definition.name, %error, "the page token expired; starting again from the watermark");
                    restarted = true;
                    source =
                        open_source(definition, run.watermark.clone(), run.validators.clone())?;
                    run.cursor = None;
                    continue;
                }
                Err(error) => return Err(error),
            };
            self.commit_page::<K>(&mut run, &page, counts)
                .instrument(page_span)
                .await?;
            if let Some(progress) = progress {
                progress(counts);
            }
            match page.next {
                Some(next) => run.cursor = Some(next),
                None => break,
            }
        }
        if source.unchanged() {
            return Ok(());
        }
        let validators = source.validators();
        if validators != http::Validators::default() {
            store::save_validators(
                &self.db,
                &definition.name,
                validators.etag.as_deref(),
                validators.last_modified.as_deref(),
            )
            .await?;
        }
        if let Some(started) = run.snapshot_started_at {
            self.withdraw_unseen::<K>(&run, started, counts).await?;
        }
        Ok(())
    }

    /// Reads where the connector stands and what its rows refer to.
    async fn prepare<'a>(
        &self,
        definition: &'a Definition,
        run_id: i32,
    ) -> Result<RunState<'a>, SyncError> {
        let state = store::state(&self.db, &definition.name, now()).await?;
        let plan = crate::store::snapshot::PlanSnapshot::load(&self.db).await?;
        let refs = Refs {
            agencies: plan
                .agencies
                .iter()
                .map(|a| (a.code.clone(), a.id))
                .collect(),
            caller_agency: None,
        };
        let mut tasks = HashMap::new();
        for rule in &definition.links {
            let task = plan
                .tasks_with_code(&rule.task)
                .first()
                .map(|t| t.id)
                .ok_or_else(|| {
                    SyncError::Config(format!("links: the plan has no task {:?}", rule.task))
                })?;
            tasks.insert(rule.task.clone(), task);
        }
        let snapshot = definition.mode == Mode::Snapshot;
        // A snapshot interrupted mid-way resumes with its own start time, so rows it
        // already saw are not taken for withdrawn.
        let cursor = state.cursor.clone();
        let snapshot_started_at = match (snapshot, state.snapshot_started_at, &cursor) {
            (true, Some(started), Some(_)) => Some(started),
            (true, _, _) => Some(now()),
            (false, _, _) => None,
        };
        // A resumed run downloads again in full; a fresh one asks only for a change.
        let validators = if cursor.is_none() {
            http::Validators {
                etag: state.etag.clone(),
                last_modified: state.last_modified.clone(),
            }
        } else {
            http::Validators::default()
        };
        Ok(RunState {
            definition,
            run_id,
            writer: Writer::connector(&definition.name),
            refs,
            tasks,
            cursor,
            watermark: state.watermark,
            snapshot_started_at,
            validators,
        })
    }

    /// Maps, checks and writes one page with the connector's new position, in one
    /// transaction; too many invalid rows fail the run as schema drift.
    async fn commit_page<K: Kind>(
        &self,
        run: &mut RunState<'_>,
        page: &Page,
        counts: &mut Counts,
    ) -> Result<(), SyncError> {
        let definition = run.definition;
        let (staged, rejected) = stage::<K>(definition, page, &run.refs, &run.tasks);
        let fetched = page.rows.len() as i64;
        if fetched >= 10 && rejected.len() as f64 / fetched as f64 > definition.max_invalid_share {
            let example = rejected
                .first()
                .map(|r| format!("{}: {}", r.position, r.reason))
                .unwrap_or_default();
            return Err(SyncError::Drift(format!(
                "{} of {fetched} rows of a page are invalid (more than {:.0} %); nothing of that page was written. First: {example}",
                rejected.len(),
                definition.max_invalid_share * 100.0
            )));
        }
        let at = now();
        let quarantined = rejected.len() as i64;
        let txn = begin(&self.db).await?;
        store::relax_commit(&txn).await?;
        let outcome = store::apply_page::<K>(&txn, &run.writer, staged, at).await?;
        store::quarantine_rows(&txn, &definition.name, run.run_id, rejected, at).await?;
        run.watermark = later(run.watermark.take(), page.watermark.clone());
        store::save_progress(
            &txn,
            &definition.name,
            page.next.as_deref(),
            run.watermark.as_deref(),
            run.snapshot_started_at.filter(|_| page.next.is_some()),
            at,
        )
        .await?;
        let mut page_counts = outcome.counts;
        page_counts.fetched = fetched;
        page_counts.quarantined = quarantined;
        *counts += page_counts;
        store::update_run(&txn, run.run_id, *counts, None, None, None).await?;
        self.feed.commit(txn, &outcome.changes, None).await?;
        Ok(())
    }

    /// Marks what a complete snapshot no longer lists as withdrawn.
    async fn withdraw_unseen<K: Kind>(
        &self,
        run: &RunState<'_>,
        started: DateTime<FixedOffset>,
        counts: &mut Counts,
    ) -> Result<(), SyncError> {
        let txn = begin(&self.db).await?;
        let (withdrawn, changes) =
            store::withdraw_unseen::<K>(&txn, &run.writer, started, now()).await?;
        counts.withdrawn += withdrawn;
        store::update_run(&txn, run.run_id, *counts, None, None, None).await?;
        self.feed.commit(txn, &changes, None).await?;
        Ok(())
    }
}

/// Where a run stands between pages.
struct RunState<'a> {
    definition: &'a Definition,
    run_id: i32,
    writer: Writer,
    refs: Refs,
    tasks: HashMap<String, i32>,
    cursor: Option<String>,
    watermark: Option<String>,
    snapshot_started_at: Option<DateTime<FixedOffset>>,
    validators: http::Validators,
}

/// A finished run in the metrics.
fn record_run(connector: &str, status: &'static str, counts: store::Counts) {
    let name = connector.to_owned();
    metrics::counter!("khcn_hub_connector_runs_total", "connector" => name.clone(), "status" => status)
        .increment(1);
    for (outcome, value) in [
        ("fetched", counts.fetched),
        ("created", counts.created),
        ("updated", counts.updated),
        ("unchanged", counts.unchanged),
        ("withdrawn", counts.withdrawn),
        ("quarantined", counts.quarantined),
    ] {
        metrics::counter!("khcn_hub_connector_records_total", "connector" => name.clone(), "outcome" => outcome)
            .increment(u64::try_from(value).unwrap_or(0));
    }
    if status == "SUCCEEDED" {
        metrics::gauge!("khcn_hub_connector_last_success_timestamp_seconds", "connector" => name)
            .set(chrono::Utc::now().timestamp() as f64);
    }
}

/// The webhook events a failed run announces: the failure, and the pause it caused.
fn failure_events(
    definition: &Definition,
    run_id: i32,
    error: &str,
    state: &crate::db::entities::connector_state::Model,
    was_paused: bool,
) -> Vec<crate::store::webhooks::Event> {
    use crate::domain::webhooks::EventType;
    use crate::store::webhooks::{Audience, Event};
    let data = serde_json::json!({
        "connector": definition.name,
        "recordKind": definition.record_kind.as_str(),
        "runId": run_id.to_string(),
        "error": error,
        "consecutiveFailures": state.consecutive_failures,
    });
    let mut events = vec![Event {
        event_type: EventType::ConnectorRunFailed,
        key: format!("run:{run_id}"),
        kind: Some(definition.record_kind),
        audience: Audience::Admins,
        data: data.clone(),
        at: now(),
    }];
    if state.paused && !was_paused {
        let mut data = data;
        data["reason"] = serde_json::json!(state.paused_reason);
        events.push(Event {
            event_type: EventType::ConnectorPaused,
            key: format!("paused:{run_id}"),
            kind: Some(definition.record_kind),
            audience: Audience::Admins,
            data,
            at: now(),
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_only_moves_forward() {
        let a = Some("2024-05-01T00:00:00Z".to_owned());
        let b = Some("2024-04-01T00:00:00Z".to_owned());
        assert_eq!(later(a.clone(), b.clone()), a);
        assert_eq!(later(b, a.clone()), a);
        assert_eq!(later(None, a.clone()), a);
    }
}
