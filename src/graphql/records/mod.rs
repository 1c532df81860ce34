//! Linked records: one module per kind, sharing provenance fields, links to plan tasks,
//! and the list machinery of `graphql::list`.

pub mod ip_right;
pub mod ocop;
pub mod report;
pub mod science;
pub mod startup;
pub mod traceability;

use async_graphql::{Context, Enum, ID, Object, Union};

use super::error::{ApiError, ApiResult};
use super::loaders::{AnyRecord, RecordKey, RecordLoader};
use crate::db::entities::organisations;
use crate::domain::records::{RecordKind as DomainKind, RecordRef};

/// The kinds of linked record.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Hash)]
pub enum RecordKind {
    IpRight,
    OcopProduct,
    Startup,
    TraceabilityEntry,
    ScienceTask,
    ApplicationModel,
    TechnologyAssessment,
    AnnualReport,
}

impl From<RecordKind> for DomainKind {
    fn from(kind: RecordKind) -> Self {
        match kind {
            RecordKind::IpRight => DomainKind::IpRight,
            RecordKind::OcopProduct => DomainKind::OcopProduct,
            RecordKind::Startup => DomainKind::Startup,
            RecordKind::TraceabilityEntry => DomainKind::TraceabilityEntry,
            RecordKind::ScienceTask => DomainKind::ScienceTask,
            RecordKind::ApplicationModel => DomainKind::ApplicationModel,
            RecordKind::TechnologyAssessment => DomainKind::TechnologyAssessment,
            RecordKind::AnnualReport => DomainKind::AnnualReport,
        }
    }
}

impl From<DomainKind> for RecordKind {
    fn from(kind: DomainKind) -> Self {
        match kind {
            DomainKind::IpRight => RecordKind::IpRight,
            DomainKind::OcopProduct => RecordKind::OcopProduct,
            DomainKind::Startup => RecordKind::Startup,
            DomainKind::TraceabilityEntry => RecordKind::TraceabilityEntry,
            DomainKind::ScienceTask => RecordKind::ScienceTask,
            DomainKind::ApplicationModel => RecordKind::ApplicationModel,
            DomainKind::TechnologyAssessment => RecordKind::TechnologyAssessment,
            DomainKind::AnnualReport => RecordKind::AnnualReport,
        }
    }
}

/// Any linked record.
#[derive(Union, Clone)]
pub enum LinkedRecord {
    IpRight(ip_right::IpRight),
    OcopProduct(ocop::OcopProduct),
    Startup(startup::Startup),
    TraceabilityEntry(traceability::TraceabilityEntry),
    ScienceTask(science::ScienceTask),
    ApplicationModel(science::ApplicationModel),
    TechnologyAssessment(science::TechnologyAssessment),
    AnnualReport(report::AnnualReport),
}

impl From<AnyRecord> for LinkedRecord {
    fn from(record: AnyRecord) -> Self {
        match record {
            AnyRecord::IpRight(m) => LinkedRecord::IpRight(ip_right::IpRight(m)),
            AnyRecord::OcopProduct(m) => LinkedRecord::OcopProduct(ocop::OcopProduct(m)),
            AnyRecord::Startup(m) => LinkedRecord::Startup(startup::Startup(m)),
            AnyRecord::TraceabilityEntry(m) => {
                LinkedRecord::TraceabilityEntry(traceability::TraceabilityEntry(m))
            }
            AnyRecord::ScienceTask(m) => LinkedRecord::ScienceTask(science::ScienceTask(m)),
            AnyRecord::ApplicationModel(m) => {
                LinkedRecord::ApplicationModel(science::ApplicationModel(m))
            }
            AnyRecord::TechnologyAssessment(m) => {
                LinkedRecord::TechnologyAssessment(science::TechnologyAssessment(m))
            }
            AnyRecord::AnnualReport(m) => LinkedRecord::AnnualReport(report::AnnualReport(m)),
        }
    }
}

pub(crate) fn record_loader<'a>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a async_graphql::dataloader::DataLoader<RecordLoader>> {
    ctx.data::<async_graphql::dataloader::DataLoader<RecordLoader>>()
}

