//! Read results kept for a few seconds. Dashboards and BI tools ask the same counts,
//! targets and aggregates over and over, and computing them is the costliest part of
//! their queries. Any write this process publishes makes every kept value stale at once
//! (before the write's response is sent); writes by other processes show within the
//! cache's maximum age.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::feed::ChangeFeed;

/// How stale a kept value may get by default.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Entries kept before the cache starts afresh.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
struct Entry<V> {
    at: Instant,
    generation: u64,
    value: Arc<V>,
}

/// Values keyed by a string that names the query they answer.
#[derive(Debug)]
pub struct ReadCache<V> {
    feed: ChangeFeed,
    max_age: Duration,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V> ReadCache<V> {
    pub fn new(feed: ChangeFeed) -> Self {
        Self::with_max_age(feed, MAX_AGE)
    }

    pub fn with_max_age(feed: ChangeFeed, max_age: Duration) -> Self {
        Self {
            feed,
            max_age,
            entries: Mutex::default(),
        }
    }

    fn get(&self, key: &str, generation: u64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.at.elapsed() < self.max_age)
            .map(|e| e.value.clone())
    }

    fn put(&self, key: String, generation: u64, value: Arc<V>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    at: Instant::now(),
                    generation,
                    value,
                },
            );
        }
    }

    /// The kept value for `key` when fresh, else what `load` computes (then kept).
    pub async fn get_or_load<E, F, Fut>(&self, key: String, load: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        // Read before loading: a write that lands meanwhile leaves the value stale.
        let generation = self.feed.generation();
        if let Some(value) = self.get(&key, generation) {
            return Ok(value);
        }
        let value = Arc::new(load().await?);
        self.put(key, generation, value.clone());
        Ok(value)
    }

    /// Forgets the values whose keys start with `prefix`.
    pub fn clear_prefix(&self, prefix: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|key, _| !key.starts_with(prefix));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn load(cache: &ReadCache<u32>, key: &str, value: u32) -> u32 {
        *cache
            .get_or_load::<(), _, _>(key.to_owned(), || async move { Ok(value) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_values_until_a_write_is_published() {
        let feed = ChangeFeed::new();
        let cache = ReadCache::new(feed.clone());
        assert_eq!(load(&cache, "a", 1).await, 1);
        assert_eq!(load(&cache, "a", 2).await, 1, "a fresh value is kept");
        assert_eq!(load(&cache, "b", 3).await, 3, "keys are separate");
        feed.touch();
        assert_eq!(load(&cache, "a", 4).await, 4, "a write makes it stale");
    }

    #[tokio::test]
    async fn values_expire_and_can_be_cleared() {
        let cache = ReadCache::with_max_age(ChangeFeed::new(), Duration::ZERO);
        assert_eq!(load(&cache, "a", 1).await, 1);
        assert_eq!(
            load(&cache, "a", 2).await,
            2,
            "an expired value is reloaded"
        );

        let cache = ReadCache::new(ChangeFeed::new());
        load(&cache, "t|1", 1).await;
        load(&cache, "u|1", 1).await;
        cache.clear_prefix("t|");
        assert_eq!(load(&cache, "t|1", 5).await, 5);
        assert_eq!(load(&cache, "u|1", 5).await, 1);
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let cache = ReadCache::<u32>::new(ChangeFeed::new());
        let failed = cache
            .get_or_load("a".to_owned(), || async { Err("down") })
            .await;
        assert!(failed.is_err());
        assert_eq!(load(&cache, "a", 7).await, 7);
    }
}
