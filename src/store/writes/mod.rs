//! The write engine: create, update, archive, upsert and bulk import for every record
//! kind, and a connector's pages, through one path (`apply`). Each operation runs in one
//! transaction that checks the writer's scope (`domain::scope`), checks the expected
//! version, writes the rows and appends to the audit log and the change log (`changes`)
//! before it commits.

mod apply;
mod rows;

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

pub use self::apply::{Applied, Origin, Target, WriteRow, apply};
pub use self::rows::{Action, FieldChange, WriteError, Written, begin, by_id, diff, reference};
pub(crate) use self::rows::{all_set, change, find, owner, snapshot, to_json, update_row};
use super::audit::{self, Entry};
use super::feed::{ChangeFeed, ChangeOperation};
use crate::db::entities::{RecordModel, annual_reports};
use crate::domain::scope::{Writer, may_write};
use crate::domain::validate::FieldError;
use crate::records::draft::Draft;
use crate::records::{Kind, annual_report};

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

/// One write of one record through the engine, committed on its own.
async fn write_one<K: Kind>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    row: WriteRow<K::Content>,
) -> Result<Written<K::Model>, WriteError> {
    let txn = begin(db).await?;
    let applied = apply::<K>(&txn, writer, vec![row], Origin::Api { rows: None }, now()).await?;
    feed.commit(txn, &applied.changes, None).await?;
    applied
        .rows
        .into_iter()
        .next()
        .ok_or_else(|| WriteError::NotFound("nothing was written".into()))
}

/// Creates a record owned by the writer.
pub async fn create<K: Kind>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    draft: Draft<K::Content>,
) -> Result<Written<K::Model>, WriteError> {
    write_one::<K>(db, feed, writer, WriteRow::new(Target::New, draft)).await
}

/// Replaces a record's content, if it is still at `expected_version`.
pub async fn update<K: Kind>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    id: i32,
    expected_version: i64,
    draft: Draft<K::Content>,
) -> Result<Written<K::Model>, WriteError> {
    let target = Target::Id {
        id,
        expected: Some(expected_version),
    };
    write_one::<K>(db, feed, writer, WriteRow::new(target, draft)).await
}

/// Creates or updates the writer's record with this external id (its natural key is
/// the writer's source and the external id).
pub async fn upsert<K: Kind>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    external_id: &str,
    draft: Draft<K::Content>,
) -> Result<Written<K::Model>, WriteError> {
    let target = Target::External(external_id.to_owned());
    write_one::<K>(db, feed, writer, WriteRow::new(target, draft)).await
}

