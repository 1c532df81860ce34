//! The change log (see its migration): each committed write's changes, appended in the
//! write's own transaction and numbered in commit order, so every replica can follow
//! them and a subscriber can resume where it left off. The head row is what caches
//! compare against: a value read at head N reflects every write numbered up to N.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};

use super::feed::{ChangeOperation, RecordChange};
use crate::db::entities::change_log;
use crate::domain::records::{RecordKind, RecordRef};

/// The PostgreSQL channel a commit notifies, with the last sequence number it logged.
pub const CHANNEL: &str = "khcn_hub_changes";

/// The log's `kind` for changes to the plan's own tables (tasks' progress, seeding).
const PLAN_KIND: &str = "PLAN";

/// Rows per INSERT, well under SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 500;

/// Where the log stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head {
    /// The last entry written.
    pub seq: i64,
    /// The last entry that changed the plan's tables.
    pub plan_seq: i64,
    /// Entries up to this one were removed by retention.
    pub pruned_through: i64,
}

/// A change to the plan's own tables, by whom and, for a task's progress, which task.
#[derive(Debug, Clone)]
pub struct PlanChange {
    pub actor: String,
    pub task_code: Option<String>,
    pub at: DateTime<FixedOffset>,
}

impl PlanChange {
    /// Reference data or a sample loaded by the hub itself.
    pub fn seeded() -> Self {
        Self {
            actor: "seed".into(),
            task_code: None,
            at: chrono::Utc::now().fixed_offset(),
        }
    }
}

/// One entry as read back: a record's change, or a change to the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: i64,
    pub record: Option<RecordChange>,
}

fn head_table() -> Alias {
    Alias::new("change_log_head")
}

/// Appends `records` (and `plan`, when given) in `txn`; returns the last sequence number
/// used, or `None` when there was nothing to log. Call it last before committing: the
/// head row stays locked until the transaction ends, which is what orders writers.
pub async fn append<C: ConnectionTrait>(
    txn: &C,
    records: &[RecordChange],
    plan: Option<&PlanChange>,
) -> Result<Option<i64>, DbErr> {
    let count = records.len() + usize::from(plan.is_some());
    if count == 0 {
        return Ok(None);
    }
    let backend = txn.get_database_backend();
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let mut update = Query::update();
    update
        .table(head_table())
        .value(Alias::new("seq"), Expr::col(Alias::new("seq")).add(count))
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .returning_col(Alias::new("seq"));
    if plan.is_some() {
        update.value(
            Alias::new("plan_seq"),
            Expr::col(Alias::new("seq")).add(count),
        );
    }
    let last: i64 = txn
        .query_one_raw(backend.build(&update))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the change log's head row".into()))?
        .try_get("", "seq")?;
    let mut seq = last - count;
    let mut rows = Vec::with_capacity(records.len() + 1);
    for change in records {
        seq += 1;
        rows.push(record_row(seq, change));
    }
    if let Some(plan) = plan {
        seq += 1;
        rows.push(plan_row(seq, plan));
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        change_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    if backend == DbBackend::Postgres {
        // Delivered to listeners when (and only if) the transaction commits.
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), last.to_string().into()],
        ))
        .await?;
    }
    Ok(Some(last))
}

fn record_row(seq: i64, change: &RecordChange) -> change_log::ActiveModel {
    change_log::ActiveModel {
        seq: Set(seq),
        kind: Set(change.record.kind.as_str().to_owned()),
        record_id: Set(Some(change.record.id)),
        action: Set(change.operation.as_str().to_owned()),
        version: Set(change.version),
        source: Set(change.source.clone()),
        owner_agency_id: Set(change.owner_agency_id),
        agency_only: Set(change.agency_only),
        archived: Set(change.archived),
        actor: Set(change.actor.clone()),
        task_code: Set(change.task_code.clone()),
        at: Set(change.at),
    }
}

fn plan_row(seq: i64, plan: &PlanChange) -> change_log::ActiveModel {
    change_log::ActiveModel {
        seq: Set(seq),
        kind: Set(PLAN_KIND.to_owned()),
        record_id: Set(None),
        action: Set(ChangeOperation::Updated.as_str().to_owned()),
        version: Set(0),
        source: Set(String::new()),
        owner_agency_id: Set(None),
        agency_only: Set(false),
        archived: Set(false),
        actor: Set(plan.actor.clone()),
        task_code: Set(plan.task_code.clone()),
        at: Set(plan.at),
    }
}

/// An entry read back; one this version cannot read (a kind it does not know) is
/// treated as a change to the plan, which only makes caches reload.
fn logged(row: change_log::Model) -> LoggedChange {
    let record = match (
        RecordKind::parse(&row.kind),
        row.record_id,
        ChangeOperation::parse(&row.action),
    ) {
        (Ok(kind), Some(id), Some(operation)) => Some(RecordChange {
            record: RecordRef { kind, id },
            operation,
            version: row.version,
            source: row.source,
            owner_agency_id: row.owner_agency_id,
            agency_only: row.agency_only,
            archived: row.archived,
            actor: row.actor,
            task_code: row.task_code,
            at: row.at,
        }),
        _ => None,
    };
    LoggedChange {
        seq: row.seq,
        record,
    }
}

