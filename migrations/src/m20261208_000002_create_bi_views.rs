//! Read-only SQL for BI tools (Metabase, Superset, Power BI): flat, documented views of
//! the plan, its targets, every record kind with its place names and producer, the
//! task–record links and the submitted yearly reports. Archived and withdrawn records are
//! left out, as for anonymous GraphQL reads.
//!
//! PostgreSQL: the views live in schema `bi`, and the role `khcn_bi` (created here without
//! login; the README shows how to grant it) may read them and nothing else. Views run with
//! their owner's rights, so the role needs no grant on a base table. SQLite has no schemas
//! or roles: the same views are named `bi_<view>`.
//!
//! Targets' figures are computed by the hub's rules, not in SQL: the hub writes them to
//! `target_values` (see `graphql::bi`) and `bi.targets` reads that table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ACTIVE: &str = "r.archived_at IS NULL AND r.withdrawn_at IS NULL";

/// Each view's name and query (portable SQL: both backends run it as it is).
fn views() -> Vec<(&'static str, String)> {
    vec![
        (
            "tasks",
            "SELECT t.id, t.code, t.number, t.text, p.code AS plan_code, \
             s.numeral AS section_numeral, s.title AS section_title, parent.code AS parent_code, \
             a.code AS lead_agency_code, a.name AS lead_agency_name, t.lead_text, \
             t.coordinators_text, t.deliverable, t.timeline_text, t.timeline_start_year, \
             t.timeline_end_year, t.progress_status AS status, \
             t.progress_note, t.progress_updated_at \
             FROM tasks t JOIN plans p ON p.id = t.plan_id JOIN sections s ON s.id = t.section_id \
             LEFT JOIN tasks parent ON parent.id = t.parent_id \
             LEFT JOIN agencies a ON a.id = t.lead_agency_id"
                .to_owned(),
        ),
        (
            "targets",
            "SELECT plan_code, key, kind, position, description, target_value, unit, due_year, \
             actual_value, progress, expected_value, on_track, as_of, computed_at \
             FROM target_values"
                .to_owned(),
        ),
        (
            "ocop_products",
            format!(
                "SELECT r.id, 'OcopProduct:' || r.id AS record_id, r.name, r.stars, r.category, \
                 r.certified_on, r.valid_until, r.evaluation_year, r.commune, r.district, \
                 r.district_code, d.name AS district_name, o.name AS producer_name, \
                 o.tax_code AS producer_tax_code, r.source, r.external_id, r.updated_at \
                 FROM ocop_products r \
                 LEFT JOIN administrative_units d ON d.code = r.district_code \
                 LEFT JOIN organisations o ON o.id = r.producer_id WHERE {ACTIVE}"
            ),
        ),
        (
            "ip_rights",
            format!(
                "SELECT r.id, 'IpRight:' || r.id AS record_id, r.name, r.right_kind, r.product, \
                 r.farm_product, r.jurisdiction, r.number, r.filed_on, r.registered_on, r.status, \
                 r.holder, a.code AS managing_agency_code, a.name AS managing_agency_name, \
                 r.source, r.external_id, r.updated_at \
                 FROM ip_rights r LEFT JOIN agencies a ON a.id = r.managing_agency_id WHERE {ACTIVE}"
            ),
        ),
        (
            "startups",
            format!(
                "SELECT r.id, 'Startup:' || r.id AS record_id, r.name, r.sector, r.founded_year, \
                 r.district, o.name AS organisation_name, o.tax_code AS organisation_tax_code, \
                 o.commune AS organisation_commune, r.source, r.external_id, r.updated_at \
                 FROM startups r LEFT JOIN organisations o ON o.id = r.organisation_id WHERE {ACTIVE}"
            ),
        ),
        (
            "traceability_entries",
            format!(
                "SELECT r.id, 'TraceabilityEntry:' || r.id AS record_id, r.event_id, r.event_type, \
                 r.event_time, r.action, r.biz_step, r.disposition, r.epc, r.gtin, r.lot, r.serial, \
                 r.quantity, r.uom, r.read_point, r.biz_location, r.location_name, \
                 r.growing_area_code, r.ip_right_id, r.ocop_product_id, \
                 p.name AS ocop_product_name, r.source, r.external_id, r.updated_at \
                 FROM traceability_entries r \
                 LEFT JOIN ocop_products p ON p.id = r.ocop_product_id \
                 AND p.archived_at IS NULL AND p.withdrawn_at IS NULL WHERE {ACTIVE}"
            ),
        ),
        (
            "science_tasks",
            format!(
                "SELECT r.id, 'ScienceTask:' || r.id AS record_id, r.code, r.title, r.level, \
                 r.budget_vnd, r.start_on, r.end_on, r.status, o.name AS host_name, \
                 o.district AS host_district, r.source, r.external_id, r.updated_at \
                 FROM science_tasks r LEFT JOIN organisations o ON o.id = r.host_id WHERE {ACTIVE}"
            ),
        ),
        (
            "application_models",
            format!(
                "SELECT r.id, 'ApplicationModel:' || r.id AS record_id, r.title, r.field, \
                 r.year_transferred, o.name AS host_name, o.district AS host_district, \
                 o.commune AS host_commune, r.source, r.external_id, r.updated_at \
                 FROM application_models r LEFT JOIN organisations o ON o.id = r.host_id \
                 WHERE {ACTIVE}"
            ),
        ),
        (
            "technology_assessments",
            format!(
                "SELECT r.id, 'TechnologyAssessment:' || r.id AS record_id, r.enterprise_name, \
                 r.industry, r.year, r.level, o.name AS enterprise_registered_name, \
                 o.tax_code AS enterprise_tax_code, o.district AS enterprise_district, \
                 r.source, r.external_id, r.updated_at \
                 FROM technology_assessments r \
                 LEFT JOIN organisations o ON o.id = r.enterprise_id WHERE {ACTIVE}"
            ),
        ),
        (
            "annual_reports",
            format!(
                "SELECT r.id, 'AnnualReport:' || r.id AS record_id, a.code AS agency_code, \
                 a.name AS agency_name, r.year, r.submitted_on, r.summary, r.updated_at \
                 FROM annual_reports r JOIN agencies a ON a.id = r.agency_id \
                 WHERE r.submitted_on IS NOT NULL AND {ACTIVE}"
            ),
        ),
        ("task_record_links", links()),
    ]
}

