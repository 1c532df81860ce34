//! An index for every order a record list offers, in both directions, each ending in the
//! id that breaks ties: lists sort `column ASC|DESC NULLS LAST, id ASC`, and an order no
//! index matches sorts the whole table for a page of it.
//!
//! PostgreSQL needs an index per direction (a backward scan of the ascending one would
//! put NULLs first and ids backwards). SQLite's ascending index is the column alone (every
//! index ends in the rowid, and it reads NULLs last in two passes); its descending one
//! names the id. The single-column indexes these supersede are dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The ordered columns of each record table, as its list's `orderBy` offers them.
const ORDERS: &[(&str, &[&str])] = &[
    (
        "ip_rights",
        &[
            "name",
            "right_kind",
            "jurisdiction",
            "filed_on",
            "registered_on",
            "updated_at",
        ],
    ),
    (
        "ocop_products",
        &[
            "name",
            "district_code",
            "commune",
            "stars",
            "certified_on",
            "valid_until",
            "evaluation_year",
            "updated_at",
        ],
    ),
    (
        "startups",
        &["name", "sector", "founded_year", "updated_at"],
    ),
    (
        "traceability_entries",
        &["event_time", "record_time", "gtin", "updated_at"],
    ),
    (
        "science_tasks",
        &[
            "code",
            "title",
            "start_on",
            "end_on",
            "budget_vnd",
            "updated_at",
        ],
    ),
    (
        "application_models",
        &["title", "field", "year_transferred", "updated_at"],
    ),
    (
        "technology_assessments",
        &["enterprise_name", "industry", "year", "updated_at"],
    ),
    ("annual_reports", &["year", "submitted_on", "updated_at"]),
];

/// Single-column indexes of the earlier migrations that the ascending ones replace.
const SUPERSEDED: &[(&str, &str)] = &[
    ("ocop_products", "certified_on"),
    ("traceability_entries", "event_time"),
    ("traceability_entries", "gtin"),
    ("ip_rights", "updated_at"),
    ("ocop_products", "updated_at"),
    ("startups", "updated_at"),
    ("traceability_entries", "updated_at"),
    ("science_tasks", "updated_at"),
    ("application_models", "updated_at"),
    ("technology_assessments", "updated_at"),
    ("annual_reports", "updated_at"),
];

fn statements(backend: DbBackend) -> Vec<String> {
    let mut out: Vec<String> = SUPERSEDED
        .iter()
        .map(|(table, column)| format!("DROP INDEX IF EXISTS ix_{table}_{column}"))
        .collect();
    for (table, columns) in ORDERS {
        for column in *columns {
            let (ascending, descending) = match backend {
                DbBackend::Postgres => (
                    format!("{column}, id"),
                    format!("{column} DESC NULLS LAST, id"),
                ),
                _ => ((*column).to_owned(), format!("{column} DESC, id")),
            };
            out.push(format!(
                "CREATE INDEX ix_{table}_{column}_asc ON {table} ({ascending})"
            ));
            out.push(format!(
                "CREATE INDEX ix_{table}_{column}_desc ON {table} ({descending})"
            ));
        }
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in statements(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
