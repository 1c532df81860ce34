//! GraphQL over HTTP, following the GraphQL-over-HTTP specification:
//! `POST /graphql` (JSON) and `GET /graphql` (queries only), content negotiation between
//! `application/graphql-response+json` and `application/json`, and GraphiQL for browsers.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::documents::DocumentCache;
use super::prometheus::OperationLabel;
use super::response::{
    APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, ResponseType, error_response, negotiate,
    store_error_response,
};
use super::state::AppState;
use crate::domain::auth::Caller;
use crate::graphql::error::code;
use crate::graphql::limits::{Limits, mark_request_errors};
use crate::graphql::ordering::order_like_query;

/// A GraphQL request as it arrives in a JSON body or in query parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestParams {
    query: Option<Value>,
    operation_name: Option<Value>,
    variables: Option<Value>,
    extensions: Option<Value>,
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
                        return bad_request(
                            response_type,
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
    let anonymous = matches!(caller, Caller::Anonymous);
    let response = execute(
        &state,
        response_type,
        request,
        Method::Get,
        caller,
        &headers,
    )
    .await;
    if anonymous {
        cacheable(response, headers.get(header::IF_NONE_MATCH)).await
    } else {
        response
    }
}

/// How long an HTTP cache may keep an anonymous answer: the hub's own read caches keep
/// values as long.
const PUBLIC_MAX_AGE: &str = "public, max-age=5";

/// An anonymous GET answer without errors gets an `ETag` (a hash of the body) and
/// `Cache-Control`, so a cache in front can serve it; `If-None-Match` with that tag is
/// answered 304.
async fn cacheable(response: Response, if_none_match: Option<&HeaderValue>) -> Response {
    use sha2::{Digest, Sha256};
    if response.status() != StatusCode::OK || response.extensions().get::<WithoutErrors>().is_none()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // 32 hex digits of the body's SHA-256, quoted: always a valid header value.
    let tag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let fresh = if_none_match
        .and_then(|asked| asked.to_str().ok())
        .is_some_and(|asked| asked.split(',').any(|t| t.trim() == tag));
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, tag);
    }
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PUBLIC_MAX_AGE),
    );
    parts.headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    if fresh {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `POST /graphql` with a JSON body.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(response_type) = negotiate(accept_header(&headers)) else {
        return not_acceptable();
    };
    if let Err(refusal) = require_json_body(&headers) {
        return refusal.response(response_type);
    }
    // Who is asking decides how much is read: bulk imports from writers may be large,
    // anything else is held to the ordinary limit before a byte of it is buffered.
    let caller = match super::auth::caller(&state, &headers, response_type).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let body = read_body(&state.limits, &caller, &headers, body).await;
    let request = match body.and_then(|body| params_from_body(&body)) {
        Ok(request) => request,
        Err(refusal) => return refusal.response(response_type),
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

/// A 400 with the code `BAD_REQUEST`.
fn bad_request(response_type: ResponseType, message: impl Into<String>) -> Response {
    Refusal::bad_request(message).response(response_type)
}

/// Why a POST body was refused before GraphQL saw it.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn response(self, response_type: ResponseType) -> Response {
        error_response(self.status, response_type, self.code, self.message)
    }
}

/// Refuses a POST whose body is not declared as JSON.
fn require_json_body(headers: &HeaderMap) -> Result<(), Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case(APPLICATION_JSON) {
        return Ok(());
    }
    Err(Refusal {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: code::UNSUPPORTED_MEDIA_TYPE,
        message: format!(
            "POST /graphql takes Content-Type: {APPLICATION_JSON}, not {content_type:?}"
        ),
    })
}

/// Reads the body up to the caller's limit, refusing a declared length over it before
/// reading anything.
async fn read_body(
    limits: &Limits,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, Refusal> {
    let limit = body_limit(limits, caller);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: code::BODY_LIMIT,
        message: body_limit_message(limits, caller, limit),
    };
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(body) => Ok(body),
        Err(error) if exceeded_limit(&error) => Err(too_large()),
        Err(error) => Err(Refusal::bad_request(format!(
            "the request body could not be read: {error}"
        ))),
    }
}

/// The GraphQL request in a POST body: one JSON object, never a batch.
fn params_from_body(body: &[u8]) -> Result<RequestParams, Refusal> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::bad_request(format!("the request body is not valid JSON: {e}")))?;
    match value {
        Value::Object(_) => serde_json::from_value::<RequestParams>(value).map_err(|e| {
            Refusal::bad_request(format!("the request body is not a GraphQL request: {e}"))
        }),
        Value::Array(_) => Err(Refusal::bad_request(
            "batched requests are not supported: send one operation per request",
        )),
        _ => Err(Refusal::bad_request(
            "the request body must be a JSON object with a `query`",
        )),
    }
}

/// The most a caller's request body may hold: the import limit for callers who can
/// write, the ordinary one for everyone else.
fn body_limit(limits: &Limits, caller: &Caller) -> usize {
    if caller.can_write() {
        limits.max_body_bytes.max(limits.max_import_body_bytes)
    } else {
        limits.max_body_bytes
    }
}

