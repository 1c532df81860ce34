//! Webhooks in the database: endpoints, the deliveries owed to them (an outbox), and the
//! dispatcher's progress over the change log.
//!
//! Events become deliveries inside a transaction: connector failures and reminders in
//! the transaction that records them, record changes in the one that moves
//! `webhook_dispatch` past their change-log entries (which their writes appended in
//! their own transactions). Workers on any replica claim due deliveries for a lease, so
//! each is attempted by one replica at a time, and one whose replica died is claimed
//! again when the lease runs out.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use sea_orm::prelude::Expr;
use sea_orm::sea_query::{Alias, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
    Statement,
};
use serde_json::json;

use super::StoreError;
use super::changes::{self, LoggedChange};
use super::feed::ChangeOperation;
use crate::db::entities::{agencies, annual_reports, webhook_deliveries, webhooks};
use crate::domain::auth::{Caller, Role};
use crate::domain::records::RecordKind;
use crate::domain::scope::{Owner, may_read};
use crate::domain::webhooks::{EventType, Interest, RetryPolicy, WebhookError};

pub const PENDING: &str = "PENDING";
pub const DELIVERED: &str = "DELIVERED";
pub const FAILED: &str = "FAILED";

/// Who may receive an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Whoever may read the record (the query rules).
    Record {
        source: String,
        agency_id: Option<i32>,
        agency_only: bool,
        archived: bool,
    },
    /// Admins' endpoints and the agency's own.
    Agency(i32),
    /// Admins' endpoints only.
    Admins,
}

/// One event, before it becomes deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_type: EventType,
    /// Unique per event: an endpoint is owed each key once.
    pub key: String,
    /// The record kind it concerns, for endpoints that filter by kind.
    pub kind: Option<RecordKind>,
    pub audience: Audience,
    pub data: serde_json::Value,
    pub at: DateTime<FixedOffset>,
}

impl Event {
    /// The body sent: `{"type", "timestamp", "data"}`, as the specification suggests.
    fn payload(&self) -> String {
        json!({
            "type": self.event_type.as_str(),
            "timestamp": self.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": self.data,
        })
        .to_string()
    }
}

/// An endpoint as the rules see it.
struct Endpoint {
    id: i32,
    interest: Interest,
    reader: Caller,
}

impl Endpoint {
    fn receives(&self, event: &Event) -> bool {
        if !self.interest.wants(event.event_type, event.kind) {
            return false;
        }
        let admin = matches!(
            self.reader,
            Caller::Token {
                role: Role::Admin,
                ..
            }
        );
        if event.event_type.admins_only() && !admin {
            return false;
        }
        match &event.audience {
            Audience::Admins => admin,
            Audience::Agency(agency) => {
                admin
                    || matches!(&self.reader, Caller::Token { agency_id: Some(id), .. } if id == agency)
            }
            Audience::Record {
                source,
                agency_id,
                agency_only,
                archived,
            } => {
                let owner = Owner {
                    source,
                    agency_id: *agency_id,
                    agency_only: *agency_only,
                };
                may_read(&self.reader, &owner, *archived)
            }
        }
    }
}

/// The stored event names and kinds of an endpoint.
pub fn interest(webhook: &webhooks::Model) -> Interest {
    let events: Vec<String> = serde_json::from_str(&webhook.events).unwrap_or_default();
    let kinds: Vec<String> = serde_json::from_str(&webhook.kinds).unwrap_or_default();
    Interest {
        events: events
            .iter()
            .filter_map(|e| EventType::parse(e).ok())
            .collect(),
        kinds: kinds
            .iter()
            .filter_map(|k| RecordKind::parse(k).ok())
            .collect(),
    }
}

