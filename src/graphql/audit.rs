//! The audit log, for admins, and each record's history.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Json, Object};

use super::context::{caller, database};
use super::error::{ApiError, ApiResult};
use super::fetch::load_agency;
use super::objects::{Agency, AuditEntry};
use super::scalars::DateTime;
use crate::domain::records::RecordKind;
use crate::domain::records::RecordRef;
use crate::domain::scope;
use crate::store::audit::{AuditQuery, list};

/// Entries a page of the audit log holds unless `first` says otherwise.
const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 500;

fn parse_json(text: Option<&str>) -> Option<Json<serde_json::Value>> {
    text.and_then(|t| serde_json::from_str(t).ok()).map(Json)
}

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(format!("AuditEntry:{}", self.0.id))
    }

    async fn occurred_at(&self) -> DateTime {
        DateTime(self.0.occurred_at)
    }

    /// `agency:<code> (token <n>)` or `admin (token <n>)`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The id of the token used (never the token itself).
    async fn token_id(&self) -> Option<i32> {
        self.0.token_id
    }

    /// The agency the token acts for.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.0.agency_id).await
    }

    /// CREATE, UPDATE, ARCHIVE, LINK, UNLINK or UPDATE_TASK_PROGRESS.
    async fn operation(&self) -> &str {
        &self.0.operation
    }

    /// The record written, as a global id (`OcopProduct:42`).
    async fn record_id(&self) -> Option<ID> {
        let kind =
            crate::domain::records::RecordKind::parse(self.0.record_kind.as_deref()?).ok()?;
        Some(ID(RecordRef {
            kind,
            id: self.0.record_id?,
        }
        .to_string()))
    }

    /// The plan task, for links and progress reports.
    async fn task_code(&self) -> Option<&str> {
        self.0.task_code.as_deref()
    }

    /// The record (or link, or progress) before the write; null for a creation.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        parse_json(self.0.before.as_deref())
    }

    /// After the write; null for an unlink.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        parse_json(self.0.after.as_deref())
    }
}

/// Conditions on the audit log; all given ones must hold.
#[derive(InputObject, Debug, Clone, Default)]
pub struct AuditLogFilter {
    /// One record's entries (`OcopProduct:42`).
    pub record_id: Option<ID>,
    pub kind: Option<RecordKind>,
    /// The acting agency's code.
    pub agency: Option<String>,
    pub token_id: Option<i32>,
    pub operation: Option<String>,
    pub task_code: Option<String>,
    /// On or after this moment.
    pub since: Option<DateTime>,
    /// Before this moment.
    pub until: Option<DateTime>,
}

#[derive(Default)]
pub struct AuditQueryRoot;

#[Object]
impl AuditQueryRoot {
    /// The audit log, newest first (admins only). `after` is the `endCursor` of the
    /// previous page.
    #[graphql(complexity = "super::limits::list_complexity(child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditLogFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry>> {
        scope::may_read_audit_log(caller(ctx)).map_err(|d| ApiError::from(d).into_graphql())?;
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(ApiError::BadUserInputAt {
                path: "first".into(),
                message: format!("must be between 0 and {MAX_PAGE}"),
            }
            .into_graphql());
        }
        let filter = filter.unwrap_or_default();
        let mut query = AuditQuery {
            kind: filter.kind,
            token_id: filter.token_id,
            operation: filter.operation.map(|o| o.trim().to_ascii_uppercase()),
            task_code: filter.task_code,
            since: filter.since.map(|d| d.0),
            until: filter.until.map(|d| d.0),
            ..Default::default()
        };
        if let Some(id) = &filter.record_id {
            query.record = Some(RecordRef::parse(id.as_str()).ok_or_else(|| {
                ApiError::BadUserInputAt {
                    path: "filter.recordId".into(),
                    message: format!(
                        "{:?} is not a record id such as \"OcopProduct:42\"",
                        id.as_str()
                    ),
                }
                .into_graphql()
            })?);
        }
        if let Some(code) = &filter.agency {
            let plan = super::context::snapshot(ctx).await?;
            let agency = plan.agencies.iter().find(|a| a.code == code.trim());
            query.agency_id = Some(agency.map_or(-1, |a| a.id));
        }
        if let Some(cursor) = after {
            query.before_id = Some(cursor.parse().map_err(|_| {
                ApiError::BadUserInputAt {
                    path: "after".into(),
                    message: format!("{cursor:?} is not a cursor of this list"),
                }
                .into_graphql()
            })?);
        }
        let rows = list(database(ctx)?, &query, first as u64 + 1).await.api()?;
        Ok(super::list::keyset_page(
            rows,
            first as usize,
            query.before_id.is_some(),
            |row| row.id.to_string(),
            AuditEntry,
        ))
    }
}
