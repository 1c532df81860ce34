//! No N+1: the statements a nested query costs do not grow with the page size.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use khcn_hub::graphql::{build_schema, limits::Limits};
use khcn_hub::sample::{SampleSize, load_sample};

use crate::helpers::{Backend, TestDatabase};

const NESTED: &str = r#"
    query($n: Int!) {
      tasks(first: $n) {
        totalCount
        nodes {
          code
          section { numeral }
          leadAgency { code name aliases }
          coordinators { ... on Agency { code } ... on AgencyGroup { code } }
          linkedRecords(kinds: [OCOP_PRODUCT], first: 10) {
            ... on OcopProduct { name stars producer { name } tasks { code } }
            ... on IpRight { name managingAgency { code } }
          }
        }
      }
    }
"#;

/// Q2 of the side-by-side benchmark: the tasks one agency leads, each with its lead
/// agency, coordinators and first ten OCOP products with their producers, and the plan's
/// targets.
const LED_BY: &str = r#"
    query($n: Int!) {
      tasks(filter: { leadAgency: { eq: "so-khcn" } }, first: $n) {
        nodes {
          code
          leadAgency { code name }
          coordinators { ... on Agency { code } ... on AgencyGroup { code } }
          linkedRecords(kinds: [OCOP_PRODUCT], first: 10) {
            ... on OcopProduct { name stars district producer { name } }
          }
        }
      }
      plan(code: "136/KH-UBND") { targets { key targetValue actualValue progress onTrack } }
    }
"#;

/// A schema over the plan and a small sample, and the count of the statements it sends.
struct Counted {
    schema: khcn_hub::graphql::HubSchema,
    db: sea_orm::DatabaseConnection,
    feed: khcn_hub::store::feed::ChangeFeed,
    statements: Arc<AtomicUsize>,
    _database: TestDatabase,
}

impl Counted {
    async fn start(backend: Backend, limits: Limits) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        let mut db = khcn_hub::db::connect(&database.url).await.unwrap();
        khcn_hub::db::migrate(&db, &database.url).await.unwrap();
        khcn_hub::app::seed_plan(&db).await.unwrap();
        let size = SampleSize {
            ocop_products: 300,
            startups: 20,
            traceability_entries: 100,
        };
        load_sample(&db, size).await.unwrap();

        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let trace = std::env::var("KHCN_HUB_TRACE_SQL").is_ok();
        db.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            if trace {
                eprintln!(
                    "SQL: {}",
                    info.statement.sql.chars().take(160).collect::<String>()
                );
            }
        });
        let feed = khcn_hub::store::feed::ChangeFeed::new();
        let connectors = khcn_hub::sync::scheduler::Connectors {
            definitions: std::sync::Arc::new(Vec::new()),
            engine: khcn_hub::sync::Engine::new(db.clone(), feed.clone()),
        };
        let schema = build_schema(
            db.clone(),
            &limits,
            feed.clone(),
            connectors,
            Default::default(),
        );
        // The first query loads the in-memory plan snapshot; count from the second on.
        let warm_up = schema.execute("{ plans { code } }").await;
        assert!(warm_up.errors.is_empty(), "{:?}", warm_up.errors);
        Some(Self {
            schema,
            db,
            feed,
            statements,
            _database: database,
        })
    }

    /// The statements `query` costs for each page size, each run after a (pretend)
    /// write so that no run reuses an earlier one's cached answers.
    async fn per_page(
        &self,
        query: &str,
        pages: &[usize],
        check: impl Fn(usize, &serde_json::Value),
    ) -> Vec<usize> {
        let mut counts = Vec::new();
        for &page in pages {
            // A logged record change moves the log's head past every cached value.
            let txn = sea_orm::TransactionTrait::begin(&self.db).await.unwrap();
            let change = khcn_hub::store::feed::RecordChange {
                record: khcn_hub::domain::records::RecordRef {
                    kind: khcn_hub::domain::records::RecordKind::OcopProduct,
                    id: 1,
                },
                operation: khcn_hub::store::feed::ChangeOperation::Updated,
                version: 2,
                source: "test".into(),
                owner_agency_id: None,
                agency_only: false,
                archived: false,
                actor: "test".into(),
                task_code: None,
                at: chrono::Utc::now().fixed_offset(),
            };
            self.feed.commit(txn, &[change], None).await.unwrap();
            self.statements.store(0, Ordering::SeqCst);
            if std::env::var("KHCN_HUB_TRACE_SQL").is_ok() {
                eprintln!("SQL: ---- page of {page}");
            }
            // Built as the HTTP handler builds it, with the per-request state.
            let request = khcn_hub::graphql::context::request_as(
                query,
                serde_json::json!({ "n": page }),
                khcn_hub::domain::auth::Caller::Anonymous,
            );
            let response = self.schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            check(page, &response.data.into_json().unwrap());
            counts.push(self.statements.load(Ordering::SeqCst));
        }
        counts
    }
}

fn every_task_has_ten_products(page: usize, data: &serde_json::Value) {
    let nodes = data["tasks"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), page);
    assert!(
        nodes
            .iter()
            .all(|t| t["linkedRecords"].as_array().unwrap().len() == 10),
        "every task has 10 links in the sample"
    );
}

async fn statements_per_page(backend: Backend) {
    // A window wide enough for this (debug-built, shared) machine to enqueue a whole
    // level's keys: the count then reflects the query plan, not the CPU's speed.
    let limits = Limits {
        batch_window: std::time::Duration::from_millis(50),
        ..Limits::default()
    };
    let Some(counted) = Counted::start(backend, limits).await else {
        return;
    };
    let counts = counted
        .per_page(NESTED, &[10, 20, 31], every_task_has_ten_products)
        .await;
    eprintln!("{backend:?}: statements for pages of 10, 20, 31 tasks: {counts:?}");
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "statement count grows with the page: {counts:?}"
    );
    assert!(counts[0] <= 10, "{counts:?}");
}

/// Q2's shape with the default settings (no batch window): the count stays the same
/// whether a page holds 5 tasks or all 17 the agency leads.
async fn led_by_statements_per_page(backend: Backend) {
    let Some(counted) = Counted::start(backend, Limits::default()).await else {
        return;
    };
    let counts = counted
        .per_page(LED_BY, &[5, 17], |page, data| {
            every_task_has_ten_products(page, data);
            let targets = data["plan"]["targets"].as_array().unwrap();
            assert_eq!(targets.len(), 5, "{data}");
        })
        .await;
    eprintln!("{backend:?}: statements for pages of 5, 17 tasks led by so-khcn: {counts:?}");
    assert_eq!(counts[0], counts[1], "statement count grows with the page");
    // The page: links, products, producers. The targets, computed afresh after the
    // write: the plan, its tasks and one count per kind of target (5). And one read of
    // the change log's head, which tells the caches what they must reflect.
    assert!(counts[0] <= 11, "{counts:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_nested_query_costs_the_same_statements_for_any_page_size_on_sqlite() {
    statements_per_page(Backend::Sqlite).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_nested_query_costs_the_same_statements_for_any_page_size_on_postgres() {
    statements_per_page(Backend::Postgres).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_tasks_an_agency_leads_cost_the_same_statements_for_any_page_size_on_sqlite() {
    led_by_statements_per_page(Backend::Sqlite).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_tasks_an_agency_leads_cost_the_same_statements_for_any_page_size_on_postgres() {
    led_by_statements_per_page(Backend::Postgres).await;
}
