//! Reading the plan: plans, sections, tasks, agencies and documents.
//!
//! The `*_by_*` functions take many keys at once; they back the GraphQL data loaders, so a
//! nested query costs one statement per relation, not one per parent.

use sea_orm::sea_query::{ExprTrait, LikeExpr, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::StoreError;
use crate::db::entities::{
    agencies, agency_aliases, agency_group_aliases, agency_groups, legal_documents, plan_clauses,
    plan_documents, plans, sections, targets, task_coordinators, task_documents, tasks,
};
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

pub async fn list_plans(db: &DatabaseConnection) -> Result<Vec<plans::Model>, StoreError> {
    Ok(plans::Entity::find()
        .order_by_asc(plans::Column::IssuedOn)
        .order_by_asc(plans::Column::Id)
        .all(db)
        .await?)
}

pub async fn plans_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<plans::Model>, StoreError> {
    Ok(plans::Entity::find()
        .filter(plans::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn clauses_by_plans(
    db: &DatabaseConnection,
    plan_ids: &[i32],
) -> Result<Vec<plan_clauses::Model>, StoreError> {
    Ok(plan_clauses::Entity::find()
        .filter(plan_clauses::Column::PlanId.is_in(plan_ids.iter().copied()))
        .order_by_asc(plan_clauses::Column::Position)
        .all(db)
        .await?)
}

pub async fn targets_by_plans(
    db: &DatabaseConnection,
    plan_ids: &[i32],
) -> Result<Vec<targets::Model>, StoreError> {
    Ok(targets::Entity::find()
        .filter(targets::Column::PlanId.is_in(plan_ids.iter().copied()))
        .order_by_asc(targets::Column::Position)
        .all(db)
        .await?)
}

pub async fn sections_by_plans(
    db: &DatabaseConnection,
    plan_ids: &[i32],
) -> Result<Vec<sections::Model>, StoreError> {
    Ok(sections::Entity::find()
        .filter(sections::Column::PlanId.is_in(plan_ids.iter().copied()))
        .order_by_asc(sections::Column::Position)
        .all(db)
        .await?)
}

pub async fn sections_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<sections::Model>, StoreError> {
    Ok(sections::Entity::find()
        .filter(sections::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The documents a plan references, each with its position of first mention.
pub async fn documents_by_plans(
    db: &DatabaseConnection,
    plan_ids: &[i32],
) -> Result<Vec<(plan_documents::Model, legal_documents::Model)>, StoreError> {
    let links = plan_documents::Entity::find()
        .filter(plan_documents::Column::PlanId.is_in(plan_ids.iter().copied()))
        .order_by_asc(plan_documents::Column::Position)
        .all(db)
        .await?;
    let ids: Vec<i32> = links.iter().map(|l| l.document_id).collect();
    let documents = documents_by_ids(db, &ids).await?;
    Ok(links
        .into_iter()
        .filter_map(|link| {
            let document = documents.iter().find(|d| d.id == link.document_id)?.clone();
            Some((link, document))
        })
        .collect())
}

pub async fn documents_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<legal_documents::Model>, StoreError> {
    Ok(legal_documents::Entity::find()
        .filter(legal_documents::Column::Id.is_in(ids.iter().copied()))
        .all(db)
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

/// Task–document links for the given tasks.
pub async fn document_links_by_tasks(
    db: &DatabaseConnection,
    task_ids: &[i32],
) -> Result<Vec<task_documents::Model>, StoreError> {
    Ok(task_documents::Entity::find()
        .filter(task_documents::Column::TaskId.is_in(task_ids.iter().copied()))
        .order_by_asc(task_documents::Column::DocumentId)
        .all(db)
        .await?)
}

/// Task–document links for the given documents.
pub async fn task_links_by_documents(
    db: &DatabaseConnection,
    document_ids: &[i32],
) -> Result<Vec<task_documents::Model>, StoreError> {
    Ok(task_documents::Entity::find()
        .filter(task_documents::Column::DocumentId.is_in(document_ids.iter().copied()))
        .all(db)
        .await?)
}

/// A task by its stable code ("II.3.i"), optionally within one plan. Codes are unique
/// per plan; without a plan the code must be unique across plans.
pub async fn find_task(
    db: &DatabaseConnection,
    code: &str,
    plan_code: Option<&str>,
) -> Result<Option<tasks::Model>, StoreError> {
    let mut query = tasks::Entity::find().filter(tasks::Column::Code.eq(code.trim()));
    if let Some(plan_code) = plan_code {
        let Some(plan) = find_plan(db, plan_code).await? else {
            return Ok(None);
        };
        query = query.filter(tasks::Column::PlanId.eq(plan.id));
    }
    let mut found = query.limit(2).all(db).await?;
    if found.len() > 1 {
        return Err(StoreError::Ambiguous {
            what: "task code",
            key: code.to_owned(),
            hint: "several plans use it; pass `plan`",
        });
    }
    Ok(found.pop())
}

pub async fn tasks_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<tasks::Model>, StoreError> {
    Ok(tasks::Entity::find()
        .filter(tasks::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The top-level tasks of the given sections, in published order.
pub async fn top_level_tasks_by_sections(
    db: &DatabaseConnection,
    section_ids: &[i32],
) -> Result<Vec<tasks::Model>, StoreError> {
    Ok(tasks::Entity::find()
        .filter(tasks::Column::SectionId.is_in(section_ids.iter().copied()))
        .filter(tasks::Column::ParentId.is_null())
        .order_by_asc(tasks::Column::Position)
        .all(db)
        .await?)
}

/// Sub-tasks of the given tasks, in published order.
pub async fn children_by_parents(
    db: &DatabaseConnection,
    parent_ids: &[i32],
) -> Result<Vec<tasks::Model>, StoreError> {
    Ok(tasks::Entity::find()
        .filter(tasks::Column::ParentId.is_in(parent_ids.iter().copied()))
        .order_by_asc(tasks::Column::Position)
        .all(db)
        .await?)
}

/// Tasks led by the given agencies, in plan order.
pub async fn tasks_by_lead_agencies(
    db: &DatabaseConnection,
    agency_ids: &[i32],
) -> Result<Vec<tasks::Model>, StoreError> {
    Ok(tasks::Entity::find()
        .filter(tasks::Column::LeadAgencyId.is_in(agency_ids.iter().copied()))
        .order_by_asc(tasks::Column::Id)
        .all(db)
        .await?)
}

pub async fn coordinators_by_tasks(
    db: &DatabaseConnection,
    task_ids: &[i32],
) -> Result<Vec<task_coordinators::Model>, StoreError> {
    Ok(task_coordinators::Entity::find()
        .filter(task_coordinators::Column::TaskId.is_in(task_ids.iter().copied()))
        .order_by_asc(task_coordinators::Column::Position)
        .all(db)
        .await?)
}

/// Coordinator entries naming the given agencies.
pub async fn coordinations_by_agencies(
    db: &DatabaseConnection,
    agency_ids: &[i32],
) -> Result<Vec<task_coordinators::Model>, StoreError> {
    Ok(task_coordinators::Entity::find()
        .filter(task_coordinators::Column::AgencyId.is_in(agency_ids.iter().copied()))
        .order_by_asc(task_coordinators::Column::TaskId)
        .all(db)
        .await?)
}

/// Coordinator entries naming the given groups.
pub async fn coordinations_by_groups(
    db: &DatabaseConnection,
    group_ids: &[i32],
) -> Result<Vec<task_coordinators::Model>, StoreError> {
    Ok(task_coordinators::Entity::find()
        .filter(task_coordinators::Column::GroupId.is_in(group_ids.iter().copied()))
        .order_by_asc(task_coordinators::Column::TaskId)
        .all(db)
        .await?)
}

pub async fn agencies_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<agencies::Model>, StoreError> {
    Ok(agencies::Entity::find()
        .filter(agencies::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn groups_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<agency_groups::Model>, StoreError> {
    Ok(agency_groups::Entity::find()
        .filter(agency_groups::Column::Id.is_in(ids.iter().copied()))
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

pub async fn aliases_by_groups(
    db: &DatabaseConnection,
    group_ids: &[i32],
) -> Result<Vec<agency_group_aliases::Model>, StoreError> {
    Ok(agency_group_aliases::Entity::find()
        .filter(agency_group_aliases::Column::GroupId.is_in(group_ids.iter().copied()))
        .order_by_asc(agency_group_aliases::Column::Id)
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
