//! The one upsert path: a batch of drafts of one kind, matched to existing rows (by id
//! or by the writer's source and external id), checked against the writer's scope and
//! the versions it expects, then written in a few statements: multi-row inserts, one
//! update per changed row, one statement stamping unchanged rows as seen, support
//! events, links to plan tasks, and the audit rows.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, Iterable, PrimaryKeyToColumn,
    QueryFilter, QuerySelect,
};
use serde_json::{Map, Value};

use super::rows::{
    Action, WriteError, Written, all_set, change, diff, find, insert_row, owner, reference,
    snapshot, update_row,
};
use crate::db::entities::{Provenance, RecordModel, audit_log, record_links};
use crate::domain::records::RecordRef;
use crate::domain::scope::{Denied, Writer, may_write};
use crate::records::draft::{Draft, SupportEventDraft};
use crate::records::{Kind, build_model};
use crate::store::batch::{CHUNK, rows_per_insert};
use crate::store::feed::{ChangeOperation, RecordChange};
use crate::store::support_events;

/// Which record a row writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A new record without an external id.
    New,
    /// The writer's record with this external id, created when there is none.
    External(String),
    /// The record with this id; `expected` is the version the writer read.
    Id { id: i32, expected: Option<i64> },
}

/// One record to write.
#[derive(Debug, Clone)]
pub struct WriteRow<C> {
    pub target: Target,
    pub draft: Draft<C>,
    /// Plan tasks (ids) to link the record to.
    pub task_ids: Vec<i32>,
}

impl<C> WriteRow<C> {
    pub fn new(target: Target, draft: Draft<C>) -> Self {
        Self {
            target,
            draft,
            task_ids: Vec::new(),
        }
    }
}

/// Who is writing, which decides a few semantics.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A client: support events given replace the old ones. `rows` names the import's
    /// argument and each row's index in it, for errors that point at a row.
    Api {
        rows: Option<(&'static str, Vec<usize>)>,
    },
    /// A connector's page: records are stamped as fetched (and no longer withdrawn),
    /// support events join the old ones (a registry lists one per row), unchanged
    /// records are stamped as seen.
    Registry,
}

/// What a batch wrote, row by row, and the changes to publish after commit.
#[derive(Debug)]
pub struct Applied<M> {
    pub rows: Vec<Written<M>>,
    pub changes: Vec<RecordChange>,
}

/// What the support events of a row become.
#[derive(Debug, Clone, PartialEq)]
enum Events {
    Keep,
    Replace(Vec<SupportEventDraft>),
    Add(Vec<SupportEventDraft>),
}

/// One row, worked out and waiting to be written.
struct Planned<M> {
    written: Written<M>,
    /// The version an update must find.
    expected: Option<i64>,
    before_json: Option<Value>,
    events: Events,
    /// The events the audit snapshot shows after the write.
    events_after: Option<Vec<SupportEventDraft>>,
    task_ids: Vec<i32>,
}

/// Writes a batch of one kind in `txn`. Nothing is committed here.
pub async fn apply<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    rows: Vec<WriteRow<K::Content>>,
    origin: Origin,
    at: DateTime<FixedOffset>,
) -> Result<Applied<K::Model>, WriteError> {
    let existing = find_existing::<K>(txn, writer, &rows).await?;
    let old_events = old_support_events(txn, &rows, &existing).await?;
    let organisations = resolve_organisations(txn, writer, &rows, at).await?;
    let mut planned = Vec::with_capacity(rows.len());
    for (position, ((row, before), organisation)) in rows
        .into_iter()
        .zip(existing)
        .zip(organisations)
        .enumerate()
    {
        let context = RowContext {
            writer,
            origin: &origin,
            position,
            at,
        };
        let events = before
            .as_ref()
            .and_then(|b| old_events.get(&b.provenance().id).cloned())
            .unwrap_or_default();
        planned.push(plan_row::<K>(&context, row, before, organisation, events)?);
    }
    write_planned::<K>(txn, writer, &origin, planned, at).await
}

