//! SeaORM entities, one file per table. API types live in `graphql`, not here.

pub mod administrative_units;
pub mod agencies;
pub mod agency_aliases;
pub mod agency_facts;
pub mod agency_group_aliases;
pub mod agency_groups;
pub mod annual_reports;
pub mod api_tokens;
pub mod application_models;
pub mod audit_log;
pub mod change_log;
pub mod connector_state;
pub mod idempotency_keys;
pub mod ip_rights;
pub mod legal_documents;
pub mod ocop_products;
pub mod organisations;
pub mod plan_clauses;
pub mod plan_documents;
pub mod plans;
pub mod quarantine;
pub mod record_links;
pub mod science_tasks;
pub mod search_entries;
pub mod sections;
pub mod startup_support_events;
pub mod startups;
pub mod sync_runs;
pub mod targets;
pub mod task_coordinators;
pub mod task_documents;
pub mod tasks;
pub mod technology_assessments;
pub mod traceability_entries;
pub mod webhook_deliveries;
pub mod webhooks;

use chrono::{DateTime, FixedOffset};

/// The provenance every record carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub id: i32,
    pub source: String,
    pub external_id: Option<String>,
    pub fetched_at: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub version: i64,
    pub archived_at: Option<DateTime<FixedOffset>>,
    pub withdrawn_at: Option<DateTime<FixedOffset>>,
}

/// The columns the write engine keeps on every record table; a client never sets them
/// through content.
pub const BOOKKEEPING: [&str; 10] = [
    "id",
    "source",
    "external_id",
    "fetched_at",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
    "withdrawn_at",
    "search_key",
];

/// A record table's row: its provenance, its search key and its own columns.
pub trait RecordModel:
    sea_orm::ModelTrait<Entity: sea_orm::EntityTrait<Model = Self>>
    + sea_orm::FromQueryResult
    + sea_orm::IntoActiveModel<Self::Active>
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Clone
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    type Active: sea_orm::ActiveModelTrait<Entity = Self::Entity>
        + sea_orm::ActiveModelBehavior
        + From<Self>
        + Send
        + Sync
        + 'static;

    fn provenance(&self) -> Provenance;
    /// The row's id, without copying the rest of the provenance.
    fn row_id(&self) -> i32;
    /// When it was archived, if it was.
    fn archived(&self) -> Option<DateTime<FixedOffset>>;
    fn set_provenance(&mut self, provenance: Provenance);
    fn search_key(&self) -> &str;
    fn set_search_key(&mut self, key: String);
}

/// Declares a record table's entity: the provenance columns and the search key every
/// record has, then the kind's own columns.
macro_rules! record_entity {
    ($table:literal, $($(#[$attr:meta])* pub $field:ident: $ty:ty),* $(,)?) => {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            pub source: String,
            pub external_id: Option<String>,
            pub fetched_at: Option<DateTimeWithTimeZone>,
            pub created_at: DateTimeWithTimeZone,
            pub updated_at: DateTimeWithTimeZone,
            pub version: i64,
            pub archived_at: Option<DateTimeWithTimeZone>,
            pub withdrawn_at: Option<DateTimeWithTimeZone>,
            #[sea_orm(column_type = "Text")]
            pub search_key: String,
            $($(#[$attr])* pub $field: $ty,)*
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}

        impl $crate::db::entities::RecordModel for Model {
            type Active = ActiveModel;

            fn provenance(&self) -> $crate::db::entities::Provenance {
                $crate::db::entities::Provenance {
                    id: self.id,
                    source: self.source.clone(),
                    external_id: self.external_id.clone(),
                    fetched_at: self.fetched_at,
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                    version: self.version,
                    archived_at: self.archived_at,
                    withdrawn_at: self.withdrawn_at,
                }
            }

            fn row_id(&self) -> i32 {
                self.id
            }

            fn archived(&self) -> Option<DateTimeWithTimeZone> {
                self.archived_at
            }

            fn set_provenance(&mut self, p: $crate::db::entities::Provenance) {
                self.id = p.id;
                self.source = p.source;
                self.external_id = p.external_id;
                self.fetched_at = p.fetched_at;
                self.created_at = p.created_at;
                self.updated_at = p.updated_at;
                self.version = p.version;
                self.archived_at = p.archived_at;
                self.withdrawn_at = p.withdrawn_at;
            }

            fn search_key(&self) -> &str {
                &self.search_key
            }

            fn set_search_key(&mut self, key: String) {
                self.search_key = key;
            }
        }
    };
}
pub(crate) use record_entity;
