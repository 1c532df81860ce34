//! Reading the plan where the in-memory snapshot (`store::snapshot`) does not serve:
//! look-ups by code or number and the agency search.

use sea_orm::sea_query::{ExprTrait, LikeExpr, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;
use crate::db::entities::{agencies, agency_aliases, agency_groups, legal_documents, plans};
use crate::domain::text::{contains_pattern, match_rank, search_key};

pub async fn find_plan(
    db: &DatabaseConnection,
    code: &str,
) -> Result<Option<plans::Model>, StoreError> {
    Ok(plans::Entity::find()
        .filter(plans::Column::Code.eq(code.trim()))
        .one(db)
        .await?)
}

pub async fn find_document(
    db: &DatabaseConnection,
    number: &str,
) -> Result<Option<legal_documents::Model>, StoreError> {
    Ok(legal_documents::Entity::find()
        .filter(legal_documents::Column::Number.eq(number.trim()))
        .one(db)
        .await?)
}

pub async fn list_documents(
    db: &DatabaseConnection,
) -> Result<Vec<legal_documents::Model>, StoreError> {
    Ok(legal_documents::Entity::find()
        .order_by_asc(legal_documents::Column::Id)
        .all(db)
        .await?)
}

pub async fn aliases_by_agencies(
    db: &DatabaseConnection,
    agency_ids: &[i32],
) -> Result<Vec<agency_aliases::Model>, StoreError> {
    Ok(agency_aliases::Entity::find()
        .filter(agency_aliases::Column::AgencyId.is_in(agency_ids.iter().copied()))
        .order_by_asc(agency_aliases::Column::Id)
        .all(db)
        .await?)
}

pub async fn find_agency(
    db: &DatabaseConnection,
    code: &str,
) -> Result<Option<agencies::Model>, StoreError> {
    Ok(agencies::Entity::find()
        .filter(agencies::Column::Code.eq(code.trim()))
        .one(db)
        .await?)
}

/// Agencies whose name, any alias or code contains `search` once both are folded
/// (case, tone marks, diacritics, `đ`, NFC/NFD), best matches first. Without a search
/// (or with one that folds to nothing) every agency is returned, in registry order.
pub async fn search_agencies(
    db: &DatabaseConnection,
    search: Option<&str>,
) -> Result<Vec<agencies::Model>, StoreError> {
    let key = search.map(search_key).unwrap_or_default();
    if key.is_empty() {
        return Ok(agencies::Entity::find()
            .order_by_asc(agencies::Column::Id)
            .all(db)
            .await?);
    }
    let pattern = || LikeExpr::new(contains_pattern(&key)).escape('\\');
    let code_pattern = LikeExpr::new(contains_pattern(&key.replace(' ', "-"))).escape('\\');
    let alias_matches = Query::select()
        .column(agency_aliases::Column::AgencyId)
        .from(agency_aliases::Entity)
        .and_where(agency_aliases::Column::SearchKey.like(pattern()))
        .to_owned();
    let found = agencies::Entity::find()
        .filter(
            agencies::Column::SearchKey
                .like(pattern())
                .or(agencies::Column::Code.like(code_pattern))
                .or(agencies::Column::Id.in_subquery(alias_matches)),
        )
        .all(db)
        .await?;
    let ids: Vec<i32> = found.iter().map(|a| a.id).collect();
    let aliases = aliases_by_agencies(db, &ids).await?;
    let mut ranked: Vec<(u8, agencies::Model)> = found
        .into_iter()
        .map(|agency| {
            let code_key = agency.code.replace('-', " ");
            let keys = std::iter::once(agency.search_key.as_str())
                .chain(std::iter::once(code_key.as_str()))
                .chain(
                    aliases
                        .iter()
                        .filter(|a| a.agency_id == agency.id)
                        .map(|a| a.search_key.as_str()),
                );
            let rank = match_rank(&key, keys).unwrap_or(u8::MAX);
            (rank, agency)
        })
        .collect();
    ranked.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then(a.id.cmp(&b.id)));
    Ok(ranked.into_iter().map(|(_, agency)| agency).collect())
}

pub async fn list_groups(db: &DatabaseConnection) -> Result<Vec<agency_groups::Model>, StoreError> {
    Ok(agency_groups::Entity::find()
        .order_by_asc(agency_groups::Column::Id)
        .all(db)
        .await?)
}
