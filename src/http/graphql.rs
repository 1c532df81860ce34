//! GraphQL over HTTP, following the GraphQL-over-HTTP specification:
//! `POST /graphql` (JSON) and `GET /graphql` (queries only), content negotiation between
//! `application/graphql-response+json` and `application/json`, and GraphiQL for browsers.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::AppState;
use crate::domain::auth::Caller;
use crate::graphql::error::code;
use crate::graphql::limits::{mark_request_errors, parse_error};
use crate::graphql::ordering::order_like_query;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// The media type the response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: status codes tell request errors apart.
    GraphqlResponseJson,
    /// `application/json`, the legacy type: well-formed requests always get 200.
    Json,
}

impl ResponseType {
    fn content_type(self) -> &'static str {
        match self {
            ResponseType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            ResponseType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response type from `Accept`. No header, `*/*` and `application/*` get
/// `application/json`, as the spec advises for legacy clients; `None` means nothing
/// acceptable was offered.
pub fn negotiate(accept: Option<&str>) -> Option<ResponseType> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Some(ResponseType::Json);
    };
    let mut best: Option<(f32, ResponseType)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut quality = 1.0_f32;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = value.trim().parse().unwrap_or(0.0);
            }
        }
        if quality <= 0.0 {
            continue;
        }
        let candidate = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseType::GraphqlResponseJson,
            APPLICATION_JSON | "*/*" | "application/*" => ResponseType::Json,
            _ => continue,
        };
        // Higher quality wins; on a tie the type listed first wins.
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, t)| t)
}

/// A GraphQL request as it arrives in a JSON body or in query parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestParams {
    query: Option<Value>,
    operation_name: Option<Value>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

/// An error response in GraphQL shape: `{"errors":[{"message", "extensions":{"code"}}]}`.
pub fn error_response(
    status: StatusCode,
    response_type: ResponseType,
    error_code: &str,
    message: impl Into<String>,
) -> Response {
    coded_response(status, response_type, error_code, message.into(), false)
}

/// The response to a request the database could not serve outside GraphQL execution
/// (checking a token, claiming an idempotency key): 503 with `Retry-After` when it is out
/// of reach, 507 when it is full, 500 for anything else. The cause goes to the log.
pub fn store_error_response(
    response_type: ResponseType,
    error: &crate::store::StoreError,
    message: &str,
) -> Response {
    use crate::store::{DbFailure, StoreError, error_chain, failure};
    let cause = error_chain(error);
    let kind = match error {
        StoreError::Db(db) => failure(db),
        StoreError::Invalid(_) => DbFailure::Other,
    };
    let (status, error_code) = match kind {
        DbFailure::Unavailable => {
            tracing::warn!(%cause, "{message}");
            (StatusCode::SERVICE_UNAVAILABLE, code::SERVICE_UNAVAILABLE)
        }
        DbFailure::StorageFull => {
            tracing::error!(%cause, "{message}");
            (StatusCode::INSUFFICIENT_STORAGE, code::STORAGE_FULL)
        }
        DbFailure::Other => {
            tracing::error!(%cause, "{message}");
            (StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL)
        }
    };
    let retryable = kind != DbFailure::Other;
    let text = if retryable {
        format!("{message}: the database is unavailable right now; retry shortly")
    } else {
        format!("{message}: internal error; the cause is in the server log")
    };
    let mut response = coded_response(status, response_type, error_code, text, retryable);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn coded_response(
    status: StatusCode,
    response_type: ResponseType,
    error_code: &str,
    message: String,
    retryable: bool,
) -> Response {
    let mut extensions = json!({ "code": error_code });
    if retryable {
        extensions["retryable"] = json!(true);
    }
    if let Some(id) = super::request_id::current() {
        extensions["requestId"] = json!(id);
    }
    let body = json!({
        "errors": [{ "message": message, "extensions": extensions }]
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response_type.content_type()),
    );
    response
}

fn accept_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

fn wants_html(headers: &HeaderMap) -> bool {
    accept_header(headers).is_some_and(|accept| accept.contains("text/html"))
}

fn not_acceptable() -> Response {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        ResponseType::Json,
        code::NOT_ACCEPTABLE,
        format!("Accept must allow {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}"),
    )
}