fn body_limit_message(limits: &Limits, caller: &Caller, limit: usize) -> String {
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

/// The members of a request, each of the JSON type the specification requires.
struct Operation {
    query: String,
    operation_name: Option<String>,
    variables: Map<String, Value>,
}

impl Operation {
    fn from_params(params: RequestParams) -> Result<Self, &'static str> {
        let query = match params.query {
            Some(Value::String(query)) => query,
            Some(_) => return Err("`query` must be a string"),
            None => return Err("the request has no `query`"),
        };
        let operation_name = match params.operation_name {
            Some(Value::String(name)) => Some(name),
            None | Some(Value::Null) => None,
            Some(_) => return Err("`operationName` must be a string"),
        };
        let variables = match params.variables {
            Some(Value::Object(map)) => map,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err("`variables` must be an object"),
        };
        match params.extensions {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err("`extensions` must be an object"),
        }
        Ok(Self {
            query,
            operation_name,
            variables,
        })
    }

    /// Size limits and NUL, checked before the document is parsed so that an abusive
    /// request costs no more than reading it.
    fn check_unparsed(&self, limits: &Limits) -> Result<(), async_graphql::ServerError> {
        use crate::graphql::limits::{count_tokens, document_error};
        let chars = self.query.chars().count();
        if chars > limits.max_document_chars {
            return Err(document_error(
                code::DOCUMENT_TOO_LARGE,
                format!(
                    "the document has {chars} characters; at most {} are allowed",
                    limits.max_document_chars
                ),
            ));
        }
        if count_tokens(&self.query, limits.max_document_tokens) > limits.max_document_tokens {
            return Err(document_error(
                code::DOCUMENT_TOO_LARGE,
                format!(
                    "the document has more than {} tokens",
                    limits.max_document_tokens
                ),
            ));
        }
        // Raw or written as an escape in a string literal of the document.
        if self.query.contains('\0') || self.query.contains("\\u0000") {
            return Err(document_error(
                code::BAD_REQUEST,
                "the document contains a NUL character (U+0000), which no text may hold".into(),
            ));
        }
        if let Some(path) = nul_path_in_map(&self.variables, "") {
            let mut error = document_error(
                code::BAD_USER_INPUT,
                format!("{path}: contains a NUL character (U+0000), which no text may hold"),
            );
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("field", path);
            }
            return Err(error);
        }
        Ok(())
    }

    /// The executor's request for `caller`, with its document parsed (and kept for the
    /// executor) and its aliases counted.
    fn parse(
        self,
        caller: Caller,
        limits: &Limits,
        documents: &DocumentCache,
    ) -> Result<(async_graphql::Request, Arc<ExecutableDocument>), async_graphql::ServerError> {
        // Parsed here (and handed to the executor) to refuse mutations over GET and to
        // put the response back in query order.
        let document = documents.parse(&self.query)?;
        let mut request =
            crate::graphql::context::request_as(self.query, Value::Object(self.variables), caller);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        request.set_parsed_query(ExecutableDocument::clone(&document));
        let aliases = crate::graphql::limits::count_aliases(&document);
        if aliases > limits.max_aliases {
            return Err(crate::graphql::limits::document_error(
                code::ALIAS_LIMIT,
                format!(
                    "alias limit exceeded: the document has {aliases} aliases; at most {} are allowed",
                    limits.max_aliases
                ),
            ));
        }
        Ok((request, document))
    }
}

/// A request refused before execution: the errors alone, with no `data`.
fn request_error(error: async_graphql::ServerError, response_type: ResponseType) -> Response {
    render(
        async_graphql::Response::from_errors(vec![error]),
        response_type,
        true,
    )
}