/// The enabled endpoints, with whom each reads as.
async fn endpoints<C: ConnectionTrait>(db: &C) -> Result<Vec<Endpoint>, DbErr> {
    let rows = webhooks::Entity::find()
        .filter(webhooks::Column::Enabled.eq(true))
        .all(db)
        .await?;
    let owners: Vec<i32> = rows.iter().filter_map(|w| w.owner_agency_id).collect();
    let codes: HashMap<i32, String> = if owners.is_empty() {
        HashMap::new()
    } else {
        agencies::Entity::find()
            .filter(agencies::Column::Id.is_in(owners))
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.code))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|webhook| {
            let reader = match webhook.owner_agency_id {
                None => Caller::Token {
                    token_id: 0,
                    role: Role::Admin,
                    agency_id: None,
                    agency_code: None,
                },
                Some(agency) => Caller::Token {
                    token_id: 0,
                    role: Role::Agency,
                    agency_id: Some(agency),
                    agency_code: codes.get(&agency).cloned(),
                },
            };
            Endpoint {
                id: webhook.id,
                interest: interest(&webhook),
                reader,
            }
        })
        .collect())
}

/// Turns `events` into deliveries for every enabled endpoint that wants and may read
/// them, in `db`'s transaction; an event already owed to an endpoint is not owed twice.
/// Returns how many deliveries were added.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    events: &[Event],
    now: DateTime<FixedOffset>,
) -> Result<u64, DbErr> {
    if events.is_empty() {
        return Ok(0);
    }
    let endpoints = endpoints(db).await?;
    enqueue_for(db, &endpoints, events, now).await
}

