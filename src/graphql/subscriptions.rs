//! The change log over GraphQL subscriptions: each committed change, once and in order,
//! to every subscriber allowed to read the record, on whichever replica it is connected
//! to; a subscriber that names the last change it saw (`after`) gets what it missed.

use std::collections::VecDeque;
use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, ID, Object, Subscription};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::{self, error::RecvError};

use super::context::{caller, database, feed};
use super::error::{ApiResult, code};
use super::fetch::load_records;
use super::objects::LinkedRecord;
use super::scalars::{BigInt, DateTime};
use crate::domain::auth::Caller;
use crate::domain::records::RecordKind;
use crate::domain::scope::{Owner, may_read};
use crate::store::changes::{self, LoggedChange};
use crate::store::feed::{ChangeOperation as StoreOperation, RecordChange};

/// What happened to a record.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ChangeOperation {
    Created,
    Updated,
    Archived,
    Linked,
    Unlinked,
}

impl From<StoreOperation> for ChangeOperation {
    fn from(operation: StoreOperation) -> Self {
        match operation {
            StoreOperation::Created => ChangeOperation::Created,
            StoreOperation::Updated => ChangeOperation::Updated,
            StoreOperation::Archived => ChangeOperation::Archived,
            StoreOperation::Linked => ChangeOperation::Linked,
            StoreOperation::Unlinked => ChangeOperation::Unlinked,
        }
    }
}

/// One committed change.
pub struct RecordChangeEvent {
    seq: i64,
    change: RecordChange,
}

#[Object]
impl RecordChangeEvent {
    /// Where this change stands in the change log; pass it as `after` to resume after it.
    async fn sequence(&self) -> String {
        self.seq.to_string()
    }

    async fn operation(&self) -> ChangeOperation {
        self.change.operation.into()
    }

    /// The record's global id (`OcopProduct:42`).
    async fn record_id(&self) -> ID {
        ID(self.change.record.to_string())
    }

    /// The record's version after the change (0 for links).
    async fn version(&self) -> BigInt {
        BigInt(self.change.version)
    }

    /// Who made the change (`agency:<code>` or `admin`, with the token id).
    async fn actor(&self) -> &str {
        &self.change.actor
    }

    /// The plan task, for links.
    async fn task_code(&self) -> Option<&str> {
        self.change.task_code.as_deref()
    }

    async fn at(&self) -> DateTime {
        DateTime(self.change.at)
    }

    /// The record as it is now.
    async fn record(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LinkedRecord>> {
        Ok(load_records(ctx, [self.change.record])
            .await?
            .into_iter()
            .next())
    }
}

/// Entries read from the log per statement while catching up.
const CATCH_UP_BATCH: u64 = 500;

/// The error that ends a subscription whose next change is no longer kept.
fn expired(after: i64) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "the changes after {after} are no longer kept in the change log; read the records \
         again, then subscribe without `after`"
    ))
    .extend_with(|_, e| {
        e.set("code", code::CHANGES_EXPIRED);
        e.set("after", after.to_string());
    })
}

/// One subscriber's place in the log: the last entry it was given, what it has read from
/// the log but not yet been given, and the broadcast it follows once caught up.
struct Follower {
    db: DatabaseConnection,
    receiver: broadcast::Receiver<Arc<LoggedChange>>,
    cursor: i64,
    backlog: VecDeque<LoggedChange>,
    kinds: Option<Vec<RecordKind>>,
    caller: Caller,
    ended: bool,
}

impl Follower {
    /// Reads the entries after the cursor from the log into the backlog.
    async fn catch_up(&mut self) -> async_graphql::Result<()> {
        let entries = changes::read_after(&self.db, self.cursor, CATCH_UP_BATCH)
            .await
            .map_err(crate::store::StoreError::from)
            .api()?;
        if entries
            .first()
            .is_some_and(|first| first.seq != self.cursor + 1)
        {
            return Err(expired(self.cursor));
        }
        self.backlog.extend(entries);
        Ok(())
    }