/// `GET /graphql`: GraphiQL for a browser, otherwise a query from the URL parameters.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let params: Vec<(String, String)> = raw_query
        .as_deref()
        .map(url_decode_pairs)
        .unwrap_or_default();
    let has_query = params.iter().any(|(k, _)| k == "query");
    if !has_query && wants_html(&headers) && state.graphiql {
        return Html(super::graphiql::PAGE).into_response();
    }
    let Some(response_type) = negotiate(accept_header(&headers)) else {
        return not_acceptable();
    };
    let mut request = RequestParams {
        query: None,
        operation_name: None,
        variables: None,
        extensions: None,
    };
    for (key, value) in params {
        match key.as_str() {
            "query" => request.query = Some(Value::String(value)),
            "operationName" => request.operation_name = Some(Value::String(value)),
            "variables" | "extensions" => {
                let parsed = match serde_json::from_str::<Value>(&value) {
                    Ok(parsed) => parsed,
                    Err(e) => {
                        return error_response(
                            StatusCode::BAD_REQUEST,
                            response_type,
                            code::BAD_REQUEST,
                            format!("the `{key}` parameter is not valid JSON: {e}"),
                        );
                    }
                };
                if key == "variables" {
                    request.variables = Some(parsed);
                } else {
                    request.extensions = Some(parsed);
                }
            }
            _ => {}
        }
    }
    let caller = match super::auth::caller(&state, &headers, response_type).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    execute(
        &state,
        response_type,
        request,
        Method::Get,
        caller,
        &headers,
    )
    .await
}

/// `POST /graphql` with a JSON body.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(response_type) = negotiate(accept_header(&headers)) else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case(APPLICATION_JSON) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            response_type,
            code::UNSUPPORTED_MEDIA_TYPE,
            format!("POST /graphql takes Content-Type: {APPLICATION_JSON}, not {content_type:?}"),
        );
    }
    // Who is asking decides how much is read: bulk imports from writers may be large,
    // anything else is held to the ordinary limit before a byte of it is buffered.
    let caller = match super::auth::caller(&state, &headers, response_type).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let limit = body_limit(&state.limits, &caller);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            response_type,
            code::BODY_LIMIT,
            body_limit_message(&state.limits, &caller, limit),
        )
    };
    if declared.is_some_and(|length| length > limit) {
        return too_large();
    }
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(error) if exceeded_limit(&error) => return too_large(),
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                response_type,
                code::BAD_REQUEST,
                format!("the request body could not be read: {error}"),
            );
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                response_type,
                code::BAD_REQUEST,
                format!("the request body is not valid JSON: {e}"),
            );
        }
    };
    let request = match value {
        Value::Object(_) => match serde_json::from_value::<RequestParams>(value) {
            Ok(request) => request,
            Err(e) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    response_type,
                    code::BAD_REQUEST,
                    format!("the request body is not a GraphQL request: {e}"),
                );
            }
        },
        Value::Array(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                response_type,
                code::BAD_REQUEST,
                "batched requests are not supported: send one operation per request",
            );
        }
        _ => {
            return error_response(
                StatusCode::BAD_REQUEST,
                response_type,
                code::BAD_REQUEST,
                "the request body must be a JSON object with a `query`",
            );
        }
    };
    execute(
        &state,
        response_type,
        request,
        Method::Post,
        caller,
        &headers,
    )
    .await
}

/// The most a caller's request body may hold: the import limit for callers who can
/// write, the ordinary one for everyone else.
fn body_limit(limits: &crate::graphql::limits::Limits, caller: &Caller) -> usize {
    if caller.can_write() {
        limits.max_body_bytes.max(limits.max_import_body_bytes)
    } else {
        limits.max_body_bytes
    }
}

fn body_limit_message(
    limits: &crate::graphql::limits::Limits,
    caller: &Caller,
    limit: usize,
) -> String {
    if caller.can_write() {
        format!("body limit exceeded: request bodies are limited to {limit} bytes")
    } else {
        format!(
            "body limit exceeded: request bodies are limited to {limit} bytes; \
             agency and admin tokens may send up to {} bytes for bulk imports",
            limits.max_body_bytes.max(limits.max_import_body_bytes)
        )
    }
}

/// Whether reading a body failed because it passed the limit (rather than the client
/// going away).
fn exceeded_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

