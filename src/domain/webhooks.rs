//! Webhooks' rules, as plain functions: the events there are, what an endpoint asked for,
//! which addresses a delivery may never reach, how a message is signed (the Standard
//! Webhooks specification, <https://www.standardwebhooks.com>), when a failed attempt is
//! tried again, when it is given up, and when the yearly report's reminders are due.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use super::records::RecordKind;
use super::reporting::due_date;

/// Why a webhook cannot be created or a message cannot be signed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("{0:?} is not an event; the events are {events}", events = EventType::names())]
    UnknownEvent(String),
    #[error("subscribe to at least one event")]
    NoEvents,
    #[error("{url:?} is not an absolute http(s) URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url:?} resolves to {address}, a {what} address, which webhooks may not reach")]
    ForbiddenAddress {
        url: String,
        address: IpAddr,
        what: &'static str,
    },
    #[error("the secret is not a whsec_ secret")]
    BadSecret,
    #[error("cannot draw random bytes: {0}")]
    Random(String),
}

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    RecordCreated,
    RecordUpdated,
    RecordArchived,
    LinkCreated,
    LinkRemoved,
    ReportSubmitted,
    ConnectorRunFailed,
    ConnectorPaused,
    ReportDue,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::RecordCreated,
        EventType::RecordUpdated,
        EventType::RecordArchived,
        EventType::LinkCreated,
        EventType::LinkRemoved,
        EventType::ReportSubmitted,
        EventType::ConnectorRunFailed,
        EventType::ConnectorPaused,
        EventType::ReportDue,
    ];

    /// The name in payloads and subscriptions, e.g. `record.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RecordCreated => "record.created",
            EventType::RecordUpdated => "record.updated",
            EventType::RecordArchived => "record.archived",
            EventType::LinkCreated => "link.created",
            EventType::LinkRemoved => "link.removed",
            EventType::ReportSubmitted => "report.submitted",
            EventType::ConnectorRunFailed => "connector.run.failed",
            EventType::ConnectorPaused => "connector.paused",
            EventType::ReportDue => "report.due",
        }
    }

    pub fn parse(name: &str) -> Result<Self, WebhookError> {
        Self::ALL
            .into_iter()
            .find(|event| event.as_str() == name.trim())
            .ok_or_else(|| WebhookError::UnknownEvent(name.to_owned()))
    }

    fn names() -> String {
        Self::ALL.map(EventType::as_str).join(", ")
    }

    /// Events only admins may receive (connectors are administered, not public).
    pub fn admins_only(self) -> bool {
        matches!(
            self,
            EventType::ConnectorRunFailed | EventType::ConnectorPaused
        )
    }
}

/// The events and record kinds an endpoint asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub events: Vec<EventType>,
    /// Empty: every kind.
    pub kinds: Vec<RecordKind>,
}

impl Interest {
    /// Whether an event of `event` about a record of `kind` (none: not about a record
    /// kind) is wanted.
    pub fn wants(&self, event: EventType, kind: Option<RecordKind>) -> bool {
        self.events.contains(&event)
            && (self.kinds.is_empty() || kind.is_none_or(|k| self.kinds.contains(&k)))
    }
}

/// Parses event names, refusing unknown ones and an empty list; keeps the given order
/// without repeats.
pub fn parse_events<S: AsRef<str>>(names: &[S]) -> Result<Vec<EventType>, WebhookError> {
    let mut events = Vec::new();
    for name in names {
        let event = EventType::parse(name.as_ref())?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(WebhookError::NoEvents);
    }
    Ok(events)
}

const SECRET_PREFIX: &str = "whsec_";

/// A fresh signing secret, `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> Result<String, WebhookError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WebhookError::Random(e.to_string()))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// A fresh message id (`webhook-id`), `msg_` and 16 random bytes in hex.
pub fn new_message_id() -> Result<String, WebhookError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| WebhookError::Random(e.to_string()))?;
    Ok(format!("msg_{}", hex::encode(bytes)))
}

/// The signature of one attempt: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, keyed
/// with the secret's base64-decoded bytes.
pub fn sign(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .ok_or(WebhookError::BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| WebhookError::BadSecret)?;
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Checks a target URL's form: absolute, http or https, a host, no credentials in it.
pub fn check_url(url: &str) -> Result<reqwest::Url, WebhookError> {
    let bad = |reason: &str| WebhookError::BadUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials do not belong in the URL"));
    }
    Ok(parsed)
}

