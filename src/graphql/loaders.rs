//! Batch loaders: every relation a resolver follows goes through one of these, so a
//! nested query costs one statement per relation and level, whatever the page size.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use crate::db::entities::{
    agencies, agency_facts, agency_groups, legal_documents, organisations, plan_clauses, plans,
    record_links, sections, startup_support_events, targets, task_coordinators, tasks,
};
use crate::domain::records::{RecordKind, RecordRef};
use crate::graphql::objects::{LinkedRecord, RecordNode};
use crate::records::{Kind, with_kind};
use crate::store::cache::ReadCache;
use crate::store::changes::Head;
use crate::store::snapshot::PlanCache;
use crate::store::{StoreError, records as records_store};

/// Loads plan entities by id and by relation from the in-memory plan snapshot, and the
/// records counting towards targets from the database. One instance serves all requests.
pub struct PlanLoader {
    db: DatabaseConnection,
    cache: Arc<PlanCache>,
    /// Target contributions read many rows; they are kept between writes (see `cache`).
    progress: ReadCache<i32, crate::store::targets::PlanContributions>,
}

impl PlanLoader {
    pub fn new(db: DatabaseConnection, cache: Arc<PlanCache>) -> Self {
        Self {
            db,
            cache,
            progress: ReadCache::new("target_progress"),
        }
    }
}

/// What the plan loader finds for keys of type `K`, given the change log's head the
/// request must see.
pub trait PlanLookup<K> {
    type Value;
    fn lookup(
        &self,
        head: Head,
        keys: &[K],
    ) -> impl std::future::Future<Output = LoadResult<K, Self::Value>> + Send;
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<StoreError>>;

/// Rows grouped under every requested key (`take` turns a row that belongs to one into
/// its value); keys without rows get an empty list.
fn group<K: Eq + Hash + Copy, R, V>(
    keys: &[K],
    rows: impl IntoIterator<Item = R>,
    key_of: impl Fn(&R) -> Option<K>,
    take: impl Fn(R) -> V,
) -> HashMap<K, Vec<V>> {
    let mut grouped: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(list) = key_of(&row).and_then(|k| grouped.get_mut(&k)) {
            list.push(take(row));
        }
    }
    grouped
}

fn by_id<K: Eq + Hash, V>(rows: Vec<V>, id: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub i32);
    };
}

key!(/// A plan by id.
    PlanId);
key!(/// An agency by id.
    AgencyId);
key!(/// A group by id.
    GroupId);
key!(/// A task by id.
    TaskId);
key!(/// A section by id.
    SectionId);
key!(/// A legal document by id.
    DocumentId);
key!(/// The aliases of an agency.
    AgencyAliases);
key!(/// The sourced facts about an agency.
    AgencyFacts);
key!(/// The aliases of a group.
    GroupAliases);
key!(/// The top-level tasks of a section.
    SectionTasks);
key!(/// The sub-tasks of a task.
    TaskChildren);
key!(/// The coordinator entries of a task.
    TaskCoordinators);
key!(/// The documents a task carries out.
    TaskDocuments);
key!(/// The tasks that carry out a document.
    DocumentTasks);
key!(/// The tasks an agency leads.
    LeadTasks);
key!(/// The tasks an agency coordinates.
    AgencyCoordinatedTasks);
key!(/// The tasks a group coordinates.
    GroupCoordinatedTasks);
key!(/// The sections of a plan.
    PlanSections);
key!(/// The key targets of a plan.
    PlanTargets);
key!(/// The clauses (purposes, funding sources…) of a plan.
    PlanClauses);
key!(/// The documents a plan references.
    PlanDocuments);
key!(/// The records counting towards a plan's targets.
    PlanProgress);

fn raw<K: Copy>(keys: &[K], f: impl Fn(&K) -> i32) -> Vec<i32> {
    keys.iter().map(f).collect()
}

