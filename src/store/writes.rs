//! The write engine: create, update, archive, upsert and bulk import for every record
//! kind, through one generic path. Each operation runs in one transaction that checks
//! the caller's scope (`domain::scope`), checks the expected version, writes the row and
//! appends to the audit log; changes are published to the feed only after commit.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, Iterable,
    PrimaryKeyToColumn, QueryFilter, QueryOrder, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use super::audit::{self, Entry};
use super::feed::{ChangeFeed, ChangeOperation, RecordChange};
use crate::db::entities::{
    annual_reports, application_models, ip_rights, ocop_products, science_tasks,
    startup_support_events, startups, technology_assessments, traceability_entries,
};
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::scope::{Denied, Owner, Writer, may_write};
use crate::domain::text::search_key;
use crate::domain::validate::FieldError;

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

/// The provenance every record carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub id: i32,
    pub source: String,
    pub external_id: Option<String>,
    pub fetched_at: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub version: i64,
    pub archived_at: Option<DateTime<FixedOffset>>,
    pub withdrawn_at: Option<DateTime<FixedOffset>>,
}

/// A record model the engine can write.
pub trait Writable:
    Clone + Serialize + Send + Sync + 'static + IntoActiveModel<Self::Active>
{
    type Entity: EntityTrait<Model = Self>;
    type Active: ActiveModelTrait<Entity = Self::Entity>
        + ActiveModelBehavior
        + From<Self>
        + Send
        + Sync
        + 'static;
    const KIND: RecordKind;

    fn provenance(&self) -> Provenance;
    fn set_provenance(&mut self, provenance: Provenance);
    /// The managing or reporting agency the record names, and whether it alone owns it.
    fn owner_agency(&self) -> (Option<i32>, bool);
    /// Sets the organisation the record refers to (producer, host, enterprise), if the
    /// kind has one.
    fn set_organisation(&mut self, id: Option<i32>);
    /// The organisation the record refers to, if any.
    fn organisation(&self) -> Option<i32>;
    fn compute_search_key(&self) -> String;
    fn set_search_key(&mut self, key: String);
    fn select_by_id(id: i32) -> sea_orm::Select<Self::Entity>;
    fn source(&self) -> &str;
    fn is_archived(&self) -> bool;
}

macro_rules! writable {
    ($module:ident, $kind:expr, owner: |$m1:ident| $owner:expr, organisation: [$($org:ident)?], search: |$m3:ident| $search:expr) => {
        impl Writable for $module::Model {
            type Entity = $module::Entity;
            type Active = $module::ActiveModel;
            const KIND: RecordKind = $kind;

            fn provenance(&self) -> Provenance {
                Provenance {
                    id: self.id,
                    source: self.source.clone(),
                    external_id: self.external_id.clone(),
                    fetched_at: self.fetched_at,
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                    version: self.version,
                    archived_at: self.archived_at,
                    withdrawn_at: self.withdrawn_at,
                }
            }

            fn set_provenance(&mut self, p: Provenance) {
                self.id = p.id;
                self.source = p.source;
                self.external_id = p.external_id;
                self.fetched_at = p.fetched_at;
                self.created_at = p.created_at;
                self.updated_at = p.updated_at;
                self.version = p.version;
                self.archived_at = p.archived_at;
                self.withdrawn_at = p.withdrawn_at;
            }

            #[allow(unused_variables)]
            fn owner_agency(&self) -> (Option<i32>, bool) {
                let $m1 = self;
                $owner
            }

            #[allow(unused_variables)]
            fn set_organisation(&mut self, id: Option<i32>) {
                $(self.$org = id;)?
            }

            fn organisation(&self) -> Option<i32> {
                None$(.or(self.$org))?
            }

            fn compute_search_key(&self) -> String {
                let $m3 = self;
                $search
            }

            fn set_search_key(&mut self, key: String) {
                self.search_key = key;
            }

            fn source(&self) -> &str {
                &self.source
            }

            fn is_archived(&self) -> bool {
                self.archived_at.is_some()
            }

            fn select_by_id(id: i32) -> sea_orm::Select<Self::Entity> {
                <$module::Entity as EntityTrait>::find_by_id(id)
            }
        }
    };
}

writable!(ip_rights, RecordKind::IpRight,
    owner: |m| (m.managing_agency_id, false),
    organisation: [],
    search: |m| super::seed::ip_right_search_key(&m.name, m.product.as_deref()));
writable!(ocop_products, RecordKind::OcopProduct,
    owner: |m| (None, false),
    organisation: [producer_id],
    search: |m| search_key(&m.name));
