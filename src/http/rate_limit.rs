//! Per-token rate limits: a partner's runaway script slows itself down, not the hub.
//! Each token has a bucket of `burst` requests refilled at `per_minute`; a request
//! over it is answered 429 with `Retry-After` before any GraphQL runs.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct RateLimits {
    per_token: Option<DefaultKeyedRateLimiter<i32>>,
    clock: DefaultClock,
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
