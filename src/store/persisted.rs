//! Persisted GraphQL documents, by SHA-256 (see the `persisted_queries` migration).

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};
use sha2::{Digest, Sha256};

use super::StoreError;

/// The lowercase hex SHA-256 of a document, as Apollo clients compute it.
pub fn hash(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// A document found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persisted {
    pub query: String,
    pub allowed: bool,
}

pub async fn find(db: &DatabaseConnection, hash: &str) -> Result<Option<Persisted>, StoreError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "SELECT query, allowed FROM persisted_queries WHERE hash = ?",
            ),
            [Value::from(hash)],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(Persisted {
            query: row.try_get("", "query")?,
            allowed: row.try_get("", "allowed")?,
        }),
        None => None,
    })
}

/// Keeps a document under its hash; `allowed` marks it for the allow-list (and upgrades a
/// document already kept). Returns the hash.
pub async fn save(
    db: &DatabaseConnection,
    query: &str,
    allowed: bool,
) -> Result<String, StoreError> {
    let hash = hash(query);
    let backend = db.get_database_backend();
    let now = chrono::Utc::now().fixed_offset();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        placeholders(
            backend,
            "INSERT INTO persisted_queries (hash, query, allowed, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (hash) DO UPDATE SET allowed = persisted_queries.allowed OR excluded.allowed",
        ),
        [
            Value::from(hash.as_str()),
            Value::from(query),
            Value::from(allowed),
            Value::from(now),
        ],
    ))
    .await?;
    Ok(hash)
}

/// `?` placeholders as the backend writes them.
fn placeholders(backend: sea_orm::DbBackend, sql: &str) -> String {
    if backend != sea_orm::DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_apollos() {
        // Apollo's documented example: sha256("{__typename}").
        assert_eq!(
            hash("{__typename}"),
            "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
        );
    }
}
