//! Why a connector run failed. Its own file so the source kinds and the engine can both
//! name it without importing each other.

use thiserror::Error;

use super::http::FetchError;
use crate::store::writes::WriteError;
use crate::store::{StoreError, error_chain};

/// Why a run failed (or could not start).
#[derive(Debug, Error)]
pub enum SyncError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Registry(String),
    #[error("schema drift: {0}")]
    Drift(String),
    #[error("database error: {}", error_chain(.0))]
    Store(#[from] StoreError),
    #[error("a page could not be written: {}", error_chain(.0))]
    Write(#[from] WriteError),
    #[error("connector {0:?} is already running")]
    Busy(String),
    #[error("connector {name:?} is disabled: {reason}")]
    Disabled { name: String, reason: String },
    #[error("no connector is named {0:?}")]
    Unknown(String),
    #[error("interrupted: the server shut down; the next run resumes from the last committed page")]
    Interrupted,
}

impl From<sea_orm::DbErr> for SyncError {
    fn from(error: sea_orm::DbErr) -> Self {
        SyncError::Store(StoreError::Db(error))
    }
}
