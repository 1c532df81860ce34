//! Data access by domain. Each function owns its queries and transactions; callers above
//! never write SQL.

pub mod aggregate;
pub mod audit;
pub mod cache;
pub mod feed;
pub mod idempotency;
pub mod links;
pub mod plan;
pub mod records;
pub mod reporting;
pub mod search;
pub mod seed;
pub mod snapshot;
pub mod sync;
pub mod targets;
pub mod tokens;
pub mod totals;
pub mod writes;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Invalid(String),
}

/// An error and its causes on one line ("a: b: c"), for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
