//! SeaORM entities, one file per table. API types live in `graphql`, not here.

pub mod administrative_units;
pub mod agencies;
pub mod agency_aliases;
pub mod agency_group_aliases;
pub mod agency_groups;
pub mod annual_reports;
pub mod api_tokens;
pub mod application_models;
pub mod ip_rights;
pub mod legal_documents;
pub mod ocop_products;
pub mod organisations;
pub mod plan_clauses;
pub mod plan_documents;
pub mod plans;
pub mod record_links;
pub mod science_tasks;
pub mod sections;
pub mod startup_support_events;
pub mod startups;
pub mod targets;
pub mod task_coordinators;
pub mod task_documents;
pub mod tasks;
pub mod technology_assessments;
pub mod traceability_entries;
