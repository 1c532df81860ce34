//! Parsed GraphQL documents kept by their text. Clients send the same few documents over
//! and over (a dashboard's, a BI tool's, a partner's scripts with variables), and parsing
//! one costs more than answering a small query from kept rows; so each text is parsed
//! once. A document depends on its text alone, so a kept one never goes stale.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use moka::sync::Cache;

use crate::graphql::limits::parse_error;

/// The text of all kept documents together, at most (the least used go first).
const MAX_TEXT_BYTES: u64 = 4 << 20;
/// Longer documents are parsed every time: they are rare, and their trees are large.
const MAX_KEPT_BYTES: usize = 64 << 10;

pub struct DocumentCache {
    documents: Cache<String, Arc<ExecutableDocument>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            documents: Cache::builder()
                .max_capacity(MAX_TEXT_BYTES)
                .weigher(|text: &String, _| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl DocumentCache {
    /// The document `text` parses to, or the parse error (never kept).
    pub fn parse(&self, text: &str) -> Result<Arc<ExecutableDocument>, ServerError> {
        if let Some(document) = self.documents.get(text) {
            count("hit");
            return Ok(document);
        }
        count("miss");
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

fn count(result: &'static str) {
    metrics::counter!("khcn_hub_cache_requests_total", "cache" => "documents", "result" => result)
        .increment(1);
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
