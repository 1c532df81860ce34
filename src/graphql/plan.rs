//! The plan as the API serves it: plans, sections, tasks, targets and legal documents.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};

use super::agency::parties_of;
use super::context::{caller, database, plan_loader as loader, record_loader, snapshot};
use super::error::{ApiError, ApiResult};
use super::fetch::{load_agency, load_records};
use super::limits::list_complexity;
use super::loaders::{
    DocumentId, DocumentTasks, PlanClauses, PlanDocuments, PlanId, PlanSections, PlanTargets,
    SectionId, SectionTasks, TaskChildren, TaskCoordinators, TaskDocuments, TaskId,
};
use super::loaders::{PlanProgress, TaskLinks};
use super::objects::{
    Agency, CoordinatorEntry, LegalDocument, LinkedRecord, Party, Plan, Section, Target, Task,
};
use super::scalars::{BigInt, Date, DateTime};
use crate::domain::plan::{TargetKey, TargetKind};
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::targets as targets_rule;
use crate::store::plan as store;

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// A plan by its document number, e.g. "136/KH-UBND"; null when unknown.
    async fn plan(&self, ctx: &Context<'_>, code: String) -> async_graphql::Result<Option<Plan>> {
        let code = code.trim();
        let snapshot = snapshot(ctx).await?;
        Ok(snapshot
            .plans
            .iter()
            .find(|plan| plan.code == code)
            .cloned()
            .map(Plan))
    }

    /// Every plan the hub holds, oldest first.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn plans(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plan>> {
        let snapshot = snapshot(ctx).await?;
        let mut plans = snapshot.plans.clone();
        plans.sort_by_key(|p| (p.issued_on, p.id));
        Ok(plans.into_iter().map(Plan).collect())
    }

    /// A task by its stable code ("I.1" … "VII.5", sub-tasks "II.3.i" …); null when
    /// unknown. `plan` narrows the lookup when several plans use the same code.
    async fn task(
        &self,
        ctx: &Context<'_>,
        code: String,
        plan: Option<String>,
    ) -> async_graphql::Result<Option<Task>> {
        let snapshot = snapshot(ctx).await?;
        let plan_id = match plan.as_deref().map(str::trim) {
            Some(plan) => match snapshot.plans.iter().find(|p| p.code == plan) {
                Some(found) => Some(found.id),
                None => return Ok(None),
            },
            None => None,
        };
        let found: Vec<_> = snapshot
            .tasks_with_code(code.trim())
            .into_iter()
            .filter(|t| plan_id.is_none_or(|id| t.plan_id == id))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [task] => Ok(Some(Task((*task).clone()))),
            _ => Err(ApiError::BadUserInput(format!(
                "task code {code:?} is used by several plans; pass `plan`"
            ))
            .into_graphql()),
        }
    }

    /// A referenced legal document by its number, e.g. "32/KH-UBND".
    async fn legal_document(
        &self,
        ctx: &Context<'_>,
        number: String,
    ) -> async_graphql::Result<Option<LegalDocument>> {
        Ok(store::find_document(database(ctx)?, &number)
            .await
            .api()?
            .map(LegalDocument))
    }

    /// Every legal document the plans reference.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn legal_documents(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<LegalDocument>> {
        Ok(store::list_documents(database(ctx)?)
            .await
            .api()?
            .into_iter()
            .map(LegalDocument)
            .collect())
    }
}

impl Plan {
    async fn clauses(&self, ctx: &Context<'_>, kind: &str) -> async_graphql::Result<Vec<String>> {
        let clauses = loader(ctx)?
            .load_one(PlanClauses(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(clauses
            .into_iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.text)
            .collect())
    }
}

#[Object]
impl Plan {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The document number, e.g. "136/KH-UBND".
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// The kind of document ("Kế hoạch").
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The title as the plan's own text states it.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The title line exactly as printed at the head of the document.
    async fn heading(&self) -> Option<&str> {
        self.0.heading.as_deref()
    }

    async fn issued_on(&self) -> Date {
        Date(self.0.issued_on)
    }

    /// The issuing body as the document names it.
    async fn issuer(&self) -> &str {
        &self.0.issuer
    }