/// 405 for a mutation or subscription sent with GET.
fn method_not_allowed(response_type: ResponseType, kind: OperationType) -> Response {
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        response_type,
        code::METHOD_NOT_ALLOWED,
        format!("{kind} operations must be sent with POST"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Checks a request, then runs it: a mutation with a token and an `Idempotency-Key` at
/// most once per key, anything else as it comes.
async fn execute(
    state: &AppState,
    response_type: ResponseType,
    params: RequestParams,
    method: Method,
    caller: Caller,
    headers: &HeaderMap,
) -> Response {
    let mut params = params;
    match super::persisted::resolve(
        state,
        &caller,
        params.query.as_ref(),
        params.extensions.as_ref(),
        response_type,
    )
    .await
    {
        Ok(query) => params.query = query.map(Value::String).or(params.query),
        Err(refusal) => return *refusal,
    }
    let operation = match Operation::from_params(params) {
        Ok(operation) => operation,
        Err(message) => return bad_request(response_type, message),
    };
    let label = OperationLabel::new(operation.operation_name.as_deref());
    let mut response =
        execute_operation(state, response_type, operation, method, caller, headers).await;
    response.extensions_mut().insert(label);
    response
}

async fn execute_operation(
    state: &AppState,
    response_type: ResponseType,
    operation: Operation,
    method: Method,
    caller: Caller,
    headers: &HeaderMap,
) -> Response {
    if let Err(error) = operation.check_unparsed(&state.limits) {
        return request_error(error, response_type);
    }
    let token_id = match &caller {
        Caller::Token { token_id, .. } => Some(*token_id),
        Caller::Anonymous => None,
    };
    let key = match idempotency_key(headers) {
        Ok(key) => key,
        Err(message) => return bad_request(response_type, message),
    };
    let digest = RequestDigest::of(
        &operation.query,
        operation.operation_name.as_deref(),
        &operation.variables,
    );
    let operation_name = operation.operation_name.clone();
    let (request, document) = match operation.parse(caller, &state.limits, &state.documents) {
        Ok(parsed) => parsed,
        Err(error) => return request_error(error, response_type),
    };
    let kind = operation_kind(&document, operation_name.as_deref());
    if method == Method::Get
        && let Some(kind) = kind
        && kind != OperationType::Query
    {
        return method_not_allowed(response_type, kind);
    }
    let is_mutation = kind == Some(OperationType::Mutation);
    if is_mutation && token_id.is_none() {
        return super::auth::unauthorized(
            response_type,
            "mutations need a token: send Authorization: Bearer <token>",
        );
    }
    if let (true, Some(key), Some(token_id)) = (is_mutation, key, token_id) {
        let idempotent = IdempotentRequest {
            caller: format!("token:{token_id}"),
            key,
            hash: digest.hex(),
        };
        return execute_once(
            state,
            response_type,
            request,
            document,
            operation_name,
            digest,
            idempotent,
        )
        .await;
    }
    run(
        state,
        response_type,
        request,
        &document,
        operation_name.as_deref(),
        digest,
    )
    .await
}

/// The path (`input.name`, `records[3].input.name`) of the first string or key in the
/// variables that holds U+0000.
fn nul_path(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{at}[{i}]"))),
        Value::Object(map) => nul_path_in_map(map, &at),
        _ => None,
    }
}

/// [`nul_path`] of each member of `map`, which sits at `at` (empty at the top).
fn nul_path_in_map(map: &Map<String, Value>, at: &str) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    map.iter().find_map(|(k, v)| {
        if k.contains('\0') {
            Some(join(&k.replace('\0', "\\u0000")))
        } else {
            nul_path(v, join(k))
        }
    })
}

/// Runs a parsed request within the time limit and renders its response.
async fn run(
    state: &AppState,
    response_type: ResponseType,
    request: async_graphql::Request,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    digest: RequestDigest,
) -> Response {
    let limit = state.limits.request_timeout;
    let introspection = crate::graphql::limits::only_introspection(document, operation_name);
    let validated = !introspection && state.validated.contains(&digest);
    let schema = if introspection {
        &state.introspection_schema
    } else if validated {
        &state.validated_schema
    } else {
        &state.schema
    };
    let span = tracing::info_span!(
        "graphql.execute",
        otel.name = "GraphQL execute",
        graphql.operation.name = operation_name.unwrap_or_default(),
    );
    let executed = tracing::Instrument::instrument(schema.execute(request), span);
    let mut response = match tokio::time::timeout(limit, executed).await {
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
        if !introspection && !validated {
            state.validated.insert(digest);
        }
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

/// What a request asks, hashed: its document, operation name and variables. It tells a
/// retry from a different request that reuses an idempotency key, and names a request
/// the schema has validated before (see [`ValidatedRequests`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestDigest {
    sha256: [u8; 32],
    /// Told apart from the name "", which the hash alone does not.
    named: bool,
}

impl RequestDigest {
    fn of(query: &str, operation_name: Option<&str>, variables: &Map<String, Value>) -> Self {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(query.as_bytes());
        hasher.update([0]);
        hasher.update(operation_name.unwrap_or_default().as_bytes());
        hasher.update([0]);
        // Written into the hash as serialised: the same bytes as the text, no copy.
        if serde_json::to_writer(&mut hasher, variables).is_err() {
            hasher.update(b"\0unwritable variables");
        }
        Self {
            sha256: hasher.finalize().into(),
            named: operation_name.is_some(),
        }
    }

    fn hex(&self) -> String {
        hex::encode(self.sha256)
    }
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
    document: Arc<ExecutableDocument>,
    operation_name: Option<String>,
    digest: RequestDigest,
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
        digest,
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
fn operation_kind(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
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
    for error in &response.errors {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            })
            .unwrap_or("UNKNOWN");
        super::prometheus::graphql_error(code);
    }
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
    if response.errors.is_empty() {
        http.extensions_mut().insert(WithoutErrors);
    }
    http
}

/// Marks a rendered answer that carries no GraphQL error (see [`cacheable`]).
#[derive(Debug, Clone, Copy)]
struct WithoutErrors;

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
