//! Graceful shutdown. On SIGTERM a replica stops taking work and finishes what it has:
//! the signal is raised once ([`Shutdown`]), everything that must stop watches it
//! ([`ShutdownSignal`]), and the work in progress is counted ([`InFlight`]) so the
//! process waits for it, up to a bound, before it exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};

/// Raises the shutdown signal.
#[derive(Debug, Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    pub fn start(&self) {
        self.0.send_replace(true);
    }

    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.0.subscribe())
    }
}

/// Watches for the shutdown signal.
#[derive(Debug, Clone)]
pub struct ShutdownSignal(watch::Receiver<bool>);

impl Default for ShutdownSignal {
    /// A signal that is never raised (for engines run outside a server).
    fn default() -> Self {
        Shutdown::default().signal()
    }
}

impl ShutdownSignal {
    pub fn is_started(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown has started (at once if it has).
    pub async fn started(mut self) {
        // An error means the sender is gone, which never happens while a server runs;
        // either way there is nothing left to wait for.
        let _ = self.0.wait_for(|started| *started).await;
    }
}

/// Counts work in progress and wakes whoever waits for none to be left.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    count: Arc<AtomicUsize>,
    idle: Arc<Notify>,
}

impl InFlight {
    /// Counts one piece of work until the guard is dropped.
    pub fn enter(&self) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.clone())
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Resolves when no work is in progress.
    pub async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the check, so a drop between the two is not missed.
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One piece of work counted by an [`InFlight`].
#[derive(Debug)]
pub struct InFlightGuard(InFlight);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Background tasks that stop when this is dropped (a server's schedules, a run's
/// heartbeat).
#[derive(Debug)]
pub struct AbortOnDrop(pub Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn idle_waits_for_the_last_piece_of_work() {
        let work = InFlight::default();
        let first = work.enter();
        let second = work.enter();
        let waiting = tokio::spawn({
            let work = work.clone();
            async move { work.idle().await }
        });
        drop(first);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "one piece is still going");
        drop(second);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .unwrap()
            .unwrap();
        work.idle().await;
    }

    #[tokio::test]
    async fn the_signal_is_seen_by_every_watcher() {
        let shutdown = Shutdown::default();
        let signal = shutdown.signal();
        assert!(!signal.is_started());
        let waiting = tokio::spawn(signal.clone().started());
        shutdown.start();
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .unwrap()
            .unwrap();
        assert!(signal.is_started());
        signal.started().await;
    }
}
