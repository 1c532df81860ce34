//! The one mapping from inner errors to GraphQL errors with a stable `extensions.code`.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

use crate::store::{StoreError, error_chain};

/// Stable error codes clients can branch on.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
    pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const DEPTH_LIMIT: &str = "DEPTH_LIMIT_EXCEEDED";
    pub const COMPLEXITY_LIMIT: &str = "COMPLEXITY_LIMIT_EXCEEDED";
    pub const DIRECTIVE_LIMIT: &str = "DIRECTIVE_LIMIT_EXCEEDED";
    pub const BODY_LIMIT: &str = "BODY_TOO_LARGE";
    pub const TIMEOUT: &str = "TIMEOUT";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
}

/// An error as the API reports it.
#[derive(Debug)]
pub enum ApiError {
    BadUserInput(String),
    /// Bad input at a known place in the arguments, e.g. `filter.stars.eq`.
    BadUserInputAt {
        path: String,
        message: String,
    },
    NotFound(String),
    /// Logged with its cause; the client sees only that something failed inside.
    Internal(String),
}

impl ApiError {
    pub fn into_graphql(self) -> async_graphql::Error {
        match self {
            ApiError::BadUserInput(message) => async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", code::BAD_USER_INPUT)),
            ApiError::BadUserInputAt { path, message } => {
                async_graphql::Error::new(format!("{path}: {message}")).extend_with(|_, e| {
                    e.set("code", code::BAD_USER_INPUT);
                    e.set("field", path.as_str());
                })
            }
            ApiError::NotFound(message) => async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", code::NOT_FOUND)),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error while resolving a GraphQL field");
                async_graphql::Error::new("internal error; the cause is in the server log")
                    .extend_with(|_, e| e.set("code", code::INTERNAL))
            }
        }
    }
}

impl From<crate::domain::filter::FilterError> for ApiError {
    fn from(error: crate::domain::filter::FilterError) -> Self {
        ApiError::BadUserInputAt {
            path: error.path,
            message: error.message,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(_) => ApiError::BadUserInput(error.to_string()),
            StoreError::Db(_) => ApiError::Internal(error_chain(&error)),
        }
    }
}

impl From<Arc<StoreError>> for ApiError {
    fn from(error: Arc<StoreError>) -> Self {
        match &*error {
            StoreError::Invalid(_) => ApiError::BadUserInput(error.to_string()),
            StoreError::Db(_) => ApiError::Internal(error_chain(&*error)),
        }
    }
}

/// `.api()?` turns any inner error into a coded GraphQL error. Resolvers use this instead
/// of `?` on inner errors, which would pass their raw text (SQL included) to clients.
pub trait ApiResult<T> {
    fn api(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> ApiResult<T> for Result<T, E> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().into_graphql())
    }
}
