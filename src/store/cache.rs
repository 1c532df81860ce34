//! Read results kept between writes. Dashboards and BI tools ask the same counts,
//! targets and aggregates over and over, and computing them is the costliest part of
//! their queries. A value is kept under the change log's head it was read at
//! (`changes::Head::seq`); a request asks for values at the head it read after it
//! arrived, so any write acknowledged before then, by any replica, makes earlier values
//! unreachable at once.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use moka::future::Cache;

/// How long a value is kept at most: what bounds memory, and how late an edit made
/// outside the hub (not in the change log) shows.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Entries kept at most; the least used go first.
const MAX_ENTRIES: u64 = 10_000;

/// A cache's hit and miss counts (`khcn_hub_cache_requests_total{cache, result}`). The
/// two counters are registered at the first count, when the process has its recorder,
/// rather than looked up by name at every one.
#[derive(Debug)]
pub struct CacheCounters {
    name: &'static str,
    counters: OnceLock<[metrics::Counter; 2]>,
}

impl CacheCounters {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            counters: OnceLock::new(),
        }
    }

    fn counters(&self) -> &[metrics::Counter; 2] {
        self.counters.get_or_init(|| {
            ["hit", "miss"].map(|result| {
                metrics::counter!("khcn_hub_cache_requests_total", "cache" => self.name, "result" => result)
            })
        })
    }

    pub fn hits(&self, n: usize) {
        self.counters()[0].increment(n as u64);
    }

    pub fn misses(&self, n: usize) {
        self.counters()[1].increment(n as u64);
    }
}

/// Values keyed by what names the query they answer, and the log's head they were read
/// at; values of earlier heads age out. Concurrent asks for one missing key compute it
/// once, and the others wait for that value.
pub struct ReadCache<K, V> {
    counts: CacheCounters,
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
            counts: CacheCounters::new(name),
            entries: Cache::builder()
                .max_capacity(entries)
                .time_to_live(max_age)
                .build(),
        }
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
        if loaded.load(std::sync::atomic::Ordering::Relaxed) {
            self.counts.misses(1);
        } else {
            self.counts.hits(1);
        }
        value
    }

    /// Forgets the value kept for `key` at log head `seq`.
    pub async fn invalidate(&self, seq: i64, key: &K)
    where
        K: Clone,
    {
        self.entries.invalidate(&(seq, key.clone())).await;
    }
}

/// Misses up to which `HeadMap::get_many` finds repeats by scanning rather than hashing.
const SCAN_MISSES_UP_TO: usize = 32;

/// Rows by key for one head of the change log at a time: what many requests read at the
/// same head (records by id, organisations, a task's links) and look up by the dozen per
/// request. A batch of keys is looked up under one read lock; a value read at a newer
/// head starts a new generation, one read at an older head is returned but not kept. The
/// generation is dropped when it is `max_age` old (edits outside the hub show by then)
/// or holds `max_entries` values (memory stays bounded; the hot rows come back at once).
pub struct HeadMap<K, V> {
    counts: CacheCounters,
    max_age: Duration,
    max_entries: usize,
    generation: RwLock<Generation<K, V>>,
}

struct Generation<K, V> {
    seq: i64,
    born: Instant,
    values: HashMap<K, Arc<V>>,
}

impl<K, V> Generation<K, V> {
    fn new(seq: i64) -> Self {
        Self {
            seq,
            born: Instant::now(),
            values: HashMap::new(),
        }
    }
}

impl<K, V> std::fmt::Debug for HeadMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadMap")
            .field("name", &self.counts.name)
            .finish()
    }
}

