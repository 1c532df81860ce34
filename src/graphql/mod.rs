//! The GraphQL API: per-domain query objects merged into one schema, with loaders and
//! safety limits set here and nowhere else.

pub mod agency;
pub mod error;
pub mod limits;
pub mod loaders;
pub mod ordering;
pub mod plan;
pub mod scalars;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use self::agency::AgencyQuery;
use self::limits::{Limits, RequestPhases};
use self::loaders::PlanLoader;
use self::plan::PlanQuery;

/// The root query: every domain's queries side by side.
#[derive(MergedObject, Default)]
pub struct Query(PlanQuery, AgencyQuery);

pub type HubSchema = Schema<Query, EmptyMutation, EmptySubscription>;

fn schema_builder(limits: &Limits) -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives)
        .extension(RequestPhases::new(limits.clone()))
}

/// The schema served by the hub, bound to a database.
pub fn build_schema(db: DatabaseConnection, limits: &Limits) -> HubSchema {
    let loader = DataLoader::new(PlanLoader::new(db.clone()), tokio::spawn);
    schema_builder(limits).data(db).data(loader).finish()
}

/// The SDL of the served schema (what `khcn-hub schema` prints and
/// `schema/schema.graphql` holds).
pub fn sdl() -> String {
    schema_builder(&Limits::default()).finish().sdl()
}
