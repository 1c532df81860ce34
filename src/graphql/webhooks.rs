//! Webhooks over GraphQL: endpoints and their deliveries. Admins manage every endpoint;
//! an agency manages its own, which receive only what the agency may read.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use sea_orm::DatabaseConnection;

use super::context::{database, writer};
use super::error::{ApiError, ApiResult};
use super::fetch::load_agency;
use super::objects::Agency;
use super::scalars::DateTime;
use crate::db::entities::{webhook_deliveries, webhooks};
use crate::domain::records::RecordKind;
use crate::domain::scope::Writer;
use crate::domain::webhooks::{WebhookError, parse_events};
use crate::store::webhooks::{self as store, NewWebhook, WebhookPatch};
use crate::webhooks::{SECRET_OVERLAP, WebhookSettings, check_target};

const MAX_PAGE: i32 = 100;

/// A registered endpoint.
pub struct Webhook(webhooks::Model);

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The events it receives (`record.created`, `report.due`, …).
    async fn events(&self) -> Vec<&'static str> {
        store::interest(&self.0)
            .events
            .into_iter()
            .map(|e| e.as_str())
            .collect()
    }
    /// The record kinds it receives events about; empty: every kind.
    async fn kinds(&self) -> Vec<RecordKind> {
        store::interest(&self.0).kinds
    }
    /// The agency that manages it; none for an admin's, which receives everything.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.0.owner_agency_id).await
    }
    /// The signing secret (`whsec_…`): verify each delivery's `webhook-signature` with it.
    async fn secret(&self) -> &str {
        &self.0.secret
    }
    /// Until when deliveries are also signed with the secret before the last rotation.
    async fn previous_secret_expires_at(&self) -> Option<DateTime> {
        self.0.previous_secret_until.map(DateTime)
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Why it was disabled (after failing for 3 days, or by its owner).
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Since when every attempt to reach it has failed.
    async fn failing_since(&self) -> Option<DateTime> {
        self.0.failing_since.map(DateTime)
    }
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WebhookDeliveryStatus {
    /// Not delivered yet; attempted at `nextAttemptAt`.
    Pending,
    Delivered,
    /// Given up after failing for 24 hours; `redeliverWebhook` tries again.
    Failed,
}

/// One event owed to one endpoint, with its last attempt.
pub struct WebhookDelivery(webhook_deliveries::Model);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The `webhook-id` header, the same on every attempt: receivers deduplicate on it.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    async fn webhook_id(&self) -> ID {
        ID(self.0.webhook_id.to_string())
    }
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The JSON body sent.
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    async fn status(&self) -> WebhookDeliveryStatus {
        match self.0.status.as_str() {
            store::DELIVERED => WebhookDeliveryStatus::Delivered,
            store::FAILED => WebhookDeliveryStatus::Failed,
            _ => WebhookDeliveryStatus::Pending,
        }
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.0.status == store::PENDING).then_some(DateTime(self.0.next_attempt_at))
    }
    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.0.last_attempt_at.map(DateTime)
    }
    /// The HTTP status of the last attempt's answer.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// The start of the last answer's body.
    async fn last_response(&self) -> Option<&str> {
        self.0.last_response.as_deref()
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    async fn delivered_at(&self) -> Option<DateTime> {
        self.0.delivered_at.map(DateTime)
    }
}

#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// Where deliveries are POSTed (http or https; not a private address).
    pub url: String,
    /// The events to receive, e.g. `["record.created", "report.due"]`.
    pub events: Vec<String>,
    /// Only events about these record kinds; every kind when omitted or empty.
    pub kinds: Option<Vec<RecordKind>>,
    pub description: Option<String>,
    /// Admins only: the agency (code) the endpoint belongs to, which then receives only
    /// what that agency may read.
    pub agency: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub kinds: Option<Vec<RecordKind>>,
    pub description: Option<String>,
    /// `true` re-enables an endpoint disabled after failing; `false` pauses it.
    pub enabled: Option<bool>,
}

fn manager(ctx: &Context<'_>) -> async_graphql::Result<Writer> {
    let writer = writer(ctx)?;
    if writer.is_admin() || writer.agency_id.is_some() {
        Ok(writer)
    } else {
        Err(forbidden("only admins and agencies manage webhooks"))
    }
}

fn forbidden(message: &str) -> async_graphql::Error {
    ApiError::Forbidden {
        message: message.to_owned(),
        path: None,
    }
    .into_graphql()
}

fn bad_input(path: &str, error: WebhookError) -> async_graphql::Error {
    ApiError::BadUserInputAt {
        path: path.to_owned(),
        message: error.to_string(),
    }
    .into_graphql()
}

fn parse_id<T: std::str::FromStr>(path: &str, id: &ID) -> async_graphql::Result<T> {
    id.parse().map_err(|_| {
        ApiError::BadUserInputAt {
            path: path.to_owned(),
            message: format!("{:?} is not an id of this list", id.as_str()),
        }
        .into_graphql()
    })
}

/// The endpoint `id`, if the manager may manage it; another agency's reads as absent.
async fn managed(
    db: &DatabaseConnection,
    manager: &Writer,
    path: &str,
    id: &ID,
) -> async_graphql::Result<webhooks::Model> {
    let id: i32 = parse_id(path, id)?;
    store::find(db, id)
        .await
        .api()?
        .filter(|w| manager.is_admin() || w.owner_agency_id == manager.agency_id)
        .ok_or_else(|| ApiError::NotFound(format!("there is no webhook {id}")).into_graphql())
}