async fn enqueue_for<C: ConnectionTrait>(
    db: &C,
    endpoints: &[Endpoint],
    events: &[Event],
    now: DateTime<FixedOffset>,
) -> Result<u64, DbErr> {
    let mut rows = Vec::new();
    for event in events {
        let payload = event.payload();
        for endpoint in endpoints.iter().filter(|e| e.receives(event)) {
            let message_id = crate::domain::webhooks::new_message_id()
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            rows.push(webhook_deliveries::ActiveModel {
                message_id: Set(message_id),
                webhook_id: Set(endpoint.id),
                event_type: Set(event.event_type.as_str().to_owned()),
                event_key: Set(event.key.clone()),
                payload: Set(payload.clone()),
                status: Set(PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                created_at: Set(now),
                ..Default::default()
            });
        }
    }
    let mut added = 0;
    for chunk in rows.chunks(200) {
        added += webhook_deliveries::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    webhook_deliveries::Column::WebhookId,
                    webhook_deliveries::Column::EventKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(added)
}

/// The events a change-log entry announces.
fn change_events(entry: &LoggedChange, submitted_reports: &[i32]) -> Vec<Event> {
    let Some(change) = &entry.record else {
        return Vec::new();
    };
    let event_type = match change.operation {
        ChangeOperation::Created => EventType::RecordCreated,
        ChangeOperation::Updated => EventType::RecordUpdated,
        ChangeOperation::Archived => EventType::RecordArchived,
        ChangeOperation::Linked => EventType::LinkCreated,
        ChangeOperation::Unlinked => EventType::LinkRemoved,
    };
    let audience = Audience::Record {
        source: change.source.clone(),
        agency_id: change.owner_agency_id,
        agency_only: change.agency_only,
        archived: change.archived,
    };
    let mut data = json!({
        "kind": change.record.kind.as_str(),
        "id": change.record.to_string(),
        "version": change.version,
        "source": change.source,
        "actor": change.actor,
        "sequence": entry.seq.to_string(),
    });
    if let Some(task) = &change.task_code {
        data["task"] = json!(task);
    }
    let mut events = vec![Event {
        event_type,
        key: format!("change:{}", entry.seq),
        kind: Some(change.record.kind),
        audience: audience.clone(),
        data: data.clone(),
        at: change.at,
    }];
    let report_written = change.record.kind == RecordKind::AnnualReport
        && matches!(
            change.operation,
            ChangeOperation::Created | ChangeOperation::Updated
        );
    if report_written && submitted_reports.contains(&change.record.id) {
        events.push(Event {
            event_type: EventType::ReportSubmitted,
            // Once per report, however often it is edited afterwards.
            key: format!("report.submitted:{}", change.record.id),
            kind: Some(RecordKind::AnnualReport),
            audience,
            data,
            at: change.at,
        });
    }
    events
}

/// Entries the dispatcher turns into deliveries per transaction.
const DISPATCH_BATCH: u64 = 500;

/// Turns the next change-log entries into deliveries and moves the dispatcher's cursor
/// past them, in one transaction (replicas take turns on the cursor row). Returns
/// whether entries remain after those handled.
pub async fn dispatch_changes(
    db: &DatabaseConnection,
    now: DateTime<FixedOffset>,
) -> Result<bool, DbErr> {
    // Reads first: an idle replica looks every few seconds without taking a lock.
    if changes::head(db).await?.seq <= dispatched_through(db).await? {
        return Ok(false);
    }
    let txn = super::writes::begin(db).await?;
    let backend = txn.get_database_backend();
    let lock = match backend {
        DbBackend::Postgres => "SELECT seq FROM webhook_dispatch WHERE id = 1 FOR UPDATE",
        // SQLite: the transaction holds the database's write lock already.
        _ => "SELECT seq FROM webhook_dispatch WHERE id = 1",
    };
    let cursor: i64 = txn
        .query_one_raw(Statement::from_string(backend, lock))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the webhook dispatcher's row".into()))?
        .try_get("", "seq")?;
    // The head first, the endpoints after: an endpoint not seen yet was created after
    // every entry up to this head committed, and is owed none of them.
    let head = changes::head(&txn).await?.seq;
    if head <= cursor {
        txn.commit().await?;
        return Ok(false);
    }
    let endpoints = endpoints(&txn).await?;
    let (last, more) = if endpoints.is_empty() {
        (head, false)
    } else {
        let entries = changes::read_after(&txn, cursor, DISPATCH_BATCH).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            txn.commit().await?;
            return Ok(false);
        };
        let submitted = submitted_reports(&txn, &entries).await?;
        let events: Vec<Event> = entries
            .iter()
            .flat_map(|entry| change_events(entry, &submitted))
            .collect();
        enqueue_for(&txn, &endpoints, &events, now).await?;
        (last, last < head)
    };
    let mut update = Query::update();
    update
        .table(Alias::new("webhook_dispatch"))
        .value(Alias::new("seq"), last)
        .and_where(Expr::col(Alias::new("id")).eq(1));
    txn.execute_raw(backend.build(&update)).await?;
    txn.commit().await?;
    Ok(more)
}

/// Which of the annual reports these entries wrote carry a submission date.
async fn submitted_reports<C: ConnectionTrait>(
    db: &C,
    entries: &[LoggedChange],
) -> Result<Vec<i32>, DbErr> {
    let ids: Vec<i32> = entries
        .iter()
        .filter_map(|e| e.record.as_ref())
        .filter(|c| c.record.kind == RecordKind::AnnualReport)
        .map(|c| c.record.id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    annual_reports::Entity::find()
        .select_only()
        .column(annual_reports::Column::Id)
        .filter(annual_reports::Column::Id.is_in(ids))
        .filter(annual_reports::Column::SubmittedOn.is_not_null())
        .into_tuple::<i32>()
        .all(db)
        .await
}

/// How far the dispatcher has come: the change log may be pruned up to here only.
pub async fn dispatched_through<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    Ok(db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT seq FROM webhook_dispatch WHERE id = 1",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "seq"))
        .transpose()?
        .unwrap_or(0))
}

/// A delivery claimed for an attempt, with where and how to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: webhook_deliveries::Model,
    pub url: String,
    /// The secrets to sign with: the current one, and the previous one while it is
    /// still honoured after a rotation.
    pub secrets: Vec<String>,
}

