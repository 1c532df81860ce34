//! Webhook delivery: a dispatcher that turns committed changes into deliveries, workers
//! that send them signed to the Standard Webhooks specification and retry them, and the
//! yearly report's reminders. Every replica runs all three; the database decides who
//! does what (the dispatcher's cursor row, leases on deliveries, unique event keys).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use futures_util::StreamExt;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use crate::domain::reporting::{Duty, due_date};
use crate::domain::webhooks::{RetryPolicy, WebhookError, check_url, forbidden_address, sign};
use crate::store::feed::ChangeFeed;
use crate::store::webhooks::{self as store, Attempt, Audience, Claimed, Event, Recorded};

/// How much of a response body is read, at most.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How much of it is kept for the owner to read.
const KEPT_RESPONSE_CHARS: usize = 1024;
/// Deliveries one worker pass claims, and attempts it makes at once.
const CLAIM_BATCH: u64 = 32;
const CONCURRENT_ATTEMPTS: usize = 8;
/// How often workers look for due deliveries when nothing woke them.
const POLL: Duration = Duration::from_secs(1);
/// How often the dispatcher looks at the change log when no change woke it.
const DISPATCH_POLL: Duration = Duration::from_secs(5);
/// How long a previous secret keeps signing after a rotation.
pub const SECRET_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// How long finished deliveries stay readable.
const KEEP_FINISHED: Duration = Duration::from_secs(30 * 24 * 3600);

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allow targets on loopback, private and link-local addresses (tests, closed networks).
    pub allow_private: bool,
    /// Longest one attempt may take.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

impl WebhookSettings {
    /// A worker holds a claimed delivery this long: past the attempt's timeout, so only
    /// a dead replica's claim runs out.
    fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }
}

/// Checks that `url` may be a webhook's target: its form, and, unless private targets are
/// allowed, that every address its host resolves to is public.
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), WebhookError> {
    let parsed = check_url(url)?;
    if allow_private {
        return Ok(());
    }
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        // A name that does not resolve (yet) is accepted: every delivery resolves it
        // again and never connects to a forbidden address.
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        },
    };
    for address in addresses {
        if let Some(what) = forbidden_address(address) {
            return Err(WebhookError::ForbiddenAddress {
                url: url.to_owned(),
                address,
                what,
            });
        }
    }
    Ok(())
}

/// Resolves host names for deliveries and drops forbidden addresses, so a name that
/// passed the check at creation cannot be pointed at an internal address later.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| forbidden_address(a.ip()).is_none())
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The webhook machinery of one replica.
#[derive(Clone)]
pub struct Webhooks {
    db: DatabaseConnection,
    client: reqwest::Client,
    settings: WebhookSettings,
    /// Wakes the workers when the dispatcher added deliveries.
    wake: Arc<Notify>,
}

