//! The reporting bodies' reference data in the database: each body's kind, the days it
//! existed, its successor and the sourced facts, brought in line with the bundled file.
//! Only what differs is written, so doing it at every start costs two reads.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

use super::StoreError;
use crate::db::entities::{agencies, agency_facts};
use crate::domain::bodies_source::{BodiesSource, BodySource};
use crate::domain::text::search_key;

/// Brings every body of `source` into the agencies table (adding those the plan does not
/// name) with its kind, dates, successor and facts; returns how many agencies changed.
pub async fn sync_bodies<C: ConnectionTrait>(
    txn: &C,
    source: &BodiesSource,
) -> Result<usize, StoreError> {
    let mut by_code: HashMap<String, agencies::Model> = agencies::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    for body in &source.bodies {
        if !by_code.contains_key(&body.code) {
            let inserted = insert_body(txn, body).await?;
            by_code.insert(body.code.clone(), inserted);
        }
    }
    let mut facts: HashMap<i32, Vec<(String, String)>> = HashMap::new();
    for row in agency_facts::Entity::find()
        .order_by_asc(agency_facts::Column::AgencyId)
        .order_by_asc(agency_facts::Column::Position)
        .all(txn)
        .await?
    {
        facts
            .entry(row.agency_id)
            .or_default()
            .push((row.fact, row.source));
    }
    let mut changed = 0;
    for body in &source.bodies {
        let known = |code: &str| {
            by_code.get(code).ok_or_else(|| {
                StoreError::Invalid(format!("reporting body {code:?} is not an agency"))
            })
        };
        let agency = known(&body.code)?;
        let successor_id = match &body.successor {
            Some(code) => Some(known(code)?.id),
            None => None,
        };
        let wanted = agencies::Model {
            kind: Some(body.kind.as_str().to_owned()),
            valid_from: body.from,
            valid_to: body.until,
            successor_id,
            ..agency.clone()
        };
        let wanted_facts = sourced_facts(source, body)?;
        let facts_differ = facts.get(&agency.id) != Some(&wanted_facts);
        let agency_differs = &wanted != agency;
        if agency_differs {
            let mut row = agency.clone().into_active_model();
            row.kind = Set(wanted.kind);
            row.valid_from = Set(wanted.valid_from);
            row.valid_to = Set(wanted.valid_to);
            row.successor_id = Set(wanted.successor_id);
            row.update(txn).await?;
        }
        if facts_differ {
            replace_facts(txn, agency.id, wanted_facts).await?;
        }
        changed += usize::from(agency_differs || facts_differ);
    }
    Ok(changed)
}

async fn insert_body<C: ConnectionTrait>(
    txn: &C,
    body: &BodySource,
) -> Result<agencies::Model, StoreError> {
    let name = body.name.clone().ok_or_else(|| {
        StoreError::Invalid(format!(
            "reporting body {:?} is not an agency of a loaded plan and has no name",
            body.code
        ))
    })?;
    Ok(agencies::ActiveModel {
        code: Set(body.code.clone()),
        search_key: Set(search_key(&name)),
        name: Set(name),
        name_en: Set(body.name_en.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Each fact with its source cited in full.
fn sourced_facts(
    source: &BodiesSource,
    body: &BodySource,
) -> Result<Vec<(String, String)>, StoreError> {
    body.facts
        .iter()
        .map(|f| {
            let citation = source.citation(&f.source).ok_or_else(|| {
                StoreError::Invalid(format!("{}: unknown source {:?}", body.code, f.source))
            })?;
            Ok((f.fact.clone(), citation.to_owned()))
        })
        .collect()
}

async fn replace_facts<C: ConnectionTrait>(
    txn: &C,
    agency_id: i32,
    facts: Vec<(String, String)>,
) -> Result<(), StoreError> {
    agency_facts::Entity::delete_many()
        .filter(agency_facts::Column::AgencyId.eq(agency_id))
        .exec(txn)
        .await?;
    if facts.is_empty() {
        return Ok(());
    }
    let rows = facts
        .into_iter()
        .enumerate()
        .map(|(position, (fact, source))| agency_facts::ActiveModel {
            agency_id: Set(agency_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            fact: Set(fact),
            source: Set(source),
            ..Default::default()
        });
    agency_facts::Entity::insert_many(rows).exec(txn).await?;
    Ok(())
}