    async fn issuer_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.0.issuer_agency_id).await
    }

    /// Who signed the plan.
    async fn signer(&self) -> Option<&str> {
        self.0.signer.as_deref()
    }

    async fn signer_title(&self) -> Option<&str> {
        self.0.signer_title.as_deref()
    }

    /// The decision the plan carries out.
    async fn basis(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LegalDocument>> {
        let Some(id) = self.0.basis_document_id else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(DocumentId(id))
            .await
            .api()?
            .map(LegalDocument))
    }

    /// The opening paragraph, verbatim.
    async fn preamble(&self) -> Option<&str> {
        self.0.preamble.as_deref()
    }

    /// Purposes and requirements (mục đích, yêu cầu), in published order.
    async fn purposes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        self.clauses(ctx, "purpose").await
    }

    /// Funding sources (kinh phí thực hiện), in published order.
    async fn funding_sources(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        self.clauses(ctx, "funding_source").await
    }

    /// The organisation clauses (tổ chức thực hiện), in published order.
    async fn implementation(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        self.clauses(ctx, "implementation").await
    }

    /// The distribution list (nơi nhận), in published order.
    async fn recipients(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        self.clauses(ctx, "recipient").await
    }

    /// When every agency's yearly report is due: before this day each year.
    async fn reporting_deadline(&self) -> Option<ReportingDeadline> {
        let plan = &self.0;
        Some(ReportingDeadline {
            month: i32::from(plan.reporting_month?),
            day: i32::from(plan.reporting_day?),
            text: plan.reporting_text.clone(),
            via_agency_id: plan.reporting_via_agency_id,
            to_agency_id: plan.reporting_to_agency_id,
        })
    }

    /// Sections of the task appendix with their published numerals (there is no VI).
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn sections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Section>> {
        Ok(loader(ctx)?
            .load_one(PlanSections(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Section)
            .collect())
    }

    /// The key targets to 2025, in published order.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn targets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Target>> {
        Ok(loader(ctx)?
            .load_one(PlanTargets(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Target)
            .collect())
    }

    /// One key target.
    async fn target(
        &self,
        ctx: &Context<'_>,
        key: TargetKey,
    ) -> async_graphql::Result<Option<Target>> {
        let key = key.as_str();
        Ok(loader(ctx)?
            .load_one(PlanTargets(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .find(|t| t.key == key)
            .map(Target))
    }

    /// Legal documents the plan cites, in order of first mention (its basis first).
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn referenced_documents(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<LegalDocument>> {
        Ok(loader(ctx)?
            .load_one(PlanDocuments(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(LegalDocument)
            .collect())
    }
}

/// The yearly reporting rule: each agency reports before `month`/`day` every year.
pub struct ReportingDeadline {
    month: i32,
    day: i32,
    text: Option<String>,
    via_agency_id: Option<i32>,
    to_agency_id: Option<i32>,
}

#[Object]
impl ReportingDeadline {
    async fn month(&self) -> i32 {
        self.month
    }

    /// Reports are due strictly before this day of `month`.
    async fn day(&self) -> i32 {
        self.day
    }

    /// The rule as published.
    async fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The agency that compiles the reports.
    async fn via_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.via_agency_id).await
    }

    /// The body the reports go to.
    async fn to_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.to_agency_id).await
    }
}

#[Object]
impl Section {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The Roman numeral exactly as published ("VII" follows "V").
    async fn numeral(&self) -> &str {
        &self.0.numeral
    }

    /// Order within the plan, from 1.
    async fn position(&self) -> i32 {
        self.0.position
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Plan> {
        loader(ctx)?
            .load_one(PlanId(self.0.plan_id))
            .await
            .api()?
            .map(Plan)
            .ok_or_else(|| {
                ApiError::Internal(format!("section {} has no plan", self.0.id)).into_graphql()
            })
    }

    /// Top-level tasks, in published order (sub-tasks hang off their parent).
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(loader(ctx)?
            .load_one(SectionTasks(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Task)
            .collect())
    }
}

#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Stable code: "I.1" … "VII.5"; sub-tasks "II.3.i" … "II.3.v".
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// The number as published in the STT column ("3"), or the item label ("(ii)").
    async fn number(&self) -> &str {
        &self.0.number
    }

    /// Order among its siblings, from 1.
    async fn position(&self) -> i32 {
        self.0.position
    }

    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Plan> {
        loader(ctx)?
            .load_one(PlanId(self.0.plan_id))
            .await
            .api()?
            .map(Plan)
            .ok_or_else(|| {
                ApiError::Internal(format!("task {} has no plan", self.0.id)).into_graphql()
            })
    }

    async fn section(&self, ctx: &Context<'_>) -> async_graphql::Result<Section> {
        loader(ctx)?
            .load_one(SectionId(self.0.section_id))
            .await
            .api()?
            .map(Section)
            .ok_or_else(|| {
                ApiError::Internal(format!("task {} has no section", self.0.id)).into_graphql()
            })
    }

    /// The task and solution, verbatim.
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// The lead unit (đơn vị chủ trì); null when the published cell is empty.
    async fn lead_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.0.lead_agency_id).await
    }

    /// The lead cell exactly as published.
    async fn lead_text(&self) -> Option<&str> {
        self.0.lead_text.as_deref()
    }

    /// Coordinating parties (đơn vị phối hợp): agencies and groups, in published order.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn coordinators(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Party>> {
        let entries = self.coordinator_entries(ctx).await?;
        parties_of(ctx, &entries).await
    }

    /// The coordinator cell split into entries, each with the wording it was published with.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn coordinator_entries(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<CoordinatorEntry>> {
        Ok(loader(ctx)?
            .load_one(TaskCoordinators(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(CoordinatorEntry)
            .collect())
    }

    /// The coordinator cell exactly as published.
    async fn coordinators_text(&self) -> Option<&str> {
        self.0.coordinators_text.as_deref()
    }

    /// Form or deliverable (hình thức/sản phẩm); null when the cell is empty.
    async fn deliverable(&self) -> Option<&str> {
        self.0.deliverable.as_deref()
    }

    /// When the task runs; null when the cell is empty.
    async fn timeline(&self) -> Option<Timeline> {
        let text = self.0.timeline_text.clone()?;
        Some(Timeline {
            text,
            recurring: self.0.timeline_recurring.unwrap_or(false),
            start_year: self.0.timeline_start_year,
            end_year: self.0.timeline_end_year,
        })
    }

    /// The task this one is an item of (II.3 for II.3.i).
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Task>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(loader(ctx)?.load_one(TaskId(id)).await.api()?.map(Task))
    }

    /// Items of this task, in published order.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(loader(ctx)?
            .load_one(TaskChildren(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Task)
            .collect())
    }

    /// Records linked to this task (IP rights, OCOP products, startups…), in link order;
    /// `kinds` narrows to some kinds, `first` caps the list (default 20, at most 100).
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn linked_records(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<RecordKind>>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<LinkedRecord>> {
        let links = self.links(ctx, kinds, first).await?;
        load_records(ctx, links.iter().filter_map(link_ref)).await
    }

    /// The same links with who made each and when.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn record_links(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<RecordKind>>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<RecordLink>> {
        let links = self.links(ctx, kinds, first).await?;
        let records =
            crate::graphql::fetch::records_by_ref(ctx, links.iter().filter_map(link_ref)).await?;
        let caller = caller(ctx);
        Ok(links
            .iter()
            .filter_map(|link| {
                let record = LinkedRecord::clone(
                    records
                        .get(&link_ref(link)?)
                        .filter(|record| record.readable_by(caller))?,
                );
                Some(RecordLink {
                    record,
                    linked_by: link.linked_by.clone(),
                    linked_at: DateTime(link.linked_at),
                })
            })
            .collect())
    }

    /// How many records of each kind are linked to this task (archived and withdrawn
    /// records not counted), kinds in `RecordKind` order; kinds with none are left out.
    async fn linked_record_counts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<KindCount>> {
        Ok(record_loader(ctx)?
            .load_one(crate::graphql::loaders::TaskLinkCounts(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(|(kind, count)| KindCount {
                kind,
                count: i32::try_from(count).unwrap_or(i32::MAX),
            })
            .collect())
    }

    /// Progress reported by the lead agency: NOT_STARTED, IN_PROGRESS, COMPLETED or
    /// DELAYED; null until reported.
    async fn status(&self) -> Option<&str> {
        self.0.progress_status.as_deref()
    }

    async fn progress_note(&self) -> Option<&str> {
        self.0.progress_note.as_deref()
    }

    /// Links to the evidence of the reported progress.
    async fn progress_evidence(&self) -> Vec<String> {
        self.0
            .progress_evidence
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or_default()
    }

    /// When progress was last reported.
    async fn progress_updated_at(&self) -> Option<DateTime> {
        self.0.progress_updated_at.map(DateTime)
    }

    /// Who last reported progress (`agency:<code>` or `admin`).
    async fn progress_updated_by(&self) -> Option<&str> {
        self.0.progress_updated_by.as_deref()
    }

    /// Increases with every progress report; `updateTaskProgress` may name the
    /// version it expects.
    async fn progress_version(&self) -> BigInt {
        BigInt(self.0.progress_version)
    }

    /// Legal documents this task carries out.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn documents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LegalDocument>> {
        Ok(loader(ctx)?
            .load_one(TaskDocuments(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(LegalDocument)
            .collect())
    }
}

impl Task {
    async fn links(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<RecordKind>>,
        first: i32,
    ) -> async_graphql::Result<Arc<Vec<crate::db::entities::record_links::Model>>> {
        let kinds: Vec<RecordKind> = kinds.unwrap_or_default();
        let key = TaskLinks {
            task_id: self.0.id,
            kinds: TaskLinks::kind_set(&kinds),
            first: first.clamp(0, 100) as u32,
        };
        crate::graphql::fetch::task_links(ctx, key).await
    }
}

fn link_ref(link: &crate::db::entities::record_links::Model) -> Option<RecordRef> {
    RecordKind::parse(&link.record_kind)
        .ok()
        .map(|kind| RecordRef {
            kind,
            id: link.record_id,
        })
}

/// A number of records of one kind.
#[derive(SimpleObject)]
pub struct KindCount {
    pub kind: RecordKind,
    pub count: i32,
}

/// A link from a plan task to a record: which record, who linked it, and when.
#[derive(SimpleObject)]
pub struct RecordLink {
    pub record: LinkedRecord,
    /// `seed`, `sample`, or the agency or token that made the link.
    pub linked_by: String,
    pub linked_at: DateTime,
}

/// A task's timeline: the published text and its structured reading.
#[derive(SimpleObject)]
pub struct Timeline {
    /// As published, e.g. "Thường xuyên hàng năm" or "2022 - 2023".
    text: String,
    /// True when the task repeats every year.
    recurring: bool,
    /// First year of a year range.
    start_year: Option<i32>,
    /// Last year of a year range (inclusive).
    end_year: Option<i32>,
}

/// One line of what a target's figure is made of.
#[derive(SimpleObject)]
pub struct TargetBreakdown {
    /// `GRANTED` or `FILED` for `IP_ABROAD`; the industry as written for
    /// `TECHNOLOGY_ASSESSMENT` (null: not stated).
    pub key: Option<String>,
    /// Distinct farm products, or distinct enterprises assessed.
    pub count: i64,
    /// Records behind the line (IP rights, assessments).
    pub records: i64,
    /// Whether the line counts towards the target's figure.
    pub counts_towards_target: bool,
}

#[Object]
impl Target {
    async fn key(&self) -> async_graphql::Result<TargetKey> {
        TargetKey::parse(&self.0.key).map_err(|e| ApiError::Internal(e.to_string()).into_graphql())
    }

    async fn kind(&self) -> async_graphql::Result<TargetKind> {
        TargetKind::parse(&self.0.kind)
            .map_err(|e| ApiError::Internal(e.to_string()).into_graphql())
    }

    /// Order in the plan, from 1.
    async fn position(&self) -> i32 {
        self.0.position
    }

    /// The target as published, verbatim.
    async fn description(&self) -> &str {
        &self.0.text
    }

    async fn description_en(&self) -> Option<&str> {
        self.0.description_en.as_deref()
    }

    /// The number to reach ("at least"); null for a completion target.
    async fn target_value(&self) -> Option<i32> {
        self.0.target_value
    }

    /// What is counted, in Vietnamese.
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }

    async fn unit_en(&self) -> Option<&str> {
        self.0.unit_en.as_deref()
    }

    async fn due_year(&self) -> i32 {
        self.0.due_year
    }

    /// The value reached, computed from records (never typed in).
    async fn actual_value(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.measure(ctx, None).await?.0.actual)
    }

    /// actualValue / targetValue (1 once a completion target is done).
    async fn progress(&self, ctx: &Context<'_>) -> async_graphql::Result<f64> {
        Ok(self.measure(ctx, None).await?.0.ratio)
    }

    /// At or above the straight-line path from the plan's issue date to the target at
    /// the end of the due year, on `asOf` (today by default); after the due date, met.
    async fn on_track(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<bool> {
        Ok(self.measure(ctx, as_of).await?.0.on_track)
    }

    /// Where the straight-line path stands on `asOf` (today by default).
    async fn expected_value(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<f64> {
        Ok(self.measure(ctx, as_of).await?.0.expected)
    }

    /// The cumulative value at the end of each year of the plan period, beside the
    /// straight-line path.
    async fn by_year(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TargetYear>> {
        Ok(self
            .measure(ctx, None)
            .await?
            .0
            .by_year
            .into_iter()
            .map(|p| TargetYear {
                year: p.year,
                value: p.value,
                planned: p.planned,
                on_track: p.on_track,
            })
            .collect())
    }

    /// How `onTrack` is decided, in words.
    async fn on_track_rule(&self) -> &'static str {
        targets_rule::ON_TRACK_RULE
    }

    /// What the figure is made of, where the plan's words call for it: for `IP_ABROAD`,
    /// farm products with a right granted abroad (`GRANTED`, what meets the target) and
    /// those with an application filed and nothing granted (`FILED`); for
    /// `TECHNOLOGY_ASSESSMENT`, each industry assessed in the plan period with its
    /// enterprises (`counts`: a key industry). Empty for the other targets.
    async fn breakdown(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TargetBreakdown>> {
        let key = TargetKey::parse(&self.0.key)
            .map_err(|e| ApiError::Internal(e.to_string()).into_graphql())?;
        let all = loader(ctx)?
            .load_one(PlanProgress(self.0.plan_id))
            .await
            .api()?;
        Ok(all
            .and_then(|all| all.breakdowns.get(&key).cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|row| TargetBreakdown {
                key: row.key,
                count: row.count,
                records: row.records,
                counts_towards_target: row.counts,
            })
            .collect())
    }

    /// The records that count towards this target.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn contributing_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
    ) -> async_graphql::Result<Vec<LinkedRecord>> {
        let (_, counted) = self.measure(ctx, None).await?;
        let refs = counted
            .into_iter()
            .map(|c| c.record)
            .take(first.clamp(0, 500) as usize);
        load_records(ctx, refs).await
    }
}

impl Target {
    /// The target's progress and the records counted, from this request's batch.
    async fn measure(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<(
        targets_rule::Progress,
        Vec<targets_rule::Contribution<RecordRef>>,
    )> {
        let key = TargetKey::parse(&self.0.key)
            .map_err(|e| ApiError::Internal(e.to_string()).into_graphql())?;
        let kind = TargetKind::parse(&self.0.kind)
            .map_err(|e| ApiError::Internal(e.to_string()).into_graphql())?;
        let loader = loader(ctx)?;
        let (plan, contributions) = futures_util::future::try_join(
            loader.load_one(PlanId(self.0.plan_id)),
            loader.load_one(PlanProgress(self.0.plan_id)),
        )
        .await
        .api()?;
        let plan = plan.ok_or_else(|| {
            ApiError::Internal(format!("target {} has no plan", self.0.id)).into_graphql()
        })?;
        let key_industries = contributions.as_ref().map_or(0, |all| all.key_industries);
        let contributions = contributions
            .and_then(|all| all.get(&key).cloned())
            .unwrap_or_default();
        let period = targets_rule::Period {
            start: plan.issued_on,
            due_year: self.0.due_year,
        };
        let today = as_of.map_or_else(today_in_vietnam, |d| d.0);
        let progress = if key == TargetKey::TechnologyAssessment {
            targets_rule::key_industry_progress(key_industries, period, &contributions, today)
        } else {
            targets_rule::progress(kind, self.0.target_value, period, &contributions, today)
        };
        Ok((progress, targets_rule::counted(period, &contributions)))
    }
}

/// Today's date in Vietnam (UTC+7), where the plan's deadlines fall.
pub(crate) fn today_in_vietnam() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// A target's standing at the end of one year.
#[derive(SimpleObject)]
pub struct TargetYear {
    pub year: i32,
    /// Counted by the end of the year.
    pub value: i64,
    /// Where the straight-line path to the target stands at the end of the year.
    pub planned: f64,
    /// At or above the path at the end of the year (see `Target.onTrackRule`).
    pub on_track: bool,
}

#[Object]
impl LegalDocument {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The document number, e.g. "32/KH-UBND".
    async fn number(&self) -> &str {
        &self.0.number
    }

    /// Quyết định, Kế hoạch, Nghị quyết…
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// Null when the plan does not give the date.
    async fn issued_on(&self) -> Option<Date> {
        self.0.issued_on.map(Date)
    }

    /// The issuer as the plan names it; null when not stated.
    async fn issuer(&self) -> Option<&str> {
        self.0.issuer.as_deref()
    }

    async fn issuer_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        load_agency(ctx, self.0.issuer_agency_id).await
    }

    /// The subject as the plan states it; null when not stated.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    /// Tasks that carry this document out.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(loader(ctx)?
            .load_one(DocumentTasks(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Task)
            .collect())
    }
}
