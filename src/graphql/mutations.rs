//! Mutations: thin resolvers over the write engine (`store::writes`, `store::links`).
//! Inputs are validated into drafts by each kind's `to_draft`; the engine checks scope,
//! versions and writes with its audit entry in one transaction.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};

use super::error::{ApiError, ApiResult};
use super::plan::{Task, database, snapshot};
use super::records::LinkedRecord;
use super::scalars::{BigInt, DateTime};
use crate::domain::auth::Caller;
use crate::domain::records::RecordRef;
use crate::domain::scope::{self, Writer};
use crate::domain::validate::{
    Checker, FieldError, MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::store::feed::ChangeFeed;
use crate::store::writes::{Action, FieldChange as StoreChange, OrganisationDraft};

/// The caller of this request.
pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> &'a Caller {
    static ANONYMOUS: Caller = Caller::Anonymous;
    ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
}

/// The caller as a writer, or the FORBIDDEN error that refuses it.
pub(crate) fn writer(ctx: &Context<'_>) -> async_graphql::Result<Writer> {
    scope::writer(caller(ctx)).map_err(|denied| ApiError::from(denied).into_graphql())
}

pub(crate) fn feed<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a ChangeFeed> {
    ctx.data::<ChangeFeed>()
}

/// What inputs refer to by code, resolved once per request.
pub struct Refs {
    pub agencies: HashMap<String, i32>,
    pub caller_agency: Option<i32>,
}

impl Refs {
    pub(crate) async fn load(ctx: &Context<'_>, writer: &Writer) -> async_graphql::Result<Self> {
        let plan = snapshot(ctx).await?;
        Ok(Self {
            agencies: plan
                .agencies
                .iter()
                .map(|a| (a.code.clone(), a.id))
                .collect(),
            caller_agency: writer.agency_id,
        })
    }

    /// An agency by its code (`so-khcn`).
    pub(crate) fn agency(
        &self,
        check: &mut Checker,
        field: &str,
        code: Option<&str>,
    ) -> Option<i32> {
        let code = code.map(str::trim).filter(|c| !c.is_empty())?;
        match self.agencies.get(code) {
            Some(id) => Some(*id),
            None => {
                check.fail(field, format!("no agency has the code {code:?}"));
                None
            }
        }
    }

    /// A record id of a given kind.
    pub(crate) fn record(
        &self,
        check: &mut Checker,
        field: &str,
        id: Option<&ID>,
        kind: crate::domain::records::RecordKind,
    ) -> Option<i32> {
        let id = id?;
        match super::records::parse_record_id(id, kind) {
            Ok(id) => Some(id),
            Err(_) => {
                check.fail(
                    field,
                    format!("{:?} is not an id of a {}", id.as_str(), kind.type_name()),
                );
                None
            }
        }
    }
}

/// An organisation named by an input (producer, host, enterprise): matched by tax code,
/// else by name, else created.
#[derive(InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationInput {
    pub name: String,
    /// Mã số thuế: 10 digits with a valid check digit, optionally `-NNN` for a branch;
    /// or a household business's 12-digit personal number.
    pub tax_code: Option<String>,
    /// cooperative, enterprise, household business, institute…
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
}

impl OrganisationInput {
    pub(crate) fn to_draft(&self, check: &mut Checker) -> OrganisationDraft {
        OrganisationDraft {
            name: check.text("name", &self.name, MAX_NAME_CHARS),
            tax_code: check.opt_tax_code("taxCode", self.tax_code.as_deref()),
            kind: check.opt_text("kind", self.kind.as_deref(), MAX_CODE_CHARS),
            district: check.opt_text("district", self.district.as_deref(), MAX_NAME_CHARS),
            commune: check.opt_text("commune", self.commune.as_deref(), MAX_NAME_CHARS),
        }
    }
}

/// Validates a nested organisation under `field`.
pub(crate) fn organisation(
    check: &mut Checker,
    field: &str,
    input: Option<&OrganisationInput>,
) -> Option<OrganisationDraft> {
    let input = input?;
    let mut nested = check.nested(field);
    let draft = input.to_draft(&mut nested);
    check.absorb(nested);
    Some(draft)
}

/// Free text fields share these limits.
pub(crate) const NAME: usize = MAX_NAME_CHARS;
pub(crate) const TEXT: usize = MAX_TEXT_CHARS;
pub(crate) const CODE: usize = MAX_CODE_CHARS;

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