/// What kind of address `ip` is, when webhooks may not reach it: loopback, private,
/// link-local (which holds the cloud metadata service, 169.254.169.254), shared, and the
/// like; `None` for a public address.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4 == std::net::Ipv4Addr::new(169, 254, 169, 254) {
                Some("cloud metadata")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_private() {
                Some("private")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Some("broadcast, multicast or reserved")
            } else if v4.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
                Some("documentation or benchmarking")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
                Some("cloud metadata")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if v6.is_multicast() {
                Some("broadcast, multicast or reserved")
            } else {
                None
            }
        }
    }
}

/// When to try a delivery again, and when to give up on it or its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; each later one waits five times longer.
    pub base: Duration,
    /// The longest wait between two attempts (a `Retry-After` may ask for more, up to
    /// `window`).
    pub max_wait: Duration,
    /// How long a delivery is retried before it is given up.
    pub window: Duration,
    /// How long an endpoint may fail every attempt before it is disabled.
    pub disable_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(5),
            max_wait: Duration::from_secs(6 * 3600),
            window: Duration::from_secs(24 * 3600),
            disable_after: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt, after `attempts` failed ones (≥ 1): exponential,
    /// spread by ±20 % (`jitter` in [0, 1)) so endpoints coming back are not stampeded,
    /// and never shorter than what the endpoint asked for with `Retry-After`.
    pub fn wait(&self, attempts: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(16);
        let backoff = self
            .base
            .saturating_mul(5u32.saturating_pow(exponent))
            .min(self.max_wait);
        let spread = backoff.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => spread.max(asked.min(self.window)),
            None => spread,
        }
    }

    /// Whether a delivery created at `created_at` is given up after failing at `now`.
    pub fn gives_up(&self, created_at: DateTime<FixedOffset>, now: DateTime<FixedOffset>) -> bool {
        elapsed(created_at, now) >= self.window
    }

    /// Whether an endpoint failing every attempt since `failing_since` is disabled at `now`.
    pub fn disables(
        &self,
        failing_since: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> bool {
        elapsed(failing_since, now) >= self.disable_after
    }
}

