//! Plain types and rules of the hub's domain; no framework is imported here.

pub mod plan;
pub mod plan_source;
pub mod text;