/// What planning a row needs to know besides the row.
struct RowContext<'a> {
    writer: &'a Writer,
    origin: &'a Origin,
    position: usize,
    at: DateTime<FixedOffset>,
}

impl RowContext<'_> {
    /// A refusal, pointing at the import row when there is one.
    fn denied(&self, denied: Denied) -> WriteError {
        match self.origin {
            Origin::Api {
                rows: Some((path, indexes)),
            } => WriteError::DeniedAt {
                path: format!(
                    "{path}[{}]",
                    indexes.get(self.position).copied().unwrap_or(self.position)
                ),
                denied,
            },
            _ => WriteError::Denied(denied),
        }
    }

    fn registry(&self) -> bool {
        matches!(self.origin, Origin::Registry)
    }
}

/// The existing row each row targets, in row order.
async fn find_existing<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    rows: &[WriteRow<K::Content>],
) -> Result<Vec<Option<K::Model>>, WriteError> {
    let source = writer.source();
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|r| match &r.target {
            Target::External(key) => Some(key.clone()),
            _ => None,
        })
        .collect();
    let mut by_key: HashMap<String, K::Model> = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let found = <K::Entity as EntityTrait>::find()
            .filter(Expr::col(Alias::new("source")).eq(source.as_str()))
            .filter(Expr::col(Alias::new("external_id")).is_in(chunk.iter().cloned()))
            .all(txn)
            .await?;
        for model in found {
            if let Some(key) = model.provenance().external_id.clone() {
                by_key.insert(key, model);
            }
        }
    }
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        found.push(match &row.target {
            Target::New => None,
            Target::External(key) => by_key.remove(key),
            Target::Id { id, .. } => Some(find::<K, _>(txn, *id).await?),
        });
    }
    Ok(found)
}

/// The current support events of the existing rows whose drafts carry events.
async fn old_support_events<C, M: RecordModel>(
    txn: &DatabaseTransaction,
    rows: &[WriteRow<C>],
    existing: &[Option<M>],
) -> Result<HashMap<i32, Vec<SupportEventDraft>>, DbErr> {
    let ids: Vec<i32> = rows
        .iter()
        .zip(existing)
        .filter(|(row, _)| row.draft.support_events.is_some())
        .filter_map(|(_, before)| before.as_ref().map(|m| m.provenance().id))
        .collect();
    let mut events: HashMap<i32, Vec<SupportEventDraft>> = HashMap::new();
    for (id, event) in support_events::drafts_of(txn, &ids).await? {
        events.entry(id).or_default().push(event);
    }
    Ok(events)
}

/// The id of the organisation each row names, creating the new ones.
async fn resolve_organisations<C>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    rows: &[WriteRow<C>],
    at: DateTime<FixedOffset>,
) -> Result<Vec<Option<i32>>, DbErr> {
    let drafts: Vec<_> = rows
        .iter()
        .filter_map(|r| r.draft.organisation.as_ref())
        .collect();
    let mut ids = if drafts.is_empty() {
        Vec::new()
    } else {
        crate::store::organisations::resolve(txn, &drafts, &writer.source(), at).await?
    }
    .into_iter();
    Ok(rows
        .iter()
        .map(|r| r.draft.organisation.as_ref().and_then(|_| ids.next()))
        .collect())
}

/// Checks one row and works out what writing it does.
fn plan_row<K: Kind>(
    context: &RowContext<'_>,
    row: WriteRow<K::Content>,
    before: Option<K::Model>,
    organisation: Option<i32>,
    old_events: Vec<SupportEventDraft>,
) -> Result<Planned<K::Model>, WriteError> {
    let Some(before) = before else {
        if let Target::Id { id, .. } = row.target {
            let record = RecordRef {
                kind: K::SPEC.kind,
                id,
            };
            return Err(WriteError::NotFound(format!("there is no record {record}")));
        }
        return plan_create::<K>(context, row, organisation);
    };
    plan_update::<K>(context, row, before, organisation, old_events)
}

