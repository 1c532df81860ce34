//! Integration tests: the real server on an ephemeral port, against a fresh database of
//! its own, on SQLite and (when reachable, and always in CI) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[macro_use]
mod helpers;

mod aggregates;
mod auth;
mod bi;
mod browser;
mod cli;
mod conformance;
mod connectors;
mod database;
mod faults;
mod fixtures;
mod graphql_http;
mod kinds;
mod metrics;
mod mutations;
mod n_plus_one;
mod persisted;
mod plan_fidelity;
mod plan_queries;
mod records;
mod registry;
mod replicas;
mod report_render;
mod reports;
mod schema;
mod schemathesis;
mod shutdown;
mod subscriptions;
mod tracing;
mod webhooks;