/// Where the log stands now.
pub async fn head<C: ConnectionTrait>(db: &C) -> Result<Head, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT seq, plan_seq, pruned_through FROM change_log_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the change log's head row".into()))?;
    Ok(Head {
        seq: row.try_get("", "seq")?,
        plan_seq: row.try_get("", "plan_seq")?,
        pruned_through: row.try_get("", "pruned_through")?,
    })
}

/// Up to `limit` entries after `after`, in order.
pub async fn read_after<C: ConnectionTrait>(
    db: &C,
    after: i64,
    limit: u64,
) -> Result<Vec<LoggedChange>, DbErr> {
    Ok(change_log::Entity::find()
        .filter(change_log::Column::Seq.gt(after))
        .order_by_asc(change_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(logged)
        .collect())
}

/// Removes the entries written before `before`; returns how many.
pub async fn prune(db: &DatabaseConnection, before: DateTime<FixedOffset>) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let last: Option<i64> = change_log::Entity::find()
        .select_only()
        .column_as(change_log::Column::Seq.max(), "last")
        .filter(change_log::Column::At.lt(before))
        .into_tuple::<Option<i64>>()
        .one(&txn)
        .await?
        .flatten();
    // Entries the webhook dispatcher has not turned into deliveries yet are kept.
    let dispatched = super::webhooks::dispatched_through(&txn).await?;
    let Some(last) = last.map(|last| Ord::min(last, dispatched)) else {
        return Ok(0);
    };
    let removed = change_log::Entity::delete_many()
        .filter(change_log::Column::Seq.lte(last))
        .exec(&txn)
        .await?
        .rows_affected;
    let mut update = Query::update();
    update
        .table(head_table())
        .value(Alias::new("pruned_through"), last)
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .and_where(Expr::col(Alias::new("pruned_through")).lt(last));
    txn.execute_raw(txn.get_database_backend().build(&update))
        .await?;
    txn.commit().await?;
    Ok(removed)
}

/// Reads the head for many requests at once. A request must see a head read after it
/// arrived (so it reflects every write acknowledged before it); requests that arrive
/// while a read is under way share the next one, so a busy replica sends one statement
/// per round trip, not one per request.
pub struct HeadReader {
    db: DatabaseConnection,
    /// Tickets handed out; a read started after ticket T was taken serves it.
    issued: std::sync::atomic::AtomicU64,
    /// The latest read: the last ticket it serves, and what it found. A failed read
    /// answers every ticket taken before it ended, so that while the database is down a
    /// request waits for one failure, not for every read queued before its own.
    served: std::sync::Mutex<(u64, Result<Head, Arc<DbErr>>)>,
    reading: tokio::sync::Mutex<()>,
}

impl HeadReader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            issued: Default::default(),
            served: std::sync::Mutex::new((0, Ok(Head::default()))),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    fn served_for(&self, ticket: u64) -> Option<Result<Head, Arc<DbErr>>> {
        let served = self.served.lock().ok()?;
        (served.0 >= ticket).then(|| served.1.clone())
    }

    /// The head as of some moment after this call began.
    pub async fn head(&self) -> Result<Head, Arc<DbErr>> {
        use std::sync::atomic::Ordering;
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(read) = self.served_for(ticket) {
            return read;
        }
        let _reading = self.reading.lock().await;
        if let Some(read) = self.served_for(ticket) {
            return read;
        }
        // Every ticket up to here was taken before this read starts.
        let mut covers = self.issued.load(Ordering::SeqCst);
        let read = head(&self.db).await.map_err(Arc::new);
        if read.is_err() {
            // A failure says nothing stale: it answers the tickets taken while it ran.
            covers = self.issued.load(Ordering::SeqCst);
        }
        if let Ok(mut served) = self.served.lock()
            && served.0 < covers
        {
            *served = (covers, read.clone());
        }
        read
    }
}

/// Removes entries older than `retention`, every while, until dropped. Any replica may
/// do it; they do not get in each other's way.
pub async fn keep_pruning(db: DatabaseConnection, retention: std::time::Duration) {
    let every = (retention / 2).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    );
    loop {
        tokio::time::sleep(every).await;
        let Ok(age) = chrono::Duration::from_std(retention) else {
            return;
        };
        let before = chrono::Utc::now().fixed_offset() - age;
        match prune(&db, before).await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "pruned the change log"),
            Err(error) => {
                tracing::warn!(error = %super::error_chain(&error), "cannot prune the change log")
            }
        }
    }
}