/// Archives (soft-deletes) a record, if it is still at `expected_version`.
pub async fn archive<K: Kind>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    id: i32,
    expected_version: i64,
) -> Result<Written<K::Model>, WriteError> {
    let at = now();
    let txn = begin(db).await?;
    let before = find::<K, _>(&txn, id).await?;
    let provenance = before.provenance();
    let record = reference::<K>(&before);
    may_write(
        writer,
        &record.to_string(),
        &owner::<K>(&before, &provenance.source),
    )?;
    let conflict = |current| WriteError::Conflict {
        record,
        expected: expected_version,
        current,
    };
    if expected_version != provenance.version {
        return Err(conflict(provenance.version));
    }
    if provenance.archived_at.is_some() {
        return Ok(Written {
            model: before,
            action: Action::Unchanged,
            changes: Vec::new(),
        });
    }
    let mut model = before.clone();
    model.set_provenance(crate::db::entities::Provenance {
        archived_at: Some(at),
        updated_at: at,
        version: provenance.version + 1,
        ..provenance.clone()
    });
    if !update_row(&txn, model.clone(), expected_version).await? {
        let current = find::<K, _>(&txn, id).await?.provenance().version;
        return Err(conflict(current));
    }
    let (before_json, after_json) = (to_json(&before), to_json(&model));
    let entry = Entry {
        operation: ChangeOperation::Archived.as_str(),
        record: Some(record),
        task_code: None,
        before: Some(&before_json),
        after: Some(&after_json),
    };
    audit::append(&txn, writer, at, entry).await?;
    super::search::index_records::<K, _>(&txn, [&model]).await?;
    let archived = change::<K>(&model, ChangeOperation::Archived, writer, at);
    feed.commit(txn, &[archived], None).await?;
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

/// Submits an agency's report for a year: replaces the active report of that agency
/// and year, or creates one.
pub async fn submit_report(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    draft: Draft<annual_report::Content>,
) -> Result<Written<annual_reports::Model>, WriteError> {
    let txn = begin(db).await?;
    let existing = annual_reports::Entity::find()
        .filter(annual_reports::Column::AgencyId.eq(draft.content.agency_id))
        .filter(annual_reports::Column::Year.eq(draft.content.year))
        .filter(annual_reports::Column::ArchivedAt.is_null())
        .order_by_asc(annual_reports::Column::Id)
        .one(&txn)
        .await?;
    let target = match existing {
        Some(report) => Target::Id {
            id: report.id,
            expected: None,
        },
        None => Target::New,
    };
    let row = WriteRow::new(target, draft);
    let applied = apply::<annual_report::AnnualReport>(
        &txn,
        writer,
        vec![row],
        Origin::Api { rows: None },
        now(),
    )
    .await?;
    feed.commit(txn, &applied.changes, None).await?;
    applied
        .rows
        .into_iter()
        .next()
        .ok_or_else(|| WriteError::NotFound("nothing was written".into()))
}

/// One row of a bulk import, already checked (or not).
#[derive(Debug)]
pub struct ImportRow<C> {
    pub external_id: String,
    pub draft: Result<Draft<C>, Vec<FieldError>>,
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

/// The valid rows of an import with their indexes, and every row's errors (a repeated
/// external id included).
type Checked<C> = (Vec<(usize, String, Draft<C>)>, Vec<(usize, FieldError)>);

fn check_import<C>(rows: Vec<ImportRow<C>>, path: &str) -> Checked<C> {
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
    (valid, errors)
}

/// Upserts every row in one transaction: all rows are written or none. With `dry_run`
/// the transaction is rolled back after computing what would change.
pub async fn import<K: Kind>(
    db: &DatabaseConnection,
    feed: &ChangeFeed,
    writer: &Writer,
    rows: Vec<ImportRow<K::Content>>,
    dry_run: bool,
    path: &'static str,
) -> Result<ImportOutcome<K::Model>, WriteError> {
    let (valid, errors) = check_import(rows, path);
    if !errors.is_empty() && !dry_run {
        return Err(WriteError::Invalid(
            errors.into_iter().map(|(_, error)| error).collect(),
        ));
    }
    let txn = begin(db).await?;
    let (indexes, rows): (Vec<(usize, String)>, Vec<_>) = valid
        .into_iter()
        .map(|(index, external_id, draft)| {
            let row = WriteRow::new(Target::External(external_id.clone()), draft);
            ((index, external_id), row)
        })
        .unzip();
    let origin = Origin::Api {
        rows: Some((path, indexes.iter().map(|(i, _)| *i).collect())),
    };
    let applied = apply::<K>(&txn, writer, rows, origin, now()).await?;
    let committed = !dry_run && errors.is_empty();
    if committed {
        feed.commit(txn, &applied.changes, None).await?;
    } else {
        txn.rollback().await?;
    }
    let rows = indexes
        .into_iter()
        .zip(applied.rows)
        .map(|((index, external_id), written)| (index, external_id, written))
        .collect();
    Ok(ImportOutcome {
        dry_run,
        committed,
        rows,
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

    #[test]
    fn an_import_names_repeated_keys_and_bad_rows() {
        let rows = vec![
            ImportRow {
                external_id: "a".into(),
                draft: Ok(Draft::new(1)),
            },
            ImportRow {
                external_id: "a".into(),
                draft: Ok(Draft::new(2)),
            },
            ImportRow {
                external_id: "b".into(),
                draft: Err(vec![FieldError {
                    path: "records[2].input.name".into(),
                    message: "is required".into(),
                }]),
            },
        ];
        let (valid, errors) = check_import(rows, "records");
        assert_eq!(valid.len(), 1);
        assert_eq!(errors[0].1.path, "records[1].externalId");
        assert_eq!(errors[1].0, 2);
    }
}
