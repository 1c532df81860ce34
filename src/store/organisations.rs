//! Organisations records name (producers, hosts, enterprises): found by tax code, else
//! by name, else created, for a whole batch of drafts in a few statements.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::batch::{CHUNK, rows_per_insert};
use crate::db::entities::organisations;
use crate::domain::text::search_key;
use crate::records::draft::OrganisationDraft;

/// Ids of the organisations the drafts name, creating the new ones.
pub async fn resolve(
    txn: &DatabaseTransaction,
    drafts: &[&OrganisationDraft],
    source: &str,
    now: DateTime<FixedOffset>,
) -> Result<Vec<i32>, DbErr> {
    use organisations::Column;
    let tax_codes: HashSet<&str> = drafts
        .iter()
        .filter_map(|d| d.tax_code.as_deref())
        .collect();
    let keys: HashSet<String> = drafts
        .iter()
        .filter(|d| d.tax_code.is_none())
        .map(|d| search_key(&d.name))
        .collect();
    let mut by_tax: HashMap<String, i32> = HashMap::new();
    let mut by_key: HashMap<String, i32> = HashMap::new();
    let load = |tax: Vec<String>, key: Vec<String>| async move {
        let mut found = Vec::new();
        for chunk in tax.chunks(CHUNK) {
            found.extend(
                organisations::Entity::find()
                    .filter(Column::TaxCode.is_in(chunk.iter().cloned()))
                    .all(txn)
                    .await?,
            );
        }
        for chunk in key.chunks(CHUNK) {
            found.extend(
                organisations::Entity::find()
                    .filter(Column::SearchKey.is_in(chunk.iter().cloned()))
                    .order_by_asc(Column::Id)
                    .all(txn)
                    .await?,
            );
        }
        Ok::<_, DbErr>(found)
    };
    let tax_list: Vec<String> = tax_codes.iter().map(|t| (*t).to_owned()).collect();
    let key_list: Vec<String> = keys.iter().cloned().collect();
    for row in load(tax_list.clone(), key_list.clone()).await? {
        if let Some(tax) = &row.tax_code {
            by_tax.entry(tax.clone()).or_insert(row.id);
        }
        by_key.entry(row.search_key.clone()).or_insert(row.id);
    }
    let mut new_rows = Vec::new();
    let mut planned: HashSet<String> = HashSet::new();
    for draft in drafts {
        let (known, token) = match &draft.tax_code {
            Some(tax) => (by_tax.contains_key(tax), format!("t:{tax}")),
            None => (
                by_key.contains_key(&search_key(&draft.name)),
                format!("k:{}", search_key(&draft.name)),
            ),
        };
        if !known && planned.insert(token) {
            new_rows.push(organisations::ActiveModel {
                name: Set(draft.name.clone()),
                tax_code: Set(draft.tax_code.clone()),
                kind: Set(draft.kind.clone()),
                district: Set(draft.district.clone()),
                commune: Set(draft.commune.clone()),
                source: Set(source.to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
                search_key: Set(search_key(&draft.name)),
                ..Default::default()
            });
        }
    }
    if !new_rows.is_empty() {
        for chunk in new_rows.chunks(rows_per_insert(10)) {
            organisations::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
        for row in load(tax_list, key_list).await? {
            if let Some(tax) = &row.tax_code {
                by_tax.entry(tax.clone()).or_insert(row.id);
            }
            by_key.entry(row.search_key.clone()).or_insert(row.id);
        }
    }
    drafts
        .iter()
        .map(|draft| {
            let id = match &draft.tax_code {
                Some(tax) => by_tax.get(tax),
                None => by_key.get(&search_key(&draft.name)),
            };
            id.copied()
                .ok_or_else(|| DbErr::RecordNotFound(format!("organisation {}", draft.name)))
        })
        .collect()
}
