//! Batching for loaders that read the database: keys asked for while a batch is being
//! gathered are read in one statement. Unlike a fixed batch window, the batch is taken as
//! soon as a pass over the request's fields adds no key to it: the field that starts a
//! batch yields (tokio wakes a yielding task only after its current poll), and its
//! siblings, polled in that same pass, add their keys meanwhile. So a lone key waits
//! for nothing; an optional window waits longer to gather more. The
//! answer reaches all who wait for it at once, so the fields that waited together go on
//! together and ask for the next level's keys in one batch.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::dataloader::Loader;
use tokio::sync::watch;

type Answer<K, V, E> = Option<Result<Arc<HashMap<K, V>>, E>>;
type Waiting<K, V, E> = watch::Receiver<Answer<K, V, E>>;
/// Where a key's answer will be, and whether the key started its batch.
type Enqueued<K, V, E> = (Waiting<K, V, E>, bool);

/// Passes the key that starts a batch waits at most for more keys to join it.
const MAX_PASSES: usize = 8;

/// The keys of one kind gathered so far, and where their answer will be published.
struct Pending<K, V, E> {
    keys: HashSet<K>,
    answer: watch::Sender<Answer<K, V, E>>,
}

/// A loader that batches the keys asked for together.
pub struct Batcher<L> {
    loader: Arc<L>,
    window: Duration,
    pending: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send>>>>,
}

impl<L: Send + Sync + 'static> Batcher<L> {
    pub fn new(loader: L, window: Duration) -> Self {
        Self {
            loader: Arc::new(loader),
            window,
            pending: Arc::default(),
        }
    }

    pub async fn load_one<K>(&self, key: K) -> Result<Option<L::Value>, L::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Value: Sync,
        L::Error: Sync,
    {
        let mut found = self.load_many([key.clone()]).await?;
        Ok(found.remove(&key))
    }

    pub async fn load_many<K>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, L::Value>, L::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Value: Sync,
        L::Error: Sync,
    {
        let keys: Vec<K> = keys.into_iter().collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let Some((mut answer, starts)) = self.enqueue(&keys) else {
            // A poisoned lock (a panic elsewhere): read these keys alone.
            return self.loader.load(&keys).await;
        };
        if starts {
            // Dropped after the wait, or with this future if its request is cancelled
            // first: either way the batch is read for everyone in it.
            let _dispatch = Dispatch(Some({
                let loader = self.loader.clone();
                let pending = self.pending.clone();
                move || Self::dispatch::<K>(loader, pending)
            }));
            if self.window.is_zero() {
                // Other fields of the request may add keys in the pass after this one
                // (their own awaits just ended): wait while each pass adds some.
                let mut gathered = self.pending_keys::<K>();
                for _ in 0..MAX_PASSES {
                    tokio::task::yield_now().await;
                    let now = self.pending_keys::<K>();
                    if now <= gathered {
                        break;
                    }
                    gathered = now;
                }
            } else {
                tokio::time::sleep(self.window).await;
            }
        }
        let answer = match answer.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone(),
            // The batch task cannot drop the sender without publishing; an empty map
            // reads as "not found" should it ever happen.
            Err(_) => None,
        };
        let answer = match answer {
            Some(answer) => answer?,
            None => Arc::new(HashMap::new()),
        };
        Ok(keys
            .into_iter()
            .filter_map(|k| answer.get(&k).cloned().map(|v| (k, v)))
            .collect())
    }

    /// Adds keys to the pending batch: where its answer will be, and whether these keys
    /// start the batch.
    fn enqueue<K>(&self, keys: &[K]) -> Option<Enqueued<K, L::Value, L::Error>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Value: Sync,
        L::Error: Sync,
    {
        let mut pending = self.pending.lock().ok()?;
        let mut starts = false;
        let entry = pending.entry(TypeId::of::<K>()).or_insert_with(|| {
            starts = true;
            Box::new(Pending::<K, L::Value, L::Error> {
                keys: HashSet::new(),
                answer: watch::Sender::new(None),
            })
        });
        let batch = entry.downcast_mut::<Pending<K, L::Value, L::Error>>()?;
        batch.keys.extend(keys.iter().cloned());
        Some((batch.answer.subscribe(), starts))
    }

    /// How many keys of kind `K` the pending batch holds.
    fn pending_keys<K>(&self) -> usize
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Value: Sync,
        L::Error: Sync,
    {
        let Ok(pending) = self.pending.lock() else {
            return 0;
        };
        pending
            .get(&TypeId::of::<K>())
            .and_then(|b| b.downcast_ref::<Pending<K, L::Value, L::Error>>())
            .map_or(0, |batch| batch.keys.len())
    }

    /// Reads the pending batch of kind `K` in a task of its own (so no cancelled request
    /// can stop it) and publishes the answer to everyone waiting.
    fn dispatch<K>(loader: Arc<L>, pending: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send>>>>)
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Value: Sync,
        L::Error: Sync,
    {
        let batch = pending.lock().ok().and_then(|mut pending| {
            pending
                .remove(&TypeId::of::<K>())
                .and_then(|b| b.downcast::<Pending<K, L::Value, L::Error>>().ok())
        });
        let Some(batch) = batch else { return };
        tokio::spawn(async move {
            let keys: Vec<K> = batch.keys.into_iter().collect();
            let answer = loader.load(&keys).await.map(Arc::new);
            // Nobody may be waiting any more (their requests were cancelled): fine.
            batch.answer.send_replace(Some(answer));
        });
    }
}

