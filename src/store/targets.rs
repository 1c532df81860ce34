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
use crate::domain::industries_source::KeyIndustries;
use crate::domain::plan::TargetKey;
use crate::domain::records::{IpRightStatus, RecordKind, RecordRef, ScienceTaskStatus};
use crate::domain::targets::{
    BreakdownRow, Contribution, carried_out_year, filed_and_granted, first_per_key,
    industry_coverage,
};
use crate::domain::text::search_key;

/// The records counting towards each target of a plan, and what the figures of
/// `IP_ABROAD` and `TECHNOLOGY_ASSESSMENT` are made of.
#[derive(Debug, Clone, Default)]
pub struct PlanContributions {
    pub counted: HashMap<TargetKey, Vec<Contribution<RecordRef>>>,
    pub breakdowns: HashMap<TargetKey, Vec<BreakdownRow>>,
    /// How many key industries are recorded (`TECHNOLOGY_ASSESSMENT` is done when each
    /// has been assessed).
    pub key_industries: usize,
}

impl PlanContributions {
    pub fn get(&self, key: &TargetKey) -> Option<&Vec<Contribution<RecordRef>>> {
        self.counted.get(key)
    }
}

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
    let mut all = PlanContributions::default();
    all.counted.insert(
        TargetKey::StTasks,
        science_tasks_of(db, plan_id, issued.year()).await?,
    );
    all.counted
        .insert(TargetKey::ApplicationModels, application_models(db).await?);
    all.counted
        .insert(TargetKey::Startups, startup_support(db).await?);
    let (abroad, filed) = rights_abroad(db).await?;
    all.counted.insert(TargetKey::IpAbroad, abroad);
    all.breakdowns.insert(TargetKey::IpAbroad, filed);
    let key_industries = key_industries()?;
    let (assessed, coverage) = technology_assessments(db, issued.year(), key_industries).await?;
    all.counted
        .insert(TargetKey::TechnologyAssessment, assessed);
    all.breakdowns
        .insert(TargetKey::TechnologyAssessment, coverage);
    all.key_industries = key_industries.len();
    Ok(all)
}

/// The key industries' folded names, read from the bundled file once.
fn key_industries() -> Result<&'static [String], StoreError> {
    static KEYS: std::sync::LazyLock<Result<Vec<String>, String>> =
        std::sync::LazyLock::new(|| {
            KeyIndustries::bundled()
                .map(|list| list.keys())
                .map_err(|e| e.to_string())
        });
    KEYS.as_deref()
        .map_err(|message| StoreError::Invalid(message.clone()))
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
/// first registered), in the year of its registration; beside them, products granted and
/// products only filed abroad.
async fn rights_abroad(
    db: &DatabaseConnection,
) -> Result<(Vec<Contribution<RecordRef>>, Vec<BreakdownRow>), StoreError> {
    let registered = IpRightStatus::Registered.as_str();
    let abroad = ip_rights::Entity::find()
        .filter(active!(ip_rights))
        .filter(ip_rights::Column::Jurisdiction.ne("VN"))
        .filter(ip_rights::Column::Status.is_in([registered, IpRightStatus::Filed.as_str()]))
        .filter(ip_rights::Column::FarmProduct.eq(true))
        .select_only()
        .columns([
            ip_rights::Column::Id,
            ip_rights::Column::RegisteredOn,
            ip_rights::Column::Product,
            ip_rights::Column::Name,
            ip_rights::Column::Status,
        ])
        .into_tuple::<(
            i32,
            Option<chrono::NaiveDate>,
            Option<String>,
            String,
            Option<String>,
        )>()
        .all(db)
        .await?;
    // A right that names no product stands for a product of its own.
    let product =
        |product: &Option<String>, name: &str| search_key(product.as_deref().unwrap_or(name));
    let granted = |status: &Option<String>| status.as_deref() == Some(registered);
    let breakdown = filed_and_granted(
        &abroad
            .iter()
            .map(|(_, _, p, name, status)| (product(p, name), granted(status)))
            .collect::<Vec<_>>(),
    );
    let counted = first_per_key(abroad.iter().filter(|r| granted(&r.4)).map(
        |(id, registered, p, name, _)| {
            (
                product(p, name),
                contribution(RecordKind::IpRight, *id, registered.map(|d| d.year())),
            )
        },
    ));
    Ok((counted, breakdown))
}

/// Technology assessments of the plan period (from its first year; an unknown year
/// counts): the first in each key industry counts, in its year; beside them, every
/// industry assessed with its enterprises.
async fn technology_assessments(
    db: &DatabaseConnection,
    first_year: i32,
    key_industries: &[String],
) -> Result<(Vec<Contribution<RecordRef>>, Vec<BreakdownRow>), StoreError> {
    use technology_assessments::Column;
    let assessments = technology_assessments::Entity::find()
        .filter(active!(technology_assessments))
        .filter(
            Condition::any()
                .add(Column::Year.is_null())
                .add(Column::Year.gte(first_year)),
        )
        .select_only()
        .columns([
            Column::Id,
            Column::Year,
            Column::Industry,
            Column::EnterpriseId,
            Column::EnterpriseName,
        ])
        .into_tuple::<(i32, Option<i32>, Option<String>, Option<i32>, String)>()
        .all(db)
        .await?;
    let folded = |industry: &Option<String>| {
        industry
            .as_deref()
            .map(search_key)
            .filter(|key| !key.is_empty())
    };
    let coverage = industry_coverage(
        &assessments
            .iter()
            .map(|(_, _, industry, enterprise_id, name)| {
                let enterprise =
                    enterprise_id.map_or_else(|| search_key(name), |id| id.to_string());
                (industry.clone(), folded(industry), enterprise)
            })
            .collect::<Vec<_>>(),
        key_industries,
    );
    let counted = first_per_key(assessments.iter().filter_map(|(id, year, industry, _, _)| {
        folded(industry)
            .filter(|key| key_industries.contains(key))
            .map(|key| {
                (
                    key,
                    contribution(RecordKind::TechnologyAssessment, *id, *year),
                )
            })
    }));
    Ok((counted, coverage))
}
