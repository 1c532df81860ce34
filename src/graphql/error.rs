//! The one mapping from inner errors to GraphQL errors with a stable `extensions.code`.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

use crate::domain::scope::Denied;
use crate::domain::validate::FieldError;
use crate::store::writes::WriteError;
use crate::store::{DbFailure, StoreError, error_chain};

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
    pub const ALIAS_LIMIT: &str = "ALIAS_LIMIT_EXCEEDED";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The database cannot be reached right now; retry shortly.
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// The database has no space left; nothing was written.
    pub const STORAGE_FULL: &str = "STORAGE_FULL";
    pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
    pub const BODY_LIMIT: &str = "BODY_TOO_LARGE";
    pub const TIMEOUT: &str = "TIMEOUT";
    pub const SHUTTING_DOWN: &str = "SHUTTING_DOWN";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const CONFLICT: &str = "CONFLICT";
    /// A subscription asked to resume after changes the change log no longer keeps.
    pub const CHANGES_EXPIRED: &str = "CHANGES_EXPIRED";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "IDEMPOTENCY_KEY_IN_USE";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
}

/// The `extensions.code` of an error, if it has one.
pub fn error_code(error: &async_graphql::ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code),
        _ => None,
    }
}

/// The `records[3]` index in a field path.
pub fn row_index(path: &str) -> Option<usize> {
    let start = path.find('[')? + 1;
    let end = start + path[start..].find(']')?;
    path[start..end].parse().ok()
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
    /// Every invalid field of an input, with its path.
    Invalid(Vec<FieldError>),
    /// No token where one is needed.
    Unauthenticated(String),
    /// A valid caller without the right; `path` names the import row at fault.
    Forbidden {
        message: String,
        path: Option<String>,
    },
    /// The record moved on since the caller read it.
    Conflict {
        message: String,
        record: Option<String>,
        expected: Option<i64>,
        current: Option<i64>,
    },
    /// The database is out of reach or busy (the cause is logged); retrying may work.
    Unavailable(String),
    /// The database has no space left (the cause is logged).
    StorageFull(String),
    /// Logged with its cause; the client sees only that something failed inside.
    Internal(String),
}

impl ApiError {
    /// A database error as the client should see it: retryable when the database is
    /// out of reach or full, internal otherwise. `cause` is what the log gets.
    pub fn from_db(error: &sea_orm::DbErr, cause: String) -> Self {
        match crate::store::failure(error) {
            DbFailure::Unavailable => ApiError::Unavailable(cause),
            DbFailure::StorageFull => ApiError::StorageFull(cause),
            DbFailure::Other => ApiError::Internal(cause),
        }
    }

    pub fn into_graphql(self) -> async_graphql::Error {
        self.to_graphql()
    }

    /// The error as the client sees it, from an error several waiters share.
    pub fn to_graphql(&self) -> async_graphql::Error {
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
            ApiError::Invalid(errors) => invalid_error(errors),
            ApiError::Unauthenticated(message) => async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", code::UNAUTHENTICATED)),
            ApiError::Forbidden { message, path } => async_graphql::Error::new(message)
                .extend_with(|_, e| {
                    e.set("code", code::FORBIDDEN);
                    if let Some(path) = path {
                        e.set("field", path.as_str());
                        if let Some(index) = row_index(path) {
                            e.set("index", index as i32);
                        }
                    }
                }),
            ApiError::Conflict {
                message,
                record,
                expected,
                current,
            } => async_graphql::Error::new(message).extend_with(|_, e| {
                e.set("code", code::CONFLICT);
                if let Some(record) = record {
                    e.set("id", record.as_str());
                }
                if let Some(expected) = *expected {
                    e.set("expectedVersion", expected);
                }
                if let Some(current) = *current {
                    e.set("currentVersion", current);
                }
            }),
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "the database is unavailable");
                async_graphql::Error::new("the database is unavailable right now; retry shortly")
                    .extend_with(|_, e| {
                        e.set("code", code::SERVICE_UNAVAILABLE);
                        e.set("retryable", true);
                    })
            }
            ApiError::StorageFull(cause) => {
                tracing::error!(%cause, "the database has no space left");
                async_graphql::Error::new(
                    "the database has no space left, so nothing was written; retry once space is freed",
                )
                .extend_with(|_, e| {
                    e.set("code", code::STORAGE_FULL);
                    e.set("retryable", true);
                })
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error while resolving a GraphQL field");
                async_graphql::Error::new("internal error; the cause is in the server log")
                    .extend_with(|_, e| e.set("code", code::INTERNAL))
            }
        }
    }
}

/// Every invalid field of an input: the first in the message, all in `errors`.
fn invalid_error(errors: &[FieldError]) -> async_graphql::Error {
    let first = errors
        .first()
        .map(ToString::to_string)
        .unwrap_or_else(|| "invalid input".to_owned());
    let message = match errors.len() {
        0 | 1 => first,
        n => format!("{first} (and {} more invalid field(s))", n - 1),
    };
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code::BAD_USER_INPUT);
        if let Some(first) = errors.first() {
            e.set("field", first.path.as_str());
        }
        let list: Vec<async_graphql::Value> = errors.iter().map(field_error_value).collect();
        e.set("errors", async_graphql::Value::List(list));
    })
}

