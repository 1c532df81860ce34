//! What annual reports add to their kind's fields: who is overdue, and submitting the
//! caller's report for a year.

use async_graphql::{Context, Object};

use super::inputs::KindInput;
use super::results::invalid;
use crate::domain::reporting::{Duty, ReportStatus, report_status};
use crate::domain::validate::Checker;
use crate::graphql::agency::successor_of;
use crate::graphql::context::{database, feed, refs, writer};
use crate::graphql::error::ApiResult;
use crate::graphql::objects::{Agency, RecordNode};
use crate::graphql::scalars::Date;
use crate::records::Kind;
use crate::records::annual_report::AnnualReport;
use crate::store::reporting::BodyDuty;

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Bodies that owe the report for `year` and have none submitted before 15 December of
    /// that year, as of `asOf` (today by default); empty before the deadline. Who owes it
    /// follows section IV.2 of the plan: the provincial departments and the district
    /// People's Committees that exist on the deadline. Bodies that ceased before it are
    /// not overdue (see `reportingObligations`). `plan`, when given, must name a loaded
    /// plan (else the list is empty).
    #[graphql(complexity = "crate::graphql::limits::list_complexity(child_complexity)")]
    async fn overdue_reports(
        &self,
        ctx: &Context<'_>,
        year: i32,
        plan: Option<String>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<Vec<Agency>> {
        let db = database(ctx)?;
        if let Some(code) = plan
            && crate::store::plan::find_plan(db, &code)
                .await
                .api()?
                .is_none()
        {
            return Ok(Vec::new());
        }
        Ok(
            crate::store::reporting::overdue_agencies(db, year, day_or_today(as_of))
                .await
                .api()?
                .into_iter()
                .map(Agency)
                .collect(),
        )
    }

    /// Every body the yearly report rule applies to for `year`, with where its report
    /// stands as of `asOf` (today by default): those that owe it (departments and district
    /// People's Committees existing on 15 December of the year) and those that ceased
    /// during the year before the deadline, with their successor. In agency order;
    /// `status` keeps only those in the given states.
    #[graphql(complexity = "crate::graphql::limits::list_complexity(child_complexity)")]
    async fn reporting_obligations(
        &self,
        ctx: &Context<'_>,
        year: i32,
        as_of: Option<Date>,
        status: Option<Vec<ReportStatus>>,
    ) -> async_graphql::Result<Vec<ReportingObligation>> {
        let today = day_or_today(as_of);
        Ok(
            crate::store::reporting::yearly_report_duties(database(ctx)?, year)
                .await
                .api()?
                .into_iter()
                .filter_map(|duty| {
                    report_status(duty.duty, duty.submitted_on, year, today)
                        .map(|status| ReportingObligation { duty, status })
                })
                .filter(|o| {
                    status
                        .as_ref()
                        .is_none_or(|wanted| wanted.contains(&o.status))
                })
                .collect(),
        )
    }
}

fn day_or_today(as_of: Option<Date>) -> chrono::NaiveDate {
    as_of.map_or_else(|| chrono::Utc::now().date_naive(), |d| d.0)
}

/// One body under the yearly report rule, and where its report for the year stands.
pub struct ReportingObligation {
    duty: BodyDuty,
    status: ReportStatus,
}

#[Object]
impl ReportingObligation {
    async fn agency(&self) -> Agency {
        Agency(self.duty.agency.clone())
    }

    async fn status(&self) -> ReportStatus {
        self.status
    }

    /// When its report for the year arrived (the earliest, if replaced).
    async fn submitted_on(&self) -> Option<Date> {
        self.duty.submitted_on.map(Date)
    }

    /// The last day the body existed, when it ceased before the deadline.
    async fn ceased_on(&self) -> Option<Date> {
        match self.duty.duty {
            Duty::Ceased { last_day } => Some(Date(last_day)),
            _ => None,
        }
    }

    /// The body its duties passed to, where one is recorded.
    async fn successor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        successor_of(ctx, &self.duty.agency).await
    }
}

#[derive(Default)]
pub struct ReportSubmission;

#[Object]
impl ReportSubmission {
    /// Submits the caller's report for a year: creates it, or replaces the one already
    /// submitted for that agency and year. `submittedOn` defaults to today.
    async fn submit_annual_report(
        &self,
        ctx: &Context<'_>,
        input: KindInput<AnnualReport>,
    ) -> async_graphql::Result<RecordNode<AnnualReport>> {
        let writer = writer(ctx)?;
        let refs = refs(ctx, &writer).await?;
        let mut draft =
            AnnualReport::draft(&input.input, Checker::new("input"), &refs).map_err(invalid)?;
        if draft.content.submitted_on.is_none() {
            draft.content.submitted_on = Some(chrono::Utc::now().date_naive());
        }
        let written =
            crate::store::writes::submit_report(database(ctx)?, feed(ctx)?, &writer, draft)
                .await
                .api()?;
        Ok(RecordNode::new(written.model))
    }
}