/// The `records[3]` index in a field path.
pub(crate) fn row_index(path: &str) -> Option<usize> {
    let start = path.find('[')? + 1;
    let end = start + path[start..].find(']')?;
    path[start..end].parse().ok()
}

impl ImportResult {
    pub(crate) fn from_outcome<M: crate::store::writes::Writable>(
        outcome: crate::store::writes::ImportOutcome<M>,
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
                let provenance = written.model.provenance();
                let exists = committed || written.action != Action::Created;
                ImportRowResult {
                    index: index as i32,
                    external_id,
                    action: written.action.into(),
                    id: exists.then(|| {
                        ID(RecordRef {
                            kind: M::KIND,
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

/// Declares a kind's mutations: create, update, archive, upsert and bulk import.
macro_rules! record_mutations {
    (
        $mutation:ident, $node:ident, $model:ty, $input:ident, $upsert_result:ident,
        $create:ident, $update:ident, $archive:ident, $upsert:ident, $import:ident
    ) => {
        /// The result of an upsert: the record and what happened to it.
        #[derive(async_graphql::SimpleObject)]
        pub struct $upsert_result {
            pub record: $node,
            pub action: $crate::graphql::mutations::WriteAction,
            pub changes: Vec<$crate::graphql::mutations::FieldChange>,
        }

        #[derive(Default)]
        pub struct $mutation;

        #[async_graphql::Object]
        impl $mutation {
            /// Creates a record owned by the caller (its source is `agency:<code>`).
            async fn $create(
                &self,
                ctx: &async_graphql::Context<'_>,
                input: $input,
            ) -> async_graphql::Result<$node> {
                use $crate::graphql::error::ApiResult;
                let writer = $crate::graphql::mutations::writer(ctx)?;
                let refs = $crate::graphql::mutations::Refs::load(ctx, &writer).await?;
                let draft = input
                    .to_draft($crate::domain::validate::Checker::new("input"), &refs)
                    .map_err($crate::graphql::mutations::invalid)?;
                let db = $crate::graphql::plan::database(ctx)?;
                let feed = $crate::graphql::mutations::feed(ctx)?;
                let written = $crate::store::writes::create::<$model>(db, feed, &writer, draft)
                    .await
                    .api()?;
                Ok($node(std::sync::Arc::new(written.model)))
            }

            /// Replaces a record's content, if it is still at `expectedVersion`;
            /// otherwise a CONFLICT error carries the current version.
            async fn $update(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: $crate::graphql::scalars::BigInt,
                input: $input,
            ) -> async_graphql::Result<$node> {
                use $crate::graphql::error::ApiResult;
                use $crate::store::writes::Writable;
                let id = $crate::graphql::records::parse_record_id(&id, <$model>::KIND)?;
                let writer = $crate::graphql::mutations::writer(ctx)?;
                let refs = $crate::graphql::mutations::Refs::load(ctx, &writer).await?;
                let draft = input
                    .to_draft($crate::domain::validate::Checker::new("input"), &refs)
                    .map_err($crate::graphql::mutations::invalid)?;
                let db = $crate::graphql::plan::database(ctx)?;
                let feed = $crate::graphql::mutations::feed(ctx)?;
                let written = $crate::store::writes::update::<$model>(
                    db,
                    feed,
                    &writer,
                    id,
                    expected_version.0,
                    draft,
                )
                .await
                .api()?;
                Ok($node(std::sync::Arc::new(written.model)))
            }

            /// Archives (soft-deletes) a record, if it is still at `expectedVersion`.
            async fn $archive(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
                expected_version: $crate::graphql::scalars::BigInt,
            ) -> async_graphql::Result<$node> {
                use $crate::graphql::error::ApiResult;
                use $crate::store::writes::Writable;
                let id = $crate::graphql::records::parse_record_id(&id, <$model>::KIND)?;
                let writer = $crate::graphql::mutations::writer(ctx)?;
                let db = $crate::graphql::plan::database(ctx)?;
                let feed = $crate::graphql::mutations::feed(ctx)?;
                let written = $crate::store::writes::archive::<$model>(
                    db,
                    feed,
                    &writer,
                    id,
                    expected_version.0,
                )
                .await
                .api()?;
                Ok($node(std::sync::Arc::new(written.model)))
            }

            /// Creates or updates the caller's record with this `externalId` (the
            /// natural key is the caller's agency and the external id).
            async fn $upsert(
                &self,
                ctx: &async_graphql::Context<'_>,
                external_id: String,
                input: $input,
            ) -> async_graphql::Result<$upsert_result> {
                use $crate::graphql::error::ApiResult;
                let writer = $crate::graphql::mutations::writer(ctx)?;
                let refs = $crate::graphql::mutations::Refs::load(ctx, &writer).await?;
                let mut key_check = $crate::domain::validate::Checker::new("");
                let external_id = $crate::graphql::mutations::external_id(
                    &mut key_check,
                    "externalId",
                    &external_id,
                );
                let draft = $crate::graphql::mutations::merge(
                    key_check.finish(()),
                    input.to_draft($crate::domain::validate::Checker::new("input"), &refs),
                )
                .map_err($crate::graphql::mutations::invalid)?;
                let db = $crate::graphql::plan::database(ctx)?;
                let feed = $crate::graphql::mutations::feed(ctx)?;
                let written =
                    $crate::store::writes::upsert::<$model>(db, feed, &writer, &external_id, draft)
                        .await
                        .api()?;
                Ok($upsert_result {
                    record: $node(std::sync::Arc::new(written.model)),
                    action: written.action.into(),
                    changes: written.changes.into_iter().map(Into::into).collect(),
                })
            }

            /// Upserts many records by `externalId`, all or nothing. With
            /// `dryRun: true` nothing is written and the result tells what would
            /// change; otherwise any bad row refuses the whole import with every
            /// row's errors.
            async fn $import(
                &self,
                ctx: &async_graphql::Context<'_>,
                records: Vec<$crate::graphql::mutations::ImportRecord<$input>>,
                #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
            ) -> async_graphql::Result<$crate::graphql::mutations::ImportResult> {
                let dry_run = dry_run.unwrap_or(false);
                use $crate::graphql::error::ApiResult;
                let writer = $crate::graphql::mutations::writer(ctx)?;
                let refs = $crate::graphql::mutations::Refs::load(ctx, &writer).await?;
                let rows = records
                    .iter()
                    .enumerate()
                    .map(|(index, row)| {
                        let mut key_check =
                            $crate::domain::validate::Checker::new(format!("records[{index}]"));
                        let external_id = $crate::graphql::mutations::external_id(
                            &mut key_check,
                            "externalId",
                            &row.external_id,
                        );
                        let draft = $crate::graphql::mutations::merge(
                            key_check.finish(()),
                            row.input.to_draft(
                                $crate::domain::validate::Checker::new(format!(
                                    "records[{index}].input"
                                )),
                                &refs,
                            ),
                        );
                        $crate::store::writes::ImportRow { external_id, draft }
                    })
                    .collect();
                let db = $crate::graphql::plan::database(ctx)?;
                let feed = $crate::graphql::mutations::feed(ctx)?;
                let outcome = $crate::store::writes::import::<$model>(
                    db, feed, &writer, rows, dry_run, "records",
                )
                .await
                .api()?;
                Ok($crate::graphql::mutations::ImportResult::from_outcome(
                    outcome,
                ))
            }
        }
    };
}
pub(crate) use record_mutations;

/// One row of a bulk import: the record's key in the pushing agency's system and its
/// content.
#[derive(InputObject, Debug, Clone)]
#[graphql(concrete(
    name = "OcopProductImportRecord",
    params(super::records::ocop::OcopProductInput)
))]
#[graphql(concrete(
    name = "IpRightImportRecord",
    params(super::records::ip_right::IpRightInput)
))]
#[graphql(concrete(
    name = "StartupImportRecord",
    params(super::records::startup::StartupInput)
))]
#[graphql(concrete(
    name = "TraceabilityEntryImportRecord",
    params(super::records::traceability::TraceabilityEntryInput)
))]
#[graphql(concrete(
    name = "ScienceTaskImportRecord",
    params(super::records::science::ScienceTaskInput)
))]
#[graphql(concrete(
    name = "ApplicationModelImportRecord",
    params(super::records::science::ApplicationModelInput)
))]
#[graphql(concrete(
    name = "TechnologyAssessmentImportRecord",
    params(super::records::science::TechnologyAssessmentInput)
))]
#[graphql(concrete(
    name = "AnnualReportImportRecord",
    params(super::records::report::AnnualReportInput)
))]
pub struct ImportRecord<T: async_graphql::InputType> {
    pub external_id: String,
    pub input: T,
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

/// Links and task progress.
#[derive(Default)]
pub struct PlanMutation;

/// Progress reported on a plan task by its lead agency.
#[derive(InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskProgressInput {
    /// NOT_STARTED, IN_PROGRESS, COMPLETED or DELAYED.
    pub status: String,
    pub note: Option<String>,
    /// Links to the evidence (decisions, reports, news), http(s) only.
    #[graphql(default)]
    pub evidence: Vec<String>,
}