/// Loads records by reference, keeping the order of `refs` and skipping missing ones.
pub(crate) async fn load_records(
    ctx: &Context<'_>,
    refs: impl IntoIterator<Item = RecordRef>,
) -> async_graphql::Result<Vec<LinkedRecord>> {
    let refs: Vec<RecordRef> = refs.into_iter().collect();
    let found = record_loader(ctx)?
        .load_many(refs.iter().copied().map(RecordKey))
        .await
        .api()?;
    let caller = super::mutations::caller(ctx);
    let records: Vec<&AnyRecord> = refs
        .iter()
        .filter_map(|r| found.get(&RecordKey(*r)))
        .filter(|record| record.readable_by(caller))
        .collect();
    let look_ahead = ctx.look_ahead();
    if ORGANISATION_FIELDS
        .iter()
        .any(|name| look_ahead.field(name).exists())
    {
        prefetch_organisations(ctx, records.iter().filter_map(|r| r.organisation())).await?;
    }
    Ok(records
        .into_iter()
        .cloned()
        .map(LinkedRecord::from)
        .collect())
}

/// Parses a record id argument: the global `"OcopProduct:42"`, or `"42"` for `kind`.
pub(crate) fn parse_record_id(id: &ID, kind: DomainKind) -> async_graphql::Result<i32> {
    let text = id.as_str();
    if let Some(reference) = RecordRef::parse(text) {
        if reference.kind == kind {
            return Ok(reference.id);
        }
        return Err(ApiError::BadUserInput(format!(
            "id {text:?} is a {}, not a {}",
            reference.kind.type_name(),
            kind.type_name()
        ))
        .into_graphql());
    }
    text.parse::<i32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::BadUserInput(format!(
            "id {text:?} is not a record id (e.g. \"{}:1\")",
            kind.type_name()
        ))
        .into_graphql()
    })
}

/// An organisation: a producer, startup, host institution or enterprise.
#[derive(Clone)]
pub struct Organisation(pub organisations::Model);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(format!("Organisation:{}", self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Vietnamese tax code (mã số thuế), where known.
    async fn tax_code(&self) -> Option<&str> {
        self.0.tax_code.as_deref()
    }

    /// cooperative, enterprise, household business, institute…
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }

    /// The district as the organisation's records name it.
    async fn district(&self) -> Option<&str> {
        self.0.district.as_deref()
    }

    async fn commune(&self) -> Option<&str> {
        self.0.commune.as_deref()
    }
}

/// The fields through which a record names an organisation.
const ORGANISATION_FIELDS: [&str; 4] = ["producer", "host", "enterprise", "organisation"];

/// Organisations fetched for a whole page at once, for the rest of one request. A page
/// of 100 records then asks for its producers in one call instead of 100 loader calls.
#[derive(Default)]
pub struct Prefetched {
    organisations: std::sync::Mutex<std::collections::HashMap<i32, Option<Organisation>>>,
}

