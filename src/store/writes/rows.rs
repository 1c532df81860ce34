//! The pieces every write is made of: the errors, reading a record back, the audit
//! snapshot and diff of a change, and inserting or updating one row.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    Iterable, PrimaryKeyToColumn, QueryFilter, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::db::entities::{BOOKKEEPING, RecordModel};
use crate::domain::records::RecordRef;
use crate::domain::scope::{Denied, Owner, Writer};
use crate::domain::validate::FieldError;
use crate::records::draft::SupportEventDraft;
use crate::records::{ContentError, Kind, owner_agency};
use crate::store::feed::{ChangeOperation, RecordChange};

/// Why a write was refused. Nothing is written when any of these is returned.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("{path}: {denied}")]
    DeniedAt { path: String, denied: Denied },
    #[error(
        "{record} is at version {current}, not {expected}: it changed since it was read; read it again and retry"
    )]
    Conflict {
        record: RecordRef,
        expected: i64,
        current: i64,
    },
    #[error(
        "the progress of task {task} is at version {current}, not {expected}: it changed since it was read; read it again and retry"
    )]
    TaskConflict {
        task: String,
        expected: i64,
        current: i64,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{} invalid field(s); nothing was written", .0.len())]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("database error")]
    Db(#[from] DbErr),
}

/// Starts a write transaction. On SQLite it takes the write lock at once, so two writers
/// queue on the busy timeout instead of failing to upgrade a read lock.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// What a write did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Unchanged,
    Archived,
}

/// One field that changed (or would change).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// The field in API spelling (`certifiedOn`).
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// The result of a write.
#[derive(Debug, Clone)]
pub struct Written<M> {
    pub model: M,
    pub action: Action,
    pub changes: Vec<FieldChange>,
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Equal values; two timestamps are equal when they name the same instant, whatever
/// offset the database hands them back in.
fn same_value(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Value::String(a), Value::String(b)) => matches!(
            (DateTime::parse_from_rfc3339(a), DateTime::parse_from_rfc3339(b)),
            (Ok(a), Ok(b)) if a == b
        ),
        _ => false,
    }
}

/// The content fields that differ between two JSON snapshots of a record.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| !BOOKKEEPING.contains(&key.as_str()))
        .filter_map(|key| {
            let old = before.get(key).cloned().unwrap_or(Value::Null);
            let new = after.get(key).cloned().unwrap_or(Value::Null);
            (!same_value(&old, &new)).then(|| FieldChange {
                field: camel_case(key),
                before: old,
                after: new,
            })
        })
        .collect()
}

/// A record's snapshot for diffs and the audit log, with its support events if any.
pub(crate) fn snapshot<M: Serialize>(model: &M, events: Option<&[SupportEventDraft]>) -> Value {
    let mut value = to_json(model);
    if let (Some(events), Some(object)) = (events, value.as_object_mut()) {
        object.insert("support_events".into(), to_json(&events));
    }
    value
}

/// A record's global reference.
pub fn reference<K: Kind>(model: &K::Model) -> RecordRef {
    RecordRef {
        kind: K::SPEC.kind,
        id: model.provenance().id,
    }
}

/// Who owns a record, as the scope rules read it.
pub(crate) fn owner<'a, K: Kind>(model: &K::Model, source: &'a str) -> Owner<'a> {
    let (agency_id, agency_only) = owner_agency::<K>(model);
    Owner {
        source,
        agency_id,
        agency_only,
    }
}

/// The change to publish for a write of `model`.
pub(crate) fn change<K: Kind>(
    model: &K::Model,
    operation: ChangeOperation,
    writer: &Writer,
    at: DateTime<FixedOffset>,
) -> RecordChange {
    let provenance = model.provenance();
    let (owner_agency_id, agency_only) = owner_agency::<K>(model);
    RecordChange {
        record: RecordRef {
            kind: K::SPEC.kind,
            id: provenance.id,
        },
        operation,
        version: provenance.version,
        source: provenance.source,
        owner_agency_id,
        agency_only,
        archived: provenance.archived_at.is_some(),
        actor: writer.actor(),
        task_code: None,
        at,
    }
}

/// Every column of `model`, set.
pub(crate) fn all_set<M: RecordModel>(model: M) -> M::Active {
    let active: M::Active = model.into();
    active.reset_all()
}

/// Inserts a row and reads back its id.
pub(crate) async fn insert_row<M: RecordModel, C: ConnectionTrait>(
    db: &C,
    model: M,
) -> Result<M, DbErr> {
    let mut active = all_set(model);
    for key in <<M::Entity as EntityTrait>::PrimaryKey as Iterable>::iter() {
        active.not_set(key.into_column());
    }
    active.insert(db).await
}

/// Writes `model` over the row at `expected` version; false when the row moved on.
pub(crate) async fn update_row<M: RecordModel, C: ConnectionTrait>(
    db: &C,
    model: M,
    expected: i64,
) -> Result<bool, DbErr> {
    let id = model.provenance().id;
    let result = <M::Entity as EntityTrait>::update_many()
        .set(all_set(model))
        .filter(Expr::col(Alias::new("id")).eq(id))
        .filter(Expr::col(Alias::new("version")).eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The record of kind `K` with this id, if there is one.
pub async fn by_id<K: Kind, C: ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<Option<K::Model>, DbErr> {
    <K::Entity as EntityTrait>::find()
        .filter(Expr::col(Alias::new("id")).eq(id))
        .one(db)
        .await
}

pub(crate) async fn find<K: Kind, C: ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<K::Model, WriteError> {
    by_id::<K, _>(db, id).await?.ok_or_else(|| {
        WriteError::NotFound(format!(
            "there is no record {}",
            RecordRef {
                kind: K::SPEC.kind,
                id
            }
        ))
    })
}
