//! The plan's reference data (plans, sections, tasks, agencies, groups, documents) held
//! in memory. It is small (a few hundred rows), read by nearly every query and changed
//! only by seeding and task-progress updates, so serving it from memory removes most of
//! the statements a plan query would cost.
//!
//! Freshness: a copy is kept with the change log's `plan_seq` it was loaded at, and a
//! request asks for one at least as new as the `plan_seq` it read after it arrived; so
//! a change to the plan through any replica shows in the next request on every replica.
//! Edits made to the tables outside the hub show within `MAX_AGE`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use tokio::sync::Mutex;

use super::StoreError;
use super::cache::CacheCounters;
use crate::db::entities::{
    agencies, agency_aliases, agency_facts, agency_group_aliases, agency_groups, legal_documents,
    plan_clauses, plan_documents, plans, sections, targets, task_coordinators, task_documents,
    tasks,
};

/// How old a copy may get before it is reloaded even though the log says nothing
/// changed (for edits made outside the hub).
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// Every row of the plan tables, indexed for the loaders.
#[derive(Debug, Default)]
pub struct PlanSnapshot {
    pub plans: Vec<plans::Model>,
    pub sections: Vec<sections::Model>,
    pub tasks: Vec<tasks::Model>,
    pub agencies: Vec<agencies::Model>,
    pub groups: Vec<agency_groups::Model>,
    pub agency_aliases: Vec<agency_aliases::Model>,
    pub agency_facts: Vec<agency_facts::Model>,
    pub group_aliases: Vec<agency_group_aliases::Model>,
    pub coordinators: Vec<task_coordinators::Model>,
    pub documents: Vec<legal_documents::Model>,
    pub task_documents: Vec<task_documents::Model>,
    pub plan_documents: Vec<plan_documents::Model>,
    pub clauses: Vec<plan_clauses::Model>,
    pub targets: Vec<targets::Model>,
    task_by_id: HashMap<i32, usize>,
    task_by_code: HashMap<String, Vec<usize>>,
    agency_by_id: HashMap<i32, usize>,
}

impl PlanSnapshot {
    pub async fn load(db: &DatabaseConnection) -> Result<Self, StoreError> {
        let mut snapshot = PlanSnapshot {
            plans: plans::Entity::find()
                .order_by_asc(plans::Column::Id)
                .all(db)
                .await?,
            sections: sections::Entity::find()
                .order_by_asc(sections::Column::Position)
                .all(db)
                .await?,
            tasks: tasks::Entity::find()
                .order_by_asc(tasks::Column::Id)
                .all(db)
                .await?,
            agencies: agencies::Entity::find()
                .order_by_asc(agencies::Column::Id)
                .all(db)
                .await?,
            groups: agency_groups::Entity::find()
                .order_by_asc(agency_groups::Column::Id)
                .all(db)
                .await?,
            agency_aliases: agency_aliases::Entity::find()
                .order_by_asc(agency_aliases::Column::Id)
                .all(db)
                .await?,
            agency_facts: agency_facts::Entity::find()
                .order_by_asc(agency_facts::Column::AgencyId)
                .order_by_asc(agency_facts::Column::Position)
                .all(db)
                .await?,
            group_aliases: agency_group_aliases::Entity::find()
                .order_by_asc(agency_group_aliases::Column::Id)
                .all(db)
                .await?,
            coordinators: task_coordinators::Entity::find()
                .order_by_asc(task_coordinators::Column::TaskId)
                .order_by_asc(task_coordinators::Column::Position)
                .all(db)
                .await?,
            documents: legal_documents::Entity::find()
                .order_by_asc(legal_documents::Column::Id)
                .all(db)
                .await?,
            task_documents: task_documents::Entity::find()
                .order_by_asc(task_documents::Column::DocumentId)
                .all(db)
                .await?,
            plan_documents: plan_documents::Entity::find()
                .order_by_asc(plan_documents::Column::Position)
                .all(db)
                .await?,
            clauses: plan_clauses::Entity::find()
                .order_by_asc(plan_clauses::Column::Position)
                .all(db)
                .await?,
            targets: targets::Entity::find()
                .order_by_asc(targets::Column::Position)
                .all(db)
                .await?,
            ..Default::default()
        };
        for (i, task) in snapshot.tasks.iter().enumerate() {
            snapshot.task_by_id.insert(task.id, i);
            snapshot
                .task_by_code
                .entry(task.code.clone())
                .or_default()
                .push(i);
        }
        for (i, agency) in snapshot.agencies.iter().enumerate() {
            snapshot.agency_by_id.insert(agency.id, i);
        }
        Ok(snapshot)
    }

    pub fn task(&self, id: i32) -> Option<&tasks::Model> {
        self.task_by_id.get(&id).map(|i| &self.tasks[*i])
    }

    pub fn agency(&self, id: i32) -> Option<&agencies::Model> {
        self.agency_by_id.get(&id).map(|i| &self.agencies[*i])
    }

    /// Tasks with this code, in any plan.
    pub fn tasks_with_code(&self, code: &str) -> Vec<&tasks::Model> {
        self.task_by_code
            .get(code)
            .map(|found| found.iter().map(|i| &self.tasks[*i]).collect())
            .unwrap_or_default()
    }
}

/// The shared, self-refreshing copy.
pub struct PlanCache {
    db: DatabaseConnection,
    /// The copy, the `plan_seq` it reflects, and when it was loaded.
    current: RwLock<Option<(Arc<PlanSnapshot>, i64, Instant)>>,
    reload: Mutex<()>,
    counts: CacheCounters,
}

impl PlanCache {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            current: RwLock::new(None),
            reload: Mutex::new(()),
            counts: CacheCounters::new("plan_snapshot"),
        }
    }

    fn fresh(&self, plan_seq: i64) -> Option<Arc<PlanSnapshot>> {
        let guard = self.current.read().ok()?;
        let (snapshot, loaded_at, loaded) = guard.as_ref()?;
        (*loaded_at >= plan_seq && loaded.elapsed() < MAX_AGE).then(|| snapshot.clone())
    }

    /// A copy reflecting at least the log's `plan_seq`, loaded first when the one kept is
    /// older (or missing). `plan_seq` must have been read before this call.
    pub async fn get(&self, plan_seq: i64) -> Result<Arc<PlanSnapshot>, StoreError> {
        if let Some(snapshot) = self.fresh(plan_seq) {
            self.counts.hits(1);
            return Ok(snapshot);
        }
        self.counts.misses(1);
        // One reload at a time; the others wait and then use its result.
        let _reloading = self.reload.lock().await;
        if let Some(snapshot) = self.fresh(plan_seq) {
            return Ok(snapshot);
        }
        let snapshot = Arc::new(PlanSnapshot::load(&self.db).await?);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((snapshot.clone(), plan_seq, Instant::now()));
        }
        Ok(snapshot)
    }
}
