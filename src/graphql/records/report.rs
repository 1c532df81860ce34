//! Annual reports (báo cáo định kỳ): every agency reports yearly, before 15 December.

use async_graphql::{Context, Enum, ID};

use super::{LinkedRecord, list_page, load_records, parse_record_id, record_object};
use crate::db::entities::annual_reports;
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::reporting::submitted_on_time;
use crate::graphql::agency::Agency;
use crate::graphql::error::ApiResult;
use crate::graphql::list::{
    Connection, DateFilter, IntFilter, OrderBy, PageArgs, SortField, checked_filter, filter_input,
    sort_keys,
};
use crate::graphql::plan::{database, load_agency};
use crate::graphql::scalars::Date;
use crate::store::records::SortKey;

record_object! {
    /// An agency's yearly report on the plan.
    AnnualReport(annual_reports::Model), RecordKind::AnnualReport, {
        async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
            load_agency(ctx, Some(self.0.agency_id)).await
        }

        /// The year reported on.
        async fn year(&self) -> i32 {
            self.0.year
        }

        async fn submitted_on(&self) -> Option<Date> {
            self.0.submitted_on.map(Date)
        }

        /// Whether it arrived before 15 December of its year.
        async fn on_time(&self) -> bool {
            submitted_on_time(self.0.year, self.0.submitted_on)
        }

        async fn summary(&self) -> Option<&str> {
            self.0.summary.as_deref()
        }
    }
}

filter_input! {
    /// Conditions on annual reports; all given fields must hold.
    AnnualReportFilter, "ANNUAL_REPORT" {
        year: IntFilter => ("year", "year", FieldType::Int { min: 2000, max: 2100 }),
        submitted_on: DateFilter => ("submittedOn", "submitted_on", FieldType::Date),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AnnualReportOrderField {
    Year,
    SubmittedOn,
    UpdatedAt,
}

impl SortField for AnnualReportOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Year => "year",
            Self::SubmittedOn => "submitted_on",
            Self::UpdatedAt => "updated_at",
        }
    }
}

#[derive(Default)]
pub struct AnnualReportQuery;

#[async_graphql::Object]
impl AnnualReportQuery {
    /// Annual reports, filtered and paged; `year` is a shortcut for
    /// `filter: { year: { eq: … } }`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::limits::list_complexity(child_complexity)")]
    async fn annual_reports(
        &self,
        ctx: &Context<'_>,
        year: Option<i32>,
        filter: Option<AnnualReportFilter>,
        order_by: Option<Vec<OrderBy<AnnualReportOrderField>>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default = false)] include_inactive: bool,
    ) -> async_graphql::Result<Connection<AnnualReport>> {
        let filter = match year {
            Some(year) => {
                let mut combined = filter.unwrap_or_default();
                let by_year = AnnualReportFilter {
                    year: Some(IntFilter {
                        eq: Some(year),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                combined.and = Some(
                    combined
                        .and
                        .unwrap_or_default()
                        .into_iter()
                        .chain([by_year])
                        .collect(),
                );
                Some(combined)
            }
            None => filter,
        };
        let filter = checked_filter(filter.as_ref(), |f, p| f.to_filter(p))?;
        let sort = sort_keys(
            order_by,
            &[SortKey {
                column: "year",
                descending: false,
            }],
        );
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        list_page::<annual_reports::Entity, AnnualReport>(
            ctx,
            RecordKind::AnnualReport.table(),
            filter,
            sort,
            page,
            include_inactive,
            |model| AnnualReport(std::sync::Arc::new(model)),
            |_| None,
        )
        .await
    }

    /// One annual report by id; null when unknown.
    async fn annual_report(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<AnnualReport>> {
        let id = parse_record_id(&id, RecordKind::AnnualReport)?;
        let found = load_records(
            ctx,
            [RecordRef {
                kind: RecordKind::AnnualReport,
                id,
            }],
        )
        .await?;
        Ok(found.into_iter().find_map(|record| match record {
            LinkedRecord::AnnualReport(node) => Some(node),
            _ => None,
        }))
    }

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

/// An annual report as an agency submits it.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnnualReportInput {
    /// The reporting agency's code; an agency token reports for its own agency and may
    /// leave this out.
    pub agency: Option<String>,
    /// The year reported on.
    pub year: i32,
    /// When it was submitted; `submitAnnualReport` defaults it to today.
    pub submitted_on: Option<Date>,
    pub summary: Option<String>,
}

impl AnnualReportInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<annual_reports::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::graphql::mutations::{TEXT, content};
        let agency_id = match self.agency.as_deref() {
            Some(code) => refs.agency(&mut check, "agency", Some(code)),
            None => refs.caller_agency,
        };
        if agency_id.is_none() && self.agency.is_none() {
            check.fail(
                "agency",
                "is required: name the reporting agency by its code",
            );
        }
        let model = content!(annual_reports {
            agency_id: agency_id.unwrap_or_default(),
            year: check.int_range("year", i64::from(self.year), 2000, 2100) as i32,
            submitted_on: self.submitted_on.map(|d| d.0),
            summary: check.opt_text("summary", self.summary.as_deref(), TEXT),
        });
        check.finish(crate::store::writes::Draft::new(model))
    }
}

crate::graphql::mutations::record_mutations!(
    AnnualReportMutation,
    AnnualReport,
    annual_reports::Model,
    AnnualReportInput,
    AnnualReportUpsertResult,
    create_annual_report,
    update_annual_report,
    archive_annual_report,
    upsert_annual_report,
    import_annual_reports
);

#[derive(Default)]
pub struct ReportSubmission;

#[async_graphql::Object]
impl ReportSubmission {
    /// Submits the caller's report for a year: creates it, or replaces the one already
    /// submitted for that agency and year. `submittedOn` defaults to today.
    async fn submit_annual_report(
        &self,
        ctx: &Context<'_>,
        input: AnnualReportInput,
    ) -> async_graphql::Result<AnnualReport> {
        let writer = crate::graphql::mutations::writer(ctx)?;
        let refs = crate::graphql::mutations::Refs::load(ctx, &writer).await?;
        let mut draft = input
            .to_draft(crate::domain::validate::Checker::new("input"), &refs)
            .map_err(crate::graphql::mutations::invalid)?;
        if draft.model.submitted_on.is_none() {
            draft.model.submitted_on = Some(chrono::Utc::now().date_naive());
        }
        let written = crate::store::writes::submit_report(
            database(ctx)?,
            crate::graphql::mutations::feed(ctx)?,
            &writer,
            draft,
        )
        .await
        .api()?;
        Ok(AnnualReport(std::sync::Arc::new(written.model)))
    }
}
