//! Agencies (one record per agency, with every spelling as an alias) and the groups
//! that coordinator cells name ("Các Sở, ngành Tỉnh").

use async_graphql::{Context, ID, Object, SimpleObject};

use super::context::{database, plan_loader as loader};
use super::error::{ApiError, ApiResult};
use super::limits::list_complexity;
use super::loaders::{
    AgencyAliases, AgencyCoordinatedTasks, AgencyFacts, AgencyId, GroupAliases,
    GroupCoordinatedTasks, GroupId, LeadTasks,
};
use super::objects::{Agency, AgencyGroup, CoordinatorEntry, Party, Task};
use super::scalars::Date;
use crate::db::entities::agencies;
use crate::domain::reporting::{BodyKind, Duty, yearly_report_duty};
use crate::store::plan as store;

#[derive(Default)]
pub struct AgencyQuery;

#[Object]
impl AgencyQuery {
    /// Agencies, best match first when `search` is given. The search ignores case, tone
    /// marks and diacritics (đ = d) and NFC/NFD form, and looks at names, aliases and
    /// codes: "Sở KHCN" and "so khoa hoc va cong nghe" find the same agency.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
    ) -> async_graphql::Result<Vec<Agency>> {
        Ok(store::search_agencies(database(ctx)?, search.as_deref())
            .await
            .api()?
            .into_iter()
            .map(Agency)
            .collect())
    }

    /// An agency by its stable code, e.g. "so-khcn".
    async fn agency(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Agency>> {
        Ok(store::find_agency(database(ctx)?, &code)
            .await
            .api()?
            .map(Agency))
    }

    /// Groups of agencies and kinds of organisation named as coordinators.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn agency_groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgencyGroup>> {
        Ok(store::list_groups(database(ctx)?)
            .await
            .api()?
            .into_iter()
            .map(AgencyGroup)
            .collect())
    }
}

#[Object]
impl Agency {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Stable lowercase ASCII slug, e.g. "so-khcn".
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// The full official name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// Other spellings of the name found in published documents ("Sở KHCN").
    async fn aliases(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(loader(ctx)?
            .load_one(AgencyAliases(self.0.id))
            .await
            .api()?
            .unwrap_or_default())
    }

    /// What the body is, for the plan's yearly report (null when not known).
    async fn kind(&self) -> Option<BodyKind> {
        self.0.kind.as_deref().and_then(BodyKind::parse)
    }

    /// Whether it owes the yearly report for `year` under section IV.2 of the plan: a
    /// department or district People's Committee existing on 15 December of that year.
    async fn owes_yearly_report(&self, year: i32) -> bool {
        let kind = self.0.kind.as_deref().and_then(BodyKind::parse);
        yearly_report_duty(kind, self.0.valid_from, self.0.valid_to, year) == Duty::Owes
    }

    /// First day the body existed; null when it existed before the plan or is not known.
    async fn exists_from(&self) -> Option<Date> {
        self.0.valid_from.map(Date)
    }

    /// Last day the body existed; null while it exists.
    async fn exists_until(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }

    /// The body its duties passed to when it ceased, where one is recorded.
    async fn successor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        successor_of(ctx, &self.0).await
    }

    /// What the hub knows of this body outside the plan (kind, dates, mergers), each
    /// with the public document it comes from.
    async fn facts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgencyFact>> {
        Ok(loader(ctx)?
            .load_one(AgencyFacts(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(|f| AgencyFact {
                fact: f.fact,
                source: f.source,
            })
            .collect())
    }

    /// Tasks this agency leads, in plan order.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn lead_tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(loader(ctx)?
            .load_one(LeadTasks(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Task)
            .collect())
    }

    /// Tasks that name this agency as a coordinator, in plan order.
    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn coordinated_tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(loader(ctx)?
            .load_one(AgencyCoordinatedTasks(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Task)
            .collect())
    }
}

/// A fact about a body, with its source.
#[derive(SimpleObject)]
pub struct AgencyFact {
    pub fact: String,
    /// The public document it comes from, cited in full.
    pub source: String,
}

/// The successor recorded for `agency`.
pub async fn successor_of(
    ctx: &Context<'_>,
    agency: &agencies::Model,
) -> async_graphql::Result<Option<Agency>> {
    let Some(id) = agency.successor_id else {
        return Ok(None);
    };
    Ok(loader(ctx)?.load_one(AgencyId(id)).await.api()?.map(Agency))
}

#[Object]
impl AgencyGroup {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn code(&self) -> &str {
        &self.0.code
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// "agencies" (government bodies), "localities" (district and city committees) or
    /// "organisations" (businesses, institutes, people).
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    async fn aliases(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(loader(ctx)?
            .load_one(GroupAliases(self.0.id))
            .await
            .api()?
            .unwrap_or_default())
    }

    #[graphql(complexity = "list_complexity(child_complexity)")]
    async fn coordinated_tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(loader(ctx)?
            .load_one(GroupCoordinatedTasks(self.0.id))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(Task)
            .collect())
    }
}

/// The parties of coordinator entries, in order, with one batch per kind of party.
pub(crate) async fn parties_of(
    ctx: &Context<'_>,
    entries: &[CoordinatorEntry],
) -> async_graphql::Result<Vec<Party>> {
    let loader = loader(ctx)?;
    let agency_ids = entries.iter().filter_map(|e| e.0.agency_id).map(AgencyId);
    let group_ids = entries.iter().filter_map(|e| e.0.group_id).map(GroupId);
    let (agencies, groups) =
        futures_util::future::try_join(loader.load_many(agency_ids), loader.load_many(group_ids))
            .await
            .api()?;
    entries
        .iter()
        .map(|entry| {
            let party = match (entry.0.agency_id, entry.0.group_id) {
                (Some(id), _) => agencies
                    .get(&AgencyId(id))
                    .cloned()
                    .map(|a| Party::Agency(Agency(a))),
                (None, Some(id)) => groups
                    .get(&GroupId(id))
                    .cloned()
                    .map(|g| Party::AgencyGroup(AgencyGroup(g))),
                (None, None) => None,
            };
            party.ok_or_else(|| {
                ApiError::Internal(format!("coordinator entry {} names no party", entry.0.id))
                    .into_graphql()
            })
        })
        .collect()
}

#[Object]
impl CoordinatorEntry {
    async fn position(&self) -> i32 {
        self.0.position
    }

    /// The wording of this entry in the published cell.
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// A qualifier the cell puts before the entry ("Đề nghị": requested, not assigned).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The agency or group this entry names.
    async fn party(&self, ctx: &Context<'_>) -> async_graphql::Result<Party> {
        let entry = CoordinatorEntry(self.0.clone());
        parties_of(ctx, std::slice::from_ref(&entry))
            .await?
            .pop()
            .ok_or_else(|| ApiError::Internal("no party".into()).into_graphql())
    }
}
