//! Parsed GraphQL documents kept by their text, and the requests already validated.
//! Clients send the same few documents over and over (a dashboard's, a BI tool's, a
//! partner's scripts with variables), and parsing or validating one costs more than
//! answering a small query from kept rows; so each text is parsed once, and each request
//! (text, operation, variables) fully validated once. Both depend on what the client sent
//! alone, so what is kept never goes stale.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use moka::sync::Cache;

use super::graphql::RequestDigest;
use crate::graphql::limits::parse_error;
use crate::store::cache::CacheCounters;

/// The text of all kept documents together, at most (the least used go first).
const MAX_TEXT_BYTES: u64 = 4 << 20;
/// Longer documents are parsed every time: they are rare, and their trees are large.
const MAX_KEPT_BYTES: usize = 64 << 10;

pub struct DocumentCache {
    documents: Cache<String, Arc<ExecutableDocument>>,
    counts: CacheCounters,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            documents: Cache::builder()
                .max_capacity(MAX_TEXT_BYTES)
                .weigher(|text: &String, _| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .build(),
            counts: CacheCounters::new("documents"),
        }
    }
}

impl DocumentCache {
    /// The document `text` parses to, or the parse error (never kept).
    pub fn parse(&self, text: &str) -> Result<Arc<ExecutableDocument>, ServerError> {
        if let Some(document) = self.documents.get(text) {
            self.counts.hits(1);
            return Ok(document);
        }
        self.counts.misses(1);
        let document =
            async_graphql::parser::parse_query(text).map_err(|error| parse_error(error.into()))?;
        let document = Arc::new(document);
        if text.len() <= MAX_KEPT_BYTES {
            self.documents
                .insert(text.to_owned(), Arc::clone(&document));
        }
        Ok(document)
    }
}

/// Requests the schema has validated, by their digest: validation depends on the
/// document, operation name and variables alone, so the same request is valid again.
/// Only successes are kept (an invalid request is refused again in full).
pub struct ValidatedRequests {
    digests: Cache<RequestDigest, ()>,
    counts: CacheCounters,
}

/// Validated requests remembered at most (some 100 bytes each).
const MAX_VALIDATED: u64 = 10_000;

impl Default for ValidatedRequests {
    fn default() -> Self {
        Self {
            digests: Cache::new(MAX_VALIDATED),
            counts: CacheCounters::new("validations"),
        }
    }
}

impl ValidatedRequests {
    pub fn contains(&self, digest: &RequestDigest) -> bool {
        let found = self.digests.contains_key(digest);
        if found {
            self.counts.hits(1);
        } else {
            self.counts.misses(1);
        }
        found
    }

    pub fn insert(&self, digest: RequestDigest) {
        self.digests.insert(digest, ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_parsed_once_and_errors_are_not_kept() {
        let cache = DocumentCache::default();
        let first = cache.parse("{ plans { code } }").unwrap();
        let again = cache.parse("{ plans { code } }").unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the kept document is reused");
        let other = cache.parse("{ plans { title } }").unwrap();
        assert!(
            !Arc::ptr_eq(&first, &other),
            "another text, another document"
        );

        let error = cache.parse("{ plans { code }").unwrap_err();
        assert!(error.message.contains("expected"), "{}", error.message);
        assert!(cache.documents.get("{ plans { code }").is_none());
        assert!(cache.parse("{ plans { code }").is_err(), "still refused");
    }
}
