//! Annual reports, who owes one for a year, and who is overdue with theirs.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;
use crate::db::entities::{agencies, annual_reports};
use crate::domain::reporting::{
    BodyKind, Duty, ReportStatus, deadline_passed, report_status, yearly_report_duty,
};

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

/// Every body the yearly report rule applies to for `year` (those that owe it and those
/// that ceased before its deadline), with the date of its report for that year, if any;
/// in agency order.
pub async fn yearly_report_duties(
    db: &DatabaseConnection,
    year: i32,
) -> Result<Vec<BodyDuty>, StoreError> {
    let mut submitted: HashMap<i32, NaiveDate> = HashMap::new();
    for report in reports_for_year(db, year).await? {
        if let Some(day) = report.submitted_on {
            // The earliest report counts: a later replacement does not make it late.
            let earliest = submitted.entry(report.agency_id).or_insert(day);
            *earliest = (*earliest).min(day);
        }
    }
    let bodies = agencies::Entity::find()
        .filter(agencies::Column::Kind.is_not_null())
        .order_by_asc(agencies::Column::Id)
        .all(db)
        .await?;
    Ok(bodies
        .into_iter()
        .filter_map(|agency| {
            let kind = agency.kind.as_deref().and_then(BodyKind::parse);
            let duty = yearly_report_duty(kind, agency.valid_from, agency.valid_to, year);
            (duty != Duty::None).then(|| BodyDuty {
                submitted_on: submitted.get(&agency.id).copied(),
                agency,
                duty,
            })
        })
        .collect())
}

/// One body under the yearly report rule for a year.
#[derive(Debug, Clone)]
pub struct BodyDuty {
    pub agency: agencies::Model,
    pub duty: Duty,
    pub submitted_on: Option<NaiveDate>,
}

/// Bodies that owe the report for `year` (departments and district committees existing on
/// its deadline) and have none submitted before 15 December of that year, as of `today`.
/// Before the deadline nobody is overdue yet.
pub async fn overdue_agencies(
    db: &DatabaseConnection,
    year: i32,
    today: NaiveDate,
) -> Result<Vec<agencies::Model>, StoreError> {
    if !deadline_passed(year, today) {
        return Ok(Vec::new());
    }
    Ok(yearly_report_duties(db, year)
        .await?
        .into_iter()
        .filter(|d| {
            report_status(d.duty, d.submitted_on, year, today).is_some_and(ReportStatus::is_overdue)
        })
        .map(|d| d.agency)
        .collect())
}
