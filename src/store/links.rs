//! Writes on plan tasks: links from tasks to records, and progress reported by a task's
//! lead agency. Scope checks, the write and its audit entry share one transaction.

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::audit::{self, Entry};
use super::feed::{ChangeFeed, ChangeOperation, RecordChange};
use super::writes::{WriteError, begin};
use crate::db::entities::{record_links, task_coordinators, tasks};
use crate::domain::records::RecordRef;
use crate::domain::scope::{TaskParties, Writer, may_link, may_report_progress};

/// A plan task and the agencies it names, by code.
async fn task_by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> Result<(tasks::Model, TaskParties), WriteError> {
    let task = tasks::Entity::find()
        .filter(tasks::Column::Code.eq(code.trim()))
        .order_by_asc(tasks::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| WriteError::NotFound(format!("the plan has no task {code:?}")))?;
    let coordinator_agency_ids = task_coordinators::Entity::find()
        .filter(task_coordinators::Column::TaskId.eq(task.id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|c| c.agency_id)
        .collect();
    let parties = TaskParties {
        code: task.code.clone(),
        lead_agency_id: task.lead_agency_id,
        coordinator_agency_ids,
    };
    Ok((task, parties))
}

/// What the read rules need to know of a record: its source, owning agency and whether
/// it is archived.
struct RecordOwnership {
    source: String,
    owner_agency_id: Option<i32>,
    archived: bool,
}

async fn record_ownership<C: ConnectionTrait>(
    db: &C,
    record: RecordRef,
) -> Result<RecordOwnership, WriteError> {
    let spec = crate::records::spec_of(record.kind);
    let table = Alias::new(spec.table);
    let mut select = Query::select();
    select
        .column((table.clone(), Alias::new("source")))
        .expr_as(
            Expr::col((table.clone(), Alias::new("archived_at"))).is_not_null(),
            Alias::new("archived"),
        )
        .from(table.clone())
        .and_where(Expr::col((table.clone(), Alias::new("id"))).eq(record.id));
    match spec.owner {
        Some(owner) => select.expr_as(
            Expr::col((table.clone(), Alias::new(owner.column))),
            Alias::new("owner_agency_id"),
        ),
        None => select.expr_as(
            Expr::val(Option::<i32>::None),
            Alias::new("owner_agency_id"),
        ),
    };
    let row = db
        .query_one(&select)
        .await?
        .ok_or_else(|| WriteError::NotFound(format!("there is no record {record}")))?;
    Ok(RecordOwnership {
        source: row.try_get("", "source")?,
        owner_agency_id: row.try_get("", "owner_agency_id")?,
        archived: row.try_get::<bool>("", "archived").unwrap_or(false),
    })
}

fn link_change(
    record: RecordRef,
    ownership: RecordOwnership,
    operation: ChangeOperation,
    writer: &Writer,
    task_code: &str,
    at: DateTime<FixedOffset>,
) -> RecordChange {
    RecordChange {
        record,
        operation,
        version: 0,
        agency_only: crate::records::spec_of(record.kind)
            .owner
            .is_some_and(|o| o.exclusive),
        source: ownership.source,
        owner_agency_id: ownership.owner_agency_id,
        archived: ownership.archived,
        actor: writer.actor(),
        task_code: Some(task_code.to_owned()),
        at,
    }
}

/// A link from a task to a record.
#[derive(Debug, Clone)]
pub struct Linked {
    pub task: tasks::Model,
    pub link: record_links::Model,
    /// False when the link already existed.
    pub created: bool,
}

/// Links a record to a task the writer leads or coordinates. Linking twice is harmless.
pub async fn link(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    task_code: &str,
    record: RecordRef,
) -> Result<Linked, WriteError> {
    let at = Utc::now().fixed_offset();
    let txn = begin(db).await?;
    let (task, parties) = task_by_code(&txn, task_code).await?;
    may_link(writer, &parties)?;
    let ownership = record_ownership(&txn, record).await?;
    let existing = record_links::Entity::find()
        .filter(record_links::Column::TaskId.eq(task.id))
        .filter(record_links::Column::RecordKind.eq(record.kind.as_str()))
        .filter(record_links::Column::RecordId.eq(record.id))
        .one(&txn)
        .await?;
    if let Some(link) = existing {
        return Ok(Linked {
            task,
            link,
            created: false,
        });
    }
    let link = record_links::ActiveModel {
        task_id: Set(task.id),
        record_kind: Set(record.kind.as_str().to_owned()),
        record_id: Set(record.id),
        linked_by: Set(writer.source()),
        linked_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after =
        json!({ "task": task.code, "record": record.to_string(), "linked_by": link.linked_by });
    audit::append(
        &txn,
        writer,
        at,
        Entry {
            operation: ChangeOperation::Linked.as_str(),
            record: Some(record),
            task_code: Some(&task.code),
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    let change = link_change(
        record,
        ownership,
        ChangeOperation::Linked,
        writer,
        &task.code,
        at,
    );
    feed.commit(txn, &[change], None).await?;
    Ok(Linked {
        task,
        link,
        created: true,
    })
}

/// Removes a link; false when there was none.
pub async fn unlink(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    task_code: &str,
    record: RecordRef,
) -> Result<bool, WriteError> {
    let at = Utc::now().fixed_offset();
    let txn = begin(db).await?;
    let (task, parties) = task_by_code(&txn, task_code).await?;
    may_link(writer, &parties)?;
    let ownership = record_ownership(&txn, record).await?;
    let Some(link) = record_links::Entity::find()
        .filter(record_links::Column::TaskId.eq(task.id))
        .filter(record_links::Column::RecordKind.eq(record.kind.as_str()))
        .filter(record_links::Column::RecordId.eq(record.id))
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    record_links::Entity::delete_by_id(link.id)
        .exec(&txn)
        .await?;
    let before =
        json!({ "task": task.code, "record": record.to_string(), "linked_by": link.linked_by });
    audit::append(
        &txn,
        writer,
        at,
        Entry {
            operation: ChangeOperation::Unlinked.as_str(),
            record: Some(record),
            task_code: Some(&task.code),
            before: Some(&before),
            after: None,
        },
    )
    .await?;
    let change = link_change(
        record,
        ownership,
        ChangeOperation::Unlinked,
        writer,
        &task.code,
        at,
    );
    feed.commit(txn, &[change], None).await?;
    Ok(true)
}

/// Progress reported on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskProgress {
    pub status: String,
    pub note: Option<String>,
    pub evidence: Vec<String>,
}

fn progress_json(task: &tasks::Model) -> serde_json::Value {
    json!({
        "status": task.progress_status,
        "note": task.progress_note,
        "evidence": task.progress_evidence.as_deref().and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok()),
        "version": task.progress_version,
    })
}

/// Records the lead agency's progress on a task, if its progress is still at
/// `expected_version` (when given).
pub async fn update_task_progress(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    task_code: &str,
    progress: TaskProgress,
    expected_version: Option<i64>,
) -> Result<tasks::Model, WriteError> {
    let at = Utc::now().fixed_offset();
    let txn = begin(db).await?;
    let (task, parties) = task_by_code(&txn, task_code).await?;
    may_report_progress(writer, &parties)?;
    if let Some(expected) = expected_version
        && expected != task.progress_version
    {
        return Err(WriteError::TaskConflict {
            task: task.code,
            expected,
            current: task.progress_version,
        });
    }
    let before = progress_json(&task);
    let evidence = serde_json::to_string(&progress.evidence).unwrap_or_else(|_| "[]".into());
    let result = tasks::Entity::update_many()
        .col_expr(
            tasks::Column::ProgressStatus,
            Expr::val(progress.status.clone()),
        )
        .col_expr(
            tasks::Column::ProgressNote,
            Expr::val(progress.note.clone()),
        )
        .col_expr(tasks::Column::ProgressEvidence, Expr::val(evidence))
        .col_expr(tasks::Column::ProgressUpdatedAt, Expr::val(at))
        .col_expr(tasks::Column::ProgressUpdatedBy, Expr::val(writer.source()))
        .col_expr(
            tasks::Column::ProgressVersion,
            Expr::val(task.progress_version + 1),
        )
        .filter(tasks::Column::Id.eq(task.id))
        .filter(tasks::Column::ProgressVersion.eq(task.progress_version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(WriteError::TaskConflict {
            task: task.code,
            expected: task.progress_version,
            current: task.progress_version + 1,
        });
    }
    let updated = tasks::Entity::find_by_id(task.id)
        .one(&txn)
        .await?
        .ok_or_else(|| WriteError::NotFound(format!("the plan has no task {task_code:?}")))?;
    let after = progress_json(&updated);
    audit::append(
        &txn,
        writer,
        at,
        Entry {
            operation: "UPDATE_TASK_PROGRESS",
            record: None,
            task_code: Some(&updated.code),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    // The plan snapshot, and task lists filtered by status, change with it.
    let change = super::changes::PlanChange {
        actor: writer.actor(),
        task_code: Some(updated.code.clone()),
        at,
    };
    feed.commit(txn, &[], Some(&change)).await?;
    Ok(updated)
}