/// Claims up to `limit` due deliveries of enabled endpoints for `lease`; another worker
/// (on this replica or another) cannot claim them until the lease runs out.
pub async fn claim_due(
    db: &DatabaseConnection,
    now: DateTime<FixedOffset>,
    lease: std::time::Duration,
    limit: u64,
) -> Result<Vec<Claimed>, DbErr> {
    use webhook_deliveries::Column as D;
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
    let due = || {
        Expr::col(D::Status)
            .eq(PENDING)
            .and(Expr::col(D::NextAttemptAt).lte(now))
            .and(
                Expr::col(D::LockedUntil)
                    .is_null()
                    .or(Expr::col(D::LockedUntil).lte(now)),
            )
    };
    // Workers look every second: a read finds there is nothing to do without taking
    // SQLite's write lock or touching a row.
    let any_due = webhook_deliveries::Entity::find()
        .select_only()
        .column(D::Id)
        .filter(due())
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if any_due.is_none() {
        return Ok(Vec::new());
    }
    let enabled = Query::select()
        .column(webhooks::Column::Id)
        .from(webhooks::Entity)
        .and_where(Expr::col(webhooks::Column::Enabled).eq(true))
        .to_owned();
    let candidates = Query::select()
        .column(D::Id)
        .from(webhook_deliveries::Entity)
        .and_where(due())
        .and_where(Expr::col(D::WebhookId).in_subquery(enabled))
        .order_by(D::NextAttemptAt, sea_orm::Order::Asc)
        .order_by(D::Id, sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let mut claim = Query::update();
    claim
        .table(webhook_deliveries::Entity)
        .value(D::LockedUntil, until)
        // Re-checked on the row itself, so two claims never both take it.
        .and_where(due())
        .and_where(Expr::col(D::Id).in_subquery(candidates))
        .returning_all();
    let backend = db.get_database_backend();
    let claimed = webhook_deliveries::Model::find_by_statement(backend.build(&claim))
        .all(db)
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = claimed.iter().map(|d| d.webhook_id).collect();
    let endpoints: HashMap<i32, webhooks::Model> = webhooks::Entity::find()
        .filter(webhooks::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id, w))
        .collect();
    Ok(claimed
        .into_iter()
        .filter_map(|delivery| {
            let webhook = endpoints.get(&delivery.webhook_id)?;
            let mut secrets = vec![webhook.secret.clone()];
            if let (Some(previous), Some(until)) =
                (&webhook.previous_secret, webhook.previous_secret_until)
                && until > now
            {
                secrets.push(previous.clone());
            }
            Some(Claimed {
                url: webhook.url.clone(),
                secrets,
                delivery,
            })
        })
        .collect())
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub status: Option<u16>,
    /// Why it failed, when it did (the status alone, a timeout, a refused connection…).
    pub error: Option<String>,
    /// The start of the response body, for the owner to read.
    pub response: Option<String>,
    /// What the endpoint asked for with `Retry-After`.
    pub retry_after: Option<std::time::Duration>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// How a recorded attempt left things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Delivered,
    RetryAt(DateTime<FixedOffset>),
    GivenUp,
    /// The delivery is given up or retried, and its endpoint was disabled.
    EndpointDisabled(String),
}

