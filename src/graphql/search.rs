//! `search`: one ranked search across tasks, agencies and every record kind.

use std::sync::Arc;

use async_graphql::{Context, Object};

use super::context::{caller, database, plan_loader, record_loader};
use super::error::{ApiError, ApiResult};
use super::loaders::{AgencyId, RecordKey, TaskId};
use super::objects::{Agency, SearchHitKind, SearchResult, Task};
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::text::search_key;
use crate::store::cache::ReadCache;
use crate::store::search::{self as store, HitKind};

/// Search hits kept between writes, by folded text, kinds and count.
pub type SearchCache = ReadCache<(String, Option<Vec<RecordKind>>, usize), Vec<store::Hit>>;

/// The most hits one search returns.
const MAX_HITS: i32 = 100;

pub struct SearchHit {
    score: f64,
    kind: SearchHitKind,
    title: String,
    /// Read only when the query selects it.
    node: Option<SearchResult>,
}

/// One search hit.
#[Object]
impl SearchHit {
    /// 1 for an exact match, lower for weaker matches.
    async fn score(&self) -> f64 {
        self.score
    }

    async fn kind(&self) -> SearchHitKind {
        self.kind
    }

    /// The matched name, title or text.
    async fn title(&self) -> &str {
        &self.title
    }

    async fn node(&self) -> async_graphql::Result<&SearchResult> {
        self.node.as_ref().ok_or_else(|| {
            ApiError::Internal("a search hit was read without its node".into()).into_graphql()
        })
    }
}

fn hit_kind(kind: HitKind) -> SearchHitKind {
    match kind {
        HitKind::Task => SearchHitKind::Task,
        HitKind::Agency => SearchHitKind::Agency,
        HitKind::Record(kind) => kind.into(),
    }
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Ranked search over tasks, agencies and records, ignoring case, tone marks,
    /// diacritics (đ = d) and NFC/NFD form: "xoai cao lanh" finds "Xoài Cát Chu Cao
    /// Lãnh". With `kinds`, only those record kinds are searched; without, all of them,
    /// traceability entries (by GTIN, lot and event id) included.
    #[graphql(complexity = "super::limits::list_complexity(child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        kinds: Option<Vec<RecordKind>>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let first = first.clamp(0, MAX_HITS) as usize;
        // Hits are of active records, the same for every caller: kept between writes.
        let cache = ctx.data::<Arc<SearchCache>>()?;
        let seq = super::context::head(ctx).await?.seq;
        let key = (search_key(&text), kinds.clone(), first);
        let db = database(ctx)?;
        let hits = cache
            .get_or_load(seq, key, || {
                store::search(db, &text, kinds.as_deref(), first)
            })
            .await
            .api()?;
        let hits: Vec<store::Hit> = hits.as_ref().clone();
        if !ctx.look_ahead().field("node").exists() {
            // Hits are of active records only; without nodes nothing more is read.
            return Ok(hits
                .into_iter()
                .map(|hit| SearchHit {
                    score: hit.score,
                    kind: hit_kind(hit.kind),
                    title: hit.title,
                    node: None,
                })
                .collect());
        }

        let task_ids = hits
            .iter()
            .filter(|h| h.kind == HitKind::Task)
            .map(|h| TaskId(h.id));
        let agency_ids = hits
            .iter()
            .filter(|h| h.kind == HitKind::Agency)
            .map(|h| AgencyId(h.id));
        let plan_loader = plan_loader(ctx)?;
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
                    .filter(|record| record.readable_by(caller(ctx)))
                    .cloned()
                    .map(SearchResult::from),
            };
            if let Some(node) = node {
                out.push(SearchHit {
                    score: hit.score,
                    kind: hit_kind(hit.kind),
                    title: hit.title,
                    node: Some(node),
                });
            }
        }
        Ok(out)
    }
}
