//! The database itself: migrations from empty on both backends, SQLite's pragmas.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Backend, TestDatabase};

async fn migrate_from_empty(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        0
    );
    khcn_hub::db::migrate(&db, &database.url).await.unwrap();
    assert!(khcn_hub::db::migrations_applied(&db).await.unwrap());
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    // Running again is a no-op.
    khcn_hub::db::migrate(&db, &database.url).await.unwrap();
    // Forward-only: there is no way back.
    assert!(Migrator::down(&db, Some(1)).await.is_err());
}

#[tokio::test]
async fn migrations_apply_to_an_empty_sqlite_database() {
    migrate_from_empty(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_apply_to_an_empty_postgres_database() {
    migrate_from_empty(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_enforced() {
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");

    khcn_hub::db::migrate(&db, &database.url).await.unwrap();
    let orphan = db
        .execute_unprepared(
            "INSERT INTO agency_aliases (agency_id, alias, search_key) VALUES (9999, 'x', 'x')",
        )
        .await;
    assert!(
        orphan.is_err(),
        "a row pointing at no agency must be refused"
    );
}

#[tokio::test]
async fn a_sqlite_file_and_its_directory_are_created_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/deeper/khcn-hub.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    khcn_hub::db::connect(&url).await.unwrap();
    assert!(file.exists());
}

#[tokio::test]
async fn postgres_sessions_never_wait_forever() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    for (setting, expected) in [
        ("statement_timeout", "1min"),
        ("lock_timeout", "10s"),
        ("idle_in_transaction_session_timeout", "1min"),
    ] {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SHOW {setting}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let value: String = row.try_get_by_index(0).unwrap();
        assert_eq!(value, expected, "{setting}");
    }
    // A statement over the limit is cut off with an error, not waited for.
    let slow = db
        .execute_unprepared("SET statement_timeout = '100ms'; SELECT pg_sleep(2)")
        .await;
    assert!(slow.is_err(), "a statement past its timeout fails");
}