/// Records an attempt on a claimed delivery: delivered; or scheduled again (or given up
/// past the retry window); an endpoint failing for longer than the policy allows is
/// disabled, with the reason its owner reads.
pub async fn record_attempt(
    db: &DatabaseConnection,
    delivery: &webhook_deliveries::Model,
    attempt: &Attempt,
    policy: &RetryPolicy,
    jitter: f64,
    now: DateTime<FixedOffset>,
) -> Result<Recorded, DbErr> {
    let txn = super::writes::begin(db).await?;
    let attempts = delivery.attempts + 1;
    let mut row = delivery.clone().into_active_model();
    row.attempts = Set(attempts);
    row.locked_until = Set(None);
    row.last_attempt_at = Set(Some(now));
    row.last_status = Set(attempt.status.map(i32::from));
    row.last_error = Set(attempt.error.clone());
    row.last_response = Set(attempt.response.clone());
    let webhook = webhooks::Entity::find_by_id(delivery.webhook_id)
        .one(&txn)
        .await?;
    let outcome = if attempt.succeeded() {
        row.status = Set(DELIVERED.to_owned());
        row.delivered_at = Set(Some(now));
        if let Some(webhook) = webhook.filter(|w| w.failing_since.is_some()) {
            let mut webhook = webhook.into_active_model();
            webhook.failing_since = Set(None);
            webhook.update(&txn).await?;
        }
        Recorded::Delivered
    } else {
        let mut outcome = if policy.gives_up(delivery.created_at, now) {
            row.status = Set(FAILED.to_owned());
            Recorded::GivenUp
        } else {
            let wait = policy.wait(
                u32::try_from(attempts).unwrap_or(u32::MAX),
                attempt.retry_after,
                jitter,
            );
            let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(6));
            row.next_attempt_at = Set(at);
            Recorded::RetryAt(at)
        };
        if let Some(webhook) = webhook {
            let since = webhook.failing_since.unwrap_or(now);
            let mut active = webhook.clone().into_active_model();
            if webhook.failing_since.is_none() {
                active.failing_since = Set(Some(now));
            }
            if webhook.enabled && policy.disables(since, now) {
                let reason = format!(
                    "disabled at {}: every attempt failed since {}; last: {}",
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    attempt.error.as_deref().unwrap_or("no answer")
                );
                active.enabled = Set(false);
                active.disabled_reason = Set(Some(reason.clone()));
                active.updated_at = Set(now);
                outcome = Recorded::EndpointDisabled(reason);
            }
            if active.is_changed() {
                active.update(&txn).await?;
            }
        }
        outcome
    };
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// What creating a webhook takes.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<EventType>,
    pub kinds: Vec<RecordKind>,
    pub owner_agency_id: Option<i32>,
    pub created_by: String,
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    serde_json::Value::from(items.iter().map(name).collect::<Vec<_>>()).to_string()
}

