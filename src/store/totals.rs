//! Counts behind `totalCount`, kept for a few seconds. A BI tool or dashboard asks the
//! same filtered totals over and over; counting matching rows is the costliest part of
//! a list page. Any write this process publishes makes every kept count stale at once
//! (before the write's response is sent); writes by other processes show within
//! `MAX_AGE`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use super::StoreError;
use super::feed::ChangeFeed;
use super::records::{ListQuery, count};

/// How stale a count may get.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Entries kept before the cache starts afresh.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
pub struct TotalsCache {
    feed: ChangeFeed,
    entries: Mutex<HashMap<String, (Instant, u64, u64)>>,
}

fn key(table: &str, query: &ListQuery) -> String {
    format!(
        "{table}|{:?}|{}|{:?}",
        query.filter, query.include_inactive, query.archived_scope
    )
}

impl TotalsCache {
    pub fn new(feed: ChangeFeed) -> Self {
        Self {
            feed,
            entries: Mutex::default(),
        }
    }

    fn get(&self, key: &str, generation: u64) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, seen, _)| *seen == generation && at.elapsed() < MAX_AGE)
            .map(|(_, _, n)| *n)
    }

    fn put(&self, key: String, generation: u64, total: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), generation, total));
        }
    }

    /// Forgets the counts of one table.
    pub fn clear_table(&self, table: &str) {
        let prefix = format!("{table}|");
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|key, _| !key.starts_with(&prefix));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// The number of rows `query` matches, from the cache when fresh.
    pub async fn count<E>(
        &self,
        db: &DatabaseConnection,
        table: &'static str,
        query: &ListQuery,
    ) -> Result<u64, StoreError>
    where
        E: sea_orm::EntityTrait,
        E::Model: sea_orm::FromQueryResult + Send + Sync,
    {
        let key = key(table, query);
        // Read before counting: a write that lands meanwhile leaves this count stale.
        let generation = self.feed.generation();
        if let Some(total) = self.get(&key, generation) {
            return Ok(total);
        }
        let total = count::<E>(db, table, query).await?;
        self.put(key, generation, total);
        Ok(total)
    }
}
