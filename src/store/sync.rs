//! Connector bookkeeping and batched writes: per-connector state (watermark, cursor,
//! failures, pause), runs, quarantined rows, and one page of records upserted in a few
//! statements (one look-up, multi-row inserts, one touch of unchanged rows).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::StoreError;
use super::batch::rows_per_insert;
use super::feed::{ChangeOperation, RecordChange};
use super::writes::{
    self, Action, Origin, Target, WriteError, WriteRow, all_set, change, diff, snapshot,
};
use crate::db::entities::{RecordModel, audit_log, connector_state, quarantine, sync_runs};
use crate::domain::records::RecordRef;
use crate::domain::scope::Writer;
use crate::records::Kind;
use crate::records::draft::Draft;

// ---------------------------------------------------------------------------------------
// State, runs, quarantine
// ---------------------------------------------------------------------------------------

/// A connector's state, created on first use.
pub async fn state<C: ConnectionTrait>(
    db: &C,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<connector_state::Model, DbErr> {
    if let Some(found) = connector_state::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return Ok(found);
    }
    let fresh = connector_state::ActiveModel {
        name: Set(name.to_owned()),
        watermark: Set(None),
        cursor: Set(None),
        etag: Set(None),
        last_modified: Set(None),
        snapshot_started_at: Set(None),
        consecutive_failures: Set(0),
        paused: Set(false),
        paused_reason: Set(None),
        running_since: Set(None),
        updated_at: Set(now),
    };
    connector_state::Entity::insert(fresh)
        .on_conflict(
            OnConflict::column(connector_state::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    connector_state::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("connector state {name}")))
}

/// Every connector's state.
pub async fn states(db: &DatabaseConnection) -> Result<Vec<connector_state::Model>, StoreError> {
    Ok(connector_state::Entity::find().all(db).await?)
}

/// How long a claim stands without being renewed before it is taken to be a dead
/// replica's: a running replica renews it every [`heartbeat`] and with every page.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(45);

/// How often a run renews its claim: a third of the lease, so two renewals may be late.
pub fn heartbeat(lease: std::time::Duration) -> std::time::Duration {
    (lease / 3).max(std::time::Duration::from_millis(100))
}

fn expired_before(now: DateTime<FixedOffset>, lease: std::time::Duration) -> DateTime<FixedOffset> {
    now - chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX)
}

