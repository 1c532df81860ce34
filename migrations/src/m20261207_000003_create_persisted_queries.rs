//! GraphQL documents known by their SHA-256: registered by clients through Automatic
//! Persisted Queries, or allowed by an operator (`khcn-hub persisted add`) for the
//! allow-list mode. In the database, so every replica knows every hash.

use sea_orm_migration::{prelude::*, schema::*};

use crate::record_table::col;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(col("persisted_queries"))
                    // Lowercase hex SHA-256 of the document.
                    .col(string(col("hash")).primary_key())
                    .col(text(col("query")))
                    // Allowed in KHCN_HUB_PERSISTED_ONLY mode (added by an operator or admin).
                    .col(boolean(col("allowed")).default(false))
                    .col(timestamp_with_time_zone(col("created_at")))
                    .to_owned(),
            )
            .await
    }
}