async fn execute(
    state: &AppState,
    response_type: ResponseType,
    params: RequestParams,
    method: Method,
    caller: crate::domain::auth::Caller,
    headers: &HeaderMap,
) -> Response {
    let bad_request = |message: String| {
        error_response(
            StatusCode::BAD_REQUEST,
            response_type,
            code::BAD_REQUEST,
            message,
        )
    };
    let query = match params.query {
        Some(Value::String(query)) => query,
        Some(_) => return bad_request("`query` must be a string".into()),
        None => return bad_request("the request has no `query`".into()),
    };
    let operation_name = match params.operation_name {
        Some(Value::String(name)) => Some(name),
        None | Some(Value::Null) => None,
        Some(_) => return bad_request("`operationName` must be a string".into()),
    };
    let variables = match params.variables {
        Some(Value::Object(map)) => map,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return bad_request("`variables` must be an object".into()),
    };
    match params.extensions {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return bad_request("`extensions` must be an object".into()),
    }

    // Size limits and NUL are checked before the document is parsed, so an abusive
    // request costs no more than reading it.
    let limits = &state.limits;
    let refuse = |code: &'static str, message: String| {
        let error = crate::graphql::limits::document_error(code, message);
        render(
            async_graphql::Response::from_errors(vec![error]),
            response_type,
            true,
        )
    };
    let chars = query.chars().count();
    if chars > limits.max_document_chars {
        return refuse(
            code::DOCUMENT_TOO_LARGE,
            format!(
                "the document has {chars} characters; at most {} are allowed",
                limits.max_document_chars
            ),
        );
    }
    let tokens = crate::graphql::limits::count_tokens(&query, limits.max_document_tokens);
    if tokens > limits.max_document_tokens {
        return refuse(
            code::DOCUMENT_TOO_LARGE,
            format!(
                "the document has more than {} tokens",
                limits.max_document_tokens
            ),
        );
    }
    // Raw or written as an escape in a string literal of the document.
    if query.contains('\0') || query.contains("\\u0000") {
        return refuse(
            code::BAD_REQUEST,
            "the document contains a NUL character (U+0000), which no text may hold".into(),
        );
    }
    if let Some(path) = nul_path(&Value::Object(variables.clone()), String::new()) {
        let mut error = crate::graphql::limits::document_error(
            code::BAD_USER_INPUT,
            format!("{path}: contains a NUL character (U+0000), which no text may hold"),
        );
        if let Some(extensions) = error.extensions.as_mut() {
            extensions.set("field", path);
        }
        return render(
            async_graphql::Response::from_errors(vec![error]),
            response_type,
            true,
        );
    }

    let request_hash = request_hash(&query, operation_name.as_deref(), &variables);
    let token_id = match &caller {
        crate::domain::auth::Caller::Token { token_id, .. } => Some(*token_id),
        crate::domain::auth::Caller::Anonymous => None,
    };
    let mut request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(Value::Object(
            variables,
        )))
        .data(caller)
        .data(crate::graphql::records::Prefetched::default());
    if let Some(name) = &operation_name {
        request = request.operation_name(name.clone());
    }
    // Parsed here (and reused by the executor) to refuse mutations over GET and to put
    // the response back in query order.
    let document = match request.parsed_query() {
        Ok(document) => document.clone(),
        Err(error) => {
            let response = async_graphql::Response::from_errors(vec![parse_error(error)]);
            return render(response, response_type, true);
        }
    };
    let aliases = crate::graphql::limits::count_aliases(&document);
    if aliases > limits.max_aliases {
        return refuse(
            code::ALIAS_LIMIT,
            format!(
                "alias limit exceeded: the document has {aliases} aliases; at most {} are allowed",
                limits.max_aliases
            ),
        );
    }
    if method == Method::Get
        && let Some(kind) = operation_kind(&document, operation_name.as_deref())
        && kind != async_graphql::parser::types::OperationType::Query
    {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            response_type,
            code::METHOD_NOT_ALLOWED,
            format!("{kind} operations must be sent with POST"),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }

    let is_mutation = operation_kind(&document, operation_name.as_deref())
        == Some(async_graphql::parser::types::OperationType::Mutation);
    if is_mutation && token_id.is_none() {
        return super::auth::unauthorized(
            response_type,
            "mutations need a token: send Authorization: Bearer <token>",
        );
    }
    let key = match idempotency_key(headers) {
        Ok(key) => key,
        Err(message) => return bad_request(message),
    };
    if let (true, Some(key), Some(token_id)) = (is_mutation, key, token_id) {
        return execute_once(
            state,
            response_type,
            request,
            document,
            operation_name,
            IdempotentRequest {
                caller: format!("token:{token_id}"),
                key,
                hash: request_hash,
            },
        )
        .await;
    }
    run(
        state,
        response_type,
        request,
        &document,
        operation_name.as_deref(),
    )
    .await
}