/// Loads the organisations `ids` names into the request's `Prefetched`, if it has one.
async fn prefetch_organisations(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i32>,
) -> async_graphql::Result<()> {
    let Some(prefetched) = ctx.data_opt::<Prefetched>() else {
        return Ok(());
    };
    let mut ids: Vec<i32> = ids.into_iter().collect();
    if let Ok(known) = prefetched.organisations.lock() {
        ids.retain(|id| !known.contains_key(id));
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let found = record_loader(ctx)?
        .load_many(ids.iter().copied().map(super::loaders::OrganisationId))
        .await
        .api()?;
    if let Ok(mut known) = prefetched.organisations.lock() {
        for id in ids {
            let organisation = found
                .get(&super::loaders::OrganisationId(id))
                .cloned()
                .map(Organisation);
            known.insert(id, organisation);
        }
    }
    Ok(())
}

pub(crate) async fn load_organisation(
    ctx: &Context<'_>,
    id: Option<i32>,
) -> async_graphql::Result<Option<Organisation>> {
    let Some(id) = id else { return Ok(None) };
    if let Some(prefetched) = ctx.data_opt::<Prefetched>()
        && let Ok(known) = prefetched.organisations.lock()
        && let Some(organisation) = known.get(&id)
    {
        return Ok(organisation.clone());
    }
    Ok(record_loader(ctx)?
        .load_one(super::loaders::OrganisationId(id))
        .await
        .api()?
        .map(Organisation))
}

/// Declares a record type: its kind, the common provenance fields and `tasks`, then the
/// kind's own fields.
macro_rules! record_object {
    ($(#[$doc:meta])* $name:ident($model:ty), $kind:expr, { $($fields:tt)* }) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub std::sync::Arc<$model>);

        #[async_graphql::Object]
        impl $name {
            /// Global id, `"<Type>:<n>"`.
            async fn id(&self) -> async_graphql::ID {
                async_graphql::ID($crate::domain::records::RecordRef { kind: $kind, id: self.0.id }.to_string())
            }

            /// Where the record came from: `seed`, `sample`, `agency:<code>` or
            /// `connector:<name>`.
            async fn source(&self) -> &str {
                &self.0.source
            }

            /// The record's key in its source registry.
            async fn external_id(&self) -> Option<&str> {
                self.0.external_id.as_deref()
            }

            /// When it was last fetched from its registry.
            async fn fetched_at(&self) -> Option<$crate::graphql::scalars::DateTime> {
                self.0.fetched_at.map($crate::graphql::scalars::DateTime)
            }

            async fn created_at(&self) -> $crate::graphql::scalars::DateTime {
                $crate::graphql::scalars::DateTime(self.0.created_at)
            }

            async fn updated_at(&self) -> $crate::graphql::scalars::DateTime {
                $crate::graphql::scalars::DateTime(self.0.updated_at)
            }

            /// Increases with every change; updates name the version they expect.
            async fn version(&self) -> $crate::graphql::scalars::BigInt {
                $crate::graphql::scalars::BigInt(self.0.version)
            }

            /// Set when an agency archived the record.
            async fn archived_at(&self) -> Option<$crate::graphql::scalars::DateTime> {
                self.0.archived_at.map($crate::graphql::scalars::DateTime)
            }

            /// Set when the record disappeared from its registry's snapshot.
            async fn withdrawn_at(&self) -> Option<$crate::graphql::scalars::DateTime> {
                self.0.withdrawn_at.map($crate::graphql::scalars::DateTime)
            }

            /// Plan tasks this record serves.
            #[graphql(complexity = "super::super::limits::list_complexity(child_complexity)")]
            async fn tasks(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Vec<$crate::graphql::plan::Task>> {
                use $crate::graphql::error::ApiResult;
                let reference = $crate::domain::records::RecordRef { kind: $kind, id: self.0.id };
                Ok($crate::graphql::records::record_loader(ctx)?
                    .load_one($crate::graphql::loaders::RecordTasks(reference))
                    .await
                    .api()?
                    .unwrap_or_default()
                    .into_iter()
                    .map($crate::graphql::plan::Task)
                    .collect())
            }

            /// Every change to this record, oldest first: who, when, before and after.
            /// Read by admins, analysts and the agency that owns the record.
            #[graphql(complexity = "super::super::limits::list_complexity(child_complexity)")]
            async fn history(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Vec<$crate::graphql::audit::AuditEntry>> {
                use $crate::graphql::error::ApiResult;
                use $crate::store::writes::Writable;
                let (agency_id, agency_only) = self.0.owner_agency();
                let owner = $crate::domain::scope::Owner { source: &self.0.source, agency_id, agency_only };
                if !$crate::domain::scope::may_read_private($crate::graphql::mutations::caller(ctx), &owner) {
                    return Err($crate::graphql::error::ApiError::Forbidden {
                        message: "a record's history is read by admins, analysts and the agency that owns it".into(),
                        path: None,
                    }
                    .into_graphql());
                }
                let reference = $crate::domain::records::RecordRef { kind: $kind, id: self.0.id };
                Ok($crate::graphql::records::record_loader(ctx)?
                    .load_one($crate::graphql::loaders::RecordHistory(reference))
                    .await
                    .api()?
                    .unwrap_or_default()
                    .into_iter()
                    .map($crate::graphql::audit::AuditEntry)
                    .collect())
            }

            $($fields)*
        }
    };
}
pub(crate) use record_object;

/// Declares a kind's root queries: the list (filter, order, Relay pages) and one by id.
macro_rules! record_queries {
    (
        $query:ident, $list:ident, $single:ident, $node:ident, $entity:ty, $kind:expr,
        $filter:ty, $order:ty, [$($default:expr),* $(,)?]
    ) => {
        #[derive(Default)]
        pub struct $query;

        #[async_graphql::Object]
        impl $query {
            /// A page of records, filtered and sorted. Archived and withdrawn records are
            /// left out unless `includeInactive` is true.
            #[allow(clippy::too_many_arguments)]
            #[graphql(complexity = "super::super::limits::list_complexity(child_complexity)")]
            async fn $list(
                &self,
                ctx: &async_graphql::Context<'_>,
                filter: Option<$filter>,
                order_by: Option<Vec<$crate::graphql::list::OrderBy<$order>>>,
                first: Option<i32>,
                after: Option<String>,
                last: Option<i32>,
                before: Option<String>,
                #[graphql(default = false)] include_inactive: bool,
            ) -> async_graphql::Result<$crate::graphql::list::Connection<$node>> {
                let filter = $crate::graphql::list::checked_filter(filter.as_ref(), |f, p| f.to_filter(p))?;
                let sort = $crate::graphql::list::sort_keys(order_by, &[$($default),*]);
                let page = $crate::graphql::list::PageArgs { first, after, last, before };
                $crate::graphql::records::list_page::<$entity, $node>(
                    ctx, ($kind).table(), filter, sort, page, include_inactive,
                    |model| $node(std::sync::Arc::new(model)),
                    $crate::store::writes::Writable::organisation,
                )
                .await
            }

            /// One record by id (`"<Type>:<n>"` or the bare number); null when unknown.
            async fn $single(
                &self,
                ctx: &async_graphql::Context<'_>,
                id: async_graphql::ID,
            ) -> async_graphql::Result<Option<$node>> {
                let id = $crate::graphql::records::parse_record_id(&id, $kind)?;
                let reference = $crate::domain::records::RecordRef { kind: $kind, id };
                let found = $crate::graphql::records::load_records(ctx, [reference]).await?;
                Ok(found.into_iter().find_map(|record| match record {
                    $crate::graphql::records::LinkedRecord::$node(node) => Some(node),
                    _ => None,
                }))
            }
        }
    };
}
pub(crate) use record_queries;

/// Which archived records the caller may list (see `domain::scope::may_read`).
pub(crate) fn archived_scope(
    caller: &crate::domain::auth::Caller,
) -> crate::store::records::ArchivedScope {
    use crate::domain::auth::{Caller, Role};
    use crate::store::records::ArchivedScope;
    match caller {
        Caller::Anonymous => ArchivedScope::None,
        Caller::Token {
            role: Role::Admin | Role::Analyst,
            ..
        } => ArchivedScope::All,
        Caller::Token {
            agency_id,
            agency_code,
            ..
        } => ArchivedScope::OwnedBy {
            source: format!("agency:{}", agency_code.as_deref().unwrap_or_default()),
            agency_id: *agency_id,
        },
    }
}

/// Runs a list query and builds its page; `totalCount` is counted only when selected
/// (or needed for `last`).
// Every list (records and tasks) funnels through here; its arguments are the list's.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn list_page<E, N>(
    ctx: &Context<'_>,
    table: &'static str,
    filter: crate::domain::filter::Filter,
    sort: Vec<crate::store::records::SortKey>,
    page: super::list::PageArgs,
    include_inactive: bool,
    wrap: impl Fn(E::Model) -> N,
    organisation_of: impl Fn(&E::Model) -> Option<i32>,
) -> async_graphql::Result<super::list::Connection<N>>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
    N: async_graphql::OutputType,
{
    use crate::store::records as store;
    let db = super::plan::database(ctx)?;
    let mut query = store::ListQuery {
        filter,
        sort,
        offset: 0,
        limit: 0,
        include_inactive,
        archived_scope: archived_scope(super::mutations::caller(ctx)),
    };
    let totals = ctx.data::<std::sync::Arc<crate::store::totals::TotalsCache>>()?;
    let window = page
        .window(|| {
            let query = query.clone();
            async move {
                totals
                    .count::<E>(db, table, &query)
                    .await
                    .map(|n| n as usize)
                    .map_err(ApiError::from)
            }
        })
        .await
        .map_err(ApiError::into_graphql)?;
    query.offset = window.offset as u64;
    // One extra row tells whether a next page exists.
    query.limit = window.limit as u64 + 1;
    let look_ahead = ctx.look_ahead();
    let wants_total = look_ahead.field("totalCount").exists() || window.bounded_above;
    let wants_rows = ["nodes", "edges", "pageInfo"]
        .iter()
        .any(|field| look_ahead.field(field).exists());
    let (rows, total) = match (wants_rows, wants_total) {
        (true, true) => {
            let (rows, total) = futures_util::future::try_join(
                store::list::<E>(db, table, &query),
                totals.count::<E>(db, table, &query),
            )
            .await
            .api()?;
            (rows, total as i64)
        }
        (true, false) => (store::list::<E>(db, table, &query).await.api()?, 0),
        (false, true) => (
            Vec::new(),
            totals.count::<E>(db, table, &query).await.api()? as i64,
        ),
        (false, false) => (Vec::new(), 0),
    };
    let selects_organisation = ["nodes", "edges"].iter().any(|field| {
        let nodes = look_ahead.field(field);
        let nodes = if *field == "edges" {
            nodes.field("node")
        } else {
            nodes
        };
        ORGANISATION_FIELDS
            .iter()
            .any(|name| nodes.field(name).exists())
    });
    if selects_organisation {
        prefetch_organisations(ctx, rows.iter().filter_map(&organisation_of)).await?;
    }
    let nodes = rows.into_iter().map(wrap).collect();
    Ok(super::list::connection_from_rows(window, nodes, total))
}
