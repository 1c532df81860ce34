//! Connectors: each one's incremental state, its runs, and the rows it quarantined.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConnectorState {
    Table,
    Name,
    Watermark,
    Cursor,
    Etag,
    LastModified,
    SnapshotStartedAt,
    ConsecutiveFailures,
    Paused,
    PausedReason,
    RunningSince,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    Connector,
    Trigger,
    Status,
    StartedAt,
    FinishedAt,
    Fetched,
    Created,
    Updated,
    Unchanged,
    Withdrawn,
    Quarantined,
    Error,
}

#[derive(DeriveIden)]
enum Quarantine {
    Table,
    Id,
    Connector,
    RunId,
    Position,
    ExternalId,
    Reason,
    Payload,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConnectorState::Table)
                    .col(string(ConnectorState::Name).primary_key())
                    .col(text_null(ConnectorState::Watermark))
                    .col(text_null(ConnectorState::Cursor))
                    .col(text_null(ConnectorState::Etag))
                    .col(text_null(ConnectorState::LastModified))
                    .col(timestamp_with_time_zone_null(
                        ConnectorState::SnapshotStartedAt,
                    ))
                    .col(integer(ConnectorState::ConsecutiveFailures).default(0))
                    .col(boolean(ConnectorState::Paused).default(false))
                    .col(text_null(ConnectorState::PausedReason))
                    .col(timestamp_with_time_zone_null(ConnectorState::RunningSince))
                    .col(timestamp_with_time_zone(ConnectorState::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(pk_auto(SyncRuns::Id))
                    .col(string(SyncRuns::Connector))
                    .col(string(SyncRuns::Trigger))
                    .col(string(SyncRuns::Status))
                    .col(timestamp_with_time_zone(SyncRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(SyncRuns::FinishedAt))
                    .col(big_integer(SyncRuns::Fetched).default(0))
                    .col(big_integer(SyncRuns::Created).default(0))
                    .col(big_integer(SyncRuns::Updated).default(0))
                    .col(big_integer(SyncRuns::Unchanged).default(0))
                    .col(big_integer(SyncRuns::Withdrawn).default(0))
                    .col(big_integer(SyncRuns::Quarantined).default(0))
                    .col(text_null(SyncRuns::Error))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sync_runs_connector_id")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::Connector)
                    .col(SyncRuns::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Quarantine::Table)
                    .col(big_pk_auto(Quarantine::Id))
                    .col(string(Quarantine::Connector))
                    .col(integer(Quarantine::RunId))
                    .col(string(Quarantine::Position))
                    .col(string_null(Quarantine::ExternalId))
                    .col(text(Quarantine::Reason))
                    .col(text(Quarantine::Payload))
                    .col(timestamp_with_time_zone(Quarantine::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quarantine_run")
                            .from(Quarantine::Table, Quarantine::RunId)
                            .to(SyncRuns::Table, SyncRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_quarantine_connector_id")
                    .table(Quarantine::Table)
                    .col(Quarantine::Connector)
                    .col(Quarantine::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
