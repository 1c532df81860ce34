//! Connector bookkeeping and batched writes: per-connector state (watermark, cursor,
//! failures, pause), runs, quarantined rows, and one page of records upserted in a few
//! statements (one look-up, multi-row inserts, one touch of unchanged rows).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, Iterable, PaginatorTrait, PrimaryKeyToColumn,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::StoreError;
use super::feed::{ChangeOperation, RecordChange};
use super::writes::{
    Draft, OrganisationDraft, SupportEventDraft, Writable, all_set, change, diff, snapshot,
};
use crate::db::entities::{
    audit_log, connector_state, organisations, quarantine, record_links, startup_support_events,
    sync_runs,
};
use crate::domain::records::RecordRef;
use crate::domain::scope::Writer;
use crate::domain::text::search_key;

/// Bound parameters one statement may carry: under SQLite's 32,766 (PostgreSQL allows
/// 65,535). Fewer, larger statements mean fewer round trips per page.
const MAX_PARAMS: usize = 30_000;

/// Values per `IN (…)` list.
const CHUNK: usize = 2_000;

/// Rows per multi-row insert into a table of `columns` columns.
fn rows_per_insert(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).clamp(1, CHUNK)
}

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

/// How long a claim may stand without a committed page before it is taken to be a
/// crashed run's (every page renews it; a page's requests time out well before this).
pub const STALE_CLAIM: chrono::Duration = chrono::Duration::minutes(15);