fn settings<'a>(ctx: &'a Context<'_>) -> &'a WebhookSettings {
    static DEFAULT: std::sync::LazyLock<WebhookSettings> =
        std::sync::LazyLock::new(WebhookSettings::default);
    ctx.data_opt::<WebhookSettings>().unwrap_or(&DEFAULT)
}

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The endpoints the caller manages: every one for admins, an agency's own for it.
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        let manager = manager(ctx)?;
        let owner = (!manager.is_admin()).then_some(manager.agency_id);
        Ok(store::list(database(ctx)?, owner)
            .await
            .api()?
            .into_iter()
            .map(Webhook)
            .collect())
    }

    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Webhook>> {
        let manager = manager(ctx)?;
        match managed(database(ctx)?, &manager, "id", &id).await {
            Ok(webhook) => Ok(Some(Webhook(webhook))),
            Err(_) => Ok(None),
        }
    }

    /// An endpoint's deliveries, newest first; `after` is the previous page's `endCursor`.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, WebhookDelivery>> {
        let manager = manager(ctx)?;
        let db = database(ctx)?;
        let webhook = managed(db, &manager, "webhook", &webhook).await?;
        let first = first.unwrap_or(20);
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(ApiError::BadUserInputAt {
                path: "first".into(),
                message: format!("must be between 0 and {MAX_PAGE}"),
            }
            .into_graphql());
        }
        let before = after
            .map(|cursor| parse_id::<i64>("after", &ID(cursor)))
            .transpose()?;
        let rows = store::deliveries(db, webhook.id, before, first as u64 + 1)
            .await
            .api()?;
        Ok(super::list::keyset_page(
            rows,
            first as usize,
            before.is_some(),
            |d| d.id.to_string(),
            WebhookDelivery,
        ))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint; read its `secret` to verify signatures. A URL on a
    /// loopback, private, link-local or metadata address is refused.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let manager = manager(ctx)?;
        let db = database(ctx)?;
        let events = parse_events(&input.events).map_err(|e| bad_input("input.events", e))?;
        check_target(&input.url, settings(ctx).allow_private)
            .await
            .map_err(|e| bad_input("input.url", e))?;
        let owner_agency_id = match (&input.agency, manager.is_admin()) {
            (None, _) => manager.agency_id,
            (Some(code), true) => Some(store::agency_id(db, code).await.map_err(|e| {
                ApiError::BadUserInputAt {
                    path: "input.agency".into(),
                    message: e.to_string(),
                }
                .into_graphql()
            })?),
            (Some(_), false) => {
                return Err(forbidden(
                    "an agency creates webhooks for itself; leave out input.agency",
                ));
            }
        };
        let created = store::create(
            db,
            NewWebhook {
                url: input.url,
                description: input.description,
                events,
                kinds: input.kinds.unwrap_or_default(),
                owner_agency_id,
                created_by: manager.actor(),
            },
            now(),
        )
        .await
        .api()?;
        Ok(Webhook(created))
    }

    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let manager = manager(ctx)?;
        let db = database(ctx)?;
        let webhook = managed(db, &manager, "id", &id).await?;
        let events = input
            .events
            .map(|events| parse_events(&events))
            .transpose()
            .map_err(|e| bad_input("input.events", e))?;
        if let Some(url) = &input.url {
            check_target(url, settings(ctx).allow_private)
                .await
                .map_err(|e| bad_input("input.url", e))?;
        }
        let patch = WebhookPatch {
            url: input.url,
            description: input.description.map(Some),
            events,
            kinds: input.kinds,
            enabled: input.enabled,
        };
        Ok(Webhook(
            store::update(db, webhook, patch, now()).await.api()?,
        ))
    }

    /// Deletes an endpoint and its deliveries; returns its id.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let manager = manager(ctx)?;
        let db = database(ctx)?;
        let webhook = managed(db, &manager, "id", &id).await?;
        store::delete(db, webhook.id).await.api()?;
        Ok(id)
    }

    /// A new signing secret; the old one keeps signing beside it for 24 hours.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Webhook> {
        let manager = manager(ctx)?;
        let db = database(ctx)?;
        let webhook = managed(db, &manager, "id", &id).await?;
        Ok(Webhook(
            store::rotate_secret(db, webhook, SECRET_OVERLAP, now())
                .await
                .api()?,
        ))
    }

    /// Sends a delivery again now, with the same `webhook-id`.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        delivery_id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let manager = manager(ctx)?;
        let db = database(ctx)?;
        let id: i64 = parse_id("deliveryId", &delivery_id)?;
        let not_found =
            || ApiError::NotFound(format!("there is no webhook delivery {id}")).into_graphql();
        let delivery = store::delivery(db, id).await.api()?.ok_or_else(not_found)?;
        managed(
            db,
            &manager,
            "deliveryId",
            &ID(delivery.webhook_id.to_string()),
        )
        .await
        .map_err(|_| not_found())?;
        Ok(WebhookDelivery(
            store::redeliver(db, delivery, now()).await.api()?,
        ))
    }
}
