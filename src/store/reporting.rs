//! Annual reports and who is overdue with theirs.

use std::collections::HashSet;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;
use crate::db::entities::{agencies, annual_reports, task_coordinators, tasks};
use crate::domain::reporting::{deadline_passed, submitted_on_time};

/// The reports for `year`, by agency.
pub async fn reports_for_year(
    db: &DatabaseConnection,
    year: i32,
) -> Result<Vec<annual_reports::Model>, StoreError> {
    Ok(annual_reports::Entity::find()
        .filter(annual_reports::Column::Year.eq(year))
        .filter(annual_reports::Column::ArchivedAt.is_null())
        .filter(annual_reports::Column::WithdrawnAt.is_null())
        .order_by_asc(annual_reports::Column::AgencyId)
        .order_by_asc(annual_reports::Column::Id)
        .all(db)
        .await?)
}

/// Agencies with tasks in the plan (leading or coordinating) and no report for `year`
/// submitted before 15 December of that year, as of `today`. Before the deadline
/// nobody is overdue yet.
pub async fn overdue_agencies(
    db: &DatabaseConnection,
    plan_id: Option<i32>,
    year: i32,
    today: NaiveDate,
) -> Result<Vec<agencies::Model>, StoreError> {
    if !deadline_passed(year, today) {
        return Ok(Vec::new());
    }
    let mut plan_tasks = tasks::Entity::find();
    if let Some(plan_id) = plan_id {
        plan_tasks = plan_tasks.filter(tasks::Column::PlanId.eq(plan_id));
    }
    let plan_tasks = plan_tasks.all(db).await?;
    let task_ids: Vec<i32> = plan_tasks.iter().map(|t| t.id).collect();
    let mut involved: HashSet<i32> = plan_tasks.iter().filter_map(|t| t.lead_agency_id).collect();
    let coordinators = task_coordinators::Entity::find()
        .filter(task_coordinators::Column::TaskId.is_in(task_ids))
        .filter(task_coordinators::Column::AgencyId.is_not_null())
        .all(db)
        .await?;
    involved.extend(coordinators.iter().filter_map(|c| c.agency_id));
    let on_time: HashSet<i32> = reports_for_year(db, year)
        .await?
        .into_iter()
        .filter(|r| submitted_on_time(r.year, r.submitted_on))
        .map(|r| r.agency_id)
        .collect();
    let overdue: Vec<i32> = involved.difference(&on_time).copied().collect();
    Ok(agencies::Entity::find()
        .filter(agencies::Column::Id.is_in(overdue))
        .order_by_asc(agencies::Column::Id)
        .all(db)
        .await?)
}