fn plan_create<K: Kind>(
    context: &RowContext<'_>,
    row: WriteRow<K::Content>,
    organisation: Option<i32>,
) -> Result<Planned<K::Model>, WriteError> {
    let at = context.at;
    let external_id = match row.target {
        Target::External(key) => Some(key),
        _ => None,
    };
    let provenance = Provenance {
        id: 0,
        source: context.writer.source(),
        external_id,
        fetched_at: context.registry().then_some(at),
        created_at: at,
        updated_at: at,
        version: 1,
        archived_at: None,
        withdrawn_at: None,
    };
    let model = build_model::<K>(&row.draft.content, provenance, organisation)?;
    let label = format!("a new {}", K::SPEC.type_name());
    may_write(
        context.writer,
        &label,
        &owner::<K>(&model, &context.writer.source()),
    )
    .map_err(|denied| context.denied(denied))?;
    let events = row.draft.support_events;
    let after = snapshot(&model, events.as_deref());
    let changes = diff(&Value::Object(Map::new()), &after);
    Ok(Planned {
        written: Written {
            model,
            action: Action::Created,
            changes,
        },
        expected: None,
        before_json: None,
        events: events.clone().map_or(Events::Keep, Events::Add),
        events_after: events,
        task_ids: row.task_ids,
    })
}

/// The events a row's draft leaves: the draft's own from a client, the old ones and the
/// draft's new ones from a registry.
fn events_after(
    registry: bool,
    draft: Option<Vec<SupportEventDraft>>,
    old: &[SupportEventDraft],
) -> (Events, Option<Vec<SupportEventDraft>>) {
    match (draft, registry) {
        (None, _) => (Events::Keep, None),
        (Some(events), false) => (Events::Replace(events.clone()), Some(events)),
        (Some(events), true) => {
            let mut merged = old.to_vec();
            let mut added = Vec::new();
            for event in events {
                if !merged.contains(&event) {
                    merged.push(event.clone());
                    added.push(event);
                }
            }
            (Events::Add(added), Some(merged))
        }
    }
}

fn plan_update<K: Kind>(
    context: &RowContext<'_>,
    row: WriteRow<K::Content>,
    before: K::Model,
    organisation: Option<i32>,
    old_events: Vec<SupportEventDraft>,
) -> Result<Planned<K::Model>, WriteError> {
    let provenance = before.provenance();
    let record = reference::<K>(&before);
    let label = record.to_string();
    let deny = |denied| context.denied(denied);
    may_write(
        context.writer,
        &label,
        &owner::<K>(&before, &provenance.source),
    )
    .map_err(deny)?;
    let expected = match row.target {
        Target::Id {
            expected: Some(expected),
            ..
        } => expected,
        _ => provenance.version,
    };
    if expected != provenance.version {
        return Err(WriteError::Conflict {
            record,
            expected,
            current: provenance.version,
        });
    }
    let after = build_model::<K>(&row.draft.content, provenance.clone(), organisation)?;
    may_write(
        context.writer,
        &label,
        &owner::<K>(&after, &provenance.source),
    )
    .map_err(deny)?;
    let had_events = row.draft.support_events.is_some();
    let (events, events_after) =
        events_after(context.registry(), row.draft.support_events, &old_events);
    let before_json = snapshot(&before, had_events.then_some(old_events.as_slice()));
    let changes = diff(&before_json, &snapshot(&after, events_after.as_deref()));
    let withdrawn = provenance.withdrawn_at.is_some() && context.registry();
    if changes.is_empty() && !withdrawn {
        return Ok(Planned {
            written: Written {
                model: before,
                action: Action::Unchanged,
                changes,
            },
            expected: None,
            before_json: None,
            events: Events::Keep,
            events_after: None,
            task_ids: row.task_ids,
        });
    }
    let mut model = after;
    model.set_provenance(Provenance {
        updated_at: context.at,
        version: provenance.version + 1,
        fetched_at: if context.registry() {
            Some(context.at)
        } else {
            provenance.fetched_at
        },
        withdrawn_at: if context.registry() {
            None
        } else {
            provenance.withdrawn_at
        },
        ..provenance
    });
    Ok(Planned {
        written: Written {
            model,
            action: Action::Updated,
            changes,
        },
        expected: Some(expected),
        before_json: Some(before_json),
        events,
        events_after,
        task_ids: row.task_ids,
    })
}