impl Webhooks {
    pub fn new(db: DatabaseConnection, settings: WebhookSettings) -> Result<Self, WebhookError> {
        crate::sync::http::install_crypto_provider();
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A proxy would resolve and connect on our behalf, past the address check.
            .no_proxy()
            .user_agent(concat!("khcn-hub-webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            client = client.dns_resolver(Arc::new(PublicOnly));
        }
        let client = client.build().map_err(|e| WebhookError::BadUrl {
            url: String::new(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            db,
            client,
            settings,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Runs the dispatcher, the workers and the reminders until dropped.
    pub async fn run(self, feed: ChangeFeed) {
        tokio::join!(self.dispatch(feed), self.deliver(), self.remind_and_prune());
    }

    /// Turns committed changes into deliveries, woken by each change this replica hears
    /// of, and every few seconds regardless.
    async fn dispatch(&self, feed: ChangeFeed) {
        let mut changes = feed.subscribe();
        loop {
            loop {
                match store::dispatch_changes(&self.db, now()).await {
                    Ok(more) => {
                        self.wake.notify_one();
                        if !more {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %crate::store::error_chain(&error), "cannot turn changes into webhook deliveries");
                        break;
                    }
                }
            }
            tokio::select! {
                received = changes.recv() => {
                    if matches!(received, Err(RecvError::Closed)) {
                        return;
                    }
                    // Whatever else arrived is read from the log in the next pass.
                    changes = changes.resubscribe();
                }
                () = tokio::time::sleep(DISPATCH_POLL) => {}
            }
        }
    }

    /// Claims due deliveries and attempts them, a few at a time.
    async fn deliver(&self) {
        loop {
            let claimed = match store::claim_due(
                &self.db,
                now(),
                self.settings.lease(),
                CLAIM_BATCH,
            )
            .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(error = %crate::store::error_chain(&error), "cannot claim webhook deliveries");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
                continue;
            }
            futures_util::stream::iter(claimed)
                .for_each_concurrent(CONCURRENT_ATTEMPTS, |claimed| self.attempt(claimed))
                .await;
        }
    }

    async fn attempt(&self, claimed: Claimed) {
        let attempt = self.send(&claimed).await;
        let delivery = &claimed.delivery;
        metrics::counter!(
            "khcn_hub_webhook_attempts_total",
            "outcome" => if attempt.succeeded() { "delivered" } else { "failed" }
        )
        .increment(1);
        match store::record_attempt(
            &self.db,
            delivery,
            &attempt,
            &self.settings.retry,
            fastrand::f64(),
            now(),
        )
        .await
        {
            Ok(Recorded::Delivered) => {}
            Ok(Recorded::RetryAt(at)) => tracing::info!(
                webhook = delivery.webhook_id,
                message = delivery.message_id,
                error = attempt.error.as_deref().unwrap_or_default(),
                retry_at = %at,
                "a webhook delivery failed; it will be retried"
            ),
            Ok(Recorded::GivenUp) => tracing::warn!(
                webhook = delivery.webhook_id,
                message = delivery.message_id,
                "a webhook delivery failed for its whole retry window and was given up"
            ),
            Ok(Recorded::EndpointDisabled(reason)) => {
                tracing::warn!(
                    webhook = delivery.webhook_id,
                    reason,
                    "a webhook was disabled"
                )
            }
            Err(error) => tracing::warn!(
                webhook = delivery.webhook_id,
                error = %crate::store::error_chain(&error),
                "cannot record a webhook attempt; it will be attempted again when its claim runs out"
            ),
        }
    }

    /// One attempt: the body signed with every secret in force, a bounded answer read.
    async fn send(&self, claimed: &Claimed) -> Attempt {
        let failed = |error: String| Attempt {
            status: None,
            error: Some(error),
            response: None,
            retry_after: None,
        };
        let delivery = &claimed.delivery;
        if !self.settings.allow_private
            && let Err(error) = check_literal_address(&claimed.url)
        {
            return failed(error.to_string());
        }
        let timestamp = chrono::Utc::now().timestamp();
        let mut signatures = Vec::new();
        for secret in &claimed.secrets {
            match sign(
                secret,
                &delivery.message_id,
                timestamp,
                delivery.payload.as_bytes(),
            ) {
                Ok(signature) => signatures.push(signature),
                Err(error) => return failed(error.to_string()),
            }
        }
        let request = self
            .client
            .post(&claimed.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(delivery.payload.clone());
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                crate::domain::webhooks::parse_retry_after(v, std::time::SystemTime::now())
            });
        let (body, body_error) = read_bounded(response).await;
        let error = if status.is_success() {
            body_error
        } else if status.is_redirection() {
            Some(format!("HTTP {status}: redirects are not followed"))
        } else {
            Some(format!("HTTP {status}"))
        };
        Attempt {
            status: Some(status.as_u16()),
            error,
            response: Some(body.chars().take(KEPT_RESPONSE_CHARS).collect()),
            retry_after,
        }
    }

    /// Sends the yearly report's reminders when one is due (at start, then hourly), and
    /// drops finished deliveries past their keeping time.
    async fn remind_and_prune(&self) {
        loop {
            let today = now()
                .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                .date_naive();
            if let Err(error) = remind(&self.db, today, now()).await {
                tracing::warn!(error = %crate::store::error_chain(&error), "cannot queue the yearly report's reminders");
            }
            if let Ok(keep) = chrono::Duration::from_std(KEEP_FINISHED)
                && let Err(error) = store::prune_finished(&self.db, now() - keep).await
            {
                tracing::warn!(error = %crate::store::error_chain(&error), "cannot prune webhook deliveries");
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
}

/// Refuses a URL whose host is a forbidden address written out (the resolver is not
/// asked about those).
fn check_literal_address(url: &str) -> Result<(), WebhookError> {
    let parsed = check_url(url)?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    if let Ok(address) = host.parse::<IpAddr>()
        && let Some(what) = forbidden_address(address)
    {
        return Err(WebhookError::ForbiddenAddress {
            url: url.to_owned(),
            address,
            what,
        });
    }
    Ok(())
}

fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    format!("{what}: {}", crate::store::error_chain(error))
}

/// Reads at most `MAX_RESPONSE_BYTES` of a body; what follows is not read.
async fn read_bounded(response: reqwest::Response) -> (String, Option<String>) {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                let room = MAX_RESPONSE_BYTES - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_RESPONSE_BYTES {
                    break;
                }
            }
            Err(error) => {
                return (
                    String::from_utf8_lossy(&body).into_owned(),
                    Some(describe(&error)),
                );
            }
        }
    }
    (String::from_utf8_lossy(&body).into_owned(), None)
}

fn now() -> DateTime<FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

/// Queues `report.due` for every body that owes this year's report and has not
/// submitted it, when `today` is a reminder day (or after one, until the next).
pub async fn remind(
    db: &DatabaseConnection,
    today: chrono::NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<u64, crate::store::StoreError> {
    let Some((year, days_before)) = crate::domain::webhooks::due_reminder(today) else {
        return Ok(0);
    };
    let Some(due) = due_date(year) else {
        return Ok(0);
    };
    let days_left = (due - today).num_days();
    let events: Vec<Event> = crate::store::reporting::yearly_report_duties(db, year)
        .await?
        .into_iter()
        .filter(|d| d.duty == Duty::Owes && d.submitted_on.is_none())
        .map(|d| Event {
            event_type: crate::domain::webhooks::EventType::ReportDue,
            key: format!("report.due:{year}:{days_before}:{}", d.agency.id),
            kind: Some(crate::domain::records::RecordKind::AnnualReport),
            audience: Audience::Agency(d.agency.id),
            data: json!({
                "agency": d.agency.code,
                "agencyName": d.agency.name,
                "year": year,
                "dueDate": due.to_string(),
                "reminder": format!("{days_before} days"),
                "daysLeft": days_left,
            }),
            at: now,
        })
        .collect();
    let txn = crate::store::writes::begin(db).await?;
    let added = store::enqueue(&txn, &events, now).await?;
    txn.commit().await?;
    Ok(added)
}