/// Claims the connector for one run; false when a live run holds it. A claim not renewed
/// within `lease` is a dead replica's and is taken over.
pub async fn claim(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
    lease: std::time::Duration,
) -> Result<bool, StoreError> {
    state(db, name, now).await?;
    let result = connector_state::Entity::update_many()
        .col_expr(connector_state::Column::RunningSince, Expr::val(now))
        .filter(connector_state::Column::Name.eq(name))
        .filter(
            sea_orm::Condition::any()
                .add(connector_state::Column::RunningSince.is_null())
                .add(connector_state::Column::RunningSince.lt(expired_before(now, lease))),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Renews a held claim (the run's heartbeat); a released claim stays released.
pub async fn renew(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    connector_state::Entity::update_many()
        .col_expr(connector_state::Column::RunningSince, Expr::val(now))
        .filter(connector_state::Column::Name.eq(name))
        .filter(connector_state::Column::RunningSince.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Whether a run holds a claim its replica stopped renewing: that run died mid-way and
/// another replica should take it over.
pub async fn abandoned(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
    lease: std::time::Duration,
) -> Result<bool, StoreError> {
    let state = state(db, name, now).await?;
    Ok(state
        .running_since
        .is_some_and(|since| since < expired_before(now, lease)))
}

/// Closes the runs a dead replica left open (called by the run that took the claim over).
pub async fn close_abandoned_runs(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<u64, StoreError> {
    let closed = sync_runs::Entity::update_many()
        .col_expr(sync_runs::Column::Status, Expr::val("FAILED"))
        .col_expr(
            sync_runs::Column::Error,
            Expr::val("abandoned: the replica running it stopped; another run took over from its last committed page"),
        )
        .col_expr(sync_runs::Column::FinishedAt, Expr::val(now))
        .filter(sync_runs::Column::Connector.eq(name))
        .filter(sync_runs::Column::FinishedAt.is_null())
        .exec(db)
        .await?;
    Ok(closed.rows_affected)
}

/// Saves where the next page starts, in the transaction that committed this page.
pub async fn save_progress<C: ConnectionTrait>(
    db: &C,
    name: &str,
    cursor: Option<&str>,
    watermark: Option<&str>,
    snapshot_started_at: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    let mut update = connector_state::Entity::update_many()
        .col_expr(
            connector_state::Column::Cursor,
            Expr::val(cursor.map(str::to_owned)),
        )
        .col_expr(
            connector_state::Column::SnapshotStartedAt,
            Expr::val(snapshot_started_at),
        )
        .col_expr(connector_state::Column::UpdatedAt, Expr::val(now))
        // The run is alive: renew its claim.
        .col_expr(connector_state::Column::RunningSince, Expr::val(now));
    if let Some(watermark) = watermark {
        update = update.col_expr(
            connector_state::Column::Watermark,
            Expr::val(watermark.to_owned()),
        );
    }
    update
        .filter(connector_state::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

/// Keeps the validators (`ETag`, `Last-Modified`) of a completely read file, for the
/// next conditional download.
pub async fn save_validators(
    db: &DatabaseConnection,
    name: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<(), StoreError> {
    connector_state::Entity::update_many()
        .col_expr(connector_state::Column::Etag, Expr::val(etag))
        .col_expr(
            connector_state::Column::LastModified,
            Expr::val(last_modified),
        )
        .filter(connector_state::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends a run: releases the claim, counts failures and pauses after too many.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    name: &str,
    succeeded: bool,
    pause_after: u32,
    error: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<connector_state::Model, StoreError> {
    let current = state(db, name, now).await?;
    let failures = if succeeded {
        0
    } else {
        current.consecutive_failures + 1
    };
    let pause = !succeeded && failures >= pause_after as i32;
    let mut active: connector_state::ActiveModel = current.clone().into();
    active.running_since = Set(None);
    active.consecutive_failures = Set(failures);
    active.updated_at = Set(now);
    if succeeded {
        active.paused = Set(false);
        active.paused_reason = Set(None);
    } else if pause {
        active.paused = Set(true);
        active.paused_reason = Set(Some(format!(
            "paused after {failures} failed runs in a row; last error: {}",
            error.unwrap_or("unknown")
        )));
    }
    Ok(active.update(db).await?)
}

/// Lets go of a connector's claim without judging the run (it was interrupted).
pub async fn release(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    connector_state::Entity::update_many()
        .col_expr(
            connector_state::Column::RunningSince,
            Expr::val(Option::<DateTime<FixedOffset>>::None),
        )
        .col_expr(connector_state::Column::UpdatedAt, Expr::val(now))
        .filter(connector_state::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

/// Lifts a pause (an admin's decision).
pub async fn resume(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    state(db, name, now).await?;
    connector_state::Entity::update_many()
        .col_expr(connector_state::Column::Paused, Expr::val(false))
        .col_expr(
            connector_state::Column::PausedReason,
            Expr::val(Option::<String>::None),
        )
        .col_expr(connector_state::Column::ConsecutiveFailures, Expr::val(0))
        .filter(connector_state::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the incremental state, so the next run starts from the beginning.
pub async fn reset_position(db: &DatabaseConnection, name: &str) -> Result<(), StoreError> {
    connector_state::Entity::update_many()
        .col_expr(
            connector_state::Column::Cursor,
            Expr::val(Option::<String>::None),
        )
        .col_expr(
            connector_state::Column::SnapshotStartedAt,
            Expr::val(Option::<DateTime<FixedOffset>>::None),
        )
        .filter(connector_state::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn start_run(
    db: &DatabaseConnection,
    name: &str,
    trigger: &str,
    now: DateTime<FixedOffset>,
) -> Result<sync_runs::Model, StoreError> {
    Ok(sync_runs::ActiveModel {
        connector: Set(name.to_owned()),
        trigger: Set(trigger.to_owned()),
        status: Set("RUNNING".into()),
        started_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// What a run has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub withdrawn: i64,
    pub quarantined: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.fetched += other.fetched;
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.withdrawn += other.withdrawn;
        self.quarantined += other.quarantined;
    }
}

pub async fn update_run<C: ConnectionTrait>(
    db: &C,
    id: i32,
    counts: Counts,
    status: Option<&str>,
    error: Option<&str>,
    finished_at: Option<DateTime<FixedOffset>>,
) -> Result<(), DbErr> {
    let mut update = sync_runs::Entity::update_many()
        .col_expr(sync_runs::Column::Fetched, Expr::val(counts.fetched))
        .col_expr(sync_runs::Column::Created, Expr::val(counts.created))
        .col_expr(sync_runs::Column::Updated, Expr::val(counts.updated))
        .col_expr(sync_runs::Column::Unchanged, Expr::val(counts.unchanged))
        .col_expr(sync_runs::Column::Withdrawn, Expr::val(counts.withdrawn))
        .col_expr(
            sync_runs::Column::Quarantined,
            Expr::val(counts.quarantined),
        );
    if let Some(status) = status {
        update = update.col_expr(sync_runs::Column::Status, Expr::val(status.to_owned()));
    }
    if let Some(error) = error {
        update = update.col_expr(sync_runs::Column::Error, Expr::val(error.to_owned()));
    }
    if let Some(at) = finished_at {
        update = update.col_expr(sync_runs::Column::FinishedAt, Expr::val(at));
    }
    update.filter(sync_runs::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// A connector's runs, newest first, after the cursor id.
pub async fn runs(
    db: &DatabaseConnection,
    connector: Option<&str>,
    before_id: Option<i32>,
    limit: u64,
) -> Result<Vec<sync_runs::Model>, StoreError> {
    let mut select = sync_runs::Entity::find().order_by_desc(sync_runs::Column::Id);
    if let Some(name) = connector {
        select = select.filter(sync_runs::Column::Connector.eq(name));
    }
    if let Some(id) = before_id {
        select = select.filter(sync_runs::Column::Id.lt(id));
    }
    Ok(select.limit(limit).all(db).await?)
}

/// The latest run of each named connector.
pub async fn last_runs(
    db: &DatabaseConnection,
    names: &[String],
) -> Result<HashMap<String, sync_runs::Model>, StoreError> {
    let mut found = HashMap::new();
    for name in names {
        if let Some(run) = runs(db, Some(name), None, 1).await?.into_iter().next() {
            found.insert(name.clone(), run);
        }
    }
    Ok(found)
}

/// A row a connector could not use.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub position: String,
    pub external_id: Option<String>,
    pub reason: String,
    pub payload: String,
}

pub async fn quarantine_rows<C: ConnectionTrait>(
    db: &C,
    connector: &str,
    run_id: i32,
    rows: Vec<Rejected>,
    now: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(rows_per_insert(8)) {
        quarantine::Entity::insert_many(chunk.iter().map(|row| quarantine::ActiveModel {
            connector: Set(connector.to_owned()),
            run_id: Set(run_id),
            position: Set(row.position.clone()),
            external_id: Set(row.external_id.clone()),
            reason: Set(row.reason.clone()),
            payload: Set(row.payload.clone()),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

pub async fn quarantined(
    db: &DatabaseConnection,
    connector: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<quarantine::Model>, StoreError> {
    let mut select = quarantine::Entity::find().order_by_desc(quarantine::Column::Id);
    if let Some(name) = connector {
        select = select.filter(quarantine::Column::Connector.eq(name));
    }
    if let Some(id) = before_id {
        select = select.filter(quarantine::Column::Id.lt(id));
    }
    Ok(select.limit(limit).all(db).await?)
}

pub async fn count_quarantined(
    db: &DatabaseConnection,
    connector: &str,
) -> Result<u64, StoreError> {
    Ok(quarantine::Entity::find()
        .filter(quarantine::Column::Connector.eq(connector))
        .count(db)
        .await?)
}

// ---------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------

/// One valid row of a page.
#[derive(Debug)]
pub struct StagedRow<C> {
    pub external_id: String,
    pub draft: Draft<C>,
    /// Plan tasks (ids) the row is to be linked to.
    pub task_ids: Vec<i32>,
}

/// What writing a page did, and the changes to publish once it commits.
#[derive(Debug, Default)]
pub struct PageOutcome {
    pub counts: Counts,
    pub changes: Vec<RecordChange>,
}

/// A page's rows with one row per key: the last row of a key wins, and the support
/// events and task links of every row of the key are kept.
fn one_row_per_key<C>(rows: Vec<StagedRow<C>>) -> Vec<StagedRow<C>> {
    let mut order: Vec<String> = Vec::new();
    let mut by_key: HashMap<String, StagedRow<C>> = HashMap::new();
    for row in rows {
        match by_key.get_mut(&row.external_id) {
            Some(existing) => {
                let mut events = existing.draft.support_events.take().unwrap_or_default();
                for event in row.draft.support_events.iter().flatten() {
                    if !events.contains(event) {
                        events.push(event.clone());
                    }
                }
                let mut tasks = std::mem::take(&mut existing.task_ids);
                tasks.extend(row.task_ids.iter().copied());
                *existing = row;
                existing.task_ids = tasks;
                existing.draft.support_events = Some(events).filter(|e| !e.is_empty());
            }
            None => {
                order.push(row.external_id.clone());
                by_key.insert(row.external_id.clone(), row);
            }
        }
    }
    order.iter().filter_map(|key| by_key.remove(key)).collect()
}

/// Upserts one page of a connector's records on (connector, external id) through the
/// write engine: new records are inserted, changed ones updated (and un-withdrawn),
/// unchanged ones only stamped as seen; every write is audited.
pub async fn apply_page<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    rows: Vec<StagedRow<K::Content>>,
    now: DateTime<FixedOffset>,
) -> Result<PageOutcome, WriteError> {
    let rows = one_row_per_key(rows)
        .into_iter()
        .map(|row| WriteRow {
            target: Target::External(row.external_id),
            draft: row.draft,
            task_ids: row.task_ids,
        })
        .collect();
    let applied = writes::apply::<K>(txn, writer, rows, Origin::Registry, now).await?;
    let mut counts = Counts::default();
    for row in &applied.rows {
        match row.action {
            Action::Created => counts.created += 1,
            Action::Updated => counts.updated += 1,
            Action::Unchanged => counts.unchanged += 1,
            Action::Archived => {}
        }
    }
    Ok(PageOutcome {
        counts,
        changes: applied.changes,
    })
}

/// Marks the connector's records not seen since `snapshot_started_at` as withdrawn (they
/// left the registry's snapshot); they are kept, not deleted.
pub async fn withdraw_unseen<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    snapshot_started_at: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Result<(i64, Vec<RecordChange>), DbErr> {
    let source = writer.source();
    let gone = <K::Entity as EntityTrait>::find()
        .filter(Expr::col(Alias::new("source")).eq(source.as_str()))
        .filter(Expr::col(Alias::new("withdrawn_at")).is_null())
        .filter(Expr::col(Alias::new("archived_at")).is_null())
        .filter(
            sea_orm::Condition::any()
                .add(Expr::col(Alias::new("fetched_at")).is_null())
                .add(Expr::col(Alias::new("fetched_at")).lt(snapshot_started_at)),
        )
        .all(txn)
        .await?;
    let mut changes = Vec::new();
    let mut audit_rows = Vec::new();
    for before in &gone {
        let mut after = before.clone();
        let mut provenance = after.provenance();
        provenance.withdrawn_at = Some(now);
        provenance.updated_at = now;
        provenance.version += 1;
        after.set_provenance(provenance.clone());
        <K::Entity as EntityTrait>::update_many()
            .set(all_set(after.clone()))
            .filter(Expr::col(Alias::new("id")).eq(provenance.id))
            .exec(txn)
            .await?;
        audit_rows.push(audit_log::ActiveModel {
            occurred_at: Set(now),
            actor: Set(writer.actor()),
            operation: Set("WITHDRAW".into()),
            record_kind: Set(Some(K::SPEC.kind.as_str().to_owned())),
            record_id: Set(Some(provenance.id)),
            before: Set(Some(snapshot(before, None).to_string())),
            after: Set(Some(snapshot(&after, None).to_string())),
            ..Default::default()
        });
        changes.push(change::<K>(&after, ChangeOperation::Updated, writer, now));
    }
    for chunk in audit_rows.chunks(rows_per_insert(12)) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    let withdrawn: Vec<K::Model> = gone
        .iter()
        .map(|before| {
            let mut after = before.clone();
            let mut provenance = after.provenance();
            provenance.withdrawn_at = Some(now);
            after.set_provenance(provenance);
            after
        })
        .collect();
    super::search::index_records::<K, _>(txn, &withdrawn).await?;
    Ok((gone.len() as i64, changes))
}

/// On PostgreSQL, lets a sync page's commit return before its WAL reaches the disk. A
/// crash can then lose the last pages, but each page carries its own cursor and
/// watermark, so what is lost is fetched again; nothing is ever half-written.
pub async fn relax_commit(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
            .await?;
    }
    Ok(())
}

/// Two records of one kind that different sources publish under the same external id,
/// and the content fields on which they disagree.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub external_id: String,
    pub first: (RecordRef, String),
    pub second: (RecordRef, String),
    pub changes: Vec<writes::FieldChange>,
}

/// Records of kind `M` that two sources publish under the same external id with
/// different values. Both are kept, each with its provenance; this lists them.
pub async fn conflicts<K: Kind>(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<Conflict>, StoreError> {
    let table = K::SPEC.table;
    let sql = format!(
        "SELECT a.id AS first, b.id AS second FROM {table} a JOIN {table} b \
         ON a.external_id = b.external_id AND a.source < b.source \
         WHERE a.archived_at IS NULL AND b.archived_at IS NULL \
         ORDER BY a.external_id, a.id, b.id LIMIT {}",
        // Pairs with equal values are dropped below; look further than asked.
        Ord::max(limit.saturating_mul(4), 100)
    );
    let pairs: Vec<(i32, i32)> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .into_iter()
        .filter_map(|row| {
            Some((
                row.try_get::<i32>("", "first").ok()?,
                row.try_get::<i32>("", "second").ok()?,
            ))
        })
        .collect();
    let mut found = Vec::new();
    for (first, second) in pairs {
        let (Some(a), Some(b)) = (
            writes::by_id::<K, _>(db, first).await?,
            writes::by_id::<K, _>(db, second).await?,
        ) else {
            continue;
        };
        let changes = diff(&snapshot(&a, None), &snapshot(&b, None));
        if changes.is_empty() {
            continue;
        }
        let (pa, pb) = (a.provenance(), b.provenance());
        found.push(Conflict {
            external_id: pa.external_id.clone().unwrap_or_default(),
            first: (writes::reference::<K>(&a), pa.source),
            second: (writes::reference::<K>(&b), pb.source),
            changes,
        });
        if found.len() as u64 >= limit {
            break;
        }
    }
    Ok(found)
}
