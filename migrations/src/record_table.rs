//! The shape every record table shares, for the migration that creates a kind's table:
//! the provenance columns and search key (`record_table`) and the indexes every record
//! table has (`record_indexes`).

use sea_orm_migration::{prelude::*, schema::*};

pub fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// A table with an id and the provenance every record carries: where it came from
/// (`source`: seed, sample, agency:<code>, connector:<name>), its key there, when it
/// was fetched, created and updated, its version for optimistic concurrency, and soft
/// deletion (archived by an agency, withdrawn from a registry snapshot).
pub fn record_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(col(name))
        .col(pk_auto(col("id")))
        .col(string(col("source")))
        .col(string_null(col("external_id")))
        .col(timestamp_with_time_zone_null(col("fetched_at")))
        .col(timestamp_with_time_zone(col("created_at")))
        .col(timestamp_with_time_zone(col("updated_at")))
        .col(big_integer(col("version")).default(1))
        .col(timestamp_with_time_zone_null(col("archived_at")))
        .col(timestamp_with_time_zone_null(col("withdrawn_at")))
        .col(text(col("search_key")))
        .to_owned()
}

pub fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut statement = Index::create();
    let prefix = if unique { "ux" } else { "ix" };
    statement
        .name(format!("{prefix}_{table}_{}", columns.join("_")))
        .table(col(table));
    for column in columns {
        statement.col(col(column));
    }
    if unique {
        statement.unique();
    }
    statement.to_owned()
}

/// The indexes every record table has: its natural key (source, external id), unique,
/// and its last change.
pub fn record_indexes(table: &str) -> [IndexCreateStatement; 2] {
    [
        index(table, &["source", "external_id"], true),
        index(table, &["updated_at"], false),
    ]
}
