//! Safety limits on every document, and the marking of request errors.
//!
//! async-graphql reports a refused document with a terse message ("Query is nested too
//! deep."). This extension names the limit and its value, gives each refusal a stable
//! `extensions.code`, and tags every error raised before execution began, so the HTTP
//! layer can answer it as a request error (no `data`, status 400) as the
//! GraphQL-over-HTTP spec asks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Variables};

use super::error::code;

/// Limits applied to every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_directives: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// How long a batch loader collects keys before it queries: the window in which the
    /// sibling fields of one level share one statement.
    pub batch_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5_000,
            max_directives: 10,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            batch_window: Duration::from_millis(1),
        }
    }
}

/// What a list field costs per selected child field: lists are assumed to hold this
/// many items, so a wide query over nested lists is priced as what it would fetch.
pub const LIST_COST: usize = 10;

/// The cost of a list field whose children cost `child_complexity`. Capped far below
/// `usize::MAX` so that summing many costly fields cannot overflow (and wrap around the
/// limit in a release build).
pub const fn list_complexity(child_complexity: usize) -> usize {
    const CAP: usize = 1 << 40;
    let cost = LIST_COST.saturating_mul(child_complexity);
    if cost > CAP { CAP } else { cost }
}

/// Codes of errors raised before execution: the request itself was refused.
pub const REQUEST_ERROR_CODES: [&str; 5] = [
    code::PARSE_FAILED,
    code::VALIDATION_FAILED,
    code::DEPTH_LIMIT,
    code::COMPLEXITY_LIMIT,
    code::DIRECTIVE_LIMIT,
];

/// Whether an error refused the request before execution.
pub fn is_request_error(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|c| match c {
            async_graphql::Value::String(s) => REQUEST_ERROR_CODES.contains(&s.as_str()),
            _ => false,
        })
}

fn with_code(mut error: ServerError, code: &str, message: Option<String>) -> ServerError {
    if let Some(message) = message {
        error.message = message;
    }
    let already_coded = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !already_coded {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

pub struct RequestPhases {
    limits: Limits,
}

impl RequestPhases {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }
}

impl ExtensionFactory for RequestPhases {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestPhasesExtension {
            limits: self.limits.clone(),
            executed: AtomicBool::new(false),
        })
    }
}

struct RequestPhasesExtension {
    limits: Limits,
    executed: AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestPhasesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if !self.executed.load(Ordering::Acquire) {
            // Refused before execution (e.g. an unknown operation name): a request error.
            response.errors = std::mem::take(&mut response.errors)
                .into_iter()
                .map(|e| with_code(e, code::VALIDATION_FAILED, None))
                .collect();
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|error| {
            if error.message.contains("recursion depth") {
                with_code(
                    error,
                    code::DEPTH_LIMIT,
                    Some("the document is nested too deeply to be parsed".into()),
                )
            } else if error.message.contains("number of directives") {
                let message = format!(
                    "directive limit exceeded: a field may carry at most {} directives",
                    self.limits.max_directives
                );
                with_code(error, code::DIRECTIVE_LIMIT, Some(message))
            } else {
                with_code(error, code::PARSE_FAILED, None)
            }
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| match error.message.as_str() {
                    "Query is nested too deep." => {
                        let message = format!(
                            "depth limit exceeded: the query is nested deeper than {} levels",
                            self.limits.max_depth
                        );
                        with_code(error, code::DEPTH_LIMIT, Some(message))
                    }
                    "Query is too complex." => {
                        let message = format!(
                            "complexity limit exceeded: the query's complexity is over {}",
                            self.limits.max_complexity
                        );
                        with_code(error, code::COMPLEXITY_LIMIT, Some(message))
                    }
                    _ => with_code(error, code::VALIDATION_FAILED, None),
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.executed.store(true, Ordering::Release);
        next.run(ctx, operation_name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cost_multiplies_and_is_capped() {
        assert_eq!(list_complexity(3), 30);
        assert_eq!(list_complexity(usize::MAX), 1 << 40);
        // Thousands of capped fields still sum without overflow.
        assert!(list_complexity(usize::MAX).checked_mul(1 << 20).is_some());
    }
}
