//! PostgreSQL's trigram index on the search keys takes new entries into a pending list
//! and merges them in batches; until then every search reads that whole list, which may
//! grow to 4 MB (`gin_pending_list_limit`) while writes keep coming. With about 1.5 MB
//! pending, the index's part of a search rose from 0.8 to 2.5 ms. The list is bounded to
//! the smallest size PostgreSQL allows, 64 kB, so searches stay near what a freshly
//! merged index gives; writes merge more often (loading the sample: 29 → 34 s). SQLite's
//! FTS5 index has no such list.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER INDEX ix_search_entries_key_trgm SET (gin_pending_list_limit = 64)",
            )
            .await?;
        Ok(())
    }
}