/// The path (`input.name`, `records[3].input.name`) of the first string or key in the
/// variables that holds U+0000.
fn nul_path(value: &Value, at: String) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "\\u0000")))
            } else {
                nul_path(v, join(k))
            }
        }),
        _ => None,
    }
}

/// Runs a parsed request within the time limit and renders its response.
async fn run(
    state: &AppState,
    response_type: ResponseType,
    request: async_graphql::Request,
    document: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> Response {
    let limit = state.limits.request_timeout;
    let schema = if crate::graphql::limits::only_introspection(document, operation_name) {
        &state.introspection_schema
    } else {
        &state.schema
    };
    let mut response = match tokio::time::timeout(limit, schema.execute(request)).await {
        Ok(response) => response,
        Err(_) => {
            return error_response(
                StatusCode::GATEWAY_TIMEOUT,
                response_type,
                code::TIMEOUT,
                format!(
                    "time limit exceeded: requests may run for {} s",
                    limit.as_secs()
                ),
            );
        }
    };
    let request_error = mark_request_errors(&mut response, &state.limits);
    if !request_error {
        order_like_query(&mut response.data, document, operation_name);
    }
    render(response, response_type, request_error)
}

/// The header a client sends to make a mutation safe to retry.
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a response that replays the first answer to an idempotency key.
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)".into(),
        );
    }
    Ok(Some(key.to_owned()))
}

/// A hash of what a request asks, to tell a retry from a different request that reuses
/// a key.
fn request_hash(
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(query.as_bytes());
    hasher.update([0]);
    hasher.update(operation_name.unwrap_or_default().as_bytes());
    hasher.update([0]);
    hasher.update(Value::Object(variables.clone()).to_string().as_bytes());
    hex::encode(hasher.finalize())
}

struct IdempotentRequest {
    caller: String,
    key: String,
    hash: String,
}

/// The reply kept for a key: status and body.
#[derive(Serialize, Deserialize)]
struct KeptReply {
    status: u16,
    body: String,
}

/// Runs a mutation at most once per idempotency key; a retry gets the first reply.
async fn execute_once(
    state: &AppState,
    response_type: ResponseType,
    request: async_graphql::Request,
    document: async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<String>,
    idempotent: IdempotentRequest,
) -> Response {
    use crate::store::idempotency::{Claim, claim, complete, release};
    let now = chrono::Utc::now().fixed_offset();
    let claimed = claim(
        &state.db,
        &idempotent.caller,
        &idempotent.key,
        &idempotent.hash,
        now,
    )
    .await;
    let id = match claimed {
        Ok(Claim::Fresh(id)) => id,
        Ok(Claim::Replay(kept)) => return replay(&kept, response_type),
        Ok(Claim::Mismatch) => {
            return error_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                response_type,
                code::IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was already used for a different request; use a new key for a new request",
            );
        }
        Ok(Claim::InProgress) => {
            let mut response = error_response(
                StatusCode::CONFLICT,
                response_type,
                code::IDEMPOTENCY_KEY_IN_USE,
                "a request with this Idempotency-Key is still running; retry shortly",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        Err(error) => {
            return store_error_response(
                response_type,
                &error,
                "the Idempotency-Key cannot be claimed (retry with the same key)",
            );
        }
    };
    let response = run(
        state,
        response_type,
        request,
        &document,
        operation_name.as_deref(),
    )
    .await;
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let finished = status.is_success() || status.is_client_error();
    let kept = if finished {
        serde_json::to_string(&KeptReply {
            status: status.as_u16(),
            body: text.clone(),
        })
        .ok()
    } else {
        None
    };
    let stored = match kept {
        Some(kept) => complete(&state.db, id, kept, chrono::Utc::now().fixed_offset()).await,
        // A timeout or an internal failure: let a retry run the request again.
        None => release(&state.db, id).await,
    };
    if let Err(error) = stored {
        tracing::error!(error = %crate::store::error_chain(&error), "cannot keep the reply of an idempotency key");
    }
    let mut response = Response::from_parts(parts, axum::body::Body::from(bytes));
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("false"));
    response
}

