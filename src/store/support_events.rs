//! The support events of startups (the kind's own relation): read for a page of
//! records, and written with them by the write engine.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::StoreError;
use super::batch::{CHUNK, rows_per_insert};
use super::records::id_in;
use crate::db::entities::startup_support_events;
use crate::records::draft::SupportEventDraft;

/// The events of these records, by year then as written.
pub async fn of_records(
    db: &DatabaseConnection,
    record_ids: &[i32],
) -> Result<Vec<startup_support_events::Model>, StoreError> {
    let backend = db.get_database_backend();
    Ok(startup_support_events::Entity::find()
        .filter(id_in(
            backend,
            "startup_support_events",
            "startup_id",
            record_ids,
        ))
        .order_by_asc(startup_support_events::Column::Year)
        .order_by_asc(startup_support_events::Column::Id)
        .all(db)
        .await?)
}

/// The events of these records as drafts, as written, grouped by record.
pub async fn drafts_of<C: ConnectionTrait>(
    db: &C,
    record_ids: &[i32],
) -> Result<Vec<(i32, SupportEventDraft)>, DbErr> {
    let mut found = Vec::new();
    for chunk in record_ids.chunks(CHUNK) {
        let events = startup_support_events::Entity::find()
            .filter(startup_support_events::Column::StartupId.is_in(chunk.iter().copied()))
            .order_by_asc(startup_support_events::Column::Id)
            .all(db)
            .await?;
        found.extend(events.into_iter().map(|event| {
            let draft = SupportEventDraft {
                year: event.year,
                kind: event.kind,
                amount_vnd: event.amount_vnd,
                agency_id: event.agency_id,
                note: event.note,
            };
            (event.startup_id, draft)
        }));
    }
    Ok(found)
}

/// Removes every event of a record.
pub async fn clear<C: ConnectionTrait>(db: &C, record_id: i32) -> Result<(), DbErr> {
    startup_support_events::Entity::delete_many()
        .filter(startup_support_events::Column::StartupId.eq(record_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds events to records.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    events: &[(i32, &SupportEventDraft)],
) -> Result<(), DbErr> {
    for chunk in events.chunks(rows_per_insert(7)) {
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
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}
