//! Runs connectors on their cron schedules inside `khcn-hub serve`. One task per
//! connector: it sleeps until the next fire time (Asia/Ho_Chi_Minh), skips paused
//! connectors, and never starts a run while one is going (the database claim also keeps
//! `khcn-hub sync` from overlapping). After a restart, a missed schedule gives one
//! catch-up run, not a burst. A run whose replica died (its claim was not renewed within
//! the lease) is taken over by the next replica that looks, from its last committed page.

use std::sync::Arc;

use chrono::Utc;

use super::definition::Definition;
use super::error::SyncError;
use super::{Engine, Trigger};
use crate::store::sync as store;

/// The connectors a hub knows, and the engine that runs them.
#[derive(Clone)]
pub struct Connectors {
    pub definitions: Arc<Vec<Definition>>,
    pub engine: Engine,
}

impl Connectors {
    pub fn find(&self, name: &str) -> Result<&Definition, SyncError> {
        self.definitions
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| SyncError::Unknown(name.to_owned()))
    }

    /// Starts a run in the background and returns its id at once.
    pub async fn start(&self, name: &str, trigger: Trigger) -> Result<i32, SyncError> {
        let definition = self.find(name)?.clone();
        let run_id = self.engine.begin_run(&definition, trigger).await?;
        let engine = self.engine.clone();
        tokio::spawn(async move {
            if let Err(error) = engine.continue_run(&definition, run_id, None).await {
                tracing::error!(connector = definition.name, %error, "a connector run could not be recorded");
            }
        });
        Ok(run_id)
    }

    /// Spawns one scheduling task per enabled connector.
    pub fn spawn_schedules(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.definitions
            .iter()
            .filter(|d| d.disabled_reason().is_none())
            .map(|definition| {
                let definition = definition.clone();
                let engine = self.engine.clone();
                tokio::spawn(async move { schedule(engine, definition).await })
            })
            .collect()
    }
}

/// Whether a scheduled time passed since the last run started (or ever, with no runs).
fn missed(
    definition: &Definition,
    last_started: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> bool {
    let Some(last) = last_started else {
        return false;
    };
    definition
        .next_run_after(last)
        .is_some_and(|due| due <= now)
}

async fn run_once(engine: &Engine, definition: &Definition, trigger: Trigger) {
    match store::state(&engine.db, &definition.name, Utc::now().fixed_offset()).await {
        Ok(state) if state.paused => {
            tracing::info!(connector = definition.name, "skipping a paused connector");
            return;
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(connector = definition.name, error = %crate::store::error_chain(&error), "cannot read a connector's state");
            return;
        }
    }
    match engine.run(definition, trigger, None).await {
        Ok(report) => tracing::info!(
            connector = definition.name,
            succeeded = report.succeeded,
            fetched = report.counts.fetched,
            created = report.counts.created,
            updated = report.counts.updated,
            "connector run finished"
        ),
        Err(SyncError::Busy(_)) => {
            tracing::info!(
                connector = definition.name,
                "a run is already going; this one is skipped"
            )
        }
        Err(error) => {
            tracing::error!(connector = definition.name, %error, "a connector run could not start")
        }
    }
}

async fn schedule(engine: Engine, definition: Definition) {
    let last = store::runs(&engine.db, Some(&definition.name), None, 1)
        .await
        .ok()
        .and_then(|runs| runs.into_iter().next())
        .map(|run| run.started_at.to_utc());
    if missed(&definition, last, Utc::now()) {
        run_once(&engine, &definition, Trigger::CatchUp).await;
    }
    loop {
        let Some(next) = definition.next_run_after(Utc::now()) else {
            return;
        };
        // Until the next fire time, look every heartbeat for a run whose replica died
        // (its claim lapsed) and carry it on.
        let every = store::heartbeat(engine.lease);
        loop {
            let left = (next - Utc::now()).to_std().unwrap_or_default();
            if left.is_zero() {
                break;
            }
            tokio::time::sleep(left.min(every)).await;
            if Utc::now() < next && taken_over(&engine, &definition).await {
                run_once(&engine, &definition, Trigger::TakeOver).await;
            }
        }
        run_once(&engine, &definition, Trigger::Schedule).await;
    }
}

/// Whether a run of this connector was left by a replica that stopped renewing its claim.
async fn taken_over(engine: &Engine, definition: &Definition) -> bool {
    if engine.shutdown.is_started() {
        return false;
    }
    match store::abandoned(
        &engine.db,
        &definition.name,
        Utc::now().fixed_offset(),
        engine.lease,
    )
    .await
    {
        Ok(abandoned) => abandoned,
        Err(error) => {
            tracing::warn!(connector = definition.name, error = %crate::store::error_chain(&error), "cannot read a connector's claim");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_missed_schedule_asks_for_one_catch_up() {
        let text = "name = \"x\"\nkind = \"csv\"\nrecord_kind = \"STARTUP\"\nschedule = \"0 2 * * *\"\nurl = \"http://127.0.0.1:1/x.csv\"\n[fields]\nexternalId = \"a\"\n";
        let definition =
            crate::sync::definition::parse(std::path::Path::new("x.toml"), text).unwrap();
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        // Runs fire at 19:00 UTC. Last run 3 days ago: missed, but catch up once.
        assert!(missed(
            &definition,
            Some(at("2024-05-01T19:00:00Z")),
            at("2024-05-04T12:00:00Z")
        ));
        assert!(!missed(
            &definition,
            Some(at("2024-05-04T19:00:00Z")),
            at("2024-05-05T12:00:00Z")
        ));
        assert!(!missed(&definition, None, at("2024-05-05T12:00:00Z")));
    }
}