/// The first reply to a key, sent again.
fn replay(kept: &str, response_type: ResponseType) -> Response {
    let Ok(kept) = serde_json::from_str::<KeptReply>(kept) else {
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            response_type,
            code::INTERNAL,
            "internal error; the cause is in the server log",
        );
    };
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = (status, kept.body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response_type.content_type()),
    );
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// The operation `name` selects (or the only one), with its kind.
fn operation_kind(
    document: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> Option<async_graphql::parser::types::OperationType> {
    use async_graphql::parser::types::DocumentOperations;
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

/// A GraphQL response body. Serialised straight from async-graphql's values so that
/// fields keep the order of the query.
#[derive(Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

/// Writes a GraphQL response; a request error (refused before execution) has no `data`.
fn render(
    mut response: async_graphql::Response,
    response_type: ResponseType,
    request_error: bool,
) -> Response {
    if let Some(id) = super::request_id::current() {
        for error in &mut response.errors {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("requestId", id.clone());
        }
    }
    let body = ResponseBody {
        data: (!request_error).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let status = if response_type != ResponseType::GraphqlResponseJson {
        StatusCode::OK
    } else if request_error {
        StatusCode::BAD_REQUEST
    } else {
        // With no data at all, the database's state is the whole answer: say so in the
        // status, so proxies and clients retry without parsing the body.
        match (&response.data, database_failure(&response.errors)) {
            (async_graphql::Value::Null, Some(status)) => status,
            _ => StatusCode::OK,
        }
    };
    let mut http = match serde_json::to_string(&body) {
        Ok(json) => (status, json).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot serialise a GraphQL response");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                response_type,
                code::INTERNAL,
                "internal error; the cause is in the server log",
            );
        }
    };
    http.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response_type.content_type()),
    );
    for (name, value) in response.http_headers.iter() {
        http.headers_mut().insert(name.clone(), value.clone());
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    http
}

/// The status for errors that come from the database's state rather than the request:
/// 503 when it is out of reach, 507 when it is full.
fn database_failure(errors: &[async_graphql::ServerError]) -> Option<StatusCode> {
    let any = |wanted: &str| {
        errors
            .iter()
            .any(|e| crate::graphql::error::error_code(e) == Some(wanted))
    };
    if any(code::SERVICE_UNAVAILABLE) {
        Some(StatusCode::SERVICE_UNAVAILABLE)
    } else if any(code::STORAGE_FULL) {
        Some(StatusCode::INSUFFICIENT_STORAGE)
    } else {
        None
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space).
fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_accept_header_gets_legacy_json() {
        assert_eq!(negotiate(None), Some(ResponseType::Json));
        assert_eq!(negotiate(Some("*/*")), Some(ResponseType::Json));
    }

    #[test]
    fn the_client_gets_the_type_it_asks_for() {
        assert_eq!(
            negotiate(Some("application/graphql-response+json")),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some("application/json")),
            Some(ResponseType::Json)
        );
    }

    #[test]
    fn quality_values_and_order_decide_between_types() {
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(ResponseType::Json)
        );
        assert_eq!(
            negotiate(Some("application/json, application/graphql-response+json")),
            Some(ResponseType::Json)
        );
    }

    #[test]
    fn unacceptable_types_are_refused() {
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn query_parameters_are_percent_decoded() {
        assert_eq!(
            url_decode_pairs("query=%7B+plans%7Bcode%7D%7D&x"),
            vec![
                ("query".to_owned(), "{ plans{code}}".to_owned()),
                ("x".to_owned(), String::new())
            ]
        );
        assert_eq!(
            url_decode_pairs("q=%C4%90%E1%BB%93ng"),
            vec![("q".to_owned(), "Đồng".to_owned())]
        );
    }
}