writable!(startups, RecordKind::Startup,
    owner: |m| (None, false),
    organisation: [organisation_id],
    search: |m| search_key(&m.name));
writable!(traceability_entries, RecordKind::TraceabilityEntry,
owner: |m| (None, false),
organisation: [],
search: |m| search_key(&format!(
    "{} {} {}",
    m.gtin.as_deref().unwrap_or_default(),
    m.lot.as_deref().unwrap_or_default(),
    m.location_name.as_deref().unwrap_or_default()
)));
writable!(science_tasks, RecordKind::ScienceTask,
    owner: |m| (None, false),
    organisation: [host_id],
    search: |m| search_key(&format!("{} {}", m.code.as_deref().unwrap_or_default(), m.title)));
writable!(application_models, RecordKind::ApplicationModel,
    owner: |m| (None, false),
    organisation: [host_id],
    search: |m| search_key(&m.title));
writable!(technology_assessments, RecordKind::TechnologyAssessment,
    owner: |m| (None, false),
    organisation: [enterprise_id],
    search: |m| search_key(&m.enterprise_name));
writable!(annual_reports, RecordKind::AnnualReport,
    owner: |m| (Some(m.agency_id), true),
    organisation: [],
    search: |m| search_key(m.summary.as_deref().unwrap_or_default()));

/// An organisation named by an input: found by tax code, else by name, else created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationDraft {
    pub name: String,
    pub tax_code: Option<String>,
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
}

/// A startup support event as an input gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportEventDraft {
    pub year: i32,
    pub kind: String,
    pub amount_vnd: Option<i64>,
    pub agency_id: Option<i32>,
    pub note: Option<String>,
}

/// A validated input: the record's content (its provenance is set by the engine), the
/// organisation it names and, for startups, the support events that replace the old.
#[derive(Debug, Clone)]
pub struct Draft<M> {
    pub model: M,
    pub organisation: Option<OrganisationDraft>,
    pub support_events: Option<Vec<SupportEventDraft>>,
}

impl<M> Draft<M> {
    pub fn new(model: M) -> Self {
        Self {
            model,
            organisation: None,
            support_events: None,
        }
    }
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

/// Fields the engine maintains; a client never changes them through content.
const BOOKKEEPING: [&str; 10] = [
    "id",
    "source",
    "external_id",
    "fetched_at",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
    "withdrawn_at",
    "search_key",
];

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
pub(crate) fn snapshot<M: Writable>(model: &M, events: Option<&[SupportEventDraft]>) -> Value {
    let mut value = to_json(model);
    if let (Some(events), Some(object)) = (events, value.as_object_mut()) {
        object.insert("support_events".into(), to_json(&events));
    }
    value
}

fn label<M: Writable>(id: i32) -> String {
    RecordRef { kind: M::KIND, id }.to_string()
}

fn owner<'a, M: Writable>(model: &M, source: &'a str) -> Owner<'a> {
    let (agency_id, agency_only) = model.owner_agency();
    Owner {
        source,
        agency_id,
        agency_only,
    }
}

