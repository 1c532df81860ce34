//! Fetching the objects fields refer to, through the loaders: records by reference,
//! agencies and organisations by id, a page's organisations ahead of its rows. Records,
//! organisations, task links and list pages read at the change log's head are kept for
//! the requests that read at the same head (`EntityCache`).

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;

use super::context::{caller, plan_loader, record_loader, request_head};
use super::error::ApiResult;
use super::loaders::{
    AgencyId, OrganisationId, RecordKey, RecordLoader, RecordTasks, SupportEventsOf, TaskLinks,
};
use super::objects::{Agency, LinkedRecord, Organisation};
use crate::db::entities::{organisations, record_links, startup_support_events, tasks};
use crate::domain::records::RecordRef;
use crate::store::StoreError;
use crate::store::cache::{HeadMap, MAX_AGE, ReadCache};

/// What requests at one head of the change log share: every value was read after that
/// head, so it reflects every write acknowledged before the head was read, on any
/// replica. A write moves the head and leaves these values unreachable; they age out.
/// Values are the caller-independent rows: who may see them is decided per request.
pub struct EntityCache {
    records: HeadMap<RecordRef, LinkedRecord>,
    organisations: HeadMap<i32, organisations::Model>,
    task_links: HeadMap<TaskLinks, Vec<record_links::Model>>,
    record_tasks: HeadMap<RecordRef, Vec<tasks::Model>>,
    support_events: HeadMap<i32, Vec<startup_support_events::Model>>,
    /// A list page's rows (`Vec<Arc<Model>>` of the list's table) by table and query.
    pages: ReadCache<String, Box<dyn Any + Send + Sync>>,
}

/// Records and organisations kept at most: a few megabytes of rows.
const ENTITIES: usize = 4_096;
/// List pages kept at most (each up to 101 rows).
const PAGES: u64 = 256;

impl Default for EntityCache {
    fn default() -> Self {
        Self {
            records: HeadMap::new("records", MAX_AGE, ENTITIES),
            organisations: HeadMap::new("organisations", MAX_AGE, ENTITIES),
            task_links: HeadMap::new("task_links", MAX_AGE, ENTITIES),
            record_tasks: HeadMap::new("record_tasks", MAX_AGE, ENTITIES),
            support_events: HeadMap::new("support_events", MAX_AGE, ENTITIES),
            pages: ReadCache::bounded("pages", MAX_AGE, PAGES),
        }
    }
}

fn entity_cache<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a EntityCache> {
    Ok(ctx.data::<Arc<EntityCache>>()?)
}

/// The values of `keys` at the request's head: those kept, then the missing ones read by
/// the record loader in one call (and kept), under the loader's own key type (`wrap`
/// and `unwrap` convert). Keys the loader does not find are left out.
async fn loaded_at_head<K, W, V>(
    ctx: &Context<'_>,
    cache: &HeadMap<K, V>,
    keys: impl IntoIterator<Item = K>,
    wrap: fn(K) -> W,
    unwrap: fn(W) -> K,
) -> async_graphql::Result<HashMap<K, Arc<V>>>
where
    K: Hash + Eq + Copy + Send + Sync + 'static,
    W: Hash + Eq + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
    RecordLoader: Loader<W, Value = V, Error = Arc<StoreError>>,
{
    let seq = request_head(ctx).await.api()?.seq;
    let (mut found, missing) = cache.get_many(seq, keys);
    if !missing.is_empty() {
        let loaded = record_loader(ctx)?
            .load_many(missing.into_iter().map(wrap))
            .await
            .api()?
            .into_iter()
            .map(|(key, value)| (unwrap(key), value));
        found.extend(cache.insert_many(seq, loaded));
    }
    Ok(found)
}

/// The one value kept or loaded for `key`, or `V::default()`.
async fn one_at_head<K, W, V>(
    ctx: &Context<'_>,
    cache: &HeadMap<K, V>,
    key: K,
    wrap: fn(K) -> W,
    unwrap: fn(W) -> K,
) -> async_graphql::Result<Arc<V>>
where
    K: Hash + Eq + Copy + Send + Sync + 'static,
    W: Hash + Eq + Clone + Send + Sync + 'static,
    V: Default + Send + Sync + 'static,
    RecordLoader: Loader<W, Value = V, Error = Arc<StoreError>>,
{
    let mut found = loaded_at_head(ctx, cache, [key], wrap, unwrap).await?;
    Ok(found.remove(&key).unwrap_or_default())
}

/// Records by reference at the request's head, archived ones included (the caller
/// decides what to show).
pub async fn records_by_ref(
    ctx: &Context<'_>,
    refs: impl IntoIterator<Item = RecordRef>,
) -> async_graphql::Result<HashMap<RecordRef, Arc<LinkedRecord>>> {
    let cache = &entity_cache(ctx)?.records;
    loaded_at_head(ctx, cache, refs, RecordKey, |key| key.0).await
}

/// A task's first links (see `TaskLinks`) at the request's head.
pub async fn task_links(
    ctx: &Context<'_>,
    key: TaskLinks,
) -> async_graphql::Result<Arc<Vec<record_links::Model>>> {
    let cache = &entity_cache(ctx)?.task_links;
    one_at_head(ctx, cache, key, |key| key, |key| key).await
}