/// A value for each key, looked up in the snapshot.
fn each<K: Eq + Hash + Copy, V>(keys: &[K], find: impl Fn(K) -> Option<V>) -> HashMap<K, V> {
    keys.iter()
        .filter_map(|k| find(*k).map(|v| (*k, v)))
        .collect()
}

/// For each key, the rows that belong to it, in snapshot order (only those are copied).
fn each_list<K: Eq + Hash + Copy, V: Clone>(
    keys: &[K],
    rows: &[V],
    key_of: impl Fn(&V) -> Option<K>,
) -> HashMap<K, Vec<V>> {
    group(keys, rows, |row| key_of(row), |row| row.clone())
}

impl PlanLookup<PlanId> for PlanLoader {
    type Value = plans::Model;
    async fn lookup(&self, head: Head, keys: &[PlanId]) -> LoadResult<PlanId, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each(keys, |k| {
            s.plans.iter().find(|p| p.id == k.0).cloned()
        }))
    }
}

impl PlanLookup<AgencyId> for PlanLoader {
    type Value = agencies::Model;
    async fn lookup(&self, head: Head, keys: &[AgencyId]) -> LoadResult<AgencyId, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each(keys, |k| s.agency(k.0).cloned()))
    }
}

impl PlanLookup<GroupId> for PlanLoader {
    type Value = agency_groups::Model;
    async fn lookup(&self, head: Head, keys: &[GroupId]) -> LoadResult<GroupId, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each(keys, |k| {
            s.groups.iter().find(|g| g.id == k.0).cloned()
        }))
    }
}

impl PlanLookup<TaskId> for PlanLoader {
    type Value = tasks::Model;
    async fn lookup(&self, head: Head, keys: &[TaskId]) -> LoadResult<TaskId, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each(keys, |k| s.task(k.0).cloned()))
    }
}

impl PlanLookup<SectionId> for PlanLoader {
    type Value = sections::Model;
    async fn lookup(&self, head: Head, keys: &[SectionId]) -> LoadResult<SectionId, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each(keys, |k| {
            s.sections.iter().find(|x| x.id == k.0).cloned()
        }))
    }
}

impl PlanLookup<DocumentId> for PlanLoader {
    type Value = legal_documents::Model;
    async fn lookup(&self, head: Head, keys: &[DocumentId]) -> LoadResult<DocumentId, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each(keys, |k| {
            s.documents.iter().find(|d| d.id == k.0).cloned()
        }))
    }
}

impl PlanLookup<AgencyAliases> for PlanLoader {
    type Value = Vec<String>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[AgencyAliases],
    ) -> LoadResult<AgencyAliases, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let grouped = each_list(keys, &s.agency_aliases, |r| {
            Some(AgencyAliases(r.agency_id))
        });
        Ok(grouped
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|a| a.alias).collect()))
            .collect())
    }
}

impl PlanLookup<AgencyFacts> for PlanLoader {
    type Value = Vec<agency_facts::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[AgencyFacts],
    ) -> LoadResult<AgencyFacts, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each_list(keys, &s.agency_facts, |r| {
            Some(AgencyFacts(r.agency_id))
        }))
    }
}

impl PlanLookup<GroupAliases> for PlanLoader {
    type Value = Vec<String>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[GroupAliases],
    ) -> LoadResult<GroupAliases, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let grouped = each_list(keys, &s.group_aliases, |r| Some(GroupAliases(r.group_id)));
        Ok(grouped
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|a| a.alias).collect()))
            .collect())
    }
}

impl PlanLookup<SectionTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[SectionTasks],
    ) -> LoadResult<SectionTasks, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let mut grouped = each_list(keys, &s.tasks, |t| {
            t.parent_id.is_none().then_some(SectionTasks(t.section_id))
        });
        grouped
            .values_mut()
            .for_each(|v| v.sort_by_key(|t| t.position));
        Ok(grouped)
    }
}