/// Runs its action when dropped.
struct Dispatch<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Dispatch<F> {
    fn drop(&mut self) {
        if let Some(action) = self.0.take() {
            action();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Doubles its keys and counts the calls.
    #[derive(Default)]
    struct Doubler {
        calls: AtomicUsize,
        fail: bool,
    }

    impl Loader<u32> for Doubler {
        type Value = u32;
        type Error = String;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err("registry down".into());
            }
            Ok(keys
                .iter()
                .filter(|k| **k != 0)
                .map(|k| (*k, k * 2))
                .collect())
        }
    }

    #[tokio::test]
    async fn keys_asked_for_together_are_read_in_one_call() {
        let batcher = Batcher::new(Doubler::default(), Duration::ZERO);
        let (a, b, c) = tokio::join!(
            batcher.load_one(1),
            batcher.load_many([2, 3]),
            batcher.load_one(0)
        );
        assert_eq!(a, Ok(Some(2)));
        assert_eq!(b.map(|m| m.len()), Ok(2));
        assert_eq!(c, Ok(None), "a key the loader does not find is None");
        assert_eq!(batcher.loader.calls.load(Ordering::SeqCst), 1);
        // A later key starts a batch of its own.
        assert_eq!(batcher.load_one(4).await, Ok(Some(8)));
        assert_eq!(batcher.loader.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_batch_is_read_even_when_the_field_that_started_it_is_cancelled() {
        let batcher = Batcher::new(Doubler::default(), Duration::ZERO);
        let mut leader = Box::pin(batcher.load_one(1));
        // Polled once: it started the batch and yielded.
        assert!(futures_util::poll!(leader.as_mut()).is_pending());
        let mut other = Box::pin(batcher.load_one(2));
        assert!(futures_util::poll!(other.as_mut()).is_pending());
        drop(leader);
        assert_eq!(other.await, Ok(Some(4)));
        assert_eq!(batcher.loader.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_read_reaches_every_waiter() {
        let loader = Doubler {
            fail: true,
            ..Doubler::default()
        };
        let batcher = Batcher::new(loader, Duration::from_millis(2));
        let (a, b) = tokio::join!(batcher.load_one(1), batcher.load_one(2));
        assert_eq!(a, Err("registry down".to_string()));
        assert_eq!(b, Err("registry down".to_string()));
        assert_eq!(batcher.loader.calls.load(Ordering::SeqCst), 1);
    }
}
