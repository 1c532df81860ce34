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
    /// Largest request body from a caller who can write (agency and admin tokens), for
    /// bulk imports.
    pub max_import_body_bytes: usize,
    pub request_timeout: Duration,
    /// How long a batch loader collects keys before it queries: the window in which the
    /// sibling fields of one level share one statement.
    pub batch_window: Duration,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Longest document, in characters.
    pub max_document_chars: usize,
    /// Most lexical tokens in one document.
    pub max_document_tokens: usize,
    /// Answer `__schema` and `__type` (switch off to hide the schema in production).
    pub introspection: bool,
    /// Suggest field names ("did you mean …?") in validation errors.
    pub suggestions: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5_000,
            max_directives: 10,
            max_body_bytes: 1024 * 1024,
            max_import_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            batch_window: Duration::ZERO,
            max_aliases: 30,
            max_document_chars: 15_000,
            max_document_tokens: 2_000,
            introspection: true,
            suggestions: true,
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
    if super::error::error_code(&error).is_none() {
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
    } else {
        for error in &mut response.errors {
            // Every error the hub raises carries a code; one without is async-graphql's
            // own refusal of an argument's value (an Int past 32 bits, say).
            if super::error::error_code(error).is_none() {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::BAD_USER_INPUT);
            }
        }
    }
    before_execution
}

/// Counts a document's lexical tokens (names, numbers, strings, punctuators; not
/// whitespace, commas or comments), stopping once past `limit`, so a huge document costs
/// no more than reading `limit` tokens.
pub fn count_tokens(document: &str, limit: usize) -> usize {
    let bytes = document.as_bytes();
    let mut i = 0;
    let mut tokens = 0;
    while i < bytes.len() && tokens <= limit {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                tokens += 1;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                tokens += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                i += 3;
                tokens += 1;
            }
            c if c == b'_' || c.is_ascii_alphanumeric() || c == b'-' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.')
                {
                    i += 1;
                }
                tokens += 1;
            }
            _ => {
                // A punctuator, or a character the parser will refuse.
                i += 1;
                tokens += 1;
            }
        }
    }
    tokens
}

/// Counts the aliased fields of a document, fragments included once each.
pub fn count_aliases(document: &async_graphql::parser::types::ExecutableDocument) -> usize {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + walk(&field.node.selection_set.node)
                }
                Selection::InlineFragment(inline) => walk(&inline.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| walk(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

/// Whether the operation selects only introspection fields (`__schema`, `__type`,
/// `__typename`), through fragments too.
pub fn only_introspection(
    document: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    use async_graphql::parser::types::{DocumentOperations, Selection, SelectionSet};
    fn walk(
        set: &SelectionSet,
        document: &async_graphql::parser::types::ExecutableDocument,
        nesting: usize,
    ) -> bool {
        nesting < 16
            && set.items.iter().all(|item| match &item.node {
                Selection::Field(field) => field.node.name.node.starts_with("__"),
                Selection::InlineFragment(inline) => {
                    walk(&inline.node.selection_set.node, document, nesting + 1)
                }
                Selection::FragmentSpread(spread) => document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|f| walk(&f.node.selection_set.node, document, nesting + 1)),
            })
    }
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    operation.is_some_and(|op| walk(&op.node.selection_set.node, document, 0))
}

/// The error for a document that breaks a size limit, before it is parsed or run.
pub fn document_error(code: &'static str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
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
    fn tokens_are_counted_like_the_lexer_reads_them() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = 1) { a(x: $x) @skip(if: true) }", 100),
            26
        );
        assert_eq!(
            count_tokens("{ a(s: \"x y, z\") # comment, { }\n b }", 100),
            9
        );
        assert_eq!(count_tokens("{ ...F } fragment F on T { a }", 100), 11);
        assert_eq!(
            count_tokens("{ a(s: \"\"\"block \\\"\"\" text\"\"\") }", 100),
            8
        );
        assert_eq!(count_tokens("{ a(f: -1.5e3) }", 100), 8);
        // Counting stops just past the limit.
        assert_eq!(count_tokens(&"{ a }".repeat(10_000), 50), 51);
    }

    #[test]
    fn introspection_only_documents_are_recognised() {
        let only =
            |q: &str| only_introspection(&async_graphql::parser::parse_query(q).unwrap(), None);
        assert!(only("{ __schema { types { name } } }"));
        assert!(only(
            "query I { ...F } fragment F on Query { __type(name: \"Plan\") { name } __typename }"
        ));
        assert!(!only("{ __schema { types { name } } plans { code } }"));
        assert!(!only("{ ... on Query { plans { code } } }"));
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let document = async_graphql::parser::parse_query(
            "{ a: x b: x ... on Q { c: x } ...F } fragment F on Q { d: x e: y { f: z } }",
        )
        .unwrap();
        assert_eq!(count_aliases(&document), 6);
    }

    #[test]
    fn list_cost_multiplies_and_is_capped() {
        assert_eq!(list_complexity(3), 30);
        assert_eq!(list_complexity(usize::MAX), 1 << 40);
        // Thousands of capped fields still sum without overflow.
        assert!(list_complexity(usize::MAX).checked_mul(1 << 20).is_some());
    }
}
