//! Committed changes, as this process follows them. Writes append their changes to the
//! change log (`changes`) in their own transaction; one follower per process reads the
//! log in order and broadcasts each entry to the subscribers here. A write made through
//! another replica reaches the follower by PostgreSQL `LISTEN/NOTIFY` (the notification
//! carries only the sequence number); a write made here wakes it directly. Nothing is
//! broadcast before it commits, and nothing committed is skipped: a subscriber that falls
//! behind the broadcast reads what it missed from the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr};
use tokio::sync::{Notify, broadcast};

use super::changes::{self, LoggedChange, PlanChange};
use crate::domain::records::RecordRef;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOperation {
    Created,
    Updated,
    Archived,
    Linked,
    Unlinked,
}

impl ChangeOperation {
    /// The audit log's name for the operation.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOperation::Created => "CREATE",
            ChangeOperation::Updated => "UPDATE",
            ChangeOperation::Archived => "ARCHIVE",
            ChangeOperation::Linked => "LINK",
            ChangeOperation::Unlinked => "UNLINK",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ChangeOperation::Created,
            ChangeOperation::Updated,
            ChangeOperation::Archived,
            ChangeOperation::Linked,
            ChangeOperation::Unlinked,
        ]
        .into_iter()
        .find(|operation| operation.as_str() == text)
    }
}

/// One committed change to a record, with what the read rules need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    pub record: RecordRef,
    pub operation: ChangeOperation,
    pub version: i64,
    pub source: String,
    pub owner_agency_id: Option<i32>,
    pub agency_only: bool,
    pub archived: bool,
    pub actor: String,
    pub task_code: Option<String>,
    pub at: chrono::DateTime<chrono::FixedOffset>,
}

/// The process's side of the change log: the broadcast its subscribers listen to, and
/// what its follower has delivered.
#[derive(Debug, Clone, Default)]
pub struct ChangeFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: broadcast::Sender<Arc<LoggedChange>>,
    /// Writes this process committed; a request that remembered the log's head knows by
    /// this that it must read it again.
    local_writes: AtomicU64,
    /// The last entry broadcast.
    delivered: AtomicI64,
    /// The highest entry this process has heard of (its own writes, notifications).
    heard: AtomicI64,
    /// Wakes the follower.
    wake: Notify,
}

/// Entries broadcast that a subscriber may fall behind by before it reads the log instead.
const CAPACITY: usize = 4_096;

/// Entries the follower reads per statement.
const READ_BATCH: u64 = 500;

impl Default for Inner {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            local_writes: AtomicU64::new(0),
            delivered: AtomicI64::new(0),
            heard: AtomicI64::new(0),
            wake: Notify::new(),
        }
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Logs `records` (and `plan`) in `txn` and commits it, then wakes the follower.
    /// Returns the last sequence number logged.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        records: &[RecordChange],
        plan: Option<&PlanChange>,
    ) -> Result<Option<i64>, DbErr> {
        let last = changes::append(&txn, records, plan).await?;
        txn.commit().await?;
        if let Some(last) = last {
            self.inner.local_writes.fetch_add(1, Ordering::AcqRel);
            self.inner.heard.fetch_max(last, Ordering::AcqRel);
            self.inner.wake.notify_one();
        }
        Ok(last)
    }

    /// Writes this process has committed so far.
    pub fn local_writes(&self) -> u64 {
        self.inner.local_writes.load(Ordering::Acquire)
    }

    /// The last entry this process broadcast.
    pub fn delivered(&self) -> i64 {
        self.inner.delivered.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LoggedChange>> {
        self.inner.sender.subscribe()
    }

    /// Starts following the log after entry `seq` (its head when the process starts:
    /// earlier entries are for subscribers that resume with `after`).
    pub fn start_at(&self, seq: i64) {
        self.inner.delivered.store(seq, Ordering::Release);
        self.inner.heard.fetch_max(seq, Ordering::AcqRel);
    }

    /// Follows the log from where `start_at` put it, until dropped: broadcasts each new entry, in
    /// order, as notifications (PostgreSQL), this process's writes or `poll` (a safety
    /// net, and how SQLite sees other processes' writes) say there is more.
    pub async fn follow(self, db: DatabaseConnection, poll: Duration) {
        let mut cursor = self.delivered();
        let _listening = (db.get_database_backend() == DbBackend::Postgres).then(|| {
            crate::shutdown::AbortOnDrop(vec![tokio::spawn(self.clone().listen(db.clone()))])
        });
        loop {
            match self.deliver_after(&db, &mut cursor).await {
                Ok(()) => {}
                Err(error) => {
                    tracing::warn!(error = %super::error_chain(&error), "cannot read the change log; retrying")
                }
            }
            let heard = self.inner.heard.load(Ordering::Acquire);
            metrics::gauge!("khcn_hub_change_log_lag_entries").set((heard - cursor).max(0) as f64);
            tokio::select! {
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Broadcasts every entry after `cursor`, moving it on.
    async fn deliver_after(&self, db: &DatabaseConnection, cursor: &mut i64) -> Result<(), DbErr> {
        loop {
            let entries = changes::read_after(db, *cursor, READ_BATCH).await?;
            let full = entries.len() as u64 == READ_BATCH;
            for entry in entries {
                *cursor = entry.seq;
                self.inner.heard.fetch_max(entry.seq, Ordering::AcqRel);
                self.inner.delivered.store(entry.seq, Ordering::Release);
                // No subscriber is not an error.
                let _ = self.inner.sender.send(Arc::new(entry));
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Listens for other replicas' commits and wakes the follower for each; after a lost
    /// connection it wakes it too, to read whatever was missed meanwhile.
    async fn listen(self, db: DatabaseConnection) {
        use sea_orm::sqlx::postgres::PgListener;
        loop {
            let mut listener =
                match PgListener::connect_with(db.get_postgres_connection_pool()).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for changes; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
            if let Err(error) = listener.listen(changes::CHANNEL).await {
                tracing::warn!(%error, "cannot listen for changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            self.inner.wake.notify_one();
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => {
                        if let Ok(seq) = notification.payload().parse::<i64>() {
                            self.inner.heard.fetch_max(seq, Ordering::AcqRel);
                        }
                        self.inner.wake.notify_one();
                    }
                    // The connection was lost; the next call reconnects.
                    Ok(None) => self.inner.wake.notify_one(),
                    Err(error) => {
                        tracing::warn!(%error, "lost the change notifications; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }
}
