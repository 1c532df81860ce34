//! One search table for tasks, agencies (and their aliases) and every record kind, with an
//! index built for substring search: a trigram GIN index (`pg_trgm`) on PostgreSQL, an
//! FTS5 table with the trigram tokenizer on SQLite. The hub keeps it in step with what it
//! indexes, in the same transaction as each write; it fills it from the tables when it
//! finds it empty.

use sea_orm_migration::{prelude::*, schema::*};

use crate::record_table::{col, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "search_entries";

/// SQLite: an external-content FTS5 table over the folded keys, kept in step by triggers.
const SQLITE_FTS: [&str; 4] = [
    "CREATE VIRTUAL TABLE search_entries_fts USING fts5(key, content='search_entries', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN \
     INSERT INTO search_entries_fts(rowid, key) VALUES (new.id, new.key); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN \
     INSERT INTO search_entries_fts(search_entries_fts, rowid, key) VALUES ('delete', old.id, old.key); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE OF key ON search_entries BEGIN \
     INSERT INTO search_entries_fts(search_entries_fts, rowid, key) VALUES ('delete', old.id, old.key); \
     INSERT INTO search_entries_fts(rowid, key) VALUES (new.id, new.key); END",
];

/// PostgreSQL: trigram matching for `LIKE '%…%'` on the folded keys.
const POSTGRES_TRGM: [&str; 2] = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_search_entries_key_trgm ON search_entries USING gin (key gin_trgm_ops)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(col(TABLE))
                    .col(pk_auto(col("id")))
                    // TASK, AGENCY or a record kind (OCOP_PRODUCT…).
                    .col(string(col("kind")))
                    .col(integer(col("record_id")))
                    // 0 for the row itself; an alias's id for an agency's alias.
                    .col(integer(col("variant")).default(0))
                    .col(text(col("title")))
                    .col(text(col("key")))
                    .col(text(col("title_key")))
                    // False for archived and withdrawn records: search leaves them out.
                    .col(boolean(col("active")).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(TABLE, &["kind", "record_id", "variant"], true))
            .await?;
        let statements: &[&str] = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DbBackend::Postgres => &POSTGRES_TRGM,
            _ => &SQLITE_FTS,
        };
        let db = manager.get_connection();
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