pub async fn create(
    db: &DatabaseConnection,
    new: NewWebhook,
    now: DateTime<FixedOffset>,
) -> Result<webhooks::Model, StoreError> {
    let secret = crate::domain::webhooks::new_secret().map_err(invalid)?;
    Ok(webhooks::ActiveModel {
        url: Set(new.url),
        description: Set(new.description),
        events: Set(names(&new.events, |e| e.as_str())),
        kinds: Set(names(&new.kinds, |k| k.as_str())),
        owner_agency_id: Set(new.owner_agency_id),
        created_by: Set(new.created_by),
        secret: Set(secret),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

fn invalid(error: WebhookError) -> StoreError {
    StoreError::Invalid(error.to_string())
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<EventType>>,
    pub kinds: Option<Vec<RecordKind>>,
    /// `true` re-enables a disabled endpoint (clearing why it was disabled).
    pub enabled: Option<bool>,
}

pub async fn update(
    db: &DatabaseConnection,
    webhook: webhooks::Model,
    patch: WebhookPatch,
    now: DateTime<FixedOffset>,
) -> Result<webhooks::Model, StoreError> {
    let mut active = webhook.into_active_model();
    if let Some(url) = patch.url {
        active.url = Set(url);
    }
    if let Some(description) = patch.description {
        active.description = Set(description);
    }
    if let Some(events) = patch.events {
        active.events = Set(names(&events, |e| e.as_str()));
    }
    if let Some(kinds) = patch.kinds {
        active.kinds = Set(names(&kinds, |k| k.as_str()));
    }
    match patch.enabled {
        Some(true) => {
            active.enabled = Set(true);
            active.disabled_reason = Set(None);
            active.failing_since = Set(None);
        }
        Some(false) => {
            active.enabled = Set(false);
            active.disabled_reason = Set(Some("disabled by its owner".into()));
        }
        None => {}
    }
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Replaces the signing secret; the old one keeps signing beside it for `overlap`, so
/// receivers can switch without losing a message.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    webhook: webhooks::Model,
    overlap: std::time::Duration,
    now: DateTime<FixedOffset>,
) -> Result<webhooks::Model, StoreError> {
    let secret = crate::domain::webhooks::new_secret().map_err(invalid)?;
    let until = now + chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::days(1));
    let mut active = webhook.clone().into_active_model();
    active.previous_secret = Set(Some(webhook.secret));
    active.previous_secret_until = Set(Some(until));
    active.secret = Set(secret);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Deletes an endpoint and its deliveries; false when there was none.
pub async fn delete(db: &DatabaseConnection, id: i32) -> Result<bool, StoreError> {
    let txn = super::writes::begin(db).await?;
    webhook_deliveries::Entity::delete_many()
        .filter(webhook_deliveries::Column::WebhookId.eq(id))
        .exec(&txn)
        .await?;
    let removed = webhooks::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(removed.rows_affected > 0)
}

/// The id of the agency with `code`, the owner of an agency's endpoint.
pub async fn agency_id(db: &DatabaseConnection, code: &str) -> Result<i32, StoreError> {
    agencies::Entity::find()
        .filter(agencies::Column::Code.eq(code.trim()))
        .one(db)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| StoreError::Invalid(format!("no agency has the code {code:?}")))
}

pub async fn find(db: &DatabaseConnection, id: i32) -> Result<Option<webhooks::Model>, StoreError> {
    Ok(webhooks::Entity::find_by_id(id).one(db).await?)
}

/// Endpoints in creation order: every one, or one agency's (`Some(None)`: admins' own).
pub async fn list(
    db: &DatabaseConnection,
    owner: Option<Option<i32>>,
) -> Result<Vec<webhooks::Model>, StoreError> {
    let mut query = webhooks::Entity::find().order_by_asc(webhooks::Column::Id);
    match owner {
        None => {}
        Some(Some(agency)) => query = query.filter(webhooks::Column::OwnerAgencyId.eq(agency)),
        Some(None) => query = query.filter(webhooks::Column::OwnerAgencyId.is_null()),
    }
    Ok(query.all(db).await?)
}

/// An endpoint's deliveries, newest first, before `before` (a delivery id).
pub async fn deliveries(
    db: &DatabaseConnection,
    webhook_id: i32,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<webhook_deliveries::Model>, StoreError> {
    let mut query = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::WebhookId.eq(webhook_id))
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::Column::Id.lt(before));
    }
    Ok(query.all(db).await?)
}