impl PlanLookup<TaskChildren> for PlanLoader {
    type Value = Vec<tasks::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[TaskChildren],
    ) -> LoadResult<TaskChildren, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let mut grouped = each_list(keys, &s.tasks, |t| t.parent_id.map(TaskChildren));
        grouped
            .values_mut()
            .for_each(|v| v.sort_by_key(|t| t.position));
        Ok(grouped)
    }
}

impl PlanLookup<TaskCoordinators> for PlanLoader {
    type Value = Vec<task_coordinators::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[TaskCoordinators],
    ) -> LoadResult<TaskCoordinators, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each_list(keys, &s.coordinators, |r| {
            Some(TaskCoordinators(r.task_id))
        }))
    }
}

impl PlanLookup<TaskDocuments> for PlanLoader {
    type Value = Vec<legal_documents::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[TaskDocuments],
    ) -> LoadResult<TaskDocuments, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let links = each_list(keys, &s.task_documents, |l| Some(TaskDocuments(l.task_id)));
        Ok(links
            .into_iter()
            .map(|(k, links)| {
                let docs = links
                    .iter()
                    .filter_map(|l| s.documents.iter().find(|d| d.id == l.document_id).cloned())
                    .collect();
                (k, docs)
            })
            .collect())
    }
}

impl PlanLookup<DocumentTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[DocumentTasks],
    ) -> LoadResult<DocumentTasks, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let links = each_list(keys, &s.task_documents, |l| {
            Some(DocumentTasks(l.document_id))
        });
        Ok(links
            .into_iter()
            .map(|(k, links)| {
                let mut found: Vec<tasks::Model> = links
                    .iter()
                    .filter_map(|l| s.task(l.task_id).cloned())
                    .collect();
                found.sort_by_key(|t| t.id);
                (k, found)
            })
            .collect())
    }
}

impl PlanLookup<LeadTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    async fn lookup(&self, head: Head, keys: &[LeadTasks]) -> LoadResult<LeadTasks, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each_list(keys, &s.tasks, |t| {
            t.lead_agency_id.map(LeadTasks)
        }))
    }
}

/// Tasks named by coordinator entries, each task once per key, in plan order.
fn coordinated_tasks<K: Eq + Hash + Copy>(
    snapshot: &crate::store::snapshot::PlanSnapshot,
    keys: &[K],
    key_of: impl Fn(&task_coordinators::Model) -> Option<K>,
) -> HashMap<K, Vec<tasks::Model>> {
    let entries = each_list(keys, &snapshot.coordinators, key_of);
    entries
        .into_iter()
        .map(|(k, entries)| {
            let mut found: Vec<tasks::Model> = entries
                .iter()
                .filter_map(|e| snapshot.task(e.task_id).cloned())
                .collect();
            found.sort_by_key(|t| t.id);
            found.dedup_by_key(|t| t.id);
            (k, found)
        })
        .collect()
}

impl PlanLookup<AgencyCoordinatedTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[AgencyCoordinatedTasks],
    ) -> LoadResult<AgencyCoordinatedTasks, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(coordinated_tasks(&s, keys, |e| {
            e.agency_id.map(AgencyCoordinatedTasks)
        }))
    }
}

impl PlanLookup<GroupCoordinatedTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[GroupCoordinatedTasks],
    ) -> LoadResult<GroupCoordinatedTasks, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(coordinated_tasks(&s, keys, |e| {
            e.group_id.map(GroupCoordinatedTasks)
        }))
    }
}

impl PlanLookup<PlanSections> for PlanLoader {
    type Value = Vec<sections::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[PlanSections],
    ) -> LoadResult<PlanSections, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each_list(keys, &s.sections, |r| {
            Some(PlanSections(r.plan_id))
        }))
    }
}

impl PlanLookup<PlanTargets> for PlanLoader {
    type Value = Vec<targets::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[PlanTargets],
    ) -> LoadResult<PlanTargets, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each_list(keys, &s.targets, |r| {
            Some(PlanTargets(r.plan_id))
        }))
    }
}

