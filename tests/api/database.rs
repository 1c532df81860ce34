//! The database itself: migrations from empty on both backends, SQLite's pragmas.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Backend, TestDatabase};

/// A `#[tokio::test]` per backend, each running `check` on it.
macro_rules! on_both_backends {
    ($check:ident => $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $check(Backend::Sqlite).await;
        }

        #[tokio::test]
        async fn $postgres() {
            $check(Backend::Postgres).await;
        }
    };
}

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

on_both_backends!(
    migrate_from_empty =>
    migrations_apply_to_an_empty_sqlite_database,
    migrations_apply_to_an_empty_postgres_database
);

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
        // Reading a covering index in group order is not costed as if from a spinning disk.
        ("random_page_cost", "1.1"),
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

/// A new database with every migration applied, and a pool on it.
async fn migrated_database(
    backend: Backend,
) -> Option<(TestDatabase, sea_orm::DatabaseConnection)> {
    let database = TestDatabase::create(backend).await?;
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    khcn_hub::db::migrate(&db, &database.url).await.unwrap();
    Some((database, db))
}

/// A migrated database whose planner is told what a big table costs: SQLite that each
/// record table holds a million rows (statistics written as ANALYZE would). PostgreSQL's
/// planner is steered per statement (`plan_of`). `None` where the backend is not here.
async fn database_planned_as_big(
    backend: Backend,
) -> Option<(TestDatabase, sea_orm::DatabaseConnection)> {
    use khcn_hub::domain::records::RecordKind;

    let (database, db) = migrated_database(backend).await?;
    if backend == Backend::Sqlite {
        db.execute_unprepared("ANALYZE").await.unwrap();
        for kind in RecordKind::ALL {
            let table = khcn_hub::records::spec_of(*kind).table;
            db.execute_unprepared(&format!(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('{table}', NULL, '1000000')"
            ))
            .await
            .unwrap();
        }
        db.execute_unprepared("ANALYZE sqlite_schema")
            .await
            .unwrap();
    }
    Some((database, db))
}

