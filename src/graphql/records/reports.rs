//! What annual reports add to their kind's fields: who is overdue, and submitting the
//! caller's report for a year.

use async_graphql::{Context, Object};

use super::inputs::KindInput;
use super::results::invalid;
use crate::domain::validate::Checker;
use crate::graphql::context::{database, feed, refs, writer};
use crate::graphql::error::ApiResult;
use crate::graphql::objects::{Agency, RecordNode};
use crate::graphql::scalars::Date;
use crate::records::Kind;
use crate::records::annual_report::AnnualReport;

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Agencies with tasks in the plan and no report for `year` submitted before
    /// 15 December of that year, as of `asOf` (today by default). Empty before the
    /// deadline. `plan` narrows to one plan's agencies.
    #[graphql(complexity = "crate::graphql::limits::list_complexity(child_complexity)")]
    async fn overdue_reports(
        &self,
        ctx: &Context<'_>,
        year: i32,
        plan: Option<String>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<Vec<Agency>> {
        let db = database(ctx)?;
        let plan_id = match plan {
            Some(code) => match crate::store::plan::find_plan(db, &code).await.api()? {
                Some(plan) => Some(plan.id),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let today = as_of.map_or_else(|| chrono::Utc::now().date_naive(), |d| d.0);
        Ok(
            crate::store::reporting::overdue_agencies(db, plan_id, year, today)
                .await
                .api()?
                .into_iter()
                .map(Agency)
                .collect(),
        )
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
