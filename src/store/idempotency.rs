//! Replies kept for `Idempotency-Key` retries: a key is claimed before a mutation runs
//! and holds its response afterwards, so a retry gets the first answer instead of a
//! second write.

use chrono::{DateTime, Duration, FixedOffset};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::StoreError;
use crate::db::entities::idempotency_keys;

/// How long a key and its reply are kept.
pub const RETENTION: Duration = Duration::hours(24);
/// A claim older than this without a reply was abandoned (its request is long past any
/// time limit) and may be claimed again.
pub const ABANDONED_AFTER: Duration = Duration::minutes(10);

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request, then `complete` the claim.
    Fresh(i32),
    /// The key was used for this same request: here is its reply.
    Replay(String),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Claims `key` for `caller`'s request with this hash.
pub async fn claim(
    db: &DatabaseConnection,
    caller: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<FixedOffset>,
) -> Result<Claim, StoreError> {
    use idempotency_keys::Column;
    idempotency_keys::Entity::delete_many()
        .filter(Column::CreatedAt.lt(now - RETENTION))
        .exec(db)
        .await?;
    let inserted = idempotency_keys::ActiveModel {
        caller: Set(caller.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(row) => return Ok(Claim::Fresh(row.id)),
        Err(error)
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) => {}
        Err(error) => return Err(error.into()),
    }
    let Some(existing) = idempotency_keys::Entity::find()
        .filter(Column::Caller.eq(caller))
        .filter(Column::Key.eq(key))
        .one(db)
        .await?
    else {
        return Ok(Claim::InProgress);
    };
    if existing.request_hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    if let Some(response) = existing.response {
        return Ok(Claim::Replay(response));
    }
    if existing.created_at < now - ABANDONED_AFTER {
        // Take over an abandoned claim, unless someone else just did.
        let taken = idempotency_keys::Entity::update_many()
            .col_expr(Column::CreatedAt, sea_orm::sea_query::Expr::val(now))
            .filter(Column::Id.eq(existing.id))
            .filter(Column::CreatedAt.eq(existing.created_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Claim::Fresh(existing.id));
        }
    }
    Ok(Claim::InProgress)
}

/// Stores the reply of a claimed key.
pub async fn complete(
    db: &DatabaseConnection,
    id: i32,
    response: String,
    now: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::Response,
            sea_orm::sea_query::Expr::val(response),
        )
        .col_expr(
            idempotency_keys::Column::CompletedAt,
            sea_orm::sea_query::Expr::val(now),
        )
        .filter(idempotency_keys::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives up a claim whose request did not finish, so a retry runs it again.
pub async fn release(db: &DatabaseConnection, id: i32) -> Result<(), StoreError> {
    idempotency_keys::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