fn field_error_value(error: &FieldError) -> async_graphql::Value {
    let mut entry = async_graphql::indexmap::IndexMap::new();
    if let Some(index) = row_index(&error.path) {
        entry.insert(
            async_graphql::Name::new("index"),
            async_graphql::Value::from(index as i32),
        );
    }
    entry.insert(
        async_graphql::Name::new("field"),
        async_graphql::Value::from(error.path.as_str()),
    );
    entry.insert(
        async_graphql::Name::new("message"),
        async_graphql::Value::from(error.message.as_str()),
    );
    async_graphql::Value::Object(entry)
}

impl From<crate::domain::filter::FilterError> for ApiError {
    fn from(error: crate::domain::filter::FilterError) -> Self {
        ApiError::BadUserInputAt {
            path: error.path,
            message: error.message,
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Anonymous => ApiError::Unauthenticated(denied.to_string()),
            other => ApiError::Forbidden {
                message: other.to_string(),
                path: None,
            },
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Denied(denied) => denied.into(),
            WriteError::DeniedAt { path, denied } => ApiError::Forbidden {
                message: format!("{path}: {denied}; nothing was written"),
                path: Some(path),
            },
            WriteError::Conflict {
                record,
                expected,
                current,
            } => ApiError::Conflict {
                message: error.to_string(),
                record: Some(record.to_string()),
                expected: Some(expected),
                current: Some(current),
            },
            WriteError::TaskConflict {
                expected, current, ..
            } => ApiError::Conflict {
                message: error.to_string(),
                record: None,
                expected: Some(expected),
                current: Some(current),
            },
            WriteError::NotFound(message) => ApiError::NotFound(message),
            WriteError::Invalid(errors) => ApiError::Invalid(errors),
            WriteError::Content(content) => ApiError::Internal(error_chain(&content)),
            WriteError::Db(db) => match db.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) => ApiError::Conflict {
                    message: unique_violation(&message).to_owned(),
                    record: None,
                    expected: None,
                    current: None,
                },
                Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::BadUserInput(
                    "the input refers to a record that does not exist".into(),
                ),
                _ => ApiError::from_db(&db, error_chain(&db)),
            },
        }
    }
}

/// The name of the unique index a violation names: PostgreSQL gives the index
/// (`… unique constraint "ux_traceability_entries_event_id"`), SQLite its columns
/// (`UNIQUE constraint failed: traceability_entries.event_id`), which name it the same
/// way (`ux_<table>_<columns>`).
pub fn unique_index(message: &str) -> Option<String> {
    if let Some(start) = message.find("unique constraint \"") {
        let rest = &message[start + "unique constraint \"".len()..];
        return rest.split('"').next().map(str::to_owned);
    }
    let columns = message.split("UNIQUE constraint failed:").nth(1)?;
    let mut table = None;
    let mut names = Vec::new();
    for column in columns.split(',') {
        let (t, c) = column.trim().split_once('.')?;
        table.get_or_insert(t);
        names.push(c);
    }
    Some(format!("ux_{}_{}", table?, names.join("_")))
}

/// What a client is told when a write collides with a unique key.
fn unique_violation(message: &str) -> &'static str {
    match unique_index(message).as_deref() {
        Some("ux_traceability_entries_event_id") => {
            "another traceability entry already has this eventId"
        }
        Some("ux_organisations_tax_code") => "another organisation already has this tax code",
        Some(index) if index.ends_with("_source_external_id") => {
            "this source already has a record with this externalId"
        }
        _ => "another record already has this key",
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(error: crate::sync::SyncError) -> Self {
        use crate::sync::SyncError;
        match error {
            SyncError::Unknown(_) => ApiError::NotFound(error.to_string()),
            SyncError::Busy(_) => ApiError::Conflict {
                message: error.to_string(),
                record: None,
                expected: None,
                current: None,
            },
            SyncError::Disabled { .. } => ApiError::BadUserInput(error.to_string()),
            SyncError::Store(store) => store.into(),
            SyncError::Write(write) => write.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Invalid(_) => ApiError::BadUserInput(error.to_string()),
            StoreError::Db(db) => ApiError::from_db(db, error_chain(&error)),
            StoreError::SharedDb(db) => ApiError::from_db(db, error_chain(&error)),
        }
    }
}

impl From<Arc<StoreError>> for ApiError {
    fn from(error: Arc<StoreError>) -> Self {
        match &*error {
            StoreError::Invalid(_) => ApiError::BadUserInput(error.to_string()),
            StoreError::Db(db) => ApiError::from_db(db, error_chain(&*error)),
            StoreError::SharedDb(db) => ApiError::from_db(db, error_chain(&*error)),
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
