//! Linked records over GraphQL. Every type and root field of a record kind is built from
//! the kind's declaration (`crate::records`): the object (`node`), its inputs
//! (`inputs`), the root queries, mutations and aggregates (`roots`).

pub mod inputs;
pub mod node;
pub mod reports;
pub mod results;
pub mod roots;

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::context::{caller, database};
use super::error::{ApiError, ApiResult};
use super::fetch::{page_rows, prefetch_organisations, selects_organisation};
use super::list::{Connection, PageArgs, connection_from_rows};
use super::objects::{Organisation, RecordNode};
use crate::domain::auth::{Caller, Role};
use crate::domain::filter::{Filter, SortKey};
use crate::domain::records::{RecordKind, RecordRef};
use crate::records::Kind;
use crate::store::records::{self as store, ArchivedScope, ListQuery};

/// Parses a record id argument: the global `"OcopProduct:42"`, or `"42"` for `kind`.
pub(crate) fn parse_record_id(id: &ID, kind: RecordKind) -> async_graphql::Result<i32> {
    RecordRef::id_of(id.as_str(), kind)
        .map_err(|e| ApiError::BadUserInput(e.to_string()).into_graphql())
}

/// Parses any record's global id, e.g. `"OcopProduct:42"`.
pub(crate) fn parse_any_record_id(id: &ID) -> async_graphql::Result<RecordRef> {
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
impl Organisation {
    async fn id(&self) -> ID {
        ID(format!("Organisation:{}", self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Vietnamese tax code (mã số thuế), where known.
    async fn tax_code(&self) -> Option<&str> {
        self.0.tax_code.as_deref()
    }

    /// cooperative, enterprise, household business, institute…
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }

    /// The district as the organisation's records name it.
    async fn district(&self) -> Option<&str> {
        self.0.district.as_deref()
    }

    async fn commune(&self) -> Option<&str> {
        self.0.commune.as_deref()
    }
}

/// Which archived records the caller may list (see `domain::scope::may_read`).
pub(crate) fn archived_scope(caller: &Caller) -> ArchivedScope {
    match caller {
        Caller::Anonymous => ArchivedScope::None,
        Caller::Token {
            role: Role::Admin | Role::Analyst,
            ..
        } => ArchivedScope::All,
        Caller::Token {
            agency_id,
            agency_code,
            ..
        } => ArchivedScope::OwnedBy {
            source: format!("agency:{}", agency_code.as_deref().unwrap_or_default()),
            agency_id: *agency_id,
        },
    }
}

/// What a list asks for, checked.
pub(crate) struct ListArgs {
    pub filter: Filter,
    pub sort: Vec<SortKey>,
    pub page: PageArgs,
    pub include_inactive: bool,
}

/// Runs a list query and builds its page; `totalCount` is counted only when selected
/// (or needed for `last`).
pub(crate) async fn list_page<E, N>(
    ctx: &Context<'_>,
    table: &'static str,
    args: ListArgs,
    wrap: impl Fn(Arc<E::Model>) -> N,
    organisation_of: impl Fn(&E::Model) -> Option<i32>,
) -> async_graphql::Result<Connection<N>>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
    N: async_graphql::OutputType,
{
    let db = database(ctx)?;
    let mut query = ListQuery {
        filter: args.filter,
        sort: args.sort,
        offset: 0,
        limit: 0,
        include_inactive: args.include_inactive,
        archived_scope: archived_scope(caller(ctx)),
    };
    let totals = ctx.data::<std::sync::Arc<crate::store::totals::TotalsCache>>()?;
    // The log's head is read only when a count is asked for.
    let total = |query: ListQuery| async move {
        let seq = crate::graphql::context::request_head(ctx).await?.seq;
        totals.count(seq, db, table, &query).await
    };
    let count = |query: ListQuery| async move {
        total(query)
            .await
            .map(|n| n as usize)
            .map_err(ApiError::from)
    };
    let window = args
        .page
        .window(|| count(query.clone()))
        .await
        .map_err(ApiError::into_graphql)?;
    query.offset = window.offset as u64;
    // One extra row tells whether a next page exists.
    query.limit = window.limit as u64 + 1;
    let look_ahead = ctx.look_ahead();
    let wants_total = look_ahead.field("totalCount").exists() || window.bounded_above;
    let wants_rows = ["nodes", "edges", "pageInfo"]
        .iter()
        .any(|field| look_ahead.field(field).exists());
    // The query names everything the page depends on: table, filter, order, window and
    // the caller's archived scope.
    let rows = || {
        page_rows(ctx, format!("{table}|{query:?}"), || async {
            store::list::<E>(db, table, &query).await.api()
        })
    };
    let (rows, total) = match (wants_rows, wants_total) {
        (true, true) => {
            let (rows, total) =
                futures_util::future::try_join(rows(), async { total(query.clone()).await.api() })
                    .await?;
            (rows, total as i64)
        }
        (true, false) => (rows().await?, 0),
        (false, true) => (Vec::new(), total(query.clone()).await.api()? as i64),
        (false, false) => (Vec::new(), 0),
    };
    if selects_organisation(ctx) {
        prefetch_organisations(ctx, rows.iter().filter_map(|row| organisation_of(row))).await?;
    }
    let nodes = rows.into_iter().map(wrap).collect();
    Ok(connection_from_rows(window, nodes, total))
}

/// A page of records of kind `K`.
pub(crate) async fn list_records<K: Kind>(
    ctx: &Context<'_>,
    args: ListArgs,
) -> async_graphql::Result<Connection<RecordNode<K>>> {
    list_page::<K::Entity, RecordNode<K>>(
        ctx,
        K::SPEC.table,
        args,
        RecordNode::from_arc,
        crate::records::organisation_of::<K>,
    )
    .await
}
