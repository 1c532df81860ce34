//! Batch loaders: every relation a resolver follows goes through one of these, so a
//! nested query costs one statement per relation and level, whatever the page size.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use crate::db::entities::{
    agencies, agency_groups, legal_documents, plan_clauses, plans, sections, targets,
    task_coordinators, tasks,
};
use crate::store::{StoreError, plan as store};

/// Loads plan entities by id and by relation. One instance is shared by all requests;
/// it batches, it does not cache, so it never serves stale rows.
pub struct PlanLoader {
    db: DatabaseConnection,
}

impl PlanLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<StoreError>>;

/// Rows grouped under every requested key; keys without rows get an empty list.
fn group<K: Eq + Hash + Copy, V>(
    keys: &[K],
    rows: impl IntoIterator<Item = V>,
    key_of: impl Fn(&V) -> Option<K>,
) -> HashMap<K, Vec<V>> {
    let mut grouped: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(list) = key_of(&row).and_then(|k| grouped.get_mut(&k)) {
            list.push(row);
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

fn raw<K: Copy>(keys: &[K], f: impl Fn(&K) -> i32) -> Vec<i32> {
    keys.iter().map(f).collect()
}

impl Loader<PlanId> for PlanLoader {
    type Value = plans::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[PlanId]) -> LoadResult<PlanId, Self::Value> {
        let rows = store::plans_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| PlanId(r.id)))
    }
}

impl Loader<AgencyId> for PlanLoader {
    type Value = agencies::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[AgencyId]) -> LoadResult<AgencyId, Self::Value> {
        let rows = store::agencies_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| AgencyId(r.id)))
    }
}

impl Loader<GroupId> for PlanLoader {
    type Value = agency_groups::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[GroupId]) -> LoadResult<GroupId, Self::Value> {
        let rows = store::groups_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| GroupId(r.id)))
    }
}

impl Loader<TaskId> for PlanLoader {
    type Value = tasks::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[TaskId]) -> LoadResult<TaskId, Self::Value> {
        let rows = store::tasks_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| TaskId(r.id)))
    }
}

impl Loader<SectionId> for PlanLoader {
    type Value = sections::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[SectionId]) -> LoadResult<SectionId, Self::Value> {
        let rows = store::sections_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| SectionId(r.id)))
    }
}

impl Loader<DocumentId> for PlanLoader {
    type Value = legal_documents::Model;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[DocumentId]) -> LoadResult<DocumentId, Self::Value> {
        let rows = store::documents_by_ids(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(by_id(rows, |r| DocumentId(r.id)))
    }
}

impl Loader<AgencyAliases> for PlanLoader {
    type Value = Vec<String>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[AgencyAliases]) -> LoadResult<AgencyAliases, Self::Value> {
        let rows = store::aliases_by_agencies(&self.db, &raw(keys, |k| k.0)).await?;
        let grouped = group(keys, rows, |r| Some(AgencyAliases(r.agency_id)));
        Ok(grouped
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|a| a.alias).collect()))
            .collect())
    }
}

impl Loader<GroupAliases> for PlanLoader {
    type Value = Vec<String>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[GroupAliases]) -> LoadResult<GroupAliases, Self::Value> {
        let rows = store::aliases_by_groups(&self.db, &raw(keys, |k| k.0)).await?;
        let grouped = group(keys, rows, |r| Some(GroupAliases(r.group_id)));
        Ok(grouped
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|a| a.alias).collect()))
            .collect())
    }
}

impl Loader<SectionTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[SectionTasks]) -> LoadResult<SectionTasks, Self::Value> {
        let rows = store::top_level_tasks_by_sections(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| Some(SectionTasks(r.section_id))))
    }
}

impl Loader<TaskChildren> for PlanLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[TaskChildren]) -> LoadResult<TaskChildren, Self::Value> {
        let rows = store::children_by_parents(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| r.parent_id.map(TaskChildren)))
    }
}

impl Loader<TaskCoordinators> for PlanLoader {
    type Value = Vec<task_coordinators::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[TaskCoordinators]) -> LoadResult<TaskCoordinators, Self::Value> {
        let rows = store::coordinators_by_tasks(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| Some(TaskCoordinators(r.task_id))))
    }
}

impl Loader<TaskDocuments> for PlanLoader {
    type Value = Vec<legal_documents::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[TaskDocuments]) -> LoadResult<TaskDocuments, Self::Value> {
        let links = store::document_links_by_tasks(&self.db, &raw(keys, |k| k.0)).await?;
        let ids: Vec<i32> = links.iter().map(|l| l.document_id).collect();
        let documents = by_id(store::documents_by_ids(&self.db, &ids).await?, |d| d.id);
        let grouped = group(keys, links, |l| Some(TaskDocuments(l.task_id)));
        Ok(grouped
            .into_iter()
            .map(|(k, links)| {
                let docs = links
                    .iter()
                    .filter_map(|l| documents.get(&l.document_id).cloned())
                    .collect();
                (k, docs)
            })
            .collect())
    }
}

