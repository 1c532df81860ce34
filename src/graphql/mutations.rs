//! Mutations on the plan: links between tasks and records, and task progress. Record
//! writes are each kind's own (`records::roots`).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::context::{database, feed, writer};
use super::error::ApiResult;
use super::fetch::load_records;
use super::objects::{LinkedRecord, Task};
use super::records::parse_any_record_id;
use super::records::results::invalid;
use super::scalars::{BigInt, DateTime};
use crate::domain::validate::{Checker, MAX_TEXT_CHARS};

/// Free text fields share this limit.
const TEXT: usize = MAX_TEXT_CHARS;

/// Links and task progress.
#[derive(Default)]
pub struct PlanMutation;

/// Progress reported on a plan task by its lead agency.
#[derive(InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskProgressInput {
    /// NOT_STARTED, IN_PROGRESS, COMPLETED or DELAYED.
    pub status: String,
    pub note: Option<String>,
    /// Links to the evidence (decisions, reports, news), http(s) only.
    #[graphql(default)]
    pub evidence: Vec<String>,
}

/// A link from a plan task to a record.
#[derive(SimpleObject)]
pub struct RecordLinkResult {
    pub task: Task,
    pub record: Option<LinkedRecord>,
    pub linked_by: String,
    pub linked_at: DateTime,
    /// False when the link already existed.
    pub created: bool,
}

pub(crate) const TASK_STATUSES: &[&str] = &["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "DELAYED"];

#[Object]
impl PlanMutation {
    /// Links a record to a plan task the caller leads or coordinates. Linking twice is
    /// harmless.
    async fn link_record(
        &self,
        ctx: &Context<'_>,
        task_code: String,
        record_id: ID,
    ) -> async_graphql::Result<RecordLinkResult> {
        let record = parse_any_record_id(&record_id)?;
        let writer = writer(ctx)?;
        let linked =
            crate::store::links::link(database(ctx)?, feed(ctx)?, &writer, &task_code, record)
                .await
                .api()?;
        let found = load_records(ctx, [record]).await?;
        Ok(RecordLinkResult {
            task: Task(linked.task),
            record: found.into_iter().next(),
            linked_by: linked.link.linked_by,
            linked_at: DateTime(linked.link.linked_at),
            created: linked.created,
        })
    }

    /// Removes a link; false when there was none.
    async fn unlink_record(
        &self,
        ctx: &Context<'_>,
        task_code: String,
        record_id: ID,
    ) -> async_graphql::Result<bool> {
        let record = parse_any_record_id(&record_id)?;
        let writer = writer(ctx)?;
        crate::store::links::unlink(database(ctx)?, feed(ctx)?, &writer, &task_code, record)
            .await
            .api()
    }

    /// Reports progress on a task; only its lead agency (or an admin) may. With
    /// `expectedVersion` (the task's `progressVersion`), a concurrent report is a
    /// CONFLICT instead of being overwritten.
    async fn update_task_progress(
        &self,
        ctx: &Context<'_>,
        task_code: String,
        input: TaskProgressInput,
        expected_version: Option<BigInt>,
    ) -> async_graphql::Result<Task> {
        let writer = writer(ctx)?;
        let mut check = Checker::new("input");
        let status = check
            .term("status", Some(&input.status), |s| {
                TASK_STATUSES
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(s.trim()))
                    .map(|t| (*t).to_owned())
                    .ok_or_else(|| {
                        format!(
                            "unknown status {s:?}; expected one of: {}",
                            TASK_STATUSES.join(", ")
                        )
                    })
            })
            .unwrap_or_default();
        let note = check.opt_text("note", input.note.as_deref(), TEXT);
        let evidence = input
            .evidence
            .iter()
            .enumerate()
            .map(|(i, link)| check.url(&format!("evidence[{i}]"), link))
            .collect();
        check.finish(()).map_err(invalid)?;
        let progress = crate::store::links::TaskProgress {
            status,
            note,
            evidence,
        };
        let task = crate::store::links::update_task_progress(
            database(ctx)?,
            feed(ctx)?,
            &writer,
            &task_code,
            progress,
            expected_version.map(|v| v.0),
        )
        .await
        .api()?;
        Ok(Task(task))
    }
}
