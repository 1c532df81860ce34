//! Fetching the objects fields refer to, through the loaders: records by reference,
//! agencies and organisations by id, a page's organisations ahead of its rows.

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::Context;

use super::context::{caller, plan_loader, record_loader};
use super::error::ApiResult;
use super::loaders::{AgencyId, OrganisationId, RecordKey};
use super::objects::{Agency, LinkedRecord, Organisation};
use crate::domain::records::RecordRef;

/// Loads records by reference, keeping the order of `refs` and skipping missing ones
/// and those the caller may not read.
pub async fn load_records(
    ctx: &Context<'_>,
    refs: impl IntoIterator<Item = RecordRef>,
) -> async_graphql::Result<Vec<LinkedRecord>> {
    let refs: Vec<RecordRef> = refs.into_iter().collect();
    let found = record_loader(ctx)?
        .load_many(refs.iter().copied().map(RecordKey))
        .await
        .api()?;
    let caller = caller(ctx);
    let records: Vec<LinkedRecord> = refs
        .iter()
        .filter_map(|r| found.get(&RecordKey(*r)))
        .filter(|record| record.readable_by(caller))
        .cloned()
        .collect();
    let look_ahead = ctx.look_ahead();
    if ORGANISATION_FIELDS
        .iter()
        .any(|name| look_ahead.field(name).exists())
    {
        prefetch_organisations(ctx, records.iter().filter_map(LinkedRecord::organisation)).await?;
    }
    Ok(records)
}

/// The fields through which a record names an organisation.
const ORGANISATION_FIELDS: [&str; 4] = ["producer", "host", "enterprise", "organisation"];

/// Organisations fetched for a whole page at once, for the rest of one request. A page
/// of 100 records then asks for its producers in one call instead of 100 loader calls.
#[derive(Default)]
pub struct Prefetched {
    organisations: Mutex<HashMap<i32, Option<Organisation>>>,
}

/// Loads the organisations `ids` names into the request's `Prefetched`, if it has one.
pub async fn prefetch_organisations(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i32>,
) -> async_graphql::Result<()> {
    let Some(prefetched) = ctx.data_opt::<Prefetched>() else {
        return Ok(());
    };
    let mut ids: Vec<i32> = ids.into_iter().collect();
    if let Ok(known) = prefetched.organisations.lock() {
        ids.retain(|id| !known.contains_key(id));
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let found = record_loader(ctx)?
        .load_many(ids.iter().copied().map(OrganisationId))
        .await
        .api()?;
    if let Ok(mut known) = prefetched.organisations.lock() {
        for id in ids {
            let organisation = found.get(&OrganisationId(id)).cloned().map(Organisation);
            known.insert(id, organisation);
        }
    }
    Ok(())
}

pub async fn load_organisation(
    ctx: &Context<'_>,
    id: Option<i32>,
) -> async_graphql::Result<Option<Organisation>> {
    let Some(id) = id else { return Ok(None) };
    if let Some(prefetched) = ctx.data_opt::<Prefetched>()
        && let Ok(known) = prefetched.organisations.lock()
        && let Some(organisation) = known.get(&id)
    {
        return Ok(organisation.clone());
    }
    Ok(record_loader(ctx)?
        .load_one(OrganisationId(id))
        .await
        .api()?
        .map(Organisation))
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
