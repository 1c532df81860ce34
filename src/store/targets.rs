//! The records that count towards each key target (the rules are in
//! `domain::targets`; this module only finds the records).

use std::collections::HashMap;

use chrono::Datelike;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::StoreError;
use crate::db::entities::{
    application_models, ip_rights, record_links, science_tasks, startup_support_events, startups,
    tasks, technology_assessments,
};
use crate::domain::plan::TargetKey;
use crate::domain::records::{IpRightStatus, RecordKind, RecordRef, ScienceTaskStatus};
use crate::domain::targets::{Contribution, carried_out_year, first_per_key};
use crate::domain::text::search_key;

/// The records counting towards each target of a plan.
pub type PlanContributions = HashMap<TargetKey, Vec<Contribution<RecordRef>>>;

macro_rules! active {
    ($entity:ident) => {
        Condition::all()
            .add($entity::Column::ArchivedAt.is_null())
            .add($entity::Column::WithdrawnAt.is_null())
    };
}

/// The records counting towards each target of the plan `plan_id`, issued on `issued`
/// (the period's first day).
pub async fn plan_contributions(
    db: &DatabaseConnection,
    plan_id: i32,
    issued: chrono::NaiveDate,
) -> Result<PlanContributions, StoreError> {
    let mut all = PlanContributions::new();
    all.insert(
        TargetKey::StTasks,
        science_tasks_of(db, plan_id, issued.year()).await?,
    );
    all.insert(TargetKey::ApplicationModels, application_models(db).await?);
    all.insert(TargetKey::Startups, startup_support(db).await?);
    all.insert(TargetKey::IpAbroad, rights_abroad(db).await?);
    all.insert(
        TargetKey::TechnologyAssessment,
        technology_assessments(db).await?,
    );
    Ok(all)
}

fn contribution(kind: RecordKind, id: i32, year: Option<i32>) -> Contribution<RecordRef> {
    Contribution {
        record: RecordRef { kind, id },
        year,
    }
}

/// S&T tasks linked to a task of this plan, not cancelled; the year they count in is
/// `domain::targets::carried_out_year` of their start and end.
async fn science_tasks_of(
    db: &DatabaseConnection,
    plan_id: i32,
    first_year: i32,
) -> Result<Vec<Contribution<RecordRef>>, StoreError> {
    let plan_tasks = Query::select()
        .column(tasks::Column::Id)
        .from(tasks::Entity)
        .and_where(tasks::Column::PlanId.eq(plan_id))
        .to_owned();
    let linked = Query::select()
        .column(record_links::Column::RecordId)
        .from(record_links::Entity)
        .and_where(record_links::Column::RecordKind.eq(RecordKind::ScienceTask.as_str()))
        .and_where(record_links::Column::TaskId.in_subquery(plan_tasks))
        .to_owned();
    let science = science_tasks::Entity::find()
        .filter(active!(science_tasks))
        .filter(
            Condition::any()
                .add(science_tasks::Column::Status.is_null())
                .add(science_tasks::Column::Status.ne(ScienceTaskStatus::Cancelled.as_str())),
        )
        .filter(science_tasks::Column::Id.in_subquery(linked))
        .select_only()
        .columns([
            science_tasks::Column::Id,
            science_tasks::Column::StartOn,
            science_tasks::Column::EndOn,
        ])
        .into_tuple::<(i32, Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)>()
        .all(db)
        .await?;
    Ok(science
        .into_iter()
        .map(|(id, start, end)| {
            let year = carried_out_year(first_year, start.map(|d| d.year()), end.map(|d| d.year()));
            contribution(RecordKind::ScienceTask, id, year)
        })
        .collect())
}

/// Application models; the year they were transferred.
async fn application_models(
    db: &DatabaseConnection,
) -> Result<Vec<Contribution<RecordRef>>, StoreError> {
    let models = application_models::Entity::find()
        .filter(active!(application_models))
        .select_only()
        .columns([
            application_models::Column::Id,
            application_models::Column::YearTransferred,
        ])
        .into_tuple::<(i32, Option<i32>)>()
        .all(db)
        .await?;
    Ok(models
        .into_iter()
        .map(|(id, year)| contribution(RecordKind::ApplicationModel, id, year))
        .collect())
}

/// Every support event of an active startup is passed on; the domain counts each
/// startup once, in the year of its first support within the period.
async fn startup_support(
    db: &DatabaseConnection,
) -> Result<Vec<Contribution<RecordRef>>, StoreError> {
    let active_startups = Query::select()
        .column(startups::Column::Id)
        .from(startups::Entity)
        .and_where(startups::Column::ArchivedAt.is_null())
        .and_where(startups::Column::WithdrawnAt.is_null())
        .to_owned();
    let events = startup_support_events::Entity::find()
        .filter(startup_support_events::Column::StartupId.in_subquery(active_startups))
        .select_only()
        .columns([
            startup_support_events::Column::StartupId,
            startup_support_events::Column::Year,
        ])
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?;
    Ok(events
        .into_iter()
        .map(|(id, year)| contribution(RecordKind::Startup, id, Some(year)))
        .collect())
}

/// Farm products with a right registered outside Vietnam: one right per product (the
/// first registered), in the year of its registration.
async fn rights_abroad(
    db: &DatabaseConnection,
) -> Result<Vec<Contribution<RecordRef>>, StoreError> {
    let abroad = ip_rights::Entity::find()
        .filter(active!(ip_rights))
        .filter(ip_rights::Column::Jurisdiction.ne("VN"))
        .filter(ip_rights::Column::Status.eq(IpRightStatus::Registered.as_str()))
        .filter(ip_rights::Column::FarmProduct.eq(true))
        .select_only()
        .columns([
            ip_rights::Column::Id,
            ip_rights::Column::RegisteredOn,
            ip_rights::Column::Product,
            ip_rights::Column::Name,
        ])
        .into_tuple::<(i32, Option<chrono::NaiveDate>, Option<String>, String)>()
        .all(db)
        .await?;
    Ok(first_per_key(abroad.into_iter().map(
        |(id, registered, product, name)| {
            // A right that names no product stands for a product of its own.
            let key = search_key(product.as_deref().unwrap_or(&name));
            (
                key,
                contribution(RecordKind::IpRight, id, registered.map(|d| d.year())),
            )
        },
    )))
}

/// Technology assessments; the year of the assessment.
async fn technology_assessments(
    db: &DatabaseConnection,
) -> Result<Vec<Contribution<RecordRef>>, StoreError> {
    let assessments = technology_assessments::Entity::find()
        .filter(active!(technology_assessments))
        .select_only()
        .columns([
            technology_assessments::Column::Id,
            technology_assessments::Column::Year,
        ])
        .into_tuple::<(i32, Option<i32>)>()
        .all(db)
        .await?;
    Ok(assessments
        .into_iter()
        .map(|(id, year)| contribution(RecordKind::TechnologyAssessment, id, year))
        .collect())
}
