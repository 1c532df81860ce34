//! Linked records: administrative units, organisations, the eight record kinds with
//! their provenance, startup support events, links from plan tasks to records, and the
//! progress columns of plan tasks.

use sea_orm_migration::{prelude::*, schema::*};

use crate::record_table::{col, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The record tables, in creation order. Each carries the provenance columns.
const RECORD_TABLES: [&str; 8] = [
    "ip_rights",
    "ocop_products",
    "startups",
    "traceability_entries",
    "science_tasks",
    "application_models",
    "technology_assessments",
    "annual_reports",
];

fn fk(
    name: &str,
    from: (&str, &str),
    to: (&str, &str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(col(from.0), col(from.1))
        .to(col(to.0), col(to.1))
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        manager
            .create_table(
                Table::create()
                    .table(col("administrative_units"))
                    .col(pk_auto(col("id")))
                    .col(string_uniq(col("code")))
                    .col(text(col("name")))
                    .col(text(col("short_name")))
                    .col(string(col("level")))
                    .col(integer_null(col("parent_id")))
                    .col(date_null(col("valid_from")))
                    .col(date_null(col("valid_to")))
                    .col(text(col("search_key")))
                    .foreign_key(&mut fk(
                        "fk_administrative_units_parent",
                        ("administrative_units", "parent_id"),
                        ("administrative_units", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(col("organisations"))
                    .col(pk_auto(col("id")))
                    .col(text(col("name")))
                    .col(string_null(col("tax_code")))
                    .col(string_null(col("kind")))
                    .col(text_null(col("district")))
                    .col(text_null(col("commune")))
                    .col(string(col("source")))
                    .col(timestamp_with_time_zone(col("created_at")))
                    .col(timestamp_with_time_zone(col("updated_at")))
                    .col(text(col("search_key")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("organisations", &["tax_code"], true))
            .await?;
        manager
            .create_index(index("organisations", &["search_key"], false))
            .await?;

        manager
            .create_table(
                record_table("ip_rights")
                    .col(text(col("name")))
                    .col(string(col("right_kind")))
                    .col(text_null(col("product")))
                    .col(boolean(col("farm_product")).default(false))
                    .col(string_len(col("jurisdiction"), 2))
                    .col(string_null(col("number")))
                    .col(date_null(col("filed_on")))
                    .col(date_null(col("registered_on")))
                    .col(string_null(col("status")))
                    .col(text_null(col("holder")))
                    .col(integer_null(col("managing_agency_id")))
                    .foreign_key(&mut fk(
                        "fk_ip_rights_managing_agency",
                        ("ip_rights", "managing_agency_id"),
                        ("agencies", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                record_table("ocop_products")
                    .col(text(col("name")))
                    .col(integer_null(col("producer_id")))
                    .col(text_null(col("commune")))
                    .col(text_null(col("district")))
                    .col(string_null(col("district_code")))
                    .col(small_integer(col("stars")))
                    .col(date_null(col("certified_on")))
                    .col(date_null(col("valid_until")))
                    .col(integer_null(col("evaluation_year")))
                    .col(text_null(col("category")))
                    .check(Expr::col(col("stars")).between(3, 5))
                    .foreign_key(&mut fk(
                        "fk_ocop_products_producer",
                        ("ocop_products", "producer_id"),
                        ("organisations", "id"),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_ocop_products_district",
                        ("ocop_products", "district_code"),
                        ("administrative_units", "code"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ocop_products",
                &["district_code", "stars", "certified_on"],
                false,
            ))
            .await?;
        manager
            .create_index(index("ocop_products", &["certified_on"], false))
            .await?;

        manager
            .create_table(
                record_table("startups")
                    .col(text(col("name")))
                    .col(integer_null(col("organisation_id")))
                    .col(text_null(col("sector")))
                    .col(integer_null(col("founded_year")))
                    .col(text_null(col("district")))
                    .foreign_key(&mut fk(
                        "fk_startups_organisation",
                        ("startups", "organisation_id"),
                        ("organisations", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("startup_support_events"))
                    .col(pk_auto(col("id")))
                    .col(integer(col("startup_id")))
                    .col(integer(col("year")))
                    .col(text(col("kind")))
                    .col(big_integer_null(col("amount_vnd")))
                    .col(integer_null(col("agency_id")))
                    .col(text_null(col("note")))
                    .foreign_key(&mut fk(
                        "fk_startup_support_events_startup",
                        ("startup_support_events", "startup_id"),
                        ("startups", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_startup_support_events_agency",
                        ("startup_support_events", "agency_id"),
                        ("agencies", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "startup_support_events",
                &["startup_id", "year"],
                false,
            ))
            .await?;

        manager
            .create_table(
                record_table("traceability_entries")
                    .col(string(col("event_id")))
                    .col(string(col("event_type")))
                    .col(timestamp_with_time_zone(col("event_time")))
                    .col(string_null(col("event_time_zone_offset")))
                    .col(timestamp_with_time_zone_null(col("record_time")))
                    .col(string_null(col("action")))
                    .col(string_null(col("biz_step")))
                    .col(string_null(col("disposition")))
                    .col(text_null(col("epc")))
                    .col(string_null(col("gtin")))
                    .col(string_null(col("lot")))
                    .col(string_null(col("serial")))
                    .col(double_null(col("quantity")))
                    .col(string_null(col("uom")))
                    .col(text_null(col("read_point")))
                    .col(text_null(col("biz_location")))
                    .col(text_null(col("location_name")))
                    .col(string_null(col("growing_area_code")))
                    .col(integer_null(col("ip_right_id")))
                    .col(integer_null(col("ocop_product_id")))
                    .foreign_key(&mut fk(
                        "fk_traceability_entries_ip_right",
                        ("traceability_entries", "ip_right_id"),
                        ("ip_rights", "id"),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_traceability_entries_ocop_product",
                        ("traceability_entries", "ocop_product_id"),
                        ("ocop_products", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("traceability_entries", &["event_id"], true))
            .await?;
        manager
            .create_index(index("traceability_entries", &["event_time"], false))
            .await?;
        manager
            .create_index(index("traceability_entries", &["gtin"], false))
            .await?;
        manager
            .create_index(index("traceability_entries", &["ocop_product_id"], false))
            .await?;
        manager
            .create_index(index("traceability_entries", &["ip_right_id"], false))
            .await?;

        manager
            .create_table(
                record_table("science_tasks")
                    .col(string_null(col("code")))
                    .col(text(col("title")))
                    .col(string_null(col("level")))
                    .col(integer_null(col("host_id")))
                    .col(big_integer_null(col("budget_vnd")))
                    .col(date_null(col("start_on")))
                    .col(date_null(col("end_on")))
                    .col(string_null(col("status")))
                    .foreign_key(&mut fk(
                        "fk_science_tasks_host",
                        ("science_tasks", "host_id"),
                        ("organisations", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record_table("application_models")
                    .col(text(col("title")))
                    .col(text_null(col("field")))
                    .col(integer_null(col("host_id")))
                    .col(integer_null(col("year_transferred")))
                    .foreign_key(&mut fk(
                        "fk_application_models_host",
                        ("application_models", "host_id"),
                        ("organisations", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record_table("technology_assessments")
                    .col(integer_null(col("enterprise_id")))
                    .col(text(col("enterprise_name")))
                    .col(text_null(col("industry")))
                    .col(integer_null(col("year")))
                    .col(text_null(col("level")))
                    .foreign_key(&mut fk(
                        "fk_technology_assessments_enterprise",
                        ("technology_assessments", "enterprise_id"),
                        ("organisations", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                record_table("annual_reports")
                    .col(integer(col("agency_id")))
                    .col(integer(col("year")))
                    .col(date_null(col("submitted_on")))
                    .col(text_null(col("summary")))
                    .foreign_key(&mut fk(
                        "fk_annual_reports_agency",
                        ("annual_reports", "agency_id"),
                        ("agencies", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("annual_reports", &["year", "agency_id"], false))
            .await?;

        for table in RECORD_TABLES {
            manager
                .create_index(index(table, &["source", "external_id"], true))
                .await?;
            manager
                .create_index(index(table, &["updated_at"], false))
                .await?;
        }

        // Progress reported on each plan task by its lead agency.
        for column in [
            string_null(col("progress_status")),
            text_null(col("progress_note")),
            timestamp_with_time_zone_null(col("progress_updated_at")),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("tasks"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(col("record_links"))
                    .col(pk_auto(col("id")))
                    .col(integer(col("task_id")))
                    .col(string(col("record_kind")))
                    .col(integer(col("record_id")))
                    .col(string(col("linked_by")))
                    .col(timestamp_with_time_zone(col("linked_at")))
                    .foreign_key(&mut fk(
                        "fk_record_links_task",
                        ("record_links", "task_id"),
                        ("tasks", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "record_links",
                &["task_id", "record_kind", "record_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index("record_links", &["record_kind", "record_id"], false))
            .await?;
        Ok(())
    }
}
