//! The change log every committed write appends to, in the write's own transaction, so
//! every replica on the database can learn of it, and a subscriber can resume where it
//! left off.
//!
//! Numbers come from the one row of `change_log_head`, which a writer updates just
//! before it commits: the row lock orders the writers, so entries are numbered in commit
//! order without gaps, and a reader that has seen entry N has seen every entry before
//! it. The head row also tells caches whether anything (`seq`) or the plan (`plan_seq`)
//! changed, and how far retention has pruned (`pruned_through`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    Seq,
    Kind,
    RecordId,
    Action,
    Version,
    Source,
    OwnerAgencyId,
    AgencyOnly,
    Archived,
    Actor,
    TaskCode,
    At,
}

#[derive(DeriveIden)]
enum ChangeLogHead {
    Table,
    Id,
    Seq,
    PlanSeq,
    PrunedThrough,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChangeLog::Table)
                    .col(big_integer(ChangeLog::Seq).primary_key())
                    .col(string(ChangeLog::Kind))
                    .col(integer_null(ChangeLog::RecordId))
                    .col(string(ChangeLog::Action))
                    .col(big_integer(ChangeLog::Version))
                    .col(string(ChangeLog::Source))
                    .col(integer_null(ChangeLog::OwnerAgencyId))
                    .col(boolean(ChangeLog::AgencyOnly))
                    .col(boolean(ChangeLog::Archived))
                    .col(string(ChangeLog::Actor))
                    .col(string_null(ChangeLog::TaskCode))
                    .col(timestamp_with_time_zone(ChangeLog::At))
                    .to_owned(),
            )
            .await?;
        // Retention prunes by age.
        manager
            .create_index(
                Index::create()
                    .name("ix_change_log_at")
                    .table(ChangeLog::Table)
                    .col(ChangeLog::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChangeLogHead::Table)
                    .col(integer(ChangeLogHead::Id).primary_key())
                    .col(big_integer(ChangeLogHead::Seq).default(0))
                    .col(big_integer(ChangeLogHead::PlanSeq).default(0))
                    .col(big_integer(ChangeLogHead::PrunedThrough).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO change_log_head (id, seq, plan_seq, pruned_through) VALUES (1, 0, 0, 0)",
            )
            .await?;
        Ok(())
    }
}
