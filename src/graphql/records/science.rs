//! S&T tasks (đề tài, dự án), application models transferred, and technology
//! assessments of enterprises.

use async_graphql::{Context, Enum};

use super::{Organisation, load_organisation, record_object, record_queries};
use crate::db::entities::{application_models, science_tasks, technology_assessments};
use crate::domain::records::RecordKind;
use crate::graphql::list::{DateFilter, IntFilter, SortField, StringFilter, filter_input};
use crate::graphql::scalars::{BigInt, Date};
use crate::store::records::SortKey;

const LEVELS: &[&str] = &["NATIONAL", "PROVINCIAL", "GRASSROOTS"];
const STATUSES: &[&str] = &["APPROVED", "IN_PROGRESS", "ACCEPTED", "CANCELLED"];

record_object! {
    /// An S&T task (nhiệm vụ KHCN: đề tài, dự án).
    ScienceTask(science_tasks::Model), RecordKind::ScienceTask, {
        /// The task's registry code.
        async fn code(&self) -> Option<&str> {
            self.0.code.as_deref()
        }

        async fn title(&self) -> &str {
            &self.0.title
        }

        /// NATIONAL, PROVINCIAL or GRASSROOTS.
        async fn level(&self) -> Option<&str> {
            self.0.level.as_deref()
        }

        /// The host institution (đơn vị chủ trì).
        async fn host(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
            load_organisation(ctx, self.0.host_id).await
        }

        async fn budget_vnd(&self) -> Option<BigInt> {
            self.0.budget_vnd.map(BigInt)
        }

        async fn start_on(&self) -> Option<Date> {
            self.0.start_on.map(Date)
        }

        async fn end_on(&self) -> Option<Date> {
            self.0.end_on.map(Date)
        }

        /// APPROVED, IN_PROGRESS, ACCEPTED (nghiệm thu) or CANCELLED.
        async fn status(&self) -> Option<&str> {
            self.0.status.as_deref()
        }
    }
}

filter_input! {
    /// Conditions on S&T tasks; all given fields must hold.
    ScienceTaskFilter, "SCIENCE_TASK" {
        code: StringFilter => ("code", "code", FieldType::Text),
        title: StringFilter => ("title", "title", FieldType::FoldedText { folded: "search_key" }),
        level: StringFilter => ("level", "level", FieldType::Vocabulary(LEVELS)),
        status: StringFilter => ("status", "status", FieldType::Vocabulary(STATUSES)),
        start_on: DateFilter => ("startOn", "start_on", FieldType::Date),
        end_on: DateFilter => ("endOn", "end_on", FieldType::Date),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ScienceTaskOrderField {
    Code,
    Title,
    StartOn,
    EndOn,
    BudgetVnd,
    UpdatedAt,
}

impl SortField for ScienceTaskOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Title => "title",
            Self::StartOn => "start_on",
            Self::EndOn => "end_on",
            Self::BudgetVnd => "budget_vnd",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    ScienceTaskQuery,
    science_tasks,
    science_task,
    ScienceTask,
    science_tasks::Entity,
    RecordKind::ScienceTask,
    ScienceTaskFilter,
    ScienceTaskOrderField,
    [SortKey {
        column: "start_on",
        descending: false
    }]
);

record_object! {
    /// An S&T application model transferred (mô hình ứng dụng, chuyển giao công nghệ).
    ApplicationModel(application_models::Model), RecordKind::ApplicationModel, {
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// Field (lĩnh vực).
        async fn field(&self) -> Option<&str> {
            self.0.field.as_deref()
        }

        async fn host(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
            load_organisation(ctx, self.0.host_id).await
        }

        async fn year_transferred(&self) -> Option<i32> {
            self.0.year_transferred
        }
    }
}

filter_input! {
    /// Conditions on application models; all given fields must hold.
    ApplicationModelFilter, "APPLICATION_MODEL" {
        title: StringFilter => ("title", "title", FieldType::FoldedText { folded: "search_key" }),
        field: StringFilter => ("field", "field", FieldType::Text),
        year_transferred: IntFilter => ("yearTransferred", "year_transferred", FieldType::Int { min: 1900, max: 2100 }),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ApplicationModelOrderField {
    Title,
    Field,
    YearTransferred,
    UpdatedAt,
}

impl SortField for ApplicationModelOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Field => "field",
            Self::YearTransferred => "year_transferred",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    ApplicationModelQuery,
    application_models,
    application_model,
    ApplicationModel,
    application_models::Entity,
    RecordKind::ApplicationModel,
    ApplicationModelFilter,
    ApplicationModelOrderField,
    [SortKey {
        column: "year_transferred",
        descending: false
    }]
);

record_object! {
    /// An assessment of an enterprise's technology level (đánh giá trình độ công nghệ).
    TechnologyAssessment(technology_assessments::Model), RecordKind::TechnologyAssessment, {
        async fn enterprise(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
            load_organisation(ctx, self.0.enterprise_id).await
        }

        /// The enterprise's name as the assessment gives it.
        async fn enterprise_name(&self) -> &str {
            &self.0.enterprise_name
        }

        async fn industry(&self) -> Option<&str> {
            self.0.industry.as_deref()
        }

        async fn year(&self) -> Option<i32> {
            self.0.year
        }

        /// The assessed level, as the assessment states it.
        async fn level(&self) -> Option<&str> {
            self.0.level.as_deref()
        }
    }
}

filter_input! {
    /// Conditions on technology assessments; all given fields must hold.
    TechnologyAssessmentFilter, "TECHNOLOGY_ASSESSMENT" {
        enterprise_name: StringFilter => ("enterpriseName", "enterprise_name", FieldType::FoldedText { folded: "search_key" }),
        industry: StringFilter => ("industry", "industry", FieldType::Text),
        year: IntFilter => ("year", "year", FieldType::Int { min: 1900, max: 2100 }),
        level: StringFilter => ("level", "level", FieldType::Text),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TechnologyAssessmentOrderField {
    EnterpriseName,
    Industry,
    Year,
    UpdatedAt,
}

impl SortField for TechnologyAssessmentOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::EnterpriseName => "enterprise_name",
            Self::Industry => "industry",
            Self::Year => "year",
            Self::UpdatedAt => "updated_at",
        }
    }
}

record_queries!(
    TechnologyAssessmentQuery,
    technology_assessments,
    technology_assessment,
    TechnologyAssessment,
    technology_assessments::Entity,
    RecordKind::TechnologyAssessment,
    TechnologyAssessmentFilter,
    TechnologyAssessmentOrderField,
    [SortKey {
        column: "year",
        descending: false
    }]
);

/// An S&T task as an agency pushes it.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScienceTaskInput {
    pub code: Option<String>,
    pub title: String,
    /// NATIONAL, PROVINCIAL or GRASSROOTS.
    pub level: Option<String>,
    /// The host institution, matched by tax code or name, created when new.
    pub host: Option<crate::graphql::mutations::OrganisationInput>,
    /// Budget in VND, not negative.
    pub budget_vnd: Option<BigInt>,
    pub start_on: Option<Date>,
    pub end_on: Option<Date>,
    /// APPROVED, IN_PROGRESS, ACCEPTED or CANCELLED.
    pub status: Option<String>,
}