/// Links to records that are still active, with the task's and record's readable ids.
fn links() -> String {
    let kinds = [
        ("IP_RIGHT", "IpRight", "ip_rights"),
        ("OCOP_PRODUCT", "OcopProduct", "ocop_products"),
        ("STARTUP", "Startup", "startups"),
        (
            "TRACEABILITY_ENTRY",
            "TraceabilityEntry",
            "traceability_entries",
        ),
        ("SCIENCE_TASK", "ScienceTask", "science_tasks"),
        (
            "APPLICATION_MODEL",
            "ApplicationModel",
            "application_models",
        ),
        (
            "TECHNOLOGY_ASSESSMENT",
            "TechnologyAssessment",
            "technology_assessments",
        ),
        ("ANNUAL_REPORT", "AnnualReport", "annual_reports"),
    ];
    let type_name = kinds
        .iter()
        .map(|(kind, name, _)| format!("WHEN '{kind}' THEN '{name}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let active = kinds
        .iter()
        .map(|(kind, _, table)| {
            format!(
                "(l.record_kind = '{kind}' AND EXISTS (SELECT 1 FROM {table} r \
                 WHERE r.id = l.record_id AND {ACTIVE}))"
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "SELECT l.id, t.code AS task_code, p.code AS plan_code, l.record_kind, \
         (CASE l.record_kind {type_name} END) || ':' || l.record_id AS record_id, \
         l.linked_by, l.linked_at \
         FROM record_links l JOIN tasks t ON t.id = l.task_id JOIN plans p ON p.id = t.plan_id \
         WHERE {active}"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let (number, timestamp) = if postgres {
            ("double precision", "timestamptz")
        } else {
            ("real", "text")
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE target_values (plan_code varchar NOT NULL, key varchar NOT NULL, \
             kind varchar NOT NULL, position integer NOT NULL, description text NOT NULL, \
             target_value integer, unit varchar, due_year integer NOT NULL, \
             actual_value bigint NOT NULL, progress {number} NOT NULL, \
             expected_value {number} NOT NULL, on_track boolean NOT NULL, as_of date NOT NULL, \
             computed_at {timestamp} NOT NULL, PRIMARY KEY (plan_code, key))"
        ))
        .await?;
        if postgres {
            db.execute_unprepared("CREATE SCHEMA bi").await?;
            for (name, query) in views() {
                db.execute_unprepared(&format!("CREATE VIEW bi.{name} AS {query}"))
                    .await?;
            }
            // Roles belong to the cluster, not the database: another database may have
            // created it already, or be creating it at this moment.
            db.execute_unprepared(
                "DO $$ BEGIN CREATE ROLE khcn_bi NOLOGIN; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
            )
            .await?;
            for statement in [
                "GRANT USAGE ON SCHEMA bi TO khcn_bi",
                "GRANT SELECT ON ALL TABLES IN SCHEMA bi TO khcn_bi",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA bi GRANT SELECT ON TABLES TO khcn_bi",
            ] {
                db.execute_unprepared(statement).await?;
            }
        } else {
            for (name, query) in views() {
                db.execute_unprepared(&format!("CREATE VIEW bi_{name} AS {query}"))
                    .await?;
            }
        }
        Ok(())
    }
}