/// A link from a plan task to a record.
#[derive(SimpleObject)]
pub struct RecordLinkResult {
    pub task: Task,
    pub record: Option<LinkedRecord>,
    pub linked_by: String,
    pub linked_at: DateTime,
    /// False when the link already existed.
    pub created: bool,
}

pub(crate) const TASK_STATUSES: &[&str] = &["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "DELAYED"];

fn parse_any_record_id(id: &ID) -> async_graphql::Result<RecordRef> {
    RecordRef::parse(id.as_str()).ok_or_else(|| {
        ApiError::BadUserInputAt {
            path: "recordId".into(),
            message: format!(
                "{:?} is not a record id such as \"OcopProduct:42\"",
                id.as_str()
            ),
        }
        .into_graphql()
    })
}

#[Object]
impl PlanMutation {
    /// Links a record to a plan task the caller leads or coordinates. Linking twice is
    /// harmless.
    async fn link_record(
        &self,
        ctx: &Context<'_>,
        task_code: String,
        record_id: ID,
    ) -> async_graphql::Result<RecordLinkResult> {
        let record = parse_any_record_id(&record_id)?;
        let writer = writer(ctx)?;
        let linked =
            crate::store::links::link(database(ctx)?, feed(ctx)?, &writer, &task_code, record)
                .await
                .api()?;
        let found = super::records::load_records(ctx, [record]).await?;
        Ok(RecordLinkResult {
            task: Task(linked.task),
            record: found.into_iter().next(),
            linked_by: linked.link.linked_by,
            linked_at: DateTime(linked.link.linked_at),
            created: linked.created,
        })
    }

    /// Removes a link; false when there was none.
    async fn unlink_record(
        &self,
        ctx: &Context<'_>,
        task_code: String,
        record_id: ID,
    ) -> async_graphql::Result<bool> {
        let record = parse_any_record_id(&record_id)?;
        let writer = writer(ctx)?;
        crate::store::links::unlink(database(ctx)?, feed(ctx)?, &writer, &task_code, record)
            .await
            .api()
    }

    /// Reports progress on a task; only its lead agency (or an admin) may. With
    /// `expectedVersion` (the task's `progressVersion`), a concurrent report is a
    /// CONFLICT instead of being overwritten.
    async fn update_task_progress(
        &self,
        ctx: &Context<'_>,
        task_code: String,
        input: TaskProgressInput,
        expected_version: Option<BigInt>,
    ) -> async_graphql::Result<Task> {
        let writer = writer(ctx)?;
        let mut check = Checker::new("input");
        let status = check
            .term("status", Some(&input.status), |s| {
                TASK_STATUSES
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(s.trim()))
                    .map(|t| (*t).to_owned())
                    .ok_or_else(|| {
                        format!(
                            "unknown status {s:?}; expected one of: {}",
                            TASK_STATUSES.join(", ")
                        )
                    })
            })
            .unwrap_or_default();
        let note = check.opt_text("note", input.note.as_deref(), TEXT);
        let evidence = input
            .evidence
            .iter()
            .enumerate()
            .map(|(i, link)| check.url(&format!("evidence[{i}]"), link))
            .collect();
        check.finish(()).map_err(invalid)?;
        let progress = crate::store::links::TaskProgress {
            status,
            note,
            evidence,
        };
        let task = crate::store::links::update_task_progress(
            database(ctx)?,
            &writer,
            &task_code,
            progress,
            expected_version.map(|v| v.0),
        )
        .await
        .api()?;
        ctx.data::<std::sync::Arc<crate::store::snapshot::PlanCache>>()?
            .invalidate();
        // Task lists filtered by status count differently now.
        feed(ctx)?.touch();
        Ok(Task(task))
    }
}

/// A record model with the given content and blank provenance (the write engine sets
/// it).
macro_rules! content {
    ($module:ident { $($fields:tt)* }) => {
        $module::Model {
            id: 0,
            source: String::new(),
            external_id: None,
            fetched_at: None,
            created_at: Default::default(),
            updated_at: Default::default(),
            version: 0,
            archived_at: None,
            withdrawn_at: None,
            search_key: String::new(),
            $($fields)*
        }
    };
}
pub(crate) use content;
