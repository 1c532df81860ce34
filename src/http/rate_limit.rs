//! Per-token rate limits: a partner's runaway script slows itself down, not the hub.
//! Each token has a bucket of `burst` requests refilled at `per_minute`; a request
//! over it is answered 429 with `Retry-After` before any GraphQL runs.
//!
//! On PostgreSQL the bucket lives in the database (`store::rate_limits`, one statement per
//! token request), so the limit holds for every replica together; on SQLite, a single
//! process, it lives in memory (governor).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct RateLimits {
    per_token: Option<DefaultKeyedRateLimiter<i32>>,
    clock: DefaultClock,
    /// The database the buckets are shared in, with the rate: one request's interval and
    /// the burst.
    shared: Option<(sea_orm::DatabaseConnection, Duration, u32)>,
}

impl RateLimits {
    /// `per_minute` of 0 switches limiting off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_token = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        Self {
            per_token,
            clock: DefaultClock::default(),
            shared: None,
        }
    }

    /// Limits counted in `db` when it is PostgreSQL (shared by every replica), else in
    /// memory.
    pub fn for_database(db: &sea_orm::DatabaseConnection, per_minute: u32, burst: u32) -> Self {
        let mut limits = Self::new(per_minute, burst);
        if per_minute > 0 && db.get_database_backend() == sea_orm::DbBackend::Postgres {
            let interval = Duration::from_secs(60) / per_minute;
            let burst = if burst == 0 { per_minute } else { burst };
            limits.shared = Some((db.clone(), interval, burst));
        }
        limits
    }

    /// `Err` with how long to wait when `token_id` is over its limit. Shared buckets the
    /// database cannot be asked about let the request through (and say so in the log):
    /// the request itself will meet the same database.
    pub async fn take(&self, token_id: i32) -> Result<(), Duration> {
        let Some((db, interval, burst)) = &self.shared else {
            return self.check(token_id);
        };
        match crate::store::rate_limits::take(db, token_id, *interval, *burst).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(wait),
            Err(error) => {
                tracing::warn!(error = %crate::store::error_chain(&error), "cannot count a request against its rate limit");
                Ok(())
            }
        }
    }

    /// `Err` with how long to wait when `token_id` is over its limit.
    pub fn check(&self, token_id: i32) -> Result<(), Duration> {
        let Some(limiter) = &self.per_token else {
            return Ok(());
        };
        limiter
            .check_key(&token_id)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("enabled", &self.per_token.is_some())
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_burst_then_waits_while_others_go_on() {
        let limits = RateLimits::new(60, 3);
        for _ in 0..3 {
            assert!(limits.check(1).is_ok());
        }
        let wait = limits.check(1).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limits.check(2).is_ok(), "tokens are limited one by one");
    }

    #[test]
    fn zero_switches_limiting_off() {
        let limits = RateLimits::new(0, 0);
        for _ in 0..10_000 {
            assert!(limits.check(1).is_ok());
        }
    }
}