fn elapsed(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

/// A `Retry-After` value: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Days before 15 December on which bodies that owe the yearly report are reminded.
pub const REMINDER_DAYS: [i64; 3] = [30, 7, 1];

/// The reminder due on `today`, if any: the year reported on and which of
/// `REMINDER_DAYS` it is. A reminder is due from its day until the next one's, so one
/// missed while no replica ran is sent late rather than never; the deadline's own day
/// and after, none.
pub fn due_reminder(today: NaiveDate) -> Option<(i32, i64)> {
    let year = today.year();
    let days_left = (due_date(year)? - today).num_days();
    if days_left <= 0 {
        return None;
    }
    let mut thresholds = REMINDER_DAYS;
    thresholds.sort_unstable();
    thresholds
        .into_iter()
        .find(|days| days_left <= *days)
        .map(|days| (year, days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip_and_unknown_ones_are_named() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Ok(event));
        }
        let error = parse_events(&["record.created", "record.deleted"]).unwrap_err();
        assert!(error.to_string().contains("\"record.deleted\""), "{error}");
        assert!(error.to_string().contains("report.due"), "{error}");
        assert_eq!(parse_events::<&str>(&[]), Err(WebhookError::NoEvents));
        assert_eq!(
            parse_events(&["link.created", "link.created"]),
            Ok(vec![EventType::LinkCreated])
        );
    }

    #[test]
    fn kinds_filter_record_events_only_when_given() {
        let interest = Interest {
            events: vec![EventType::RecordCreated, EventType::ReportDue],
            kinds: vec![RecordKind::OcopProduct],
        };
        assert!(interest.wants(EventType::RecordCreated, Some(RecordKind::OcopProduct)));
        assert!(!interest.wants(EventType::RecordCreated, Some(RecordKind::Startup)));
        assert!(!interest.wants(EventType::RecordUpdated, Some(RecordKind::OcopProduct)));
        assert!(interest.wants(EventType::ReportDue, None));
        let every_kind = Interest {
            kinds: vec![],
            ..interest
        };
        assert!(every_kind.wants(EventType::RecordCreated, Some(RecordKind::Startup)));
    }

    #[test]
    fn signatures_match_the_specification_example() {
        // The example of the Standard Webhooks reference libraries.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            sign("not-a-secret", "msg", 1, b"{}"),
            Err(WebhookError::BadSecret)
        );
    }

    #[test]
    fn secrets_and_message_ids_are_fresh_and_well_formed() {
        let secret = new_secret().unwrap();
        assert!(secret.starts_with("whsec_"));
        assert_ne!(secret, new_secret().unwrap());
        assert!(sign(&secret, "msg_1", 1, b"{}").is_ok());
        let id = new_message_id().unwrap();
        assert!(id.starts_with("msg_") && id.len() == 36, "{id}");
    }

    #[test]
    fn private_and_metadata_addresses_are_forbidden_public_ones_allowed() {
        let what = |text: &str| forbidden_address(text.parse().unwrap());
        assert_eq!(what("10.0.0.1"), Some("private"));
        assert_eq!(what("172.16.4.2"), Some("private"));
        assert_eq!(what("192.168.1.1"), Some("private"));
        assert_eq!(what("127.0.0.1"), Some("loopback"));
        assert_eq!(what("169.254.169.254"), Some("cloud metadata"));
        assert_eq!(what("169.254.1.1"), Some("link-local"));
        assert_eq!(what("100.64.0.1"), Some("shared (carrier-grade NAT)"));
        assert_eq!(what("0.0.0.0"), Some("unspecified"));
        assert_eq!(what("::1"), Some("loopback"));
        assert_eq!(what("::ffff:10.1.2.3"), Some("private"));
        assert_eq!(what("fe80::1"), Some("link-local"));
        assert_eq!(what("fd12:3456::1"), Some("private (unique local)"));
        assert_eq!(what("fd00:ec2::254"), Some("cloud metadata"));
        assert_eq!(what("93.184.216.34"), None);
        assert_eq!(what("2606:4700::1111"), None);
    }

    #[test]
    fn urls_must_be_absolute_http_without_credentials() {
        assert!(check_url("https://partner.example/hooks?x=1").is_ok());
        for bad in [
            "ftp://partner.example/",
            "/relative",
            "https://user:pass@partner.example/",
            "not a url",
        ] {
            assert!(
                matches!(check_url(bad), Err(WebhookError::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn waits_grow_exponentially_within_their_spread_and_honour_retry_after() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.wait(1, None, 0.5), Duration::from_secs(5));
        assert_eq!(policy.wait(2, None, 0.5), Duration::from_secs(25));
        assert_eq!(policy.wait(3, None, 0.5), Duration::from_secs(125));
        assert_eq!(policy.wait(1, None, 0.0), Duration::from_secs(4));
        assert_eq!(policy.wait(1, None, 1.0), Duration::from_secs(6));
        assert_eq!(policy.wait(40, None, 0.5), policy.max_wait);
        assert_eq!(
            policy.wait(1, Some(Duration::from_secs(120)), 0.5),
            Duration::from_secs(120)
        );
        // An absurd Retry-After is held to the retry window.
        assert_eq!(
            policy.wait(1, Some(Duration::from_secs(10 * 24 * 3600)), 0.5),
            policy.window
        );
    }

    #[test]
    fn the_schedule_keeps_trying_for_a_day_then_gives_up() {
        let policy = RetryPolicy::default();
        // The quickest schedule (every wait at its shortest) still spans the window.
        let mut waited = Duration::ZERO;
        let mut attempts = 1;
        while waited < policy.window {
            waited += policy.wait(attempts, None, 0.0);
            attempts += 1;
        }
        assert!(attempts <= 12, "{attempts} attempts");
        let created = DateTime::parse_from_rfc3339("2026-12-01T00:00:00+07:00").unwrap();
        assert!(!policy.gives_up(created, created + chrono::Duration::hours(23)));
        assert!(policy.gives_up(created, created + chrono::Duration::hours(24)));
        assert!(!policy.disables(created, created + chrono::Duration::hours(71)));
        assert!(policy.disables(created, created + chrono::Duration::hours(72)));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn reminders_fall_30_7_and_1_days_before_15_december() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(due_reminder(day(11, 14)), None);
        assert_eq!(due_reminder(day(11, 15)), Some((2026, 30)));
        assert_eq!(due_reminder(day(12, 6)), Some((2026, 30)));
        assert_eq!(due_reminder(day(12, 8)), Some((2026, 7)));
        assert_eq!(due_reminder(day(12, 13)), Some((2026, 7)));
        assert_eq!(due_reminder(day(12, 14)), Some((2026, 1)));
        assert_eq!(due_reminder(day(12, 15)), None);
        assert_eq!(due_reminder(day(12, 31)), None);
        assert_eq!(due_reminder(day(3, 1)), None);
    }
}