/// The plan of `statement`, one line per step, with PostgreSQL's `settings` (`SET LOCAL`
/// statements) in force for it alone.
async fn plan_of(
    db: &sea_orm::DatabaseConnection,
    backend: Backend,
    statement: &Statement,
    settings: &str,
) -> String {
    use sea_orm::TransactionTrait;

    let explain = match backend {
        Backend::Sqlite => "EXPLAIN QUERY PLAN ",
        Backend::Postgres => "EXPLAIN ",
    };
    let txn = db.begin().await.unwrap();
    if backend == Backend::Postgres {
        txn.execute_unprepared(settings).await.unwrap();
    }
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!("{explain}{}", statement.sql),
            statement.values.clone().map(|v| v.0).unwrap_or_default(),
        ))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    rows.iter()
        .map(|row| match backend {
            Backend::Sqlite => row.try_get_by_index::<String>(3).unwrap(),
            Backend::Postgres => row.try_get_by_index::<String>(0).unwrap(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fails unless `statement` reads only an index on `district_code`: SQLite's plan must use
/// a covering index; PostgreSQL, kept from scanning the table or visiting its rows, must
/// show an index-only scan, which it can only if an index answers alone.
async fn assert_reads_only_the_district_index(
    db: &sea_orm::DatabaseConnection,
    backend: Backend,
    statement: &Statement,
    what: &str,
) {
    let only_index_only_scans = "SET LOCAL enable_seqscan = off; \
        SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = off";
    let plan = plan_of(db, backend, statement, only_index_only_scans).await;
    let index_only = match backend {
        Backend::Sqlite => plan.contains("USING COVERING INDEX"),
        Backend::Postgres => plan.contains("Index Only Scan"),
    };
    assert!(
        index_only && plan.contains("district_code"),
        "the {what} visits rows:\n{}\n{plan}",
        statement.sql
    );
}

/// Every order a record list offers, in both directions, is read from an index: the
/// statement that picks the page (on SQLite, the page's ids), explained, sorts nothing. The tables are empty, so PostgreSQL is
/// told to avoid sorting at any cost (a sort in its plan means no index could serve the
/// order), SQLite that the tables are big.
async fn every_order_is_served_by_an_index(backend: Backend) {
    use khcn_hub::domain::filter::{Filter, SortKey};
    use khcn_hub::domain::records::RecordKind;
    use khcn_hub::store::records::{ArchivedScope, ListQuery, page_statement};

    let Some((_database, db)) = database_planned_as_big(backend).await else {
        return;
    };
    // An incremental sort over an index on the leading column would otherwise stand in
    // for a full one on these empty tables.
    let no_sorts = "SET LOCAL enable_sort = off; SET LOCAL enable_incremental_sort = off";
    let mut checked = 0;
    for kind in RecordKind::ALL {
        let spec = khcn_hub::records::spec_of(*kind);
        for field in spec.order_by {
            for descending in [false, true] {
                let query = ListQuery {
                    filter: Filter::All(Vec::new()),
                    sort: vec![SortKey {
                        column: field.column,
                        descending,
                    }],
                    offset: 0,
                    limit: 51,
                    include_inactive: false,
                    archived_scope: ArchivedScope::All,
                };
                let statement = page_statement(db.get_database_backend(), *kind, &query);
                let plan = plan_of(&db, backend, &statement, no_sorts).await;
                let direction = if descending { "DESC" } else { "ASC" };
                assert!(
                    !plan.contains("Sort") && !plan.contains("TEMP B-TREE"),
                    "{}.{} {direction} sorts instead of reading an index:\n{}\n{plan}",
                    spec.table,
                    field.column,
                    statement.sql
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 2 * RecordKind::ALL.len(),
        "{checked} orders checked"
    );
}

on_both_backends!(
    every_order_is_served_by_an_index =>
    every_order_is_served_by_an_index_on_sqlite,
    every_order_is_served_by_an_index_on_postgres
);

/// On SQLite a page of OCOP products by district and stars, newest first (Q3's shape),
/// picks its ids from the district/stars index alone and then reads only those rows by
/// id: no row outside the page is read, and the sort carries ids, not whole rows.
#[tokio::test]
async fn an_ocop_page_by_district_and_stars_reads_only_its_own_rows_on_sqlite() {
    use khcn_hub::domain::filter::{Filter, Op, Scalar, SortKey};
    use khcn_hub::domain::records::RecordKind;
    use khcn_hub::store::records::{ArchivedScope, ListQuery, list_statement};

    let Some((_database, db)) = database_planned_as_big(Backend::Sqlite).await else {
        return;
    };
    let query = ListQuery {
        filter: Filter::all(vec![
            Filter::compare("district_code", Op::Eq, Scalar::Text("lai-vung".into())),
            Filter::compare("stars", Op::Gte, Scalar::Int(4)),
        ]),
        sort: vec![SortKey {
            column: "certified_on",
            descending: true,
        }],
        offset: 0,
        limit: 101,
        include_inactive: false,
        archived_scope: ArchivedScope::All,
    };
    let statement = list_statement(db.get_database_backend(), RecordKind::OcopProduct, &query);
    let plan = plan_of(&db, Backend::Sqlite, &statement, "").await;
    assert!(
        plan.contains("COVERING INDEX ix_ocop_products_district_code_stars_active")
            && plan.contains("INTEGER PRIMARY KEY (rowid=?)"),
        "the page is not picked from the index and read by id:\n{}\n{plan}",
        statement.sql
    );
}

/// An OCOP count by district and stars ("4+ stars in Lai Vung") over the records (where
/// the roll-up cannot answer: an agency's archived records, a filter on another column)
/// reads one index and no row: the index holds the activity columns every count tests. SQLite is told the table
/// is big; PostgreSQL is kept from scanning the table or visiting its rows, so its plan
/// shows an index-only scan only if an index can answer alone.
async fn an_ocop_count_by_district_and_stars_reads_only_an_index(backend: Backend) {
    use khcn_hub::domain::filter::{Filter, Op, Scalar};
    use khcn_hub::domain::records::RecordKind;
    use khcn_hub::store::records::{ArchivedScope, ListQuery, count_statement};

    let Some((_database, db)) = database_planned_as_big(backend).await else {
        return;
    };
    let query = ListQuery {
        filter: Filter::all(vec![
            Filter::compare("district_code", Op::Eq, Scalar::Text("lai-vung".into())),
            Filter::compare("stars", Op::Gte, Scalar::Int(4)),
        ]),
        sort: Vec::new(),
        offset: 0,
        limit: 0,
        include_inactive: false,
        archived_scope: ArchivedScope::All,
    };
    let statement = count_statement(db.get_database_backend(), RecordKind::OcopProduct, &query);
    assert_reads_only_the_district_index(&db, backend, &statement, "count").await;
}

on_both_backends!(
    an_ocop_count_by_district_and_stars_reads_only_an_index =>
    an_ocop_count_by_district_and_stars_reads_only_an_index_on_sqlite,
    an_ocop_count_by_district_and_stars_reads_only_an_index_on_postgres
);

/// An aggregate groups by value where an index then answers alone, and by text where it
/// would walk an index that does not cover it. OCOP by district and stars reads only the
/// district/stars index; by commune (an index for its order, not for the activity
/// columns) it scans the table once and sorts rather than visit every row from that index.
async fn an_ocop_aggregate_reads_only_an_index_where_one_covers_it(backend: Backend) {
    use khcn_hub::domain::aggregate::{AggregateQuery, Dimension, Figures, Metric};
    use khcn_hub::domain::filter::Filter;
    use khcn_hub::store::aggregate::aggregate_statement;
    use khcn_hub::store::records::{ArchivedScope, ListQuery};

    let Some((_database, db)) = database_planned_as_big(backend).await else {
        return;
    };
    let scope = ListQuery {
        filter: Filter::all(Vec::new()),
        sort: Vec::new(),
        offset: 0,
        limit: 0,
        include_inactive: false,
        archived_scope: ArchivedScope::All,
    };
    let grouped_by = |dimensions: Vec<Dimension>| AggregateQuery {
        filter: Filter::all(Vec::new()),
        dimensions,
        metrics: vec![Metric {
            name: "stars",
            column: "stars",
        }],
        figures: Figures {
            sum: false,
            avg: true,
            min: false,
            max: false,
        },
    };
    let by_district_and_stars = grouped_by(vec![
        Dimension::column("district", "district_code"),
        Dimension::column("stars", "stars"),
    ]);
    let statement = aggregate_statement(&db, "ocop_products", &scope, &by_district_and_stars)
        .await
        .unwrap();
    assert_reads_only_the_district_index(&db, backend, &statement, "aggregate").await;
    assert!(
        statement
            .sql
            .contains(r#"GROUP BY "ocop_products"."district_code""#),
        "grouped by value: {}",
        statement.sql
    );

    if backend == Backend::Sqlite {
        let by_commune = grouped_by(vec![Dimension::column("commune", "commune")]);
        let statement = aggregate_statement(&db, "ocop_products", &scope, &by_commune)
            .await
            .unwrap();
        let plan = plan_of(&db, backend, &statement, "").await;
        assert!(
            !plan.contains("USING INDEX") && plan.contains("TEMP B-TREE"),
            "grouped by commune, SQLite walks an index that does not cover it:\n{}\n{plan}",
            statement.sql
        );
    }
}

on_both_backends!(
    an_ocop_aggregate_reads_only_an_index_where_one_covers_it =>
    an_ocop_aggregate_reads_only_an_index_where_one_covers_it_on_sqlite,
    an_ocop_aggregate_reads_only_an_index_where_one_covers_it_on_postgres
);

/// New search entries wait in the trigram index's pending list, which every search reads
/// through, for at most 64 kB: a burst of writes leaves no more than that pending (by
/// default PostgreSQL lets it grow to 4 MB before merging).
#[tokio::test]
async fn new_search_entries_wait_in_a_bounded_pending_list_on_postgres() {
    let Some((_database, db)) = migrated_database(Backend::Postgres).await else {
        return;
    };
    db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        .await
        .unwrap();
    db.execute_unprepared(
        "INSERT INTO search_entries (kind, record_id, variant, title, key, title_key, active) \
         SELECT 'STARTUP', n, 0, 'Khởi nghiệp ' || n, \
                'khoi nghiep so ' || n || ' tai xa tan thanh dong thap', 'khoi nghiep ' || n, true \
         FROM generate_series(1, 5000) AS n",
    )
    .await
    .unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pending_pages::bigint AS pages \
             FROM pgstatginindex('ix_search_entries_key_trgm')",
        ))
        .await
        .unwrap()
        .unwrap();
    let pending: i64 = row.try_get("", "pages").unwrap();
    // 64 kB is 8 pages, plus the page the last entry started.
    assert!(pending <= 9, "{pending} pages of entries wait to be merged");
    db.close().await.unwrap();
}

/// Every kind's roll-up answers counts and aggregates exactly as its records do: after
/// the migration fills it from records already there, and after inserts, updates that
/// move records between combinations, archiving, withdrawing, restoring and deleting,
/// all made in plain SQL (the triggers keep it, whoever writes).
async fn rollups_answer_as_the_records_do(backend: Backend) {
    use khcn_hub::domain::aggregate::{AggregateQuery, Dimension, Figures, Group};
    use khcn_hub::domain::filter::{Filter, Op, Scalar};
    use khcn_hub::domain::records::RecordKind;
    use khcn_hub::sample::{SampleSize, load_sample};
    use khcn_hub::store::aggregate::{aggregate, aggregate_statement};
    use khcn_hub::store::records::{ArchivedScope, ListQuery, count};
    use khcn_hub::store::rollup;

    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let db = khcn_hub::db::connect(&database.url).await.unwrap();
    // Records first, then the roll-ups: the migration must count what is there.
    let before_rollups = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261212_000001_create_aggregate_rollups")
        .unwrap();
    Migrator::up(&db, Some(before_rollups as u32))
        .await
        .unwrap();
    khcn_hub::app::seed_plan(&db).await.unwrap();
    let size = SampleSize {
        ocop_products: 400,
        startups: 40,
        traceability_entries: 200,
    };
    load_sample(&db, size).await.unwrap();
    khcn_hub::db::migrate(&db, &database.url).await.unwrap();

    let mut nullable_sums = 0;
    for kind in RecordKind::ALL {
        let spec = khcn_hub::records::spec_of(*kind);
        let table = spec.table;
        let Some(rollup) = spec.rollup else { continue };
        // The spec names what the migration made.
        let mut columns: Vec<String> = ["key", "archived", "withdrawn", "n"]
            .iter()
            .chain(rollup.columns)
            .map(|c| c.to_string())
            .collect();
        for sum in rollup.sums {
            columns.extend([format!("{sum}_sum"), format!("{sum}_count")]);
        }
        db.execute_unprepared(&format!(
            "SELECT {} FROM {} WHERE 1 = 0",
            columns.join(", "),
            rollup.table
        ))
        .await
        .unwrap();
        let first = rollup.columns[0];
        for sql in [
            format!("UPDATE {table} SET archived_at = updated_at WHERE id % 5 = 0"),
            format!("UPDATE {table} SET withdrawn_at = updated_at WHERE id % 11 = 0"),
            format!("UPDATE {table} SET archived_at = NULL WHERE id % 10 = 0"),
            format!("UPDATE {table} SET external_id = external_id || '-moved' WHERE id % 2 = 0"),
            format!(
                "UPDATE {table} SET {first} = (SELECT {first} FROM {table} WHERE id % 3 = 1 ORDER BY id LIMIT 1) WHERE id % 3 = 0"
            ),
            format!("DELETE FROM {table} WHERE id % 17 = 0"),
        ] {
            db.execute_unprepared(&sql).await.unwrap();
        }
        for sum in rollup.sums {
            // Where the column may be null (OCOP stars may not).
            let nulled = db
                .execute_unprepared(&format!("UPDATE {table} SET {sum} = NULL WHERE id % 4 = 0"))
                .await;
            nullable_sums += usize::from(nulled.is_ok());
        }
    }
    assert!(
        nullable_sums > 0,
        "no summed metric could be nulled: sums over nulls go untested"
    );
    db.execute_unprepared("UPDATE ocop_products SET stars = 5 WHERE id % 7 = 0")
        .await
        .unwrap();

    let scopes = [
        (false, ArchivedScope::All),
        (true, ArchivedScope::All),
        (true, ArchivedScope::None),
    ];
    let mut checked = 0;
    for kind in RecordKind::ALL {
        let spec = khcn_hub::records::spec_of(*kind);
        let Some(rollup) = spec.rollup else { continue };
        let dimensions: Vec<Dimension> = spec
            .dimensions
            .iter()
            .map(|d| d.dimension)
            .filter(|d| match d.grouping {
                khcn_hub::domain::aggregate::Grouping::Column(c) => rollup.columns.contains(&c),
                _ => false,
            })
            .collect();
        assert!(
            !dimensions.is_empty(),
            "{}: no dimension rolled up",
            spec.table
        );
        let metrics: Vec<_> = spec
            .metrics
            .iter()
            .copied()
            .filter(|m| rollup.sums.contains(&m.column))
            .collect();
        let filters = [
            Filter::all(Vec::new()),
            Filter::compare("source", Op::Eq, Scalar::Text("sample".into())),
            Filter::Not(Box::new(Filter::compare(
                rollup.columns[0],
                Op::IsNull,
                Scalar::Bool(true),
            ))),
        ];
        let mut groupings: Vec<Vec<Dimension>> = vec![Vec::new()];
        groupings.extend(dimensions.iter().map(|d| vec![*d]));
        groupings.extend(dimensions.windows(2).map(<[Dimension]>::to_vec));
        for (include_inactive, archived_scope) in &scopes {
            for filter in &filters {
                let scope = ListQuery {
                    filter: filter.clone(),
                    sort: Vec::new(),
                    offset: 0,
                    limit: 0,
                    include_inactive: *include_inactive,
                    archived_scope: archived_scope.clone(),
                };
                let counted = count(&db, spec.table, &scope).await.unwrap();
                assert!(rollup::count_select(spec.table, &scope).is_some());
                let statement = khcn_hub::store::records::count_statement(
                    db.get_database_backend(),
                    *kind,
                    &scope,
                );
                let row = db.query_one_raw(statement).await.unwrap().unwrap();
                let expected: i64 = row.try_get_by_index(0).unwrap();
                assert_eq!(counted as i64, expected, "{} count {scope:?}", spec.table);

                for dimensions in &groupings {
                    let query = AggregateQuery {
                        filter: filter.clone(),
                        dimensions: dimensions.clone(),
                        metrics: metrics.clone(),
                        figures: Figures {
                            sum: true,
                            avg: true,
                            min: false,
                            max: false,
                        },
                    };
                    assert!(
                        rollup::aggregate_select(
                            db.get_database_backend(),
                            spec.table,
                            &scope,
                            &query
                        )
                        .is_some()
                    );
                    let mut from_rollup = aggregate(&db, spec.table, &scope, &query).await.unwrap();
                    let statement = aggregate_statement(&db, spec.table, &scope, &query)
                        .await
                        .unwrap();
                    let mut from_records: Vec<Group> = db
                        .query_all_raw(statement)
                        .await
                        .unwrap()
                        .iter()
                        .map(|row| read_group(row, &query))
                        .collect();
                    from_rollup.sort_by(|a, b| a.keys.cmp(&b.keys));
                    from_records.sort_by(|a, b| a.keys.cmp(&b.keys));
                    let what = format!("{} by {dimensions:?} in {scope:?}", spec.table);
                    assert_eq!(from_rollup.len(), from_records.len(), "{what}");
                    for (a, b) in from_rollup.iter().zip(&from_records) {
                        assert_eq!((&a.keys, a.count), (&b.keys, b.count), "{what}");
                        for (x, y) in a.metrics.iter().zip(&b.metrics) {
                            assert_eq!(x.sum, y.sum, "{what}");
                            let close = match (x.avg, y.avg) {
                                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * y.abs(),
                                (x, y) => x == y,
                            };
                            assert!(close, "{what}: {x:?} against {y:?}");
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} aggregates compared");
    db.close().await.unwrap();
}

/// A group as the statement over the records gives it (`store::aggregate`'s columns).
fn read_group(
    row: &sea_orm::QueryResult,
    query: &khcn_hub::domain::aggregate::AggregateQuery,
) -> khcn_hub::domain::aggregate::Group {
    use khcn_hub::domain::aggregate::{Group, Stats};
    let get = |name: String| row.try_get::<Option<f64>>("", &name).unwrap();
    Group {
        keys: (0..query.dimensions.len())
            .map(|i| row.try_get("", &format!("k{i}")).unwrap())
            .collect(),
        count: row.try_get("", "n").unwrap(),
        metrics: (0..query.metrics.len())
            .map(|i| Stats {
                sum: get(format!("s{i}")),
                avg: get(format!("a{i}")),
                min: None,
                max: None,
            })
            .collect(),
    }
}

on_both_backends!(
    rollups_answer_as_the_records_do =>
    rollups_answer_as_the_records_do_on_sqlite,
    rollups_answer_as_the_records_do_on_postgres
);
