//! The change feed over GraphQL subscriptions: each committed change, once, to every
//! subscriber allowed to read the record.

use async_graphql::{Context, Enum, ID, Object, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::context::{caller, feed};
use super::fetch::load_records;
use super::objects::LinkedRecord;
use super::scalars::{BigInt, DateTime};
use crate::domain::records::RecordKind;
use crate::domain::scope::{Owner, may_read};
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
pub struct RecordChangeEvent(RecordChange);

#[Object]
impl RecordChangeEvent {
    async fn operation(&self) -> ChangeOperation {
        self.0.operation.into()
    }

    /// The record's global id (`OcopProduct:42`).
    async fn record_id(&self) -> ID {
        ID(self.0.record.to_string())
    }

    /// The record's version after the change (0 for links).
    async fn version(&self) -> BigInt {
        BigInt(self.0.version)
    }

    /// Who made the change (`agency:<code>` or `admin`, with the token id).
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The plan task, for links.
    async fn task_code(&self) -> Option<&str> {
        self.0.task_code.as_deref()
    }

    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }

    /// The record as it is now.
    async fn record(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LinkedRecord>> {
        Ok(load_records(ctx, [self.0.record]).await?.into_iter().next())
    }
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Committed changes to records of `kinds` (every kind when omitted), each delivered
    /// once, and only to subscribers allowed to read the record. A subscriber that falls
    /// more than a few thousand changes behind skips the oldest.
    async fn record_changed(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<RecordKind>>,
    ) -> async_graphql::Result<impl Stream<Item = RecordChangeEvent> + use<>> {
        let caller = caller(ctx).clone();
        let receiver = feed(ctx)?.subscribe();
        Ok(futures_util::stream::unfold(
            receiver,
            move |mut receiver| {
                let kinds = kinds.clone();
                let caller = caller.clone();
                async move {
                    loop {
                        let change = match receiver.recv().await {
                            Ok(change) => change,
                            Err(RecvError::Lagged(skipped)) => {
                                tracing::warn!(skipped, "a subscriber fell behind the change feed");
                                continue;
                            }
                            Err(RecvError::Closed) => return None,
                        };
                        let wanted = kinds
                            .as_ref()
                            .is_none_or(|k| k.contains(&change.record.kind));
                        let owner = Owner {
                            source: &change.source,
                            agency_id: change.owner_agency_id,
                            agency_only: change.agency_only,
                        };
                        if wanted && may_read(&caller, &owner, change.archived) {
                            return Some((RecordChangeEvent(change), receiver));
                        }
                    }
                }
            },
        ))
    }
}
