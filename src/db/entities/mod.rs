//! SeaORM entities, one file per table. API types live in `graphql`, not here.

pub mod agencies;
pub mod agency_aliases;
pub mod agency_group_aliases;
pub mod agency_groups;
pub mod legal_documents;
pub mod plan_clauses;
pub mod plan_documents;
pub mod plans;
pub mod sections;
pub mod targets;
pub mod task_coordinators;
pub mod task_documents;
pub mod tasks;
