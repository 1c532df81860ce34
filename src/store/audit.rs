//! The audit log: one row per write, appended in the write's own transaction, so a
//! change and its trace are committed together or not at all.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::StoreError;
use crate::db::entities::audit_log;
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::scope::Writer;

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub operation: &'a str,
    pub record: Option<RecordRef>,
    pub task_code: Option<&'a str>,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
}

/// The row an entry becomes.
fn entry_row(
    writer: &Writer,
    at: DateTime<FixedOffset>,
    entry: &Entry<'_>,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        occurred_at: Set(at),
        token_id: Set(writer.token_id),
        agency_id: Set(writer.agency_id),
        actor: Set(writer.actor()),
        operation: Set(entry.operation.to_owned()),
        record_kind: Set(entry.record.map(|r| r.kind.as_str().to_owned())),
        record_id: Set(entry.record.map(|r| r.id)),
        task_code: Set(entry.task_code.map(str::to_owned)),
        before: Set(entry.before.map(Value::to_string)),
        after: Set(entry.after.map(Value::to_string)),
        ..Default::default()
    }
}

pub async fn append<C: ConnectionTrait>(
    db: &C,
    writer: &Writer,
    at: DateTime<FixedOffset>,
    entry: Entry<'_>,
) -> Result<(), sea_orm::DbErr> {
    entry_row(writer, at, &entry).insert(db).await?;
    Ok(())
}

/// The row of a record write, for a batch insert in the write's transaction.
pub fn row(
    writer: &Writer,
    at: DateTime<FixedOffset>,
    operation: &str,
    record: RecordRef,
    before: Option<&Value>,
    after: &Value,
) -> audit_log::ActiveModel {
    let entry = Entry {
        operation,
        record: Some(record),
        task_code: None,
        before,
        after: Some(after),
    };
    entry_row(writer, at, &entry)
}

/// Conditions on the audit log; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub record: Option<RecordRef>,
    pub kind: Option<RecordKind>,
    pub agency_id: Option<i32>,
    pub token_id: Option<i32>,
    pub operation: Option<String>,
    pub task_code: Option<String>,
    pub since: Option<DateTime<FixedOffset>>,
    pub until: Option<DateTime<FixedOffset>>,
    /// Entries older than this id (the cursor of the previous page).
    pub before_id: Option<i64>,
}

/// Newest first, `limit` entries.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    query: &AuditQuery,
    limit: u64,
) -> Result<Vec<audit_log::Model>, StoreError> {
    use audit_log::Column;
    let mut condition = Condition::all();
    if let Some(record) = query.record {
        condition = condition
            .add(Column::RecordKind.eq(record.kind.as_str()))
            .add(Column::RecordId.eq(record.id));
    }
    if let Some(kind) = query.kind {
        condition = condition.add(Column::RecordKind.eq(kind.as_str()));
    }
    if let Some(agency) = query.agency_id {
        condition = condition.add(Column::AgencyId.eq(agency));
    }
    if let Some(token) = query.token_id {
        condition = condition.add(Column::TokenId.eq(token));
    }
    if let Some(operation) = &query.operation {
        condition = condition.add(Column::Operation.eq(operation.as_str()));
    }
    if let Some(task) = &query.task_code {
        condition = condition.add(Column::TaskCode.eq(task.as_str()));
    }
    if let Some(since) = query.since {
        condition = condition.add(Column::OccurredAt.gte(since));
    }
    if let Some(until) = query.until {
        condition = condition.add(Column::OccurredAt.lt(until));
    }
    if let Some(id) = query.before_id {
        condition = condition.add(Expr::col(Column::Id).lt(id));
    }
    Ok(audit_log::Entity::find()
        .filter(condition)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The history of many records at once, oldest first per record.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    records: &[RecordRef],
) -> Result<HashMap<RecordRef, Vec<audit_log::Model>>, StoreError> {
    use audit_log::Column;
    let mut by_kind: HashMap<RecordKind, Vec<i32>> = HashMap::new();
    for record in records {
        by_kind.entry(record.kind).or_default().push(record.id);
    }
    let mut condition = Condition::any();
    for (kind, ids) in by_kind {
        condition = condition.add(
            Condition::all()
                .add(Column::RecordKind.eq(kind.as_str()))
                .add(Column::RecordId.is_in(ids)),
        );
    }
    let rows = audit_log::Entity::find()
        .filter(condition)
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    let mut found: HashMap<RecordRef, Vec<audit_log::Model>> = HashMap::new();
    for row in rows {
        let kind = row
            .record_kind
            .as_deref()
            .and_then(|k| RecordKind::parse(k).ok());
        if let (Some(kind), Some(id)) = (kind, row.record_id) {
            found.entry(RecordRef { kind, id }).or_default().push(row);
        }
    }
    Ok(found)
}
