//! Rate limits shared by every replica on PostgreSQL: the generic cell rate algorithm
//! (GCRA) in one statement per request. Each token's row holds the theoretical arrival
//! time (TAT) of its next request; a request is let through when moving the TAT on by one
//! emission interval keeps it within the burst of now, on the database's clock.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::StoreError;

/// Takes one request from `token_id`'s bucket: `None` when it may go, else how long to
/// wait. `interval` is the time one request's allowance takes to come back (a minute
/// over the rate); `burst` how many may come at once.
pub async fn take(
    db: &DatabaseConnection,
    token_id: i32,
    interval: Duration,
    burst: u32,
) -> Result<Option<Duration>, StoreError> {
    let interval_us = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
    let window_us = interval_us.saturating_mul(i64::from(burst.max(1)));
    // The row is updated only when the request fits; RETURNING tells which.
    let taken = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO rate_limit_buckets (token_id, tat) \
             VALUES ($1, now() + make_interval(secs => $2::float8 / 1e6)) \
             ON CONFLICT (token_id) DO UPDATE \
             SET tat = greatest(rate_limit_buckets.tat, now()) + make_interval(secs => $2::float8 / 1e6) \
             WHERE greatest(rate_limit_buckets.tat, now()) + make_interval(secs => $2::float8 / 1e6) \
                   <= now() + make_interval(secs => $3::float8 / 1e6) \
             RETURNING token_id",
            [token_id.into(), interval_us.into(), window_us.into()],
        ))
        .await?;
    if taken.is_some() {
        return Ok(None);
    }
    // Refused: the next request fits once the TAT is back within the window.
    let wait = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT greatest(0, extract(epoch FROM (tat + make_interval(secs => $2::float8 / 1e6) \
                    - make_interval(secs => $3::float8 / 1e6) - now())))::float8 AS wait \
             FROM rate_limit_buckets WHERE token_id = $1",
            [token_id.into(), interval_us.into(), window_us.into()],
        ))
        .await?
        .and_then(|row| row.try_get::<f64>("", "wait").ok())
        .unwrap_or(0.0);
    Ok(Some(Duration::from_secs_f64(wait.max(0.001))))
}