    /// The next entry in order, from the backlog or the broadcast.
    async fn next_entry(&mut self) -> async_graphql::Result<Option<LoggedChange>> {
        loop {
            if let Some(entry) = self.backlog.pop_front() {
                self.cursor = entry.seq;
                if self.backlog.is_empty() {
                    // The last of a batch: the log may hold more.
                    self.catch_up().await?;
                }
                return Ok(Some(entry));
            }
            match self.receiver.recv().await {
                Ok(entry) if entry.seq <= self.cursor => continue,
                Ok(entry) if entry.seq == self.cursor + 1 => {
                    self.cursor = entry.seq;
                    return Ok(Some(entry.as_ref().clone()));
                }
                // Something between was not broadcast to this subscriber: read it.
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    metrics::counter!("khcn_hub_subscription_catch_ups_total").increment(1);
                    self.catch_up().await?;
                }
                Err(RecvError::Closed) => return Ok(None),
            }
        }
    }

    /// The next change this subscriber asked for and may read.
    async fn next_event(&mut self) -> async_graphql::Result<Option<RecordChangeEvent>> {
        loop {
            let Some(entry) = self.next_entry().await? else {
                return Ok(None);
            };
            let Some(change) = entry.record else {
                continue;
            };
            let wanted = self
                .kinds
                .as_ref()
                .is_none_or(|k| k.contains(&change.record.kind));
            let owner = Owner {
                source: &change.source,
                agency_id: change.owner_agency_id,
                agency_only: change.agency_only,
            };
            if wanted && may_read(&self.caller, &owner, change.archived) {
                return Ok(Some(RecordChangeEvent {
                    seq: entry.seq,
                    change,
                }));
            }
        }
    }
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Committed changes to records of `kinds` (every kind when omitted), in the order
    /// they were committed, each delivered once, and only to subscribers allowed to read
    /// the record. With `after` (an event's `sequence`), the changes committed since that
    /// one come first; when they are older than the change log keeps, the subscription
    /// ends with a `CHANGES_EXPIRED` error.
    async fn record_changed(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<RecordKind>>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<RecordChangeEvent>> + use<>>
    {
        let db = database(ctx)?.clone();
        let feed = feed(ctx)?;
        // Subscribed before reading where to start, so nothing falls in between.
        let receiver = feed.subscribe();
        let mut follower = Follower {
            cursor: feed.delivered(),
            db,
            receiver,
            backlog: VecDeque::new(),
            kinds,
            caller: caller(ctx).clone(),
            ended: false,
        };
        if let Some(after) = after {
            let invalid = |message: String| {
                async_graphql::Error::new(message)
                    .extend_with(|_, e| e.set("code", code::BAD_USER_INPUT))
            };
            let after: i64 = after
                .trim()
                .parse()
                .ok()
                .filter(|n: &i64| *n >= 0)
                .ok_or_else(|| {
                    invalid(format!(
                        "`after` must be an event's `sequence`, not {after:?}"
                    ))
                })?;
            let head = changes::head(&follower.db)
                .await
                .map_err(crate::store::StoreError::from)
                .api()?;
            if after > head.seq {
                return Err(invalid(format!(
                    "`after` is {after}, but the change log ends at {}",
                    head.seq
                )));
            }
            if after < head.pruned_through {
                return Err(expired(after));
            }
            follower.cursor = after;
            follower.catch_up().await?;
        }
        Ok(futures_util::stream::unfold(
            follower,
            |mut follower| async move {
                if follower.ended {
                    return None;
                }
                match follower.next_event().await {
                    Ok(Some(event)) => Some((Ok(event), follower)),
                    Ok(None) => None,
                    Err(error) => {
                        follower.ended = true;
                        Some((Err(error), follower))
                    }
                }
            },
        ))
    }
}