impl PlanLookup<PlanClauses> for PlanLoader {
    type Value = Vec<plan_clauses::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[PlanClauses],
    ) -> LoadResult<PlanClauses, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        Ok(each_list(keys, &s.clauses, |r| {
            Some(PlanClauses(r.plan_id))
        }))
    }
}

impl PlanLookup<PlanDocuments> for PlanLoader {
    type Value = Vec<legal_documents::Model>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[PlanDocuments],
    ) -> LoadResult<PlanDocuments, Self::Value> {
        let s = self.cache.get(head.plan_seq).await?;
        let links = each_list(keys, &s.plan_documents, |l| Some(PlanDocuments(l.plan_id)));
        Ok(links
            .into_iter()
            .map(|(k, links)| {
                let docs = links
                    .iter()
                    .filter_map(|l| s.documents.iter().find(|d| d.id == l.document_id).cloned())
                    .collect();
                (k, docs)
            })
            .collect())
    }
}

/// Loads linked records of every kind, their organisations, support events and links.
pub struct RecordLoader {
    db: DatabaseConnection,
}

impl RecordLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A record by its global reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordKey(pub RecordRef);

key!(/// An organisation by id.
    OrganisationId);
key!(/// The support events of a record.
    SupportEventsOf);

/// The plan tasks a record is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordTasks(pub RecordRef);

/// The first `first` links of a task, of the kinds in `kinds` (a bit set over
/// `RecordKind::ALL`; 0 means every kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskLinks {
    pub task_id: i32,
    pub kinds: u16,
    pub first: u32,
}

impl TaskLinks {
    pub fn kind_set(kinds: &[RecordKind]) -> u16 {
        kinds.iter().fold(0, |set, kind| set | (1 << kind.index()))
    }

    fn kinds(&self) -> Option<Vec<RecordKind>> {
        (self.kinds != 0).then(|| {
            RecordKind::ALL
                .iter()
                .enumerate()
                .filter(|(bit, _)| self.kinds & (1 << bit) != 0)
                .map(|(_, k)| *k)
                .collect()
        })
    }
}

/// Loads the records of kind `K` among `keys`, in one statement.
async fn load_kind<K: Kind>(
    db: &DatabaseConnection,
    keys: &[RecordKey],
    out: &mut HashMap<RecordKey, LinkedRecord>,
) -> Result<(), Arc<StoreError>>
where
    LinkedRecord: From<RecordNode<K>>,
{
    let kind = K::SPEC.kind;
    let ids: Vec<i32> = keys
        .iter()
        .filter(|k| k.0.kind == kind)
        .map(|k| k.0.id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    for model in records_store::by_ids::<K::Entity>(db, K::SPEC.table, &ids).await? {
        let node = RecordNode::<K>::new(model);
        out.insert(RecordKey(node.reference()), LinkedRecord::from(node));
    }
    Ok(())
}

impl Loader<RecordKey> for RecordLoader {
    type Value = LinkedRecord;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[RecordKey]) -> LoadResult<RecordKey, LinkedRecord> {
        let mut out = HashMap::new();
        // One statement per kind present among the keys.
        for kind in RecordKind::ALL {
            with_kind!(*kind, |K| load_kind::<K>(&self.db, keys, &mut out).await)?;
        }
        Ok(out)
    }
}

impl Loader<OrganisationId> for RecordLoader {
    type Value = organisations::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[OrganisationId]) -> LoadResult<OrganisationId, Self::Value> {
        let rows = records_store::organisations_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| OrganisationId(r.id)))
    }
}

impl Loader<SupportEventsOf> for RecordLoader {
    type Value = Vec<startup_support_events::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[SupportEventsOf]) -> LoadResult<SupportEventsOf, Self::Value> {
        let rows = crate::store::support_events::of_records(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(
            keys,
            rows,
            |r| Some(SupportEventsOf(r.startup_id)),
            |r| r,
        ))
    }
}

