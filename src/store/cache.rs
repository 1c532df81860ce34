//! Read results kept between writes. Dashboards and BI tools ask the same counts,
//! targets and aggregates over and over, and computing them is the costliest part of
//! their queries. A value is kept under the change log's head it was read at
//! (`changes::Head::seq`); a request asks for values at the head it read after it
//! arrived, so any write acknowledged before then, by any replica, makes earlier values
//! unreachable at once.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

/// How long a value is kept at most: what bounds memory, and how late an edit made
/// outside the hub (not in the change log) shows.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Entries kept at most; the least used go first.
const MAX_ENTRIES: u64 = 10_000;

/// Values keyed by what names the query they answer, and the log's head they were read
/// at; values of earlier heads age out. Concurrent asks for one missing key compute it
/// once, and the others wait for that value.
pub struct ReadCache<K, V> {
    /// Names the cache in the metrics (`khcn_hub_cache_requests_total{cache=…}`).
    name: &'static str,
    entries: Cache<(i64, K), Arc<V>>,
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
    pub fn new(name: &'static str) -> Self {
        Self::with_max_age(name, MAX_AGE)
    }

    pub fn with_max_age(name: &'static str, max_age: Duration) -> Self {
        Self::bounded(name, max_age, MAX_ENTRIES)
    }

    /// A cache of at most `entries` values, each kept at most `max_age`.
    pub fn bounded(name: &'static str, max_age: Duration, entries: u64) -> Self {
        Self {
            name,
            entries: Cache::builder()
                .max_capacity(entries)
                .time_to_live(max_age)
                .build(),
        }
    }

    /// The value kept for `key` at log head `seq`, if any. For callers that read what
    /// is missing in one batch and then `insert` it.
    pub async fn get(&self, seq: i64, key: K) -> Option<Arc<V>> {
        let found = self.entries.get(&(seq, key)).await;
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("khcn_hub_cache_requests_total", "cache" => self.name, "result" => result)
            .increment(1);
        found
    }

    /// Keeps `value` for `key` at log head `seq`; it must have been read from the
    /// database after `seq` was read.
    pub async fn insert(&self, seq: i64, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        self.entries.insert((seq, key), value.clone()).await;
        value
    }

    /// The value kept for `key` at log head `seq`, else what `load` computes (then
    /// kept). `load` must read the database after `seq` was read. An error is given to
    /// everyone who waited for it, and not kept.
    pub async fn get_or_load<E, F, Fut>(&self, seq: i64, key: K, load: F) -> Result<Arc<V>, Arc<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
    {
        let loaded = std::sync::atomic::AtomicBool::new(false);
        let value = self
            .entries
            .try_get_with((seq, key), async {
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

    async fn load(cache: &ReadCache<String, u32>, seq: i64, key: &str, value: u32) -> u32 {
        *cache
            .get_or_load::<(), _, _>(seq, key.to_owned(), || async move { Ok(value) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_values_until_the_log_moves() {
        let cache = ReadCache::new("test");
        assert_eq!(load(&cache, 1, "a", 1).await, 1);
        assert_eq!(load(&cache, 1, "a", 2).await, 1, "a fresh value is kept");
        assert_eq!(load(&cache, 1, "b", 3).await, 3, "keys are separate");
        assert_eq!(load(&cache, 2, "a", 4).await, 4, "a write makes it stale");
    }

    #[tokio::test]
    async fn values_inserted_are_found_at_their_head_only() {
        let cache = ReadCache::<String, u32>::bounded("test", MAX_AGE, 10);
        assert!(cache.get(1, "a".to_owned()).await.is_none());
        cache.insert(1, "a".to_owned(), 5).await;
        assert_eq!(cache.get(1, "a".to_owned()).await.as_deref(), Some(&5));
        assert!(
            cache.get(2, "a".to_owned()).await.is_none(),
            "a write hides it"
        );
        assert_eq!(load(&cache, 1, "a", 9).await, 5, "get_or_load sees it too");
    }

    #[tokio::test]
    async fn values_expire() {
        let cache = ReadCache::with_max_age("test", Duration::from_millis(20));
        assert_eq!(load(&cache, 1, "a", 1).await, 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            load(&cache, 1, "a", 2).await,
            2,
            "an expired value is reloaded"
        );
    }

    #[tokio::test]
    async fn concurrent_asks_compute_once() {
        let cache = ReadCache::<String, u32>::new("test");
        let calls = AtomicUsize::new(0);
        let ask = || {
            cache.get_or_load::<(), _, _>(1, "a".to_owned(), || async {
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
        let cache = ReadCache::<String, u32>::new("test");
        let failed = cache
            .get_or_load(1, "a".to_owned(), || async { Err("down") })
            .await;
        assert_eq!(failed.err().as_deref(), Some(&"down"));
        assert_eq!(load(&cache, 1, "a", 7).await, 7);
    }
}
