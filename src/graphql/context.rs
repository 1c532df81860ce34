//! What resolvers read from the request's context: the caller, the database, the
//! loaders, the plan snapshot and the change feed.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::Context;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use sea_orm::DatabaseConnection;

use super::batch::Batcher;
use super::error::{ApiError, ApiResult};
use super::loaders::{PlanLoader, PlanLookup, RecordLoader};
use crate::domain::auth::Caller;
use crate::domain::scope::{self, Writer};
use crate::store::StoreError;
use crate::store::changes::{Head, HeadReader};
use crate::store::feed::ChangeFeed;
use crate::store::snapshot::{PlanCache, PlanSnapshot};

/// A request run as `caller`, with the per-request state every execution needs (the
/// change log's head, read once). HTTP, exports and reports all build theirs here.
pub fn request_as(
    query: impl Into<String>,
    variables: serde_json::Value,
    caller: Caller,
) -> async_graphql::Request {
    async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(caller)
        .data(RequestHead::default())
}

/// The change log's head as this request read it, and this process's write count then.
/// Resolvers running side by side share the one read, and all go on together when it
/// ends (a batch loader then sees their keys in one pass).
#[derive(Default)]
pub struct RequestHead(std::sync::Mutex<Option<(u64, HeadRead)>>);

type HeadRead = Shared<BoxFuture<'static, Result<Head, Arc<StoreError>>>>;

impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHead").finish_non_exhaustive()
    }
}

/// The change log's head, read once per request after it arrived (and again after this
/// process writes): what cached values must reflect to be served to it.
pub async fn head(ctx: &Context<'_>) -> async_graphql::Result<Head> {
    request_head(ctx).await.api()
}

/// [`head`], with the store's error.
pub async fn request_head(ctx: &Context<'_>) -> Result<Head, Arc<StoreError>> {
    let missing = |what: &str| Arc::new(StoreError::Invalid(format!("the schema has no {what}")));
    let local_writes = ctx
        .data_opt::<ChangeFeed>()
        .ok_or_else(|| missing("change feed"))?
        .local_writes();
    let read = || -> Result<HeadRead, Arc<StoreError>> {
        let reader = ctx
            .data_opt::<Arc<HeadReader>>()
            .ok_or_else(|| missing("change log reader"))?
            .clone();
        Ok(async move {
            reader
                .head()
                .await
                .map_err(|e| Arc::new(StoreError::SharedDb(e)))
        }
        .boxed()
        .shared())
    };
    let Some(remembered) = ctx.data_opt::<RequestHead>() else {
        return read()?.await;
    };
    let pending = {
        let Ok(mut memo) = remembered.0.lock() else {
            return read()?.await;
        };
        match &*memo {
            // Every field of a request asks; once the read is done, the answer is there.
            Some((writes, pending)) if *writes == local_writes => match pending.peek() {
                Some(done) => return done.clone(),
                None => pending.clone(),
            },
            _ => {
                let pending = read()?;
                *memo = Some((local_writes, pending.clone()));
                pending
            }
        }
    };
    pending.await
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
pub fn plan_loader<'a, 'c>(ctx: &'a Context<'c>) -> async_graphql::Result<PlanReader<'a, 'c>> {
    Ok(PlanReader {
        loader: ctx.data::<Arc<PlanLoader>>()?,
        ctx,
    })
}

/// The plan loader called directly, with the `load_one` and `load_many` of a batching
/// loader, at the request's head of the change log.
pub struct PlanReader<'a, 'c> {
    loader: &'a PlanLoader,
    ctx: &'a Context<'c>,
}

impl PlanReader<'_, '_> {
    async fn head(&self) -> Result<Head, Arc<StoreError>> {
        request_head(self.ctx).await
    }

    pub async fn load_one<K>(
        &self,
        key: K,
    ) -> Result<Option<<PlanLoader as PlanLookup<K>>::Value>, Arc<StoreError>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        PlanLoader: PlanLookup<K>,
    {
        let head = self.head().await?;
        let mut found = self.loader.lookup(head, std::slice::from_ref(&key)).await?;
        Ok(found.remove(&key))
    }

    pub async fn load_many<K>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, <PlanLoader as PlanLookup<K>>::Value>, Arc<StoreError>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        PlanLoader: PlanLookup<K>,
    {
        let keys: Vec<K> = keys.into_iter().collect();
        let head = self.head().await?;
        self.loader.lookup(head, &keys).await
    }
}

pub fn record_loader<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Batcher<RecordLoader>> {
    Ok(ctx.data::<Arc<Batcher<RecordLoader>>>()?)
}

/// The in-memory plan snapshot (see `store::snapshot`), as new as the request's head.
pub async fn snapshot(ctx: &Context<'_>) -> async_graphql::Result<Arc<PlanSnapshot>> {
    let plan_seq = head(ctx).await?.plan_seq;
    ctx.data::<Arc<PlanCache>>()?.get(plan_seq).await.api()
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
