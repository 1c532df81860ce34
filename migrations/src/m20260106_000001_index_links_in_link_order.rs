//! Indexes that serve "the first N links of each task, in link order": per task and
//! kind, and per task across kinds. Without them a task's first page of links sorts
//! every link the task has.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecordLinks {
    Table,
    Id,
    TaskId,
    RecordKind,
}

const BY_KIND: &str = "ix_record_links_task_id_record_kind_id";
const BY_TASK: &str = "ix_record_links_task_id_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(BY_KIND)
                    .table(RecordLinks::Table)
                    .col(RecordLinks::TaskId)
                    .col(RecordLinks::RecordKind)
                    .col(RecordLinks::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_TASK)
                    .table(RecordLinks::Table)
                    .col(RecordLinks::TaskId)
                    .col(RecordLinks::Id)
                    .to_owned(),
            )
            .await
    }
}