/// Writes what was planned, in a few statements, and collects audit rows and changes.
async fn write_planned<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    origin: &Origin,
    mut planned: Vec<Planned<K::Model>>,
    at: DateTime<FixedOffset>,
) -> Result<Applied<K::Model>, WriteError> {
    update_changed::<K>(txn, &planned).await?;
    insert_created::<K>(txn, writer, &mut planned).await?;
    if matches!(origin, Origin::Registry) {
        touch_unchanged::<K>(txn, &planned, at).await?;
    }
    write_events(txn, &planned).await?;
    write_links::<K>(txn, writer, &planned, at).await?;
    let changed = planned
        .iter()
        .filter(|p| matches!(p.written.action, Action::Created | Action::Updated))
        .map(|p| &p.written.model);
    crate::store::search::index_records::<K, _>(txn, changed).await?;
    let mut audit_rows = Vec::new();
    let mut changes = Vec::new();
    for row in &planned {
        let operation = match row.written.action {
            Action::Created => ChangeOperation::Created,
            Action::Updated => ChangeOperation::Updated,
            _ => continue,
        };
        let after = snapshot(&row.written.model, row.events_after.as_deref());
        audit_rows.push(crate::store::audit::row(
            writer,
            at,
            operation.as_str(),
            reference::<K>(&row.written.model),
            row.before_json.as_ref(),
            &after,
        ));
        changes.push(change::<K>(&row.written.model, operation, writer, at));
    }
    for chunk in audit_rows.chunks(rows_per_insert(12)) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(Applied {
        rows: planned.into_iter().map(|p| p.written).collect(),
        changes,
    })
}

async fn update_changed<K: Kind>(
    txn: &DatabaseTransaction,
    planned: &[Planned<K::Model>],
) -> Result<(), WriteError> {
    for row in planned
        .iter()
        .filter(|r| r.written.action == Action::Updated)
    {
        let expected = row.expected.unwrap_or_default();
        if !update_row(txn, row.written.model.clone(), expected).await? {
            let record = reference::<K>(&row.written.model);
            let current = find::<K, _>(txn, record.id).await?.provenance().version;
            return Err(WriteError::Conflict {
                record,
                expected,
                current,
            });
        }
    }
    Ok(())
}

/// Inserts the new rows: one statement each for rows without an external id, else
/// multi-row inserts and one look-up for their ids.
async fn insert_created<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    planned: &mut [Planned<K::Model>],
) -> Result<(), WriteError> {
    let created = |p: &Planned<K::Model>| p.written.action == Action::Created;
    let batched = planned
        .iter()
        .filter(|p| created(p) && p.written.model.provenance().external_id.is_some())
        .count()
        > 1;
    for row in planned.iter_mut().filter(|p| created(p)) {
        let keyed = row.written.model.provenance().external_id.is_some();
        if !(batched && keyed) {
            row.written.model = insert_row(txn, row.written.model.clone()).await?;
        }
    }
    if !batched {
        return Ok(());
    }
    let keyed: Vec<&mut Planned<K::Model>> = planned
        .iter_mut()
        .filter(|p| created(p) && p.written.model.provenance().external_id.is_some())
        .collect();
    insert_keyed::<K>(txn, &writer.source(), keyed).await
}

