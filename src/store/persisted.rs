//! Persisted GraphQL documents, by SHA-256 (see the `persisted_queries` migration).

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
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

fn column(name: &str) -> Alias {
    Alias::new(name)
}

pub async fn find(db: &DatabaseConnection, hash: &str) -> Result<Option<Persisted>, StoreError> {
    let select = Query::select()
        .columns([column("query"), column("allowed")])
        .from(column("persisted_queries"))
        .and_where(Expr::col(column("hash")).eq(hash))
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&select))
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
    let insert = Query::insert()
        .into_table(column("persisted_queries"))
        .columns([
            column("hash"),
            column("query"),
            column("allowed"),
            column("created_at"),
        ])
        .values([
            hash.clone().into(),
            query.into(),
            allowed.into(),
            chrono::Utc::now().fixed_offset().into(),
        ])
        .map_err(|e| StoreError::Invalid(e.to_string()))?
        .on_conflict(
            OnConflict::column(column("hash"))
                .value(
                    column("allowed"),
                    Expr::cust("persisted_queries.allowed OR excluded.allowed"),
                )
                .to_owned(),
        )
        .to_owned();
    db.execute_raw(db.get_database_backend().build(&insert))
        .await?;
    Ok(hash)
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
