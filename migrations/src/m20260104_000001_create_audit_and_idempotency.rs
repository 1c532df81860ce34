//! Writes by partner agencies: the audit log every write appends to, the replies kept
//! for idempotent retries, and the evidence and version of each task's progress.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OccurredAt,
    TokenId,
    AgencyId,
    Actor,
    Operation,
    RecordKind,
    RecordId,
    TaskCode,
    Before,
    After,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    Caller,
    Key,
    RequestHash,
    Response,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    ProgressEvidence,
    ProgressVersion,
    ProgressUpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    .col(integer_null(AuditLog::TokenId))
                    .col(integer_null(AuditLog::AgencyId))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Operation))
                    .col(string_null(AuditLog::RecordKind))
                    .col(integer_null(AuditLog::RecordId))
                    .col(string_null(AuditLog::TaskCode))
                    .col(text_null(AuditLog::Before))
                    .col(text_null(AuditLog::After))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_record_kind_record_id")
                    .table(AuditLog::Table)
                    .col(AuditLog::RecordKind)
                    .col(AuditLog::RecordId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_agency_id")
                    .table(AuditLog::Table)
                    .col(AuditLog::AgencyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(pk_auto(IdempotencyKeys::Id))
                    .col(string(IdempotencyKeys::Caller))
                    .col(string(IdempotencyKeys::Key))
                    .col(string(IdempotencyKeys::RequestHash))
                    .col(text_null(IdempotencyKeys::Response))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(IdempotencyKeys::CompletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_idempotency_keys_caller_key")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::Caller)
                    .col(IdempotencyKeys::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;

        for column in [
            text_null(Tasks::ProgressEvidence),
            big_integer(Tasks::ProgressVersion).default(0).to_owned(),
            string_null(Tasks::ProgressUpdatedBy),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
