//! The GraphQL API: per-domain query objects merged into one schema, with loaders and
//! safety limits set here and nowhere else.

pub mod agency;
pub mod aggregate;
pub mod audit;
pub mod batch;
pub mod bi;
pub mod connectors;
pub mod context;
pub mod enums;
pub mod error;
pub mod fetch;
pub mod limits;
pub mod list;
pub mod loaders;
pub mod meta;
pub mod mutations;
pub mod objects;
pub mod ordering;
pub mod places;
pub mod plan;
pub mod records;
pub mod report;
pub mod scalars;
pub mod search;
pub mod subscriptions;
pub mod tasks;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use self::agency::AgencyQuery;
use self::aggregate::{AggregateCache, TaskAggregateQuery};
use self::audit::AuditQueryRoot;
use self::connectors::{ConflictQuery, ConnectorMutation, ConnectorQuery};
use self::limits::Limits;
use self::loaders::{PlanLoader, RecordLoader};
use self::mutations::PlanMutation;
use self::places::PlaceQuery;
use self::plan::PlanQuery;
use self::records::reports::{ReportQuery, ReportSubmission};
use self::records::roots::{RecordAggregates, RecordsMutation, RecordsQuery};
use self::search::SearchQuery;
use self::subscriptions::Subscription;
use self::tasks::TaskQuery;
use self::webhooks::{WebhookMutation, WebhookQuery};
use crate::store::feed::ChangeFeed;
use crate::store::snapshot::PlanCache;

/// The root query: every domain's queries side by side.
#[derive(MergedObject, Default)]
pub struct Query(
    PlanQuery,
    TaskQuery,
    AgencyQuery,
    RecordsQuery,
    ReportQuery,
    SearchQuery,
    PlaceQuery,
    AuditQueryRoot,
    ConnectorQuery,
    ConflictQuery,
    RecordAggregates,
    TaskAggregateQuery,
    WebhookQuery,
);

/// The root mutation: every domain's writes side by side.
#[derive(MergedObject, Default)]
pub struct Mutation(
    RecordsMutation,
    ReportSubmission,
    PlanMutation,
    ConnectorMutation,
    WebhookMutation,
);

pub type HubSchema = Schema<Query, Mutation, Subscription>;

fn schema_builder(limits: &Limits) -> SchemaBuilder<Query, Mutation, Subscription> {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    builder
}

/// The schema served by the hub, bound to a database.
pub fn build_schema(
    db: DatabaseConnection,
    limits: &Limits,
    feed: ChangeFeed,
    connectors: crate::sync::scheduler::Connectors,
    webhooks: crate::webhooks::WebhookSettings,
) -> HubSchema {
    SchemaData::new(db, limits, feed, connectors, webhooks).schema(schema_builder(limits))
}

/// [`build_schema`], and its twin for requests it has already validated: the same types,
/// limits, loaders and caches, but validation only recomputes what limits a document's
/// cost (complexity, depth, fragment cycles). Validation is a function of the document,
/// operation name and variables alone, and costs more than answering a small query from
/// kept rows; see `http::graphql` for when the twin is used.
pub fn build_schema_and_twin(
    db: DatabaseConnection,
    limits: &Limits,
    feed: ChangeFeed,
    connectors: crate::sync::scheduler::Connectors,
    webhooks: crate::webhooks::WebhookSettings,
) -> (HubSchema, HubSchema) {
    let data = SchemaData::new(db, limits, feed, connectors, webhooks);
    let twin = schema_builder(limits).validation_mode(async_graphql::ValidationMode::Fast);
    (data.schema(schema_builder(limits)), data.schema(twin))
}

/// What resolvers find in the schema's data: the database and the loaders and caches
/// over it, shared by every schema built from one `SchemaData`.
#[derive(Clone)]
struct SchemaData {
    db: DatabaseConnection,
    plan_cache: Arc<PlanCache>,
    plan_loader: Arc<PlanLoader>,
    record_loader: Arc<batch::Batcher<RecordLoader>>,
    totals: Arc<crate::store::totals::TotalsCache>,
    aggregates: Arc<AggregateCache>,
    search: Arc<search::SearchCache>,
    entities: Arc<fetch::EntityCache>,
    heads: Arc<crate::store::changes::HeadReader>,
    feed: ChangeFeed,
    connectors: crate::sync::scheduler::Connectors,
    webhooks: crate::webhooks::WebhookSettings,
}

impl SchemaData {
    fn new(
        db: DatabaseConnection,
        limits: &Limits,
        feed: ChangeFeed,
        connectors: crate::sync::scheduler::Connectors,
        webhooks: crate::webhooks::WebhookSettings,
    ) -> Self {
        let plan_cache = Arc::new(PlanCache::new(db.clone()));
        Self {
            plan_loader: Arc::new(PlanLoader::new(db.clone(), plan_cache.clone())),
            plan_cache,
            record_loader: Arc::new(batch::Batcher::new(
                RecordLoader::new(db.clone()),
                limits.batch_window,
            )),
            totals: Arc::new(crate::store::totals::TotalsCache::new()),
            aggregates: Arc::new(AggregateCache::new("aggregates")),
            search: Arc::new(search::SearchCache::new()),
            entities: Arc::new(fetch::EntityCache::default()),
            heads: Arc::new(crate::store::changes::HeadReader::new(db.clone())),
            db,
            feed,
            connectors,
            webhooks,
        }
    }

    fn schema(&self, builder: SchemaBuilder<Query, Mutation, Subscription>) -> HubSchema {
        let data = self.clone();
        builder
            .data(data.db)
            .data(data.plan_cache)
            .data(data.plan_loader)
            .data(data.record_loader)
            .data(data.totals)
            .data(data.aggregates)
            .data(data.search)
            .data(data.entities)
            .data(data.heads)
            .data(data.feed)
            .data(data.connectors)
            .data(data.webhooks)
            .finish()
    }
}

/// How deep an introspection-only document may go: the standard introspection query
/// (GraphiQL's, graphql-js's) nests `ofType` past the depth limit of ordinary queries.
const INTROSPECTION_DEPTH: usize = 32;

/// The schema that answers documents selecting only `__schema`, `__type` and
/// `__typename`: the same types, no data, a deeper depth limit and every other limit.
pub fn build_introspection_schema(limits: &Limits) -> HubSchema {
    let limits = Limits {
        max_depth: limits.max_depth.max(INTROSPECTION_DEPTH),
        ..limits.clone()
    };
    schema_builder(&limits).finish()
}

/// The SDL of the served schema (what `khcn-hub schema` prints and
/// `schema/schema.graphql` holds).
pub fn sdl() -> String {
    schema_builder(&Limits::default()).finish().sdl()
}
