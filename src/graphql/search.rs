//! `search`: one ranked search across tasks, agencies and every record kind.

use async_graphql::{Context, Enum, Object, SimpleObject, Union};

use super::agency::Agency;
use super::error::ApiResult;
use super::loaders::{AgencyId, RecordKey, TaskId};
use super::plan::{Task, database, loader};
use super::records::{LinkedRecord, RecordKind, record_loader};
use crate::domain::records::{RecordKind as DomainKind, RecordRef};
use crate::store::search::{self as store, HitKind};

/// The most hits one search returns.
const MAX_HITS: i32 = 100;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SearchHitKind {
    Task,
    Agency,
    IpRight,
    OcopProduct,
    Startup,
    TraceabilityEntry,
    ScienceTask,
    ApplicationModel,
    TechnologyAssessment,
    AnnualReport,
}

/// What a search hit points at.
#[derive(Union, Clone)]
pub enum SearchResult {
    Task(Box<Task>),
    Agency(Box<Agency>),
    IpRight(super::records::ip_right::IpRight),
    OcopProduct(super::records::ocop::OcopProduct),
    Startup(super::records::startup::Startup),
    TraceabilityEntry(super::records::traceability::TraceabilityEntry),
    ScienceTask(super::records::science::ScienceTask),
    ApplicationModel(super::records::science::ApplicationModel),
    TechnologyAssessment(super::records::science::TechnologyAssessment),
    AnnualReport(super::records::report::AnnualReport),
}

impl From<LinkedRecord> for SearchResult {
    fn from(record: LinkedRecord) -> Self {
        match record {
            LinkedRecord::IpRight(r) => SearchResult::IpRight(r),
            LinkedRecord::OcopProduct(r) => SearchResult::OcopProduct(r),
            LinkedRecord::Startup(r) => SearchResult::Startup(r),
            LinkedRecord::TraceabilityEntry(r) => SearchResult::TraceabilityEntry(r),
            LinkedRecord::ScienceTask(r) => SearchResult::ScienceTask(r),
            LinkedRecord::ApplicationModel(r) => SearchResult::ApplicationModel(r),
            LinkedRecord::TechnologyAssessment(r) => SearchResult::TechnologyAssessment(r),
            LinkedRecord::AnnualReport(r) => SearchResult::AnnualReport(r),
        }
    }
}

/// One search hit.
#[derive(SimpleObject, Clone)]
pub struct SearchHit {
    /// 1 for an exact match, lower for weaker matches.
    pub score: f64,
    pub kind: SearchHitKind,
    /// The matched name, title or text.
    pub title: String,
    pub node: SearchResult,
}

fn hit_kind(kind: HitKind) -> SearchHitKind {
    match kind {
        HitKind::Task => SearchHitKind::Task,
        HitKind::Agency => SearchHitKind::Agency,
        HitKind::Record(kind) => match kind {
            DomainKind::IpRight => SearchHitKind::IpRight,
            DomainKind::OcopProduct => SearchHitKind::OcopProduct,
            DomainKind::Startup => SearchHitKind::Startup,
            DomainKind::TraceabilityEntry => SearchHitKind::TraceabilityEntry,
            DomainKind::ScienceTask => SearchHitKind::ScienceTask,
            DomainKind::ApplicationModel => SearchHitKind::ApplicationModel,
            DomainKind::TechnologyAssessment => SearchHitKind::TechnologyAssessment,
            DomainKind::AnnualReport => SearchHitKind::AnnualReport,
        },
    }
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Ranked search over tasks, agencies and records, ignoring case, tone marks,
    /// diacritics (đ = d) and NFC/NFD form: "xoai cao lanh" finds "Xoài Cát Chu Cao
    /// Lãnh". With `kinds`, only those record kinds are searched; without, everything
    /// but traceability entries (identifiers, searched only when asked for).
    #[graphql(complexity = "super::limits::list_complexity(child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        kinds: Option<Vec<RecordKind>>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let first = first.clamp(0, MAX_HITS) as usize;
        let kinds: Option<Vec<DomainKind>> =
            kinds.map(|k| k.into_iter().map(DomainKind::from).collect());
        let hits = store::search(database(ctx)?, &text, kinds.as_deref(), first)
            .await
            .api()?;

        let task_ids = hits
            .iter()
            .filter(|h| h.kind == HitKind::Task)
            .map(|h| TaskId(h.id));
        let agency_ids = hits
            .iter()
            .filter(|h| h.kind == HitKind::Agency)
            .map(|h| AgencyId(h.id));
        let plan_loader = loader(ctx)?;
        let (tasks, agencies) = futures_util::future::try_join(
            plan_loader.load_many(task_ids),
            plan_loader.load_many(agency_ids),
        )
        .await
        .api()?;
        // Looked up by key, so a hit whose record is gone cannot shift the others.
        let record_keys = hits.iter().filter_map(|h| match h.kind {
            HitKind::Record(kind) => Some(RecordKey(RecordRef { kind, id: h.id })),
            _ => None,
        });
        let records = record_loader(ctx)?.load_many(record_keys).await.api()?;

        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let node = match hit.kind {
                HitKind::Task => tasks
                    .get(&TaskId(hit.id))
                    .cloned()
                    .map(|t| SearchResult::Task(Box::new(Task(t)))),
                HitKind::Agency => agencies
                    .get(&AgencyId(hit.id))
                    .cloned()
                    .map(|a| SearchResult::Agency(Box::new(Agency(a)))),
                HitKind::Record(kind) => records
                    .get(&RecordKey(RecordRef { kind, id: hit.id }))
                    .filter(|record| record.readable_by(super::mutations::caller(ctx)))
                    .cloned()
                    .map(|r| SearchResult::from(LinkedRecord::from(r))),
            };
            if let Some(node) = node {
                out.push(SearchHit {
                    score: hit.score,
                    kind: hit_kind(hit.kind),
                    title: hit.title,
                    node,
                });
            }
        }
        Ok(out)
    }
}