pub(crate) fn change<M: Writable>(
    model: &M,
    operation: ChangeOperation,
    writer: &Writer,
    at: DateTime<FixedOffset>,
) -> RecordChange {
    let provenance = model.provenance();
    let (owner_agency_id, agency_only) = model.owner_agency();
    RecordChange {
        record: RecordRef {
            kind: M::KIND,
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

async fn find<M: Writable, C: ConnectionTrait>(db: &C, id: i32) -> Result<M, WriteError> {
    M::select_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| WriteError::NotFound(format!("there is no record {}", label::<M>(id))))
}

async fn support_events<C: ConnectionTrait>(
    db: &C,
    startup_id: i32,
) -> Result<Vec<SupportEventDraft>, DbErr> {
    Ok(startup_support_events::Entity::find()
        .filter(startup_support_events::Column::StartupId.eq(startup_id))
        .order_by_asc(startup_support_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| SupportEventDraft {
            year: e.year,
            kind: e.kind,
            amount_vnd: e.amount_vnd,
            agency_id: e.agency_id,
            note: e.note,
        })
        .collect())
}

async fn replace_support_events<C: ConnectionTrait>(
    db: &C,
    startup_id: i32,
    events: &[SupportEventDraft],
) -> Result<(), DbErr> {
    startup_support_events::Entity::delete_many()
        .filter(startup_support_events::Column::StartupId.eq(startup_id))
        .exec(db)
        .await?;
    for event in events {
        startup_support_events::ActiveModel {
            startup_id: Set(startup_id),
            year: Set(event.year),
            kind: Set(event.kind.clone()),
            amount_vnd: Set(event.amount_vnd),
            agency_id: Set(event.agency_id),
            note: Set(event.note.clone()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The id of the organisation a draft names, creating it when it is new (the same
/// matching as a connector's batches: tax code, else name).
async fn resolve_organisation(
    txn: &DatabaseTransaction,
    draft: &OrganisationDraft,
    source: &str,
    at: DateTime<FixedOffset>,
) -> Result<i32, DbErr> {
    super::sync::resolve_organisations(txn, &[draft], source, at)
        .await?
        .pop()
        .ok_or_else(|| DbErr::RecordNotFound(format!("organisation {}", draft.name)))
}

pub(crate) fn all_set<M: Writable>(model: M) -> M::Active {
    let active: M::Active = model.into();
    active.reset_all()
}

async fn insert_row<M: Writable, C: ConnectionTrait>(db: &C, model: M) -> Result<M, DbErr> {
    let mut active = all_set(model);
    for key in <<M::Entity as EntityTrait>::PrimaryKey as Iterable>::iter() {
        active.not_set(key.into_column());
    }
    active.insert(db).await
}

/// Writes `model` over the row at `expected` version; false when the row moved on.
async fn update_row<M: Writable, C: ConnectionTrait>(
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

/// Creates, or updates in place, inside an open transaction.
struct Step<M> {
    written: Written<M>,
    change: Option<RecordChange>,
}

async fn create_in<M: Writable>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    mut draft: Draft<M>,
    external_id: Option<String>,
    at: DateTime<FixedOffset>,
) -> Result<Step<M>, WriteError> {
    let source = writer.source();
    {
        let owner = owner(&draft.model, &source);
        may_write(writer, &format!("a new {}", M::KIND.type_name()), &owner)?;
    }
    if let Some(organisation) = &draft.organisation {
        let id = resolve_organisation(txn, organisation, &source, at).await?;
        draft.model.set_organisation(Some(id));
    }
    let mut model = draft.model;
    model.set_provenance(Provenance {
        id: 0,
        source,
        external_id,
        fetched_at: None,
        created_at: at,
        updated_at: at,
        version: 1,
        archived_at: None,
        withdrawn_at: None,
    });
    model.set_search_key(model.compute_search_key());
    let model = insert_row(txn, model).await?;
    let id = model.provenance().id;
    if let Some(events) = &draft.support_events {
        replace_support_events(txn, id, events).await?;
    }
    let after = snapshot(&model, draft.support_events.as_deref());
    let changes = diff(&Value::Object(Map::new()), &after);
    audit::append(
        txn,
        writer,
        at,
        Entry {
            operation: ChangeOperation::Created.as_str(),
            record: Some(RecordRef { kind: M::KIND, id }),
            task_code: None,
            before: None,
            after: Some(&after),
        },
    )
    .await?;
    Ok(Step {
        change: Some(change(&model, ChangeOperation::Created, writer, at)),
        written: Written {
            model,
            action: Action::Created,
            changes,
        },
    })
}

async fn update_in<M: Writable>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    before: M,
    expected: Option<i64>,
    mut draft: Draft<M>,
    at: DateTime<FixedOffset>,
) -> Result<Step<M>, WriteError> {
    let provenance = before.provenance();
    let record = label::<M>(provenance.id);
    may_write(writer, &record, &owner(&before, &provenance.source))?;
    let expected = expected.unwrap_or(provenance.version);
    if expected != provenance.version {
        return Err(WriteError::Conflict {
            record: RecordRef {
                kind: M::KIND,
                id: provenance.id,
            },
            expected,
            current: provenance.version,
        });
    }
    may_write(writer, &record, &owner(&draft.model, &provenance.source))?;
    if let Some(organisation) = &draft.organisation {
        let id = resolve_organisation(txn, organisation, &writer.source(), at).await?;
        draft.model.set_organisation(Some(id));
    }
    let old_events = match &draft.support_events {
        Some(_) => Some(support_events(txn, provenance.id).await?),
        None => None,
    };
    let before_json = snapshot(&before, old_events.as_deref());
    let mut model = draft.model;
    model.set_provenance(provenance.clone());
    model.set_search_key(model.compute_search_key());
    let after_json = snapshot(&model, draft.support_events.as_deref());
    let changes = diff(&before_json, &after_json);
    if changes.is_empty() {
        return Ok(Step {
            written: Written {
                model: before,
                action: Action::Unchanged,
                changes,
            },
            change: None,
        });
    }
    model.set_provenance(Provenance {
        updated_at: at,
        version: provenance.version + 1,
        ..provenance.clone()
    });
    if !update_row(txn, model.clone(), expected).await? {
        let current = find::<M, _>(txn, provenance.id).await?.provenance().version;
        return Err(WriteError::Conflict {
            record: RecordRef {
                kind: M::KIND,
                id: provenance.id,
            },
            expected,
            current,
        });
    }
    if let Some(events) = &draft.support_events {
        replace_support_events(txn, provenance.id, events).await?;
    }
    let after_json = snapshot(&model, draft.support_events.as_deref());
    audit::append(
        txn,
        writer,
        at,
        Entry {
            operation: ChangeOperation::Updated.as_str(),
            record: Some(RecordRef {
                kind: M::KIND,
                id: provenance.id,
            }),
            task_code: None,
            before: Some(&before_json),
            after: Some(&after_json),
        },
    )
    .await?;
    Ok(Step {
        change: Some(change(&model, ChangeOperation::Updated, writer, at)),
        written: Written {
            model,
            action: Action::Updated,
            changes,
        },
    })
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

/// Creates a record owned by the writer.
pub async fn create<M: Writable>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    draft: Draft<M>,
) -> Result<Written<M>, WriteError> {
    let txn = begin(db).await?;
    let step = create_in(&txn, writer, draft, None, now()).await?;
    txn.commit().await?;
    feed.publish(step.change);
    Ok(step.written)
}

/// Replaces a record's content, if it is still at `expected_version`.
pub async fn update<M: Writable>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    id: i32,
    expected_version: i64,
    draft: Draft<M>,
) -> Result<Written<M>, WriteError> {
    let txn = begin(db).await?;
    let before = find::<M, _>(&txn, id).await?;
    let step = update_in(&txn, writer, before, Some(expected_version), draft, now()).await?;
    txn.commit().await?;
    feed.publish(step.change);
    Ok(step.written)
}

/// Archives (soft-deletes) a record, if it is still at `expected_version`.
pub async fn archive<M: Writable>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    id: i32,
    expected_version: i64,
) -> Result<Written<M>, WriteError> {
    let at = now();
    let txn = begin(db).await?;
    let before = find::<M, _>(&txn, id).await?;
    let provenance = before.provenance();
    let record = RecordRef { kind: M::KIND, id };
    may_write(
        writer,
        &record.to_string(),
        &owner(&before, &provenance.source),
    )?;
    if expected_version != provenance.version {
        return Err(WriteError::Conflict {
            record,
            expected: expected_version,
            current: provenance.version,
        });
    }
    if provenance.archived_at.is_some() {
        return Ok(Written {
            model: before,
            action: Action::Unchanged,
            changes: Vec::new(),
        });
    }
    let mut model = before.clone();
    model.set_provenance(Provenance {
        archived_at: Some(at),
        updated_at: at,
        version: provenance.version + 1,
        ..provenance.clone()
    });
    if !update_row(&txn, model.clone(), expected_version).await? {
        let current = find::<M, _>(&txn, id).await?.provenance().version;
        return Err(WriteError::Conflict {
            record,
            expected: expected_version,
            current,
        });
    }
    let (before_json, after_json) = (to_json(&before), to_json(&model));
    audit::append(
        &txn,
        writer,
        at,
        Entry {
            operation: ChangeOperation::Archived.as_str(),
            record: Some(record),
            task_code: None,
            before: Some(&before_json),
            after: Some(&after_json),
        },
    )
    .await?;
    txn.commit().await?;
    feed.publish([change(&model, ChangeOperation::Archived, writer, at)]);
    Ok(Written {
        model,
        action: Action::Archived,
        changes: vec![FieldChange {
            field: "archivedAt".into(),
            before: Value::Null,
            after: to_json(&at),
        }],
    })
}

async fn by_natural_key<M: Writable, C: ConnectionTrait>(
    db: &C,
    source: &str,
    external_id: &str,
) -> Result<Option<M>, DbErr> {
    <M::Entity as EntityTrait>::find()
        .filter(Expr::col(Alias::new("source")).eq(source))
        .filter(Expr::col(Alias::new("external_id")).eq(external_id))
        .one(db)
        .await
}

async fn upsert_in<M: Writable>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    external_id: &str,
    draft: Draft<M>,
    at: DateTime<FixedOffset>,
) -> Result<Step<M>, WriteError> {
    match by_natural_key::<M, _>(txn, &writer.source(), external_id).await? {
        Some(before) => update_in(txn, writer, before, None, draft, at).await,
        None => create_in(txn, writer, draft, Some(external_id.to_owned()), at).await,
    }
}

/// Creates or updates the writer's record with this external id (its natural key is
/// the writer's source and the external id).
pub async fn upsert<M: Writable>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    external_id: &str,
    draft: Draft<M>,
) -> Result<Written<M>, WriteError> {
    let txn = begin(db).await?;
    let step = upsert_in(&txn, writer, external_id, draft, now()).await?;
    txn.commit().await?;
    feed.publish(step.change);
    Ok(step.written)
}

/// Submits an agency's report for a year: replaces the active report of that agency
/// and year, or creates one.
pub async fn submit_report(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    draft: Draft<annual_reports::Model>,
) -> Result<Written<annual_reports::Model>, WriteError> {
    let txn = begin(db).await?;
    let existing = annual_reports::Entity::find()
        .filter(annual_reports::Column::AgencyId.eq(draft.model.agency_id))
        .filter(annual_reports::Column::Year.eq(draft.model.year))
        .filter(annual_reports::Column::ArchivedAt.is_null())
        .order_by_asc(annual_reports::Column::Id)
        .one(&txn)
        .await?;
    let step = match existing {
        Some(before) => update_in(&txn, writer, before, None, draft, now()).await?,
        None => create_in(&txn, writer, draft, None, now()).await?,
    };
    txn.commit().await?;
    feed.publish(step.change);
    Ok(step.written)
}

/// One row of a bulk import, already validated (or not).
#[derive(Debug)]
pub struct ImportRow<M> {
    pub external_id: String,
    pub draft: Result<Draft<M>, Vec<FieldError>>,
}

/// What a bulk import did, or would do.
#[derive(Debug)]
pub struct ImportOutcome<M> {
    pub dry_run: bool,
    pub committed: bool,
    /// One per valid row, in input order, with its index.
    pub rows: Vec<(usize, String, Written<M>)>,
    pub errors: Vec<(usize, FieldError)>,
}

/// Upserts every row in one transaction: all rows are written or none. With `dry_run`
/// the transaction is rolled back after computing what would change.
pub async fn import<M: Writable>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    rows: Vec<ImportRow<M>>,
    dry_run: bool,
    path: &str,
) -> Result<ImportOutcome<M>, WriteError> {
    let at = now();
    let mut errors = Vec::new();
    let mut valid = Vec::new();
    let mut seen = HashSet::new();
    for (index, row) in rows.into_iter().enumerate() {
        if !seen.insert(row.external_id.clone()) {
            errors.push((
                index,
                FieldError {
                    path: format!("{path}[{index}].externalId"),
                    message: format!(
                        "{:?} appears more than once in this import",
                        row.external_id
                    ),
                },
            ));
            continue;
        }
        match row.draft {
            Ok(draft) => valid.push((index, row.external_id, draft)),
            Err(found) => errors.extend(found.into_iter().map(|e| (index, e))),
        }
    }
    if !errors.is_empty() && !dry_run {
        return Err(WriteError::Invalid(
            errors.into_iter().map(|(_, error)| error).collect(),
        ));
    }
    let txn = begin(db).await?;
    let mut written = Vec::with_capacity(valid.len());
    let mut changes = Vec::new();
    for (index, external_id, draft) in valid {
        let step = match upsert_in(&txn, writer, &external_id, draft, at).await {
            Ok(step) => step,
            // A forbidden row stops the import; nothing of it is written.
            Err(WriteError::Denied(denied)) => {
                return Err(WriteError::DeniedAt {
                    path: format!("{path}[{index}]"),
                    denied,
                });
            }
            Err(other) => return Err(other),
        };
        changes.extend(step.change);
        written.push((index, external_id, step.written));
    }
    let committed = !dry_run && errors.is_empty();
    if committed {
        txn.commit().await?;
        feed.publish(changes);
    } else {
        txn.rollback().await?;
    }
    Ok(ImportOutcome {
        dry_run,
        committed,
        rows: written,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_name_content_fields_in_api_spelling_and_skip_bookkeeping() {
        let before =
            json!({"id": 1, "version": 3, "name": "Xoài", "certified_on": null, "stars": 4});
        let after = json!({"id": 1, "version": 4, "name": "Xoài", "certified_on": "2024-05-01", "stars": 5});
        let changes = diff(&before, &after);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["certifiedOn", "stars"]);
        assert_eq!(changes[1].before, json!(4));
        assert_eq!(changes[1].after, json!(5));
    }

    #[test]
    fn the_same_instant_in_another_offset_is_no_change() {
        let before = json!({"event_time": "2024-05-01T01:00:00+00:00"});
        let after = json!({"event_time": "2024-05-01T08:00:00+07:00"});
        assert!(diff(&before, &after).is_empty());
        let later = json!({"event_time": "2024-05-01T09:00:00+07:00"});
        assert_eq!(diff(&before, &later).len(), 1);
    }
}