/// The plan tasks a record serves, at the request's head.
pub async fn record_tasks(
    ctx: &Context<'_>,
    record: RecordRef,
) -> async_graphql::Result<Arc<Vec<tasks::Model>>> {
    let cache = &entity_cache(ctx)?.record_tasks;
    one_at_head(ctx, cache, record, RecordTasks, |key| key.0).await
}

/// A startup's support events, at the request's head.
pub async fn support_events(
    ctx: &Context<'_>,
    startup_id: i32,
) -> async_graphql::Result<Arc<Vec<startup_support_events::Model>>> {
    let cache = &entity_cache(ctx)?.support_events;
    one_at_head(ctx, cache, startup_id, SupportEventsOf, |key| key.0).await
}

/// A list page's rows at the request's head: kept under `key` (which must name the
/// table and every part of the query), else read by `load`.
pub async fn page_rows<M, Fut>(
    ctx: &Context<'_>,
    key: String,
    load: impl FnOnce() -> Fut,
) -> async_graphql::Result<Vec<Arc<M>>>
where
    M: Send + Sync + 'static,
    Fut: Future<Output = async_graphql::Result<Vec<M>>>,
{
    let cache = &entity_cache(ctx)?.pages;
    let seq = request_head(ctx).await.api()?.seq;
    // Concurrent requests for one missing page read it once.
    let kept = cache
        .get_or_load(seq, key, || async {
            let rows: Vec<Arc<M>> = load().await?.into_iter().map(Arc::new).collect();
            Ok::<Box<dyn Any + Send + Sync>, async_graphql::Error>(Box::new(rows))
        })
        .await
        .map_err(|e| async_graphql::Error::clone(&e))?;
    // The key names the table, and a table has one row type.
    kept.downcast_ref::<Vec<Arc<M>>>()
        .cloned()
        .ok_or_else(|| async_graphql::Error::new("a kept page holds rows of another type"))
}

/// Loads records by reference, keeping the order of `refs` and skipping missing ones
/// and those the caller may not read.
pub async fn load_records(
    ctx: &Context<'_>,
    refs: impl IntoIterator<Item = RecordRef>,
) -> async_graphql::Result<Vec<LinkedRecord>> {
    let refs: Vec<RecordRef> = refs.into_iter().collect();
    let found = records_by_ref(ctx, refs.iter().copied()).await?;
    let caller = caller(ctx);
    let records: Vec<LinkedRecord> = refs
        .iter()
        .filter_map(|r| found.get(r))
        .filter(|record| record.readable_by(caller))
        .map(|record| LinkedRecord::clone(record))
        .collect();
    let look_ahead = ctx.look_ahead();
    // One record's organisation is one look-up either way: its own field makes it.
    if records.len() > 1
        && ORGANISATION_FIELDS
            .iter()
            .any(|name| look_ahead.field(name).exists())
    {
        prefetch_organisations(ctx, records.iter().filter_map(LinkedRecord::organisation)).await?;
    }
    Ok(records)
}

/// The fields through which a record names an organisation.
const ORGANISATION_FIELDS: [&str; 4] = ["producer", "host", "enterprise", "organisation"];

/// Reads the organisations `ids` names that are not kept yet, in one call, so that a
/// page of 100 records then finds its producers kept instead of making 100 loader calls.
pub async fn prefetch_organisations(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i32>,
) -> async_graphql::Result<()> {
    let mut ids: Vec<i32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    organisations_by_id(ctx, ids).await?;
    Ok(())
}

/// Organisations by id at the request's head.
async fn organisations_by_id(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i32>,
) -> async_graphql::Result<HashMap<i32, Arc<organisations::Model>>> {
    let cache = &entity_cache(ctx)?.organisations;
    loaded_at_head(ctx, cache, ids, OrganisationId, |key| key.0).await
}

pub async fn load_organisation(
    ctx: &Context<'_>,
    id: Option<i32>,
) -> async_graphql::Result<Option<Organisation>> {
    let Some(id) = id else { return Ok(None) };
    Ok(organisations_by_id(ctx, [id])
        .await?
        .get(&id)
        .map(|o| Organisation(Arc::clone(o))))
}

/// Whether a page's nodes ask for an organisation.
pub fn selects_organisation(ctx: &Context<'_>) -> bool {
    let look_ahead = ctx.look_ahead();
    ["nodes", "edges"].iter().any(|field| {
        let nodes = look_ahead.field(field);
        let nodes = if *field == "edges" {
            nodes.field("node")
        } else {
            nodes
        };
        ORGANISATION_FIELDS
            .iter()
            .any(|name| nodes.field(name).exists())
    })
}

/// An agency by id.
pub async fn load_agency(
    ctx: &Context<'_>,
    id: Option<i32>,
) -> async_graphql::Result<Option<Agency>> {
    let Some(id) = id else { return Ok(None) };
    Ok(plan_loader(ctx)?
        .load_one(AgencyId(id))
        .await
        .api()?
        .map(Agency))
}
