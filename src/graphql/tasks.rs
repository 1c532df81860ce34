//! The list of plan tasks, with the same filter, order and page vocabulary as records.

use async_graphql::{Context, Enum, Object};

use super::list::{Connection, PageArgs, SortDirection, StringFilter, checked_filter, combine};
use super::objects::Task;
use crate::db::entities::tasks;
use crate::domain::filter::{
    FieldDef, FieldType, Filter, FilterError, Lookup, any_text, field_filter, lookup_filter,
};
use crate::domain::plan::SectionNumeral;
use crate::domain::records::RecordKind;
use crate::graphql::list::Conditions;
use crate::store::records::SortKey;

const STATUSES: &[&str] = &["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "DELAYED"];

/// Conditions on plan tasks; all given fields must hold.
#[derive(async_graphql::InputObject, Debug, Clone, Default)]
pub struct TaskFilter {
    /// Stable task code ("II.3", "II.3.i").
    pub code: Option<StringFilter>,
    /// The section's published numeral ("I" … "VII").
    pub section: Option<StringFilter>,
    /// The lead agency, by code ("so-khcn"), name or alias ("Sở KHCN").
    pub lead_agency: Option<StringFilter>,
    /// A coordinating agency or group, by code, name or alias.
    pub coordinator: Option<StringFilter>,
    /// Progress reported by the lead agency: NOT_STARTED, IN_PROGRESS, COMPLETED, DELAYED.
    pub status: Option<StringFilter>,
    /// Tasks with linked records of these kinds (OCOP_PRODUCT, IP_RIGHT…).
    pub linked_record_kind: Option<StringFilter>,
    /// The task text; `contains` ignores case and diacritics.
    pub text: Option<StringFilter>,
    /// Top-level tasks only (true) or sub-tasks only (false).
    pub top_level: Option<bool>,
    pub and: Option<Vec<TaskFilter>>,
    pub or: Option<Vec<TaskFilter>>,
    pub not: Option<Box<TaskFilter>>,
}

fn section_numeral(at: &str, text: &str) -> Result<String, FilterError> {
    SectionNumeral::parse(text.trim())
        .map(|n| n.as_str().to_owned())
        .map_err(|e| FilterError {
            path: at.to_owned(),
            message: e.to_string(),
        })
}

fn record_kind(at: &str, text: &str) -> Result<String, FilterError> {
    RecordKind::parse(text)
        .map(|k| k.as_str().to_owned())
        .map_err(|e| FilterError {
            path: at.to_owned(),
            message: e.to_string(),
        })
}

impl TaskFilter {
    pub fn to_filter(&self, path: &str) -> Result<Filter, FilterError> {
        let mut parts = Vec::new();
        if let Some(input) = &self.code {
            let def = FieldDef {
                name: "code",
                column: "code",
                ty: FieldType::Text,
            };
            parts.push(field_filter(
                &def,
                &format!("{path}.code"),
                input.conditions(),
            )?);
        }
        if let Some(input) = &self.text {
            let def = FieldDef {
                name: "text",
                column: "text",
                ty: FieldType::FoldedText {
                    folded: "search_key",
                },
            };
            parts.push(field_filter(
                &def,
                &format!("{path}.text"),
                input.conditions(),
            )?);
        }
        if let Some(input) = &self.status {
            let def = FieldDef {
                name: "status",
                column: "progress_status",
                ty: FieldType::Vocabulary(STATUSES),
            };
            parts.push(field_filter(
                &def,
                &format!("{path}.status"),
                input.conditions(),
            )?);
        }
        if let Some(input) = &self.section {
            parts.push(lookup_filter(
                "section_id",
                &format!("{path}.section"),
                input.conditions(),
                section_numeral,
                Lookup::Sections,
            )?);
        }
        if let Some(input) = &self.lead_agency {
            parts.push(lookup_filter(
                "lead_agency_id",
                &format!("{path}.leadAgency"),
                input.conditions(),
                any_text,
                Lookup::LeadAgencies,
            )?);
        }
        if let Some(input) = &self.coordinator {
            parts.push(lookup_filter(
                "id",
                &format!("{path}.coordinator"),
                input.conditions(),
                any_text,
                Lookup::Coordinators,
            )?);
        }
        if let Some(input) = &self.linked_record_kind {
            parts.push(lookup_filter(
                "id",
                &format!("{path}.linkedRecordKind"),
                input.conditions(),
                record_kind,
                Lookup::LinkedKinds,
            )?);
        }
        if let Some(top_level) = self.top_level {
            let def = FieldDef {
                name: "topLevel",
                column: "parent_id",
                ty: FieldType::Int {
                    min: 0,
                    max: i64::MAX,
                },
            };
            let conditions = crate::domain::filter::FieldConditions {
                is_null: Some(top_level),
                ..Default::default()
            };
            parts.push(field_filter(&def, &format!("{path}.topLevel"), conditions)?);
        }
        combine(
            parts,
            path,
            self.and.as_deref(),
            self.or.as_deref(),
            self.not.as_deref(),
            Self::to_filter,
        )
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TaskOrderField {
    /// Published order (section, then number).
    Position,
    Code,
    Status,
}

impl TaskOrderField {
    fn column(self) -> &'static str {
        match self {
            Self::Position => "id",
            Self::Code => "code",
            Self::Status => "progress_status",
        }
    }
}

/// One sort key of `orderBy`. Nulls sort last in either direction.
#[derive(async_graphql::InputObject, Debug, Clone)]
pub struct TaskOrderBy {
    pub field: TaskOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

/// The sort keys of `orderBy`, or the published order.
fn sort_keys(order_by: Option<Vec<TaskOrderBy>>) -> Vec<SortKey> {
    match order_by {
        Some(keys) if !keys.is_empty() => keys
            .into_iter()
            .map(|k| SortKey {
                column: k.field.column(),
                descending: k.direction == SortDirection::Desc,
            })
            .collect(),
        _ => vec![SortKey::asc("id")],
    }
}

#[derive(Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// Plan tasks (top-level and sub-tasks), filtered, sorted and paged; published order
    /// by default.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::limits::list_complexity(child_complexity)")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilter>,
        order_by: Option<Vec<TaskOrderBy>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Connection<Task>> {
        let filter = checked_filter(filter.as_ref(), |f, p| f.to_filter(p))?;
        let sort = sort_keys(order_by);
        let args = super::records::ListArgs {
            filter,
            sort,
            page: PageArgs {
                first,
                after,
                last,
                before,
            },
            include_inactive: true,
        };
        super::records::list_page::<tasks::Entity, Task>(
            ctx,
            "tasks",
            args,
            |task| Task(std::sync::Arc::unwrap_or_clone(task)),
            |_| None,
        )
        .await
    }
}