/// Claims the connector for one run; false when another run holds it.
pub async fn claim(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<bool, StoreError> {
    state(db, name, now).await?;
    let result = connector_state::Entity::update_many()
        .col_expr(connector_state::Column::RunningSince, Expr::val(now))
        .filter(connector_state::Column::Name.eq(name))
        .filter(
            sea_orm::Condition::any()
                .add(connector_state::Column::RunningSince.is_null())
                .add(connector_state::Column::RunningSince.lt(now - STALE_CLAIM)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
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

/// Keeps the validators of a completely read file, for the next conditional download.
pub async fn save_validators(
    db: &DatabaseConnection,
    name: &str,
    validators: &crate::sync::http::Validators,
) -> Result<(), StoreError> {
    connector_state::Entity::update_many()
        .col_expr(
            connector_state::Column::Etag,
            Expr::val(validators.etag.clone()),
        )
        .col_expr(
            connector_state::Column::LastModified,
            Expr::val(validators.last_modified.clone()),
        )
        .filter(connector_state::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends a run: releases the claim, counts failures and pauses after too many.
pub async fn finish(
    db: &DatabaseConnection,
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
// Batched upserts
// ---------------------------------------------------------------------------------------

/// One valid row of a page.
#[derive(Debug)]
pub struct StagedRow<M> {
    pub external_id: String,
    pub draft: Draft<M>,
    /// Plan tasks (ids) the row is to be linked to.
    pub task_ids: Vec<i32>,
}

/// What writing a page did, and the changes to publish once it commits.
#[derive(Debug, Default)]
pub struct PageOutcome {
    pub counts: Counts,
    pub changes: Vec<RecordChange>,
}

/// Ids of the organisations the drafts name, creating the new ones.
pub(crate) async fn resolve_organisations(
    txn: &DatabaseTransaction,
    drafts: &[&OrganisationDraft],
    source: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<i32>, DbErr> {
    use organisations::Column;
    let tax_codes: HashSet<&str> = drafts
        .iter()
        .filter_map(|d| d.tax_code.as_deref())
        .collect();
    let keys: HashSet<String> = drafts
        .iter()
        .filter(|d| d.tax_code.is_none())
        .map(|d| search_key(&d.name))
        .collect();
    let mut by_tax: HashMap<String, i32> = HashMap::new();
    let mut by_key: HashMap<String, i32> = HashMap::new();
    let load = |tax: Vec<String>, key: Vec<String>| async move {
        let mut found = Vec::new();
        for chunk in tax.chunks(CHUNK) {
            found.extend(
                organisations::Entity::find()
                    .filter(Column::TaxCode.is_in(chunk.iter().cloned()))
                    .all(txn)
                    .await?,
            );
        }
        for chunk in key.chunks(CHUNK) {
            found.extend(
                organisations::Entity::find()
                    .filter(Column::SearchKey.is_in(chunk.iter().cloned()))
                    .order_by_asc(Column::Id)
                    .all(txn)
                    .await?,
            );
        }
        Ok::<_, DbErr>(found)
    };
    let tax_list: Vec<String> = tax_codes.iter().map(|t| (*t).to_owned()).collect();
    let key_list: Vec<String> = keys.iter().cloned().collect();
    for row in load(tax_list.clone(), key_list.clone()).await? {
        if let Some(tax) = &row.tax_code {
            by_tax.entry(tax.clone()).or_insert(row.id);
        }
        by_key.entry(row.search_key.clone()).or_insert(row.id);
    }
    let mut new_rows = Vec::new();
    let mut planned: HashSet<String> = HashSet::new();
    for draft in drafts {
        let (known, token) = match &draft.tax_code {
            Some(tax) => (by_tax.contains_key(tax), format!("t:{tax}")),
            None => (
                by_key.contains_key(&search_key(&draft.name)),
                format!("k:{}", search_key(&draft.name)),
            ),
        };
        if !known && planned.insert(token) {
            new_rows.push(organisations::ActiveModel {
                name: Set(draft.name.clone()),
                tax_code: Set(draft.tax_code.clone()),
                kind: Set(draft.kind.clone()),
                district: Set(draft.district.clone()),
                commune: Set(draft.commune.clone()),
                source: Set(source.to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
                search_key: Set(search_key(&draft.name)),
                ..Default::default()
            });
        }
    }
    if !new_rows.is_empty() {
        for chunk in new_rows.chunks(rows_per_insert(10)) {
            organisations::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
        for row in load(tax_list, key_list).await? {
            if let Some(tax) = &row.tax_code {
                by_tax.entry(tax.clone()).or_insert(row.id);
            }
            by_key.entry(row.search_key.clone()).or_insert(row.id);
        }
    }
    drafts
        .iter()
        .map(|draft| {
            let id = match &draft.tax_code {
                Some(tax) => by_tax.get(tax),
                None => by_key.get(&search_key(&draft.name)),
            };
            id.copied()
                .ok_or_else(|| DbErr::RecordNotFound(format!("organisation {}", draft.name)))
        })
        .collect()
}

/// Upserts one page of a connector's records on (connector, external id): new records
/// are inserted, changed ones updated (and un-withdrawn), unchanged ones only stamped
/// as seen; every write is audited. Startups' support events are merged, not replaced,
/// since a registry lists one support event per row.
pub async fn apply_page<M: Writable>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    rows: Vec<StagedRow<M>>,
    now: DateTime<FixedOffset>,
) -> Result<PageOutcome, DbErr> {
    let source = writer.source();
    // The last row of a key wins; support events of every row of the key are kept.
    let mut order: Vec<String> = Vec::new();
    let mut by_key: HashMap<String, StagedRow<M>> = HashMap::new();
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
    let mut rows: Vec<StagedRow<M>> = order.iter().filter_map(|key| by_key.remove(key)).collect();

    // Organisations, in one look-up (and one insert for the new ones).
    let organisation_drafts: Vec<&OrganisationDraft> = rows
        .iter()
        .filter_map(|r| r.draft.organisation.as_ref())
        .collect();
    if !organisation_drafts.is_empty() {
        let ids = resolve_organisations(txn, &organisation_drafts, &source, now).await?;
        let mut ids = ids.into_iter();
        for row in rows.iter_mut().filter(|r| r.draft.organisation.is_some()) {
            row.draft.model.set_organisation(ids.next());
        }
    }

    // What this connector already has of these keys.
    let mut existing: HashMap<String, M> = HashMap::new();
    let keys: Vec<String> = rows.iter().map(|r| r.external_id.clone()).collect();
    for chunk in keys.chunks(CHUNK) {
        let found = <M::Entity as EntityTrait>::find()
            .filter(Expr::col(Alias::new("source")).eq(source.as_str()))
            .filter(Expr::col(Alias::new("external_id")).is_in(chunk.iter().cloned()))
            .all(txn)
            .await?;
        for model in found {
            if let Some(key) = model.provenance().external_id.clone() {
                existing.insert(key, model);
            }
        }
    }
    let startup_ids: Vec<i32> = existing.values().map(|m| m.provenance().id).collect();
    let mut old_events: HashMap<i32, Vec<SupportEventDraft>> = HashMap::new();
    if M::KIND == crate::domain::records::RecordKind::Startup && !startup_ids.is_empty() {
        for chunk in startup_ids.chunks(CHUNK) {
            for event in startup_support_events::Entity::find()
                .filter(startup_support_events::Column::StartupId.is_in(chunk.iter().copied()))
                .order_by_asc(startup_support_events::Column::Id)
                .all(txn)
                .await?
            {
                old_events
                    .entry(event.startup_id)
                    .or_default()
                    .push(SupportEventDraft {
                        year: event.year,
                        kind: event.kind,
                        amount_vnd: event.amount_vnd,
                        agency_id: event.agency_id,
                        note: event.note,
                    });
            }
        }
    }

    let mut outcome = PageOutcome::default();
    let mut audit_rows: Vec<audit_log::ActiveModel> = Vec::new();
    let mut new_models: Vec<(M, StagedRow<M>)> = Vec::new();
    let mut seen_unchanged: Vec<i32> = Vec::new();
    let mut new_events: Vec<(i32, SupportEventDraft)> = Vec::new();
    let mut links: Vec<(i32, i32)> = Vec::new();
    let actor = writer.actor();
    let audit =
        |operation: &str, id: i32, before: Option<String>, after: String| audit_log::ActiveModel {
            occurred_at: Set(now),
            token_id: Set(None),
            agency_id: Set(None),
            actor: Set(actor.clone()),
            operation: Set(operation.to_owned()),
            record_kind: Set(Some(M::KIND.as_str().to_owned())),
            record_id: Set(Some(id)),
            task_code: Set(None),
            before: Set(before),
            after: Set(Some(after)),
            ..Default::default()
        };

    for row in rows {
        let Some(before) = existing.remove(&row.external_id) else {
            let mut model = row.draft.model.clone();
            let mut provenance = model.provenance();
            provenance.id = 0;
            provenance.source = source.clone();
            provenance.external_id = Some(row.external_id.clone());
            provenance.fetched_at = Some(now);
            provenance.created_at = now;
            provenance.updated_at = now;
            provenance.version = 1;
            provenance.archived_at = None;
            provenance.withdrawn_at = None;
            model.set_provenance(provenance);
            model.set_search_key(model.compute_search_key());
            new_models.push((model, row));
            continue;
        };
        let provenance = before.provenance();
        let old = old_events.get(&provenance.id).cloned().unwrap_or_default();
        let merged_events = row.draft.support_events.as_ref().map(|events| {
            let mut merged = old.clone();
            for event in events {
                if !merged.contains(event) {
                    merged.push(event.clone());
                }
            }
            merged
        });
        let mut after = row.draft.model.clone();
        after.set_provenance(provenance.clone());
        after.set_search_key(after.compute_search_key());
        let before_json = snapshot(&before, merged_events.as_ref().map(|_| old.as_slice()));
        let after_json = snapshot(&after, merged_events.as_deref());
        let changes = diff(&before_json, &after_json);
        for task in &row.task_ids {
            links.push((*task, provenance.id));
        }
        if changes.is_empty() && provenance.withdrawn_at.is_none() {
            seen_unchanged.push(provenance.id);
            outcome.counts.unchanged += 1;
            continue;
        }
        let mut updated = after;
        let mut next = provenance.clone();
        next.fetched_at = Some(now);
        next.updated_at = now;
        next.withdrawn_at = None;
        next.version += 1;
        updated.set_provenance(next);
        <M::Entity as EntityTrait>::update_many()
            .set(all_set(updated.clone()))
            .filter(Expr::col(Alias::new("id")).eq(provenance.id))
            .exec(txn)
            .await?;
        if let Some(events) = &merged_events {
            for event in events.iter().filter(|e| !old.contains(e)) {
                new_events.push((provenance.id, event.clone()));
            }
        }
        audit_rows.push(audit(
            ChangeOperation::Updated.as_str(),
            provenance.id,
            Some(before_json.to_string()),
            snapshot(&updated, merged_events.as_deref()).to_string(),
        ));
        outcome
            .changes
            .push(change(&updated, ChangeOperation::Updated, writer, now));
        outcome.counts.updated += 1;
    }

    // New records: multi-row inserts, then one look-up for their ids.
    if !new_models.is_empty() {
        let per_insert =
            rows_per_insert(<<M::Entity as EntityTrait>::Column as Iterable>::iter().count());
        for chunk in new_models.chunks(per_insert) {
            let actives = chunk.iter().map(|(model, _)| {
                let mut active = all_set(model.clone());
                for key in <<M::Entity as EntityTrait>::PrimaryKey as Iterable>::iter() {
                    active.not_set(key.into_column());
                }
                active
            });
            <M::Entity as EntityTrait>::insert_many(actives)
                .exec_without_returning(txn)
                .await?;
        }
        let mut ids: HashMap<String, i32> = HashMap::new();
        let keys: Vec<String> = new_models
            .iter()
            .map(|(_, r)| r.external_id.clone())
            .collect();
        for chunk in keys.chunks(CHUNK) {
            let found: Vec<(i32, Option<String>)> = <M::Entity as EntityTrait>::find()
                .select_only()
                .column_as(Expr::col(Alias::new("id")), "id")
                .column_as(Expr::col(Alias::new("external_id")), "external_id")
                .filter(Expr::col(Alias::new("source")).eq(source.as_str()))
                .filter(Expr::col(Alias::new("external_id")).is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(txn)
                .await?;
            ids.extend(found.into_iter().filter_map(|(id, key)| Some((key?, id))));
        }
        for (mut model, row) in new_models {
            let Some(id) = ids.get(&row.external_id).copied() else {
                return Err(DbErr::RecordNotInserted);
            };
            let mut provenance = model.provenance();
            provenance.id = id;
            model.set_provenance(provenance);
            for event in row.draft.support_events.iter().flatten() {
                new_events.push((id, event.clone()));
            }
            for task in &row.task_ids {
                links.push((*task, id));
            }
            // Straight to text: a first sync writes many of these.
            let after = match row.draft.support_events.as_deref() {
                Some(events) => snapshot(&model, Some(events)).to_string(),
                None => serde_json::to_string(&model).unwrap_or_default(),
            };
            audit_rows.push(audit(ChangeOperation::Created.as_str(), id, None, after));
            outcome
                .changes
                .push(change(&model, ChangeOperation::Created, writer, now));
            outcome.counts.created += 1;
        }
    }

    // Unchanged records are only stamped as seen in this run.
    for chunk in seen_unchanged.chunks(CHUNK) {
        <M::Entity as EntityTrait>::update_many()
            .col_expr(Alias::new("fetched_at"), Expr::val(now))
            .filter(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    for chunk in new_events.chunks(rows_per_insert(7)) {
        startup_support_events::Entity::insert_many(chunk.iter().map(|(id, event)| {
            startup_support_events::ActiveModel {
                startup_id: Set(*id),
                year: Set(event.year),
                kind: Set(event.kind.clone()),
                amount_vnd: Set(event.amount_vnd),
                agency_id: Set(event.agency_id),
                note: Set(event.note.clone()),
                ..Default::default()
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    for chunk in links.chunks(rows_per_insert(6)) {
        record_links::Entity::insert_many(chunk.iter().map(|(task, id)| {
            record_links::ActiveModel {
                task_id: Set(*task),
                record_kind: Set(M::KIND.as_str().to_owned()),
                record_id: Set(*id),
                linked_by: Set(source.clone()),
                linked_at: Set(now),
                ..Default::default()
            }
        }))
        .on_conflict(
            OnConflict::columns([
                record_links::Column::TaskId,
                record_links::Column::RecordKind,
                record_links::Column::RecordId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    for chunk in audit_rows.chunks(rows_per_insert(12)) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(outcome)
}

/// Marks the connector's records not seen since `snapshot_started_at` as withdrawn (they
/// left the registry's snapshot); they are kept, not deleted.
pub async fn withdraw_unseen<M: Writable>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    snapshot_started_at: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Result<(i64, Vec<RecordChange>), DbErr> {
    let source = writer.source();
    let gone = <M::Entity as EntityTrait>::find()
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
        <M::Entity as EntityTrait>::update_many()
            .set(all_set(after.clone()))
            .filter(Expr::col(Alias::new("id")).eq(provenance.id))
            .exec(txn)
            .await?;
        audit_rows.push(audit_log::ActiveModel {
            occurred_at: Set(now),
            actor: Set(writer.actor()),
            operation: Set("WITHDRAW".into()),
            record_kind: Set(Some(M::KIND.as_str().to_owned())),
            record_id: Set(Some(provenance.id)),
            before: Set(Some(snapshot(before, None).to_string())),
            after: Set(Some(snapshot(&after, None).to_string())),
            ..Default::default()
        });
        changes.push(change(&after, ChangeOperation::Updated, writer, now));
    }
    for chunk in audit_rows.chunks(rows_per_insert(12)) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
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

/// A record's reference, for callers that only have the model.
pub fn reference<M: Writable>(model: &M) -> RecordRef {
    RecordRef {
        kind: M::KIND,
        id: model.provenance().id,
    }
}

/// Two records of one kind that different sources publish under the same external id,
/// and the content fields on which they disagree.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub external_id: String,
    pub first: (RecordRef, String),
    pub second: (RecordRef, String),
    pub changes: Vec<super::writes::FieldChange>,
}

/// Records of kind `M` that two sources publish under the same external id with
/// different values. Both are kept, each with its provenance; this lists them.
pub async fn conflicts<M: Writable>(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<Conflict>, StoreError> {
    let table = M::KIND.table();
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
            M::select_by_id(first).one(db).await?,
            M::select_by_id(second).one(db).await?,
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
            first: (reference(&a), pa.source),
            second: (reference(&b), pb.source),
            changes,
        });
        if found.len() as u64 >= limit {
            break;
        }
    }
    Ok(found)
}
