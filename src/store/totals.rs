//! Counts behind `totalCount`, kept between writes (see `cache`): counting matching
//! rows is the costliest part of a list page.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::StoreError;
use super::cache::ReadCache;
use super::records::{ListQuery, count};

#[derive(Debug)]
pub struct TotalsCache(ReadCache<String, u64>);

fn key(table: &str, query: &ListQuery) -> String {
    format!(
        "{table}|{:?}|{}|{:?}",
        query.filter, query.include_inactive, query.archived_scope
    )
}

impl Default for TotalsCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TotalsCache {
    pub fn new() -> Self {
        Self(ReadCache::new("totals"))
    }

    /// The number of rows `query` matches as of log head `seq` (or later).
    pub async fn count(
        &self,
        seq: i64,
        db: &DatabaseConnection,
        table: &'static str,
        query: &ListQuery,
    ) -> Result<u64, Arc<StoreError>> {
        let total = self
            .0
            .get_or_load(seq, key(table, query), || count(db, table, query))
            .await?;
        Ok(*total)
    }
}
