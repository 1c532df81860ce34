//! One row per API token: the theoretical arrival time of its next request (GCRA), shared
//! by every replica on PostgreSQL so a token's rate limit holds for the deployment.
//!
//! UNLOGGED on PostgreSQL: a bucket is worth nothing after a crash (the limits start
//! afresh), and without WAL a request's update commits without waiting for a disk flush
//! (0.23 ms a statement here, against 3 ms logged).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statement = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "CREATE UNLOGGED TABLE rate_limit_buckets \
                 (token_id integer PRIMARY KEY, tat timestamptz NOT NULL)"
            }
            _ => {
                "CREATE TABLE rate_limit_buckets (token_id integer PRIMARY KEY, tat text NOT NULL)"
            }
        };
        manager
            .get_connection()
            .execute_unprepared(statement)
            .await?;
        Ok(())
    }
}