impl Loader<RecordTasks> for RecordLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[RecordTasks]) -> LoadResult<RecordTasks, Self::Value> {
        let refs: Vec<RecordRef> = keys.iter().map(|k| k.0).collect();
        let rows = records_store::tasks_by_records(&self.db, &refs).await?;
        let mut grouped = group(keys, rows, |(r, _)| Some(RecordTasks(*r)), |row| row);
        Ok(grouped
            .drain()
            .map(|(k, v)| {
                let mut tasks: Vec<tasks::Model> = v.into_iter().map(|(_, t)| t).collect();
                tasks.sort_by_key(|t| t.id);
                (k, tasks)
            })
            .collect())
    }
}

impl Loader<TaskLinks> for RecordLoader {
    type Value = Vec<record_links::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[TaskLinks]) -> LoadResult<TaskLinks, Self::Value> {
        // Keys asking for the same kinds and page size share one statement.
        let mut shapes: HashMap<(u16, u32), Vec<i32>> = HashMap::new();
        for key in keys {
            shapes
                .entry((key.kinds, key.first))
                .or_default()
                .push(key.task_id);
        }
        let mut out: HashMap<TaskLinks, Vec<record_links::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for ((kinds, first), task_ids) in shapes {
            let probe = TaskLinks {
                task_id: 0,
                kinds,
                first,
            };
            let kind_list = probe.kinds();
            let links = records_store::top_links_by_tasks(
                &self.db,
                &task_ids,
                kind_list.as_deref(),
                u64::from(first),
            )
            .await?;
            for link in links {
                let key = TaskLinks {
                    task_id: link.task_id,
                    kinds,
                    first,
                };
                if let Some(list) = out.get_mut(&key) {
                    list.push(link);
                }
            }
        }
        Ok(out)
    }
}

/// How many active records of each kind are linked to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskLinkCounts(pub i32);

impl Loader<TaskLinkCounts> for RecordLoader {
    type Value = Vec<(RecordKind, i64)>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[TaskLinkCounts]) -> LoadResult<TaskLinkCounts, Self::Value> {
        let task_ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let counts = records_store::link_counts_by_tasks(&self.db, &task_ids).await?;
        let mut out: HashMap<TaskLinkCounts, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for count in counts {
            let Ok(kind) = RecordKind::parse(&count.record_kind) else {
                continue;
            };
            if let Some(list) = out.get_mut(&TaskLinkCounts(count.task_id)) {
                list.push((kind, count.count));
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|(kind, _)| kind.index());
        }
        Ok(out)
    }
}

impl PlanLookup<PlanProgress> for PlanLoader {
    type Value = Arc<crate::store::targets::PlanContributions>;
    async fn lookup(
        &self,
        head: Head,
        keys: &[PlanProgress],
    ) -> LoadResult<PlanProgress, Self::Value> {
        let mut out = HashMap::new();
        let snapshot = self.cache.get(head.plan_seq).await?;
        for key in keys {
            let Some(plan) = snapshot.plans.iter().find(|p| p.id == key.0) else {
                continue;
            };
            let issued = plan.issued_on;
            let contributions = self
                .progress
                .get_or_load(head.seq, key.0, || {
                    crate::store::targets::plan_contributions(&self.db, key.0, issued)
                })
                .await?;
            out.insert(*key, contributions);
        }
        Ok(out)
    }
}

/// The audit entries of a record, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHistory(pub RecordRef);

impl Loader<RecordHistory> for RecordLoader {
    type Value = Vec<crate::db::entities::audit_log::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[RecordHistory]) -> LoadResult<RecordHistory, Self::Value> {
        let refs: Vec<RecordRef> = keys.iter().map(|k| k.0).collect();
        let found = crate::store::audit::history(&self.db, &refs).await?;
        Ok(found
            .into_iter()
            .map(|(record, entries)| (RecordHistory(record), entries))
            .collect())
    }
}
