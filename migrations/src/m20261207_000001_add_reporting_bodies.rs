//! What the plan's reporting rule needs to know of an agency: its kind, the days it
//! existed, the body its duties passed to, and a source for each of these facts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::record_table::{col, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const AGENCIES: &str = "agencies";
const FACTS: &str = "agency_facts";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in [
            // department, district_committee… (`BodyKind`); null when not known.
            string_null(col("kind")),
            // First and last day the body existed; null for "before the plan" / "still".
            date_null(col("valid_from")),
            date_null(col("valid_to")),
            // The agency its duties passed to (no foreign key: SQLite cannot add one).
            integer_null(col("successor_id")),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col(AGENCIES))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(col(FACTS))
                    .col(pk_auto(col("id")))
                    .col(integer(col("agency_id")))
                    .col(integer(col("position")))
                    .col(text(col("fact")))
                    .col(text(col("source")))
                    .foreign_key(
                        ForeignKey::create()
                            .from(col(FACTS), col("agency_id"))
                            .to(col(AGENCIES), col("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(FACTS, &["agency_id", "position"], true))
            .await
    }
}