async fn insert_keyed<K: Kind>(
    txn: &DatabaseTransaction,
    source: &str,
    mut rows: Vec<&mut Planned<K::Model>>,
) -> Result<(), WriteError> {
    let columns = <<K::Entity as EntityTrait>::Column as Iterable>::iter().count();
    for chunk in rows.chunks(rows_per_insert(columns)) {
        let actives = chunk.iter().map(|row| {
            let mut active = all_set(row.written.model.clone());
            for key in <<K::Entity as EntityTrait>::PrimaryKey as Iterable>::iter() {
                sea_orm::ActiveModelTrait::not_set(&mut active, key.into_column());
            }
            active
        });
        <K::Entity as EntityTrait>::insert_many(actives)
            .exec_without_returning(txn)
            .await?;
    }
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|r| r.written.model.provenance().external_id)
        .collect();
    let mut ids: HashMap<String, i32> = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let found: Vec<(i32, Option<String>)> = <K::Entity as EntityTrait>::find()
            .select_only()
            .column_as(Expr::col(Alias::new("id")), "id")
            .column_as(Expr::col(Alias::new("external_id")), "external_id")
            .filter(Expr::col(Alias::new("source")).eq(source))
            .filter(Expr::col(Alias::new("external_id")).is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(txn)
            .await?;
        ids.extend(found.into_iter().filter_map(|(id, key)| Some((key?, id))));
    }
    for row in rows.iter_mut() {
        let mut provenance = row.written.model.provenance();
        let key = provenance.external_id.clone().unwrap_or_default();
        provenance.id = *ids.get(&key).ok_or(DbErr::RecordNotInserted)?;
        row.written.model.set_provenance(provenance);
    }
    Ok(())
}

/// Unchanged records a registry listed again are only stamped as seen.
async fn touch_unchanged<K: Kind>(
    txn: &DatabaseTransaction,
    planned: &[Planned<K::Model>],
    at: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    let ids: Vec<i32> = planned
        .iter()
        .filter(|p| p.written.action == Action::Unchanged)
        .map(|p| p.written.model.provenance().id)
        .collect();
    for chunk in ids.chunks(CHUNK) {
        <K::Entity as EntityTrait>::update_many()
            .col_expr(Alias::new("fetched_at"), Expr::val(at))
            .filter(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

async fn write_events<M: RecordModel>(
    txn: &DatabaseTransaction,
    planned: &[Planned<M>],
) -> Result<(), DbErr> {
    let mut new_events: Vec<(i32, &SupportEventDraft)> = Vec::new();
    for row in planned {
        let id = row.written.model.provenance().id;
        match &row.events {
            Events::Keep => {}
            Events::Replace(events) => {
                support_events::clear(txn, id).await?;
                new_events.extend(events.iter().map(|e| (id, e)));
            }
            Events::Add(events) => new_events.extend(events.iter().map(|e| (id, e))),
        }
    }
    support_events::insert(txn, &new_events).await
}

async fn write_links<K: Kind>(
    txn: &DatabaseTransaction,
    writer: &Writer,
    planned: &[Planned<K::Model>],
    at: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    let links: Vec<(i32, i32)> = planned
        .iter()
        .flat_map(|p| {
            let id = p.written.model.provenance().id;
            p.task_ids.iter().map(move |task| (*task, id))
        })
        .collect();
    let source = writer.source();
    for chunk in links.chunks(rows_per_insert(6)) {
        record_links::Entity::insert_many(chunk.iter().map(|(task, id)| {
            record_links::ActiveModel {
                task_id: Set(*task),
                record_kind: Set(K::SPEC.kind.as_str().to_owned()),
                record_id: Set(*id),
                linked_by: Set(source.clone()),
                linked_at: Set(at),
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(year: i32) -> SupportEventDraft {
        SupportEventDraft {
            year,
            kind: "đào tạo".into(),
            amount_vnd: None,
            agency_id: None,
            note: None,
        }
    }

    #[test]
    fn a_registry_adds_events_and_a_client_replaces_them() {
        let old = vec![event(2022)];
        let (events, after) = events_after(true, Some(vec![event(2022), event(2023)]), &old);
        assert_eq!(events, Events::Add(vec![event(2023)]));
        assert_eq!(after, Some(vec![event(2022), event(2023)]));
        let (events, after) = events_after(false, Some(vec![event(2024)]), &old);
        assert_eq!(events, Events::Replace(vec![event(2024)]));
        assert_eq!(after, Some(vec![event(2024)]));
        assert_eq!(events_after(false, None, &old), (Events::Keep, None));
    }
}
