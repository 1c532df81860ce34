//! What a record write answers: the action taken, the fields changed, an import's rows
//! and errors; and the checks every write's arguments pass.

use async_graphql::{Enum, ID, Json, SimpleObject};

use crate::domain::records::RecordRef;
use crate::domain::validate::{Checker, FieldError, MAX_CODE_CHARS};
use crate::graphql::error::ApiError;
use crate::graphql::scalars::BigInt;
use crate::records::Kind;
use crate::store::writes::{Action, FieldChange as StoreChange};

const CODE: usize = MAX_CODE_CHARS;

/// What a write did to a record.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WriteAction {
    Created,
    Updated,
    Unchanged,
    Archived,
}

impl From<Action> for WriteAction {
    fn from(action: Action) -> Self {
        match action {
            Action::Created => WriteAction::Created,
            Action::Updated => WriteAction::Updated,
            Action::Unchanged => WriteAction::Unchanged,
            Action::Archived => WriteAction::Archived,
        }
    }
}

/// A field that changed, with its values before and after (as stored, in JSON).
#[derive(SimpleObject, Clone, Debug)]
pub struct FieldChange {
    pub field: String,
    pub before: Json<serde_json::Value>,
    pub after: Json<serde_json::Value>,
}

impl From<StoreChange> for FieldChange {
    fn from(change: StoreChange) -> Self {
        Self {
            field: change.field,
            before: Json(change.before),
            after: Json(change.after),
        }
    }
}

/// One row of a bulk import: what it did (or would do).
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportRowResult {
    /// The row's position in `records`, from 0.
    pub index: i32,
    pub external_id: String,
    pub action: WriteAction,
    /// The record's id; null for a row a dry run would create.
    pub id: Option<ID>,
    pub version: Option<BigInt>,
    pub changes: Vec<FieldChange>,
}

/// A problem with one row of a bulk import.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportRowError {
    pub index: i32,
    /// The offending field's path, e.g. `records[3].stars`.
    pub field: String,
    pub message: String,
}

/// What a bulk import did, or with `dryRun` would do.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportResult {
    pub dry_run: bool,
    /// True when the rows were written; an import is all or nothing.
    pub committed: bool,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub rows: Vec<ImportRowResult>,
    /// Only a dry run returns row errors here; a real import with any bad row is
    /// refused with a BAD_USER_INPUT error listing them.
    pub errors: Vec<ImportRowError>,
}

impl ImportResult {
    pub(crate) fn from_outcome<K: Kind>(
        outcome: crate::store::writes::ImportOutcome<K::Model>,
    ) -> Self {
        let count = |action| {
            outcome
                .rows
                .iter()
                .filter(|(_, _, w)| w.action == action)
                .count() as i32
        };
        let (created, updated, unchanged) = (
            count(Action::Created),
            count(Action::Updated),
            count(Action::Unchanged),
        );
        let committed = outcome.committed;
        let rows = outcome
            .rows
            .into_iter()
            .map(|(index, external_id, written)| {
                let provenance = crate::db::entities::RecordModel::provenance(&written.model);
                let exists = committed || written.action != Action::Created;
                ImportRowResult {
                    index: index as i32,
                    external_id,
                    action: written.action.into(),
                    id: exists.then(|| {
                        ID(RecordRef {
                            kind: K::SPEC.kind,
                            id: provenance.id,
                        }
                        .to_string())
                    }),
                    version: exists.then_some(BigInt(provenance.version)),
                    changes: written.changes.into_iter().map(FieldChange::from).collect(),
                }
            })
            .collect();
        let errors = outcome
            .errors
            .into_iter()
            .map(|(index, error)| ImportRowError {
                index: index as i32,
                field: error.path,
                message: error.message,
            })
            .collect();
        Self {
            dry_run: outcome.dry_run,
            committed,
            created,
            updated,
            unchanged,
            rows,
            errors,
        }
    }
}

/// Turns a checker's verdict into a BAD_USER_INPUT error.
pub(crate) fn invalid(errors: Vec<FieldError>) -> async_graphql::Error {
    ApiError::Invalid(errors).into_graphql()
}

/// Both verdicts' errors, or the value.
pub(crate) fn merge<T>(
    first: Result<(), Vec<FieldError>>,
    second: Result<T, Vec<FieldError>>,
) -> Result<T, Vec<FieldError>> {
    match (first, second) {
        (Ok(()), result) => result,
        (Err(errors), Ok(_)) => Err(errors),
        (Err(mut errors), Err(more)) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// Checks an external id: required, NFC, at most `CODE` characters.
pub(crate) fn external_id(check: &mut Checker, field: &str, value: &str) -> String {
    check.text(field, value, CODE)
}
