//! khcn-hub: a GraphQL hub for plan 136/KH-UBND of Đồng Tháp province and the records
//! that track its progress.
//!
//! Requests flow `http` → `graphql` → `store` → `db`; rules live in `domain`.

/// The application value: build from settings, run until stopped.
pub mod app;
/// Settings from flags and environment variables.
pub mod config;
/// Database connection, migrations and SeaORM entities.
pub mod db;
/// Plain domain types and rules (no frameworks).
pub mod domain;
/// The GraphQL schema: per-domain queries, loaders, limits, errors.
pub mod graphql;
/// HTTP routes: GraphQL over HTTP, GraphiQL, health probes.
pub mod http;
/// The record kinds: one declaration each, and the registry that lists them.
pub mod records;
/// Report documents (DOCX and PDF) in the layout of Decree 30/2020/NĐ-CP.
pub mod report;
/// The deterministic sample data set (`seed --sample`).
pub mod sample;
/// Graceful shutdown: the signal, and the work in progress it waits for.
pub mod shutdown;
/// Data access per domain; owns queries and transactions.
pub mod store;
/// Connectors: definitions, sources, the sync engine and its scheduler.
pub mod sync;
/// Logging set-up.
pub mod telemetry;
/// Webhooks: turning committed changes into signed deliveries, and delivering them.
pub mod webhooks;