pub async fn delivery(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Option<webhook_deliveries::Model>, StoreError> {
    Ok(webhook_deliveries::Entity::find_by_id(id).one(db).await?)
}

/// Sends a delivery again soon, with the same message id (receivers deduplicate on it),
/// whatever became of it; its retry window starts again.
pub async fn redeliver(
    db: &DatabaseConnection,
    delivery: webhook_deliveries::Model,
    now: DateTime<FixedOffset>,
) -> Result<webhook_deliveries::Model, StoreError> {
    let mut active = delivery.into_active_model();
    active.status = Set(PENDING.to_owned());
    active.next_attempt_at = Set(now);
    active.locked_until = Set(None);
    active.created_at = Set(now);
    active.delivered_at = Set(None);
    Ok(active.update(db).await?)
}

/// Removes finished deliveries older than `before`; returns how many.
pub async fn prune_finished(
    db: &DatabaseConnection,
    before: DateTime<FixedOffset>,
) -> Result<u64, DbErr> {
    Ok(webhook_deliveries::Entity::delete_many()
        .filter(webhook_deliveries::Column::Status.ne(PENDING))
        .filter(webhook_deliveries::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::RecordRef;
    use crate::store::feed::RecordChange;

    fn reader(role: Role, agency: Option<(i32, &str)>) -> Caller {
        Caller::Token {
            token_id: 0,
            role,
            agency_id: agency.map(|a| a.0),
            agency_code: agency.map(|a| a.1.to_owned()),
        }
    }

    fn endpoint(reader: Caller, events: Vec<EventType>) -> Endpoint {
        Endpoint {
            id: 1,
            interest: Interest {
                events,
                kinds: vec![],
            },
            reader,
        }
    }

    fn entry(operation: ChangeOperation, kind: RecordKind, archived: bool) -> LoggedChange {
        LoggedChange {
            seq: 7,
            record: Some(RecordChange {
                record: RecordRef { kind, id: 3 },
                operation,
                version: 2,
                source: "agency:so-khcn".into(),
                owner_agency_id: Some(5),
                agency_only: kind == RecordKind::AnnualReport,
                archived,
                actor: "agency:so-khcn (token 4)".into(),
                task_code: (operation == ChangeOperation::Linked).then(|| "II.3".into()),
                at: chrono::Utc::now().fixed_offset(),
            }),
        }
    }

    #[test]
    fn changes_become_record_and_link_events() {
        let created = change_events(
            &entry(ChangeOperation::Created, RecordKind::OcopProduct, false),
            &[],
        );
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].event_type, EventType::RecordCreated);
        assert_eq!(created[0].key, "change:7");
        assert_eq!(created[0].data["id"], "OcopProduct:3");
        assert_eq!(created[0].data["sequence"], "7");
        let linked = change_events(
            &entry(ChangeOperation::Linked, RecordKind::OcopProduct, false),
            &[],
        );
        assert_eq!(linked[0].event_type, EventType::LinkCreated);
        assert_eq!(linked[0].data["task"], "II.3");
        let payload: serde_json::Value = serde_json::from_str(&linked[0].payload()).unwrap();
        assert_eq!(payload["type"], "link.created");
        assert!(payload["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn a_submitted_report_is_announced_once_per_report() {
        let change = entry(ChangeOperation::Updated, RecordKind::AnnualReport, false);
        let events = change_events(&change, &[3]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].event_type, EventType::ReportSubmitted);
        assert_eq!(events[1].key, "report.submitted:3");
        assert_eq!(change_events(&change, &[]).len(), 1);
    }

    #[test]
    fn endpoints_receive_what_their_owner_may_read() {
        let every = EventType::ALL.to_vec();
        let admin = endpoint(reader(Role::Admin, None), every.clone());
        let owner = endpoint(reader(Role::Agency, Some((5, "so-khcn"))), every.clone());
        let other = endpoint(reader(Role::Agency, Some((6, "so-nn"))), every);
        let live = &change_events(
            &entry(ChangeOperation::Updated, RecordKind::Startup, false),
            &[],
        )[0];
        let archived = &change_events(
            &entry(ChangeOperation::Archived, RecordKind::Startup, true),
            &[],
        )[0];
        assert!(admin.receives(live) && owner.receives(live) && other.receives(live));
        assert!(admin.receives(archived) && owner.receives(archived));
        assert!(!other.receives(archived));
        let due = Event {
            event_type: EventType::ReportDue,
            key: "k".into(),
            kind: Some(RecordKind::AnnualReport),
            audience: Audience::Agency(5),
            data: json!({}),
            at: chrono::Utc::now().fixed_offset(),
        };
        assert!(admin.receives(&due) && owner.receives(&due) && !other.receives(&due));
        let failed = Event {
            event_type: EventType::ConnectorRunFailed,
            audience: Audience::Admins,
            ..due
        };
        assert!(admin.receives(&failed) && !owner.receives(&failed));
    }

    #[test]
    fn only_successful_statuses_deliver() {
        let attempt = |status, error: Option<&str>| Attempt {
            status,
            error: error.map(str::to_owned),
            response: None,
            retry_after: None,
        };
        assert!(attempt(Some(204), None).succeeded());
        assert!(!attempt(Some(500), Some("HTTP 500")).succeeded());
        assert!(!attempt(Some(301), Some("redirects are not followed")).succeeded());
        assert!(!attempt(None, Some("timed out")).succeeded());
    }
}
