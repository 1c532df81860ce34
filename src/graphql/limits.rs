//! Safety limits on every document, and the marking of request errors.
//!
//! async-graphql reports a refused document with a terse message ("Query is nested too
//! deep."). Here the refusal gets the limit's name and value and a stable
//! `extensions.code`, and errors raised before execution began are recognised, so the
//! HTTP layer can answer them as request errors (no `data`, status 400) as the
//! GraphQL-over-HTTP spec asks.

use std::time::Duration;

use async_graphql::ServerError;

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

/// Names the refusal in an error raised before execution: which limit was hit (with its
/// value), or that the document did not validate.
fn classify(mut error: ServerError, limits: &Limits) -> ServerError {
    let (code, message) = match error.message.as_str() {
        "Query is nested too deep." => (
            code::DEPTH_LIMIT,
            Some(format!(
                "depth limit exceeded: the query is nested deeper than {} levels",
                limits.max_depth
            )),
        ),
        "Query is too complex." => (
            code::COMPLEXITY_LIMIT,
            Some(format!(
                "complexity limit exceeded: the query's complexity is over {}",
                limits.max_complexity
            )),
        ),
        m if m.contains("number of directives") => (
            code::DIRECTIVE_LIMIT,
            Some(format!(
                "directive limit exceeded: a field may carry at most {} directives",
                limits.max_directives
            )),
        ),
        m if m.contains("recursion depth") => (
            code::DEPTH_LIMIT,
            Some("the document is nested too deeply to be parsed".to_owned()),
        ),
        _ => (code::VALIDATION_FAILED, None),
    };
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

/// Marks a response whose errors were all raised before execution (they carry no field
/// path: parse, validation, limits, unknown operation) as a request error with a coded,
/// named refusal, and returns whether it is one. Done after the fact rather than by an
/// extension, which would add a hook to every resolved field.
pub fn mark_request_errors(response: &mut async_graphql::Response, limits: &Limits) -> bool {
    let before_execution = !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    if before_execution {
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|e| classify(e, limits))
            .collect();
    }
    before_execution
}

/// The error for a document that does not parse.
pub fn parse_error(mut error: ServerError) -> ServerError {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::PARSE_FAILED);
    error
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
