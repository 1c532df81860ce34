//! Persisted queries. Automatic Persisted Queries as Apollo clients speak them
//! (`extensions.persistedQuery = {version: 1, sha256Hash}`, over POST and GET): a hash
//! alone runs the document kept under it, or answers `PERSISTED_QUERY_NOT_FOUND` so the
//! client sends hash and document once. With `KHCN_HUB_PERSISTED_ONLY=true` only documents
//! an operator allowed (`khcn-hub persisted add`) or an admin sent run; anything else is
//! refused with `FORBIDDEN`. Documents are kept in the database, so every replica knows
//! every hash.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::response::{ResponseType, error_response, store_error_response};
use super::state::AppState;
use crate::domain::auth::{Caller, Role};
use crate::graphql::error::code;
use crate::store::persisted;

pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";

/// What `extensions.persistedQuery` asks for.
struct Asked {
    hash: String,
}

fn asked(extensions: Option<&Value>) -> Result<Option<Asked>, &'static str> {
    let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    if persisted.get("version").and_then(Value::as_i64) != Some(1) {
        return Err("extensions.persistedQuery.version must be 1");
    }
    let hash = persisted
        .get("sha256Hash")
        .and_then(Value::as_str)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("extensions.persistedQuery.sha256Hash must be 64 hex digits")?;
    Ok(Some(Asked {
        hash: hash.to_ascii_lowercase(),
    }))
}

/// The document the request runs: its own, or the one kept under its hash. `Err` is the
/// response refusing it (boxed: it is large, and rare).
pub async fn resolve(
    state: &AppState,
    caller: &Caller,
    query: Option<&Value>,
    extensions: Option<&Value>,
    response_type: ResponseType,
) -> Result<Option<String>, Box<Response>> {
    let refuse = |status, error_code: &str, message: &str| {
        Err(Box::new(error_response(
            status,
            response_type,
            error_code,
            message,
        )))
    };
    let stored = |error: crate::store::StoreError| {
        Box::new(store_error_response(
            response_type,
            &error,
            "a persisted query cannot be read",
        ))
    };
    let admin = matches!(
        caller,
        Caller::Token {
            role: Role::Admin,
            ..
        }
    );
    let only = state.persisted_only && !admin;
    let asked = match asked(extensions) {
        Ok(asked) => asked,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message),
    };
    let text = match query {
        Some(Value::String(text)) => Some(text.as_str()),
        _ => None,
    };
    match (asked, text) {
        (Some(asked), Some(text)) => {
            if persisted::hash(text) != asked.hash {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    code::BAD_REQUEST,
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                );
            }
            if only && !allowed(state, &asked.hash).await.map_err(stored)? {
                return refuse(StatusCode::FORBIDDEN, code::FORBIDDEN, ONLY_REGISTERED);
            }
            persisted::save(&state.db, text, admin && state.persisted_only)
                .await
                .map_err(stored)?;
            Ok(Some(text.to_owned()))
        }
        (Some(asked), None) => match persisted::find(&state.db, &asked.hash)
            .await
            .map_err(stored)?
        {
            Some(found) if !only || found.allowed => Ok(Some(found.query)),
            Some(_) => refuse(StatusCode::FORBIDDEN, code::FORBIDDEN, ONLY_REGISTERED),
            // Apollo clients look for this message and code, then send the document.
            None => refuse(
                not_found_status(response_type),
                NOT_FOUND,
                "PersistedQueryNotFound",
            ),
        },
        (None, Some(text)) if only => {
            if allowed(state, &persisted::hash(text))
                .await
                .map_err(stored)?
            {
                Ok(Some(text.to_owned()))
            } else {
                refuse(StatusCode::FORBIDDEN, code::FORBIDDEN, ONLY_REGISTERED)
            }
        }
        (None, _) => Ok(text.map(str::to_owned)),
    }
}

const ONLY_REGISTERED: &str = "this hub runs only registered documents \
    (KHCN_HUB_PERSISTED_ONLY): an operator adds one with `khcn-hub persisted add FILE`";

/// A hash the hub does not know is an ordinary answer to an Apollo client (200), and a
/// request error under the GraphQL-over-HTTP media type (400).
fn not_found_status(response_type: ResponseType) -> StatusCode {
    if response_type == ResponseType::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

async fn allowed(state: &AppState, hash: &str) -> Result<bool, crate::store::StoreError> {
    Ok(persisted::find(&state.db, hash)
        .await?
        .is_some_and(|found| found.allowed))
}
