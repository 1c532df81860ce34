//! Committed changes, broadcast to subscribers in this process. A change is published
//! only after its transaction commits, so no subscriber sees a write that was rolled
//! back.

use tokio::sync::broadcast;

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

/// The in-process change feed.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<RecordChange>,
    /// Counts published changes, so caches can tell that something was written.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Changes a slow subscriber may fall behind by before it misses some.
const CAPACITY: usize = 4_096;

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            generation: Default::default(),
        }
    }

    /// Changes so far; it moves before `publish` returns.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Moves the generation for a write that is not a record change (a task's progress),
    /// so caches drop what they kept.
    pub fn touch(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub fn publish(&self, changes: impl IntoIterator<Item = RecordChange>) {
        for change in changes {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            // No subscriber is not an error.
            let _ = self.sender.send(change);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RecordChange> {
        self.sender.subscribe()
    }
}