impl ScienceTaskInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        _refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<science_tasks::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::domain::records::{ScienceTaskLevel, ScienceTaskStatus};
        use crate::graphql::mutations::{CODE, NAME, content, organisation};
        let start_on = self.start_on.map(|d| d.0);
        let end_on = self.end_on.map(|d| d.0);
        check.date_order(("startOn", start_on), ("endOn", end_on));
        let model = content!(science_tasks {
            code: check.opt_text("code", self.code.as_deref(), CODE),
            title: check.text("title", &self.title, NAME),
            level: check
                .term("level", self.level.as_deref(), ScienceTaskLevel::parse)
                .map(|l| l.as_str().to_owned()),
            host_id: None,
            budget_vnd: self
                .budget_vnd
                .map(|b| check.int_range("budgetVnd", b.0, 0, i64::MAX)),
            start_on,
            end_on,
            status: check
                .term("status", self.status.as_deref(), ScienceTaskStatus::parse)
                .map(|s| s.as_str().to_owned()),
        });
        let organisation = organisation(&mut check, "host", self.host.as_ref());
        check.finish(crate::store::writes::Draft {
            model,
            organisation,
            support_events: None,
        })
    }
}

crate::graphql::mutations::record_mutations!(
    ScienceTaskMutation,
    ScienceTask,
    science_tasks::Model,
    ScienceTaskInput,
    ScienceTaskUpsertResult,
    create_science_task,
    update_science_task,
    archive_science_task,
    upsert_science_task,
    import_science_tasks
);

/// An application model (a transfer of results into use) as an agency pushes it.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationModelInput {
    pub title: String,
    pub field: Option<String>,
    pub host: Option<crate::graphql::mutations::OrganisationInput>,
    pub year_transferred: Option<i32>,
}

impl ApplicationModelInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        _refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<application_models::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::graphql::mutations::{NAME, content, organisation};
        let model = content!(application_models {
            title: check.text("title", &self.title, NAME),
            field: check.opt_text("field", self.field.as_deref(), NAME),
            host_id: None,
            year_transferred: check.opt_year("yearTransferred", self.year_transferred),
        });
        let organisation = organisation(&mut check, "host", self.host.as_ref());
        check.finish(crate::store::writes::Draft {
            model,
            organisation,
            support_events: None,
        })
    }
}

crate::graphql::mutations::record_mutations!(
    ApplicationModelMutation,
    ApplicationModel,
    application_models::Model,
    ApplicationModelInput,
    ApplicationModelUpsertResult,
    create_application_model,
    update_application_model,
    archive_application_model,
    upsert_application_model,
    import_application_models
);

/// A technology assessment of an enterprise as an agency pushes it.
#[derive(async_graphql::InputObject, Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TechnologyAssessmentInput {
    /// The enterprise assessed, matched by tax code or name, created when new.
    pub enterprise: crate::graphql::mutations::OrganisationInput,
    pub industry: Option<String>,
    pub year: Option<i32>,
    /// The technology level found.
    pub level: Option<String>,
}

impl TechnologyAssessmentInput {
    pub(crate) fn to_draft(
        &self,
        mut check: crate::domain::validate::Checker,
        _refs: &crate::graphql::mutations::Refs,
    ) -> Result<
        crate::store::writes::Draft<technology_assessments::Model>,
        Vec<crate::domain::validate::FieldError>,
    > {
        use crate::graphql::mutations::{NAME, content, organisation};
        let organisation = organisation(&mut check, "enterprise", Some(&self.enterprise));
        let model = content!(technology_assessments {
            enterprise_id: None,
            enterprise_name: organisation
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            industry: check.opt_text("industry", self.industry.as_deref(), NAME),
            year: check.opt_year("year", self.year),
            level: check.opt_text("level", self.level.as_deref(), NAME),
        });
        check.finish(crate::store::writes::Draft {
            model,
            organisation,
            support_events: None,
        })
    }
}

crate::graphql::mutations::record_mutations!(
    TechnologyAssessmentMutation,
    TechnologyAssessment,
    technology_assessments::Model,
    TechnologyAssessmentInput,
    TechnologyAssessmentUpsertResult,
    create_technology_assessment,
    update_technology_assessment,
    archive_technology_assessment,
    upsert_technology_assessment,
    import_technology_assessments
);
