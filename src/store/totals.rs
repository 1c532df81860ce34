//! Counts behind `totalCount`, kept for a few seconds (see `cache`): counting matching
//! rows is the costliest part of a list page.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::StoreError;
use super::cache::ReadCache;
use super::feed::ChangeFeed;
use super::records::{ListQuery, count};

#[derive(Debug)]
pub struct TotalsCache(ReadCache<String, u64>);

fn key(table: &str, query: &ListQuery) -> String {
    format!(
        "{table}|{:?}|{}|{:?}",
        query.filter, query.include_inactive, query.archived_scope
    )
}

impl TotalsCache {
    pub fn new(feed: ChangeFeed) -> Self {
        Self(ReadCache::new("totals", feed))
    }

    /// The number of rows `query` matches, from the cache when fresh.
    pub async fn count<E>(
        &self,
        db: &DatabaseConnection,
        table: &'static str,
        query: &ListQuery,
    ) -> Result<u64, Arc<StoreError>>
    where
        E: sea_orm::EntityTrait,
        E::Model: sea_orm::FromQueryResult + Send + Sync,
    {
        let total = self
            .0
            .get_or_load(key(table, query), || count::<E>(db, table, query))
            .await?;
        Ok(*total)
    }
}
