//! `search`: one ranked search across tasks, agencies and every record kind.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::{Context, Object};

use super::context::{caller, database, plan_loader, record_loader};
use super::error::{ApiError, ApiResult};
use super::loaders::{AgencyId, RecordKey, TaskId};
use super::objects::{Agency, SearchHitKind, SearchResult, Task};
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::text::search_key;
use crate::store::StoreError;
use crate::store::cache::{CacheCounters, MAX_AGE, ReadCache};
use crate::store::search::{self as store, HitKind};

/// What names a search: its folded text, kinds and count.
type SearchKey = (String, Option<Vec<RecordKind>>, usize);

/// Search hits kept between writes, by folded text, kinds and count. A write that cannot
/// change a search's hits (`store::hits_still_current`) carries them to the new head of
/// the log instead of running the search again: a search ranks every match, which grows
/// with the data, while most writes (a connector's sync, a partner's update) touch none
/// of them.
pub struct SearchCache {
    by_head: ReadCache<SearchKey, Kept>,
    /// Each search's newest hits, with the head they are known current at.
    latest: moka::sync::Cache<SearchKey, Arc<Latest>>,
    /// Searches answered by carrying their hits, and those run again.
    carried: CacheCounters,
}

/// Hits and when they were read: carried or not, they are not used past `MAX_AGE` after
/// that, so edits made outside the hub show as late as they do in every other cache.
#[derive(Clone)]
struct Kept {
    read: Instant,
    hits: Arc<Vec<store::Hit>>,
}

impl Kept {
    fn fresh(&self) -> bool {
        self.read.elapsed() < MAX_AGE
    }
}

struct Latest {
    seq: i64,
    kept: Kept,
}

impl SearchCache {
    pub fn new() -> Self {
        Self {
            by_head: ReadCache::new("search"),
            latest: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(MAX_AGE)
                .build(),
            carried: CacheCounters::new("search_carried"),
        }
    }

    /// The hits of `key` at log head `seq`: kept, carried from an earlier head, or read.
    async fn hits(
        &self,
        db: &sea_orm::DatabaseConnection,
        seq: i64,
        key: SearchKey,
        text: &str,
    ) -> Result<Arc<Vec<store::Hit>>, Arc<StoreError>> {
        let load = || self.load(db, seq, &key, text);
        let kept = self.by_head.get_or_load(seq, key.clone(), load).await?;
        if kept.fresh() {
            return Ok(Arc::clone(&kept.hits));
        }
        // Carried hits can outlive their read in the cache, which ages entries from when
        // they were kept: read them again.
        self.by_head.invalidate(seq, &key).await;
        let kept = self.by_head.get_or_load(seq, key.clone(), load).await?;
        Ok(Arc::clone(&kept.hits))
    }

    /// Carries the newest hits of `key` to head `seq` if no write since can change them,
    /// else runs the search.
    async fn load(
        &self,
        db: &sea_orm::DatabaseConnection,
        seq: i64,
        key: &SearchKey,
        text: &str,
    ) -> Result<Kept, StoreError> {
        let kinds = key.1.as_deref();
        let earlier = self
            .latest
            .get(key)
            .filter(|latest| latest.seq < seq && latest.kept.fresh());
        if let Some(latest) = earlier {
            let hits = &latest.kept.hits;
            if store::hits_still_current(db, text, kinds, hits, latest.seq, seq).await? {
                self.carried.hits(1);
                self.remember(key, seq, &latest.kept);
                return Ok(latest.kept.clone());
            }
            self.carried.misses(1);
        }
        let read = Instant::now();
        let hits = Arc::new(store::search(db, text, kinds, key.2).await?);
        let kept = Kept { read, hits };
        self.remember(key, seq, &kept);
        Ok(kept)
    }

    /// Keeps `kept` as the newest hits of `key` unless newer ones are kept already.
    fn remember(&self, key: &SearchKey, seq: i64, kept: &Kept) {
        let newer = self.latest.get(key).is_some_and(|latest| latest.seq >= seq);
        if !newer {
            let kept = kept.clone();
            self.latest
                .insert(key.clone(), Arc::new(Latest { seq, kept }));
        }
    }
}

impl Default for SearchCache {
    fn default() -> Self {
        Self::new()
    }
}

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
        let hits = cache.hits(db, seq, key, &text).await.api()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_read_a_minute_ago_are_not_fresh_even_when_carried() {
        let hits = Arc::new(Vec::new());
        let now = Kept {
            read: Instant::now(),
            hits: Arc::clone(&hits),
        };
        assert!(now.fresh());
        if let Some(read) = Instant::now().checked_sub(MAX_AGE) {
            assert!(!Kept { read, hits }.fresh());
        }
    }
}