impl<K, V> HeadMap<K, V>
where
    K: Hash + Eq + Copy,
{
    pub fn new(name: &'static str, max_age: Duration, max_entries: usize) -> Self {
        Self {
            counts: CacheCounters::new(name),
            max_age,
            max_entries,
            generation: RwLock::new(Generation::new(i64::MIN)),
        }
    }

    /// The values kept for `keys` at log head `seq`, and the keys (each once, in the
    /// order given) that were not.
    pub fn get_many(
        &self,
        seq: i64,
        keys: impl IntoIterator<Item = K>,
    ) -> (HashMap<K, Arc<V>>, Vec<K>) {
        let keys = keys.into_iter();
        let mut found = HashMap::with_capacity(keys.size_hint().0);
        let mut missing = Vec::new();
        // Repeated misses are dropped by scanning `missing` while it is short (a page's
        // worth); past that, a set keeps the check constant for callers with thousands.
        let mut missed: Option<HashSet<K>> = None;
        {
            let generation = self
                .generation
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let current = generation.seq == seq && generation.born.elapsed() < self.max_age;
            for key in keys {
                match current.then(|| generation.values.get(&key)).flatten() {
                    Some(value) => {
                        found.insert(key, Arc::clone(value));
                    }
                    None => {
                        let repeated = match &mut missed {
                            Some(set) => !set.insert(key),
                            None if missing.len() < SCAN_MISSES_UP_TO => missing.contains(&key),
                            None => {
                                let set = missed.insert(missing.iter().copied().collect());
                                !set.insert(key)
                            }
                        };
                        if !repeated {
                            missing.push(key);
                        }
                    }
                }
            }
        }
        self.counts.hits(found.len());
        self.counts.misses(missing.len());
        (found, missing)
    }

    /// Keeps `values`, read from the database after head `seq` was read, and returns
    /// them shared.
    pub fn insert_many(
        &self,
        seq: i64,
        values: impl IntoIterator<Item = (K, V)>,
    ) -> Vec<(K, Arc<V>)> {
        let values: Vec<(K, Arc<V>)> = values
            .into_iter()
            .map(|(key, value)| (key, Arc::new(value)))
            .collect();
        let mut generation = self
            .generation
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if seq < generation.seq {
            return values;
        }
        if seq > generation.seq
            || generation.born.elapsed() >= self.max_age
            || generation.values.len() + values.len() > self.max_entries
        {
            *generation = Generation::new(seq);
        }
        for (key, value) in values.iter().take(self.max_entries) {
            generation.values.insert(*key, Arc::clone(value));
        }
        values
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

    #[test]
    fn head_map_keeps_one_head_at_a_time() {
        let map = HeadMap::<u32, &str>::new("test", MAX_AGE, 10);
        let (found, missing) = map.get_many(1, [1, 2, 1]);
        assert!(found.is_empty());
        assert_eq!(missing, vec![1, 2], "each key once, in order");
        map.insert_many(1, [(1, "a"), (2, "b")]);
        let (found, missing) = map.get_many(1, [2, 3]);
        assert_eq!(found.get(&2).map(|v| **v), Some("b"));
        assert_eq!(missing, vec![3]);
        assert_eq!(map.get_many(2, [1]).1, vec![1], "a write hides every value");
        map.insert_many(2, [(1, "new")]);
        map.insert_many(1, [(2, "old")]);
        assert_eq!(map.get_many(2, [1]).0.get(&1).map(|v| **v), Some("new"));
        assert_eq!(
            map.get_many(2, [2]).1,
            vec![2],
            "a value read at an older head is not kept"
        );
        assert_eq!(map.get_many(1, [1]).1, vec![1], "nor is the older head's");
    }

    #[test]
    fn head_map_lists_each_of_many_misses_once_in_order() {
        let map = HeadMap::<u32, u32>::new("test", MAX_AGE, 10);
        map.insert_many(1, [(5, 5)]);
        // Past the scan's reach, so both ways of finding repeats are used.
        let asked = (0..100).chain((0..100).rev()).chain([5, 7, 150, 150]);
        let (found, missing) = map.get_many(1, asked);
        assert_eq!(found.len(), 1);
        let expected: Vec<u32> = (0..100).filter(|n| *n != 5).chain([150]).collect();
        assert_eq!(missing, expected);
    }

    #[test]
    fn head_map_stays_within_its_bounds() {
        let map = HeadMap::<u32, u32>::new("test", MAX_AGE, 3);
        map.insert_many(1, [(1, 1), (2, 2), (3, 3)]);
        assert_eq!(map.get_many(1, [1, 2, 3]).0.len(), 3);
        map.insert_many(1, [(4, 4)]);
        let (found, missing) = map.get_many(1, [1, 2, 3, 4]);
        assert_eq!(found.len(), 1, "a full generation starts again");
        assert_eq!(missing, vec![1, 2, 3]);
        let returned = map.insert_many(1, (10..20).map(|n| (n, n)));
        assert_eq!(returned.len(), 10, "every value read is returned");
        assert_eq!(
            map.get_many(1, 10..20).0.len(),
            3,
            "no more than the bound kept"
        );

        let short = HeadMap::<u32, u32>::new("test", Duration::from_millis(20), 10);
        short.insert_many(1, [(1, 1)]);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(
            short.get_many(1, [1]).1,
            vec![1],
            "an old generation is not read"
        );
    }
}
