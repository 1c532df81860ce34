//! Read results kept for a few seconds. Dashboards and BI tools ask the same counts,
//! targets and aggregates over and over, and computing them is the costliest part of
//! their queries. Any write this process publishes makes every kept value stale at once
//! (before the write's response is sent); writes by other processes show within the
//! cache's maximum age.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::feed::ChangeFeed;

/// How stale a kept value may get by default.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Entries kept at most; the least used go first.
const MAX_ENTRIES: u64 = 10_000;

/// Values keyed by what names the query they answer. A key is kept with the feed's
/// generation when its value was read, so a published write leaves every earlier value
/// unreachable at once; those age out. Concurrent asks for one missing key compute it
/// once, and the others wait for that value.
pub struct ReadCache<K, V> {
    /// Names the cache in the metrics (`khcn_hub_cache_requests_total{cache=…}`).
    name: &'static str,
    feed: ChangeFeed,
    entries: Cache<(u64, K), Arc<V>>,
}

impl<K, V> std::fmt::Debug for ReadCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl<K, V> ReadCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    pub fn new(name: &'static str, feed: ChangeFeed) -> Self {
        Self::with_max_age(name, feed, MAX_AGE)
    }

    pub fn with_max_age(name: &'static str, feed: ChangeFeed, max_age: Duration) -> Self {
        Self {
            name,
            feed,
            entries: Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(max_age)
                .build(),
        }
    }

    /// The kept value for `key` when fresh, else what `load` computes (then kept).
    /// An error is given to everyone who waited for it, and not kept.
    pub async fn get_or_load<E, F, Fut>(&self, key: K, load: F) -> Result<Arc<V>, Arc<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
    {
        // Read before loading: a write that lands meanwhile leaves the value stale.
        let generation = self.feed.generation();
        let loaded = std::sync::atomic::AtomicBool::new(false);
        let value = self
            .entries
            .try_get_with((generation, key), async {
                loaded.store(true, std::sync::atomic::Ordering::Relaxed);
                load().await.map(Arc::new)
            })
            .await;
        let result = if loaded.load(std::sync::atomic::Ordering::Relaxed) {
            "miss"
        } else {
            "hit"
        };
        metrics::counter!("khcn_hub_cache_requests_total", "cache" => self.name, "result" => result)
            .increment(1);
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn load(cache: &ReadCache<String, u32>, key: &str, value: u32) -> u32 {
        *cache
            .get_or_load::<(), _, _>(key.to_owned(), || async move { Ok(value) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_values_until_a_write_is_published() {
        let feed = ChangeFeed::new();
        let cache = ReadCache::new("test", feed.clone());
        assert_eq!(load(&cache, "a", 1).await, 1);
        assert_eq!(load(&cache, "a", 2).await, 1, "a fresh value is kept");
        assert_eq!(load(&cache, "b", 3).await, 3, "keys are separate");
        feed.touch();
        assert_eq!(load(&cache, "a", 4).await, 4, "a write makes it stale");
    }

    #[tokio::test]
    async fn values_expire() {
        let cache = ReadCache::with_max_age("test", ChangeFeed::new(), Duration::from_millis(20));
        assert_eq!(load(&cache, "a", 1).await, 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            load(&cache, "a", 2).await,
            2,
            "an expired value is reloaded"
        );
    }

    #[tokio::test]
    async fn concurrent_asks_compute_once() {
        let cache = ReadCache::<String, u32>::new("test", ChangeFeed::new());
        let calls = AtomicUsize::new(0);
        let ask = || {
            cache.get_or_load::<(), _, _>("a".to_owned(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(7)
            })
        };
        let (a, b, c) = tokio::join!(ask(), ask(), ask());
        assert_eq!((*a.unwrap(), *b.unwrap(), *c.unwrap()), (7, 7, 7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let cache = ReadCache::<String, u32>::new("test", ChangeFeed::new());
        let failed = cache
            .get_or_load("a".to_owned(), || async { Err("down") })
            .await;
        assert_eq!(failed.err().as_deref(), Some(&"down"));
        assert_eq!(load(&cache, "a", 7).await, 7);
    }
}
