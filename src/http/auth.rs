//! Bearer tokens: who is calling. A refused token is answered with 401 here, before any
//! GraphQL runs; what a valid caller may do is decided by the resolvers.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;

use super::response::{ResponseType, error_response};
use super::state::AppState;
use crate::domain::auth::Caller;
use crate::graphql::error::code;
use crate::store::tokens::authenticate;

pub(super) fn unauthorized(response_type: ResponseType, message: &str) -> Response {
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        response_type,
        code::UNAUTHENTICATED,
        message,
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// 429 with the whole seconds to wait in `Retry-After`.
fn rate_limited(response_type: ResponseType, wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        response_type,
        code::RATE_LIMITED,
        format!("this token is over its rate limit; retry in {seconds} s"),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The token of an `Authorization: Bearer …` value.
pub(super) fn bearer_token(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The caller of a request, or the 401 that refuses it.
pub async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    response_type: ResponseType,
) -> Result<Caller, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return if state.anonymous_reads {
            Ok(Caller::Anonymous)
        } else {
            Err(unauthorized(
                response_type,
                "authentication required: send Authorization: Bearer <token>",
            ))
        };
    };
    let token = value.to_str().ok().and_then(bearer_token);
    let Some(token) = token else {
        return Err(unauthorized(
            response_type,
            "the Authorization header must be `Bearer <token>`",
        ));
    };
    match authenticate(&state.db, token, Utc::now().fixed_offset()).await {
        Ok(Ok(caller)) => {
            if let Caller::Token { token_id, .. } = &caller
                && let Err(wait) = state.rate_limits.take(*token_id).await
            {
                return Err(rate_limited(response_type, wait));
            }
            Ok(caller)
        }
        Ok(Err(refusal)) => Err(unauthorized(response_type, refusal.message())),
        Err(error) => Err(super::response::store_error_response(
            response_type,
            &error,
            "the token cannot be checked",
        )),
    }
}