impl Loader<DocumentTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[DocumentTasks]) -> LoadResult<DocumentTasks, Self::Value> {
        let links = store::task_links_by_documents(&self.db, &raw(keys, |k| k.0)).await?;
        let ids: Vec<i32> = links.iter().map(|l| l.task_id).collect();
        let tasks = by_id(store::tasks_by_ids(&self.db, &ids).await?, |t| t.id);
        let grouped = group(keys, links, |l| Some(DocumentTasks(l.document_id)));
        Ok(grouped
            .into_iter()
            .map(|(k, links)| {
                let mut found: Vec<tasks::Model> = links
                    .iter()
                    .filter_map(|l| tasks.get(&l.task_id).cloned())
                    .collect();
                found.sort_by_key(|t| t.id);
                (k, found)
            })
            .collect())
    }
}

impl Loader<LeadTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[LeadTasks]) -> LoadResult<LeadTasks, Self::Value> {
        let rows = store::tasks_by_lead_agencies(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| r.lead_agency_id.map(LeadTasks)))
    }
}

/// Tasks named by coordinator entries, each task once per key, in plan order.
async fn coordinated_tasks<K: Eq + Hash + Copy>(
    db: &DatabaseConnection,
    keys: &[K],
    entries: Vec<task_coordinators::Model>,
    key_of: impl Fn(&task_coordinators::Model) -> Option<K>,
) -> LoadResult<K, Vec<tasks::Model>> {
    let mut ids: Vec<i32> = entries.iter().map(|e| e.task_id).collect();
    ids.dedup();
    let tasks = by_id(store::tasks_by_ids(db, &ids).await?, |t| t.id);
    let grouped = group(keys, entries, key_of);
    Ok(grouped
        .into_iter()
        .map(|(k, entries)| {
            let mut found: Vec<tasks::Model> = entries
                .iter()
                .filter_map(|e| tasks.get(&e.task_id).cloned())
                .collect();
            found.sort_by_key(|t| t.id);
            found.dedup_by_key(|t| t.id);
            (k, found)
        })
        .collect())
}

impl Loader<AgencyCoordinatedTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(
        &self,
        keys: &[AgencyCoordinatedTasks],
    ) -> LoadResult<AgencyCoordinatedTasks, Self::Value> {
        let entries = store::coordinations_by_agencies(&self.db, &raw(keys, |k| k.0)).await?;
        coordinated_tasks(&self.db, keys, entries, |e| {
            e.agency_id.map(AgencyCoordinatedTasks)
        })
        .await
    }
}

impl Loader<GroupCoordinatedTasks> for PlanLoader {
    type Value = Vec<tasks::Model>;
    type Error = Arc<StoreError>;
    async fn load(
        &self,
        keys: &[GroupCoordinatedTasks],
    ) -> LoadResult<GroupCoordinatedTasks, Self::Value> {
        let entries = store::coordinations_by_groups(&self.db, &raw(keys, |k| k.0)).await?;
        coordinated_tasks(&self.db, keys, entries, |e| {
            e.group_id.map(GroupCoordinatedTasks)
        })
        .await
    }
}

impl Loader<PlanSections> for PlanLoader {
    type Value = Vec<sections::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[PlanSections]) -> LoadResult<PlanSections, Self::Value> {
        let rows = store::sections_by_plans(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| Some(PlanSections(r.plan_id))))
    }
}

impl Loader<PlanTargets> for PlanLoader {
    type Value = Vec<targets::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[PlanTargets]) -> LoadResult<PlanTargets, Self::Value> {
        let rows = store::targets_by_plans(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| Some(PlanTargets(r.plan_id))))
    }
}

impl Loader<PlanClauses> for PlanLoader {
    type Value = Vec<plan_clauses::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[PlanClauses]) -> LoadResult<PlanClauses, Self::Value> {
        let rows = store::clauses_by_plans(&self.db, &raw(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r| Some(PlanClauses(r.plan_id))))
    }
}

impl Loader<PlanDocuments> for PlanLoader {
    type Value = Vec<legal_documents::Model>;
    type Error = Arc<StoreError>;
    async fn load(&self, keys: &[PlanDocuments]) -> LoadResult<PlanDocuments, Self::Value> {
        let rows = store::documents_by_plans(&self.db, &raw(keys, |k| k.0)).await?;
        let grouped = group(keys, rows, |(link, _)| Some(PlanDocuments(link.plan_id)));
        Ok(grouped
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|(_, d)| d).collect()))
            .collect())
    }
}
