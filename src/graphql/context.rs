//! What resolvers read from the request's context: the caller, the database, the
//! loaders, the plan snapshot and the change feed.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use super::batch::Batcher;
use super::error::{ApiError, ApiResult};
use super::loaders::{PlanLoader, RecordLoader};
use crate::domain::auth::Caller;
use crate::domain::scope::{self, Writer};
use crate::store::StoreError;
use crate::store::feed::ChangeFeed;
use crate::store::snapshot::{PlanCache, PlanSnapshot};

/// A request run as `caller`, with the per-request state every execution needs (the
/// page's prefetched organisations). HTTP, exports and reports all build theirs here.
pub fn request_as(
    query: impl Into<String>,
    variables: serde_json::Value,
    caller: Caller,
) -> async_graphql::Request {
    async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(caller)
        .data(super::fetch::Prefetched::default())
}

/// The caller of this request.
pub fn caller<'a>(ctx: &'a Context<'_>) -> &'a Caller {
    static ANONYMOUS: Caller = Caller::Anonymous;
    ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
}

/// The caller as a writer, or the error that refuses it.
pub fn writer(ctx: &Context<'_>) -> async_graphql::Result<Writer> {
    scope::writer(caller(ctx)).map_err(|denied| ApiError::from(denied).into_graphql())
}

pub fn database<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

pub fn feed<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a ChangeFeed> {
    ctx.data::<ChangeFeed>()
}

/// Reads the plan's objects and relations: straight from the in-memory snapshot, with no
/// batch window to wait for (there is no statement to batch).
pub fn plan_loader<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<PlanReader<'a>> {
    Ok(PlanReader(ctx.data::<Arc<PlanLoader>>()?))
}

/// The plan loader called directly, with the `load_one` and `load_many` of a batching
/// loader.
pub struct PlanReader<'a>(&'a PlanLoader);

impl PlanReader<'_> {
    pub async fn load_one<K>(
        &self,
        key: K,
    ) -> Result<Option<<PlanLoader as Loader<K>>::Value>, Arc<StoreError>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        PlanLoader: Loader<K, Error = Arc<StoreError>>,
    {
        let mut found = self.0.load(std::slice::from_ref(&key)).await?;
        Ok(found.remove(&key))
    }

    pub async fn load_many<K>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, <PlanLoader as Loader<K>>::Value>, Arc<StoreError>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        PlanLoader: Loader<K, Error = Arc<StoreError>>,
    {
        let keys: Vec<K> = keys.into_iter().collect();
        self.0.load(&keys).await
    }
}

pub fn record_loader<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Batcher<RecordLoader>> {
    ctx.data::<Batcher<RecordLoader>>()
}

/// The in-memory plan snapshot (see `store::snapshot`).
pub async fn snapshot(ctx: &Context<'_>) -> async_graphql::Result<Arc<PlanSnapshot>> {
    ctx.data::<Arc<PlanCache>>()?.get().await.api()
}

/// What inputs refer to by code, resolved once per request.
pub async fn refs(
    ctx: &Context<'_>,
    writer: &Writer,
) -> async_graphql::Result<crate::records::draft::Refs> {
    let plan = snapshot(ctx).await?;
    Ok(crate::records::draft::Refs {
        agencies: plan
            .agencies
            .iter()
            .map(|a| (a.code.clone(), a.id))
            .collect(),
        caller_agency: writer.agency_id,
    })
}
