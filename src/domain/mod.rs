//! Plain types and rules of the hub's domain; no framework is imported here.

pub mod aggregate;
pub mod auth;
pub mod bodies_source;
pub mod epcis;
pub mod filter;
pub mod industries_source;
pub mod ingest;
pub mod ip_source;
pub mod places;
pub mod plan;
pub mod plan_source;
pub mod records;
pub mod registry;
pub mod reporting;
pub mod scope;
pub mod targets;
pub mod text;
pub mod validate;
pub mod values;
pub mod webhooks;
