//! Webhooks: the endpoints partners register, the deliveries owed to them (the outbox the
//! delivery workers drain), and how far the change log has been turned into deliveries.
//!
//! A delivery row is written in the transaction of the change it announces (connector
//! failures, report reminders) or in the transaction that advances `webhook_dispatch`
//! over the change log, which every write appends to in its own transaction: either way
//! a crash can neither lose an event nor invent one. `(webhook_id, event_key)` is unique,
//! so an event is owed to an endpoint once whoever turns it into a delivery.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    Url,
    Description,
    Events,
    Kinds,
    OwnerAgencyId,
    CreatedBy,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Enabled,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    MessageId,
    WebhookId,
    EventType,
    EventKey,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastAttemptAt,
    LastStatus,
    LastError,
    LastResponse,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookDispatch {
    Table,
    Id,
    Seq,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(pk_auto(Webhooks::Id))
                    .col(string(Webhooks::Url))
                    .col(string_null(Webhooks::Description))
                    // JSON arrays of event types and record kinds (empty: every kind).
                    .col(text(Webhooks::Events))
                    .col(text(Webhooks::Kinds))
                    .col(integer_null(Webhooks::OwnerAgencyId))
                    .col(string(Webhooks::CreatedBy))
                    .col(string(Webhooks::Secret))
                    .col(string_null(Webhooks::PreviousSecret))
                    .col(timestamp_with_time_zone_null(Webhooks::PreviousSecretUntil))
                    .col(boolean(Webhooks::Enabled).default(true))
                    .col(string_null(Webhooks::DisabledReason))
                    .col(timestamp_with_time_zone_null(Webhooks::FailingSince))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .col(timestamp_with_time_zone(Webhooks::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Webhooks::Table, Webhooks::OwnerAgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Id))
                    .col(string_uniq(WebhookDeliveries::MessageId))
                    .col(integer(WebhookDeliveries::WebhookId))
                    .col(string(WebhookDeliveries::EventType))
                    .col(string(WebhookDeliveries::EventKey))
                    .col(text(WebhookDeliveries::Payload))
                    .col(string(WebhookDeliveries::Status))
                    .col(integer(WebhookDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LockedUntil,
                    ))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LastAttemptAt,
                    ))
                    .col(integer_null(WebhookDeliveries::LastStatus))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(text_null(WebhookDeliveries::LastResponse))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An event is owed to an endpoint once.
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_deliveries_event")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::WebhookId)
                    .col(WebhookDeliveries::EventKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The workers' claim: pending deliveries whose time has come.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // An endpoint's deliveries, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_webhook")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::WebhookId)
                    .col((WebhookDeliveries::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDispatch::Table)
                    .col(integer(WebhookDispatch::Id).primary_key())
                    .col(big_integer(WebhookDispatch::Seq).default(0))
                    .to_owned(),
            )
            .await?;
        // Changes made before webhooks existed are not announced.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO webhook_dispatch (id, seq) SELECT 1, seq FROM change_log_head WHERE id = 1",
            )
            .await?;
        Ok(())
    }
}
