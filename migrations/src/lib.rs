//! Forward-only schema migrations for khcn-hub, in the order they are applied.
//!
//! A migration is never edited once merged; a change to the schema is a new file.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_create_plan_tables;
mod m20260102_000001_create_record_tables;
mod m20260103_000001_create_api_tokens;
mod m20260104_000001_create_audit_and_idempotency;
mod m20260105_000001_create_sync_tables;
mod m20260106_000001_index_links_in_link_order;
mod m20261206_000001_create_search_entries;
mod m20261206_000002_index_every_order;
mod m20261207_000001_add_reporting_bodies;
mod m20261207_000002_create_rate_limit_buckets;
mod m20261207_000003_create_persisted_queries;
mod m20261208_000001_create_change_log;
mod m20261208_000002_create_bi_views;
mod m20261209_000001_create_webhooks;
mod m20261210_000001_cover_ocop_district_and_stars;
mod m20261211_000001_bound_search_pending_entries;
mod m20261212_000001_create_aggregate_rollups;
pub mod record_table;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_plan_tables::Migration),
            Box::new(m20260102_000001_create_record_tables::Migration),
            Box::new(m20260103_000001_create_api_tokens::Migration),
            Box::new(m20260104_000001_create_audit_and_idempotency::Migration),
            Box::new(m20260105_000001_create_sync_tables::Migration),
            Box::new(m20260106_000001_index_links_in_link_order::Migration),
            Box::new(m20261206_000001_create_search_entries::Migration),
            Box::new(m20261206_000002_index_every_order::Migration),
            Box::new(m20261207_000001_add_reporting_bodies::Migration),
            Box::new(m20261207_000002_create_rate_limit_buckets::Migration),
            Box::new(m20261207_000003_create_persisted_queries::Migration),
            Box::new(m20261208_000001_create_change_log::Migration),
            Box::new(m20261208_000002_create_bi_views::Migration),
            Box::new(m20261209_000001_create_webhooks::Migration),
            Box::new(m20261210_000001_cover_ocop_district_and_stars::Migration),
            Box::new(m20261211_000001_bound_search_pending_entries::Migration),
            Box::new(m20261212_000001_create_aggregate_rollups::Migration),
        ]
    }
}
