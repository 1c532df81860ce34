//! `xxxAggregate` queries: flat rows of groups for BI tools. Every kind and the plan's
//! tasks can be grouped by its dimensions and filtered exactly as its list is; the
//! grouping runs in SQL, and results are kept until the next write (see `store::cache`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, Lookahead, Object, SimpleObject};

use super::context::{caller, database};
use super::error::ApiError;
use super::tasks::TaskFilter;
use crate::domain::aggregate::{
    AggregateQuery as DomainQuery, Dimension, Figures, Group, Labels, Metric, check_query,
};
use crate::domain::filter::Filter;
use crate::store::cache::ReadCache;
use crate::store::records::ListQuery;

/// One group's value for one dimension.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct AggregateKey {
    /// The dimension's name (`district`, `certifiedOnYear`).
    pub dimension: String,
    /// The value the group shares (a district code, an agency code, `2024-Q1`…); null
    /// for records without one.
    pub value: Option<String>,
    /// The value as people read it (the district's or agency's name); the value itself
    /// where it needs no label.
    pub label: Option<String>,
}

/// Sum, average, minimum and maximum of one metric over a group.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct MetricValue {
    pub metric: String,
    pub sum: Option<f64>,
    pub avg: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// One group of records: its keys, how many records it holds, and the figures of the
/// first metric asked for (all of them are in `metrics`).
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct AggregateRow {
    pub keys: Vec<AggregateKey>,
    pub count: i64,
    pub sum: Option<f64>,
    pub avg: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub metrics: Vec<MetricValue>,
}

/// Kept aggregate results, shared by all requests.
pub type AggregateCache = ReadCache<String, Vec<AggregateRow>>;

/// Declares a kind's dimensions or metrics as a GraphQL enum mapped to their
/// definitions.
macro_rules! choices {
    ($(#[$doc:meta])* $name:ident -> $def:ty { $($(#[$vdoc:meta])* $variant:ident => $value:expr,)* }) => {
        $(#[$doc])*
        #[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            pub fn def(self) -> $def {
                match self { $(Self::$variant => $value,)* }
            }
        }
    };
}

use Dimension as D;

choices!(/// What plan tasks can be grouped by.
    TaskDimension -> Dimension {
    /// The plan section's numeral (I–VIII); labelled with its title.
    Section => D::labelled("section", "section_id", Labels::Section),
    /// The lead agency's code; labelled with its name.
    LeadAgency => D::labelled("leadAgency", "lead_agency_id", Labels::Agency),
    Status => D::column("status", "progress_status"),
    TimelineStartYear => D::column("timelineStartYear", "timeline_start_year"),
    TimelineEndYear => D::column("timelineEndYear", "timeline_end_year"),
});

/// No numeric field to sum: the kind's aggregates count only.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NoMetric {
    /// Counts records (the same as `count`).
    Count,
}

/// Runs one aggregate for the caller: from the cache when fresh, else in SQL, then
/// labelled.
pub(crate) async fn run(
    ctx: &Context<'_>,
    table: &'static str,
    filter: Filter,
    include_inactive: bool,
    dimensions: Vec<Dimension>,
    metrics: Vec<Metric>,
) -> async_graphql::Result<Vec<AggregateRow>> {
    check_query(&dimensions, &metrics)
        .map_err(|message| ApiError::BadUserInput(message).into_graphql())?;
    let db = database(ctx)?;
    // Plan tasks are never archived or withdrawn.
    let include_inactive = include_inactive || crate::records::spec_by_table(table).is_none();
    let scope = ListQuery {
        filter,
        sort: Vec::new(),
        offset: 0,
        limit: 0,
        include_inactive,
        archived_scope: super::records::archived_scope(caller(ctx)),
    };
    let query = DomainQuery {
        filter: scope.filter.clone(),
        dimensions,
        metrics,
        figures: selected_figures(&ctx.look_ahead()),
    };
    let key = format!(
        "{table}|{:?}|{}|{:?}|{:?}|{:?}|{:?}",
        query.filter,
        include_inactive,
        scope.archived_scope,
        query.dimensions,
        query.metrics,
        query.figures
    );
    let cache = ctx.data::<Arc<AggregateCache>>()?;
    let seq = super::context::head(ctx).await?.seq;
    let rows = cache
        .get_or_load(seq, key, || async {
            let groups = crate::store::aggregate::aggregate(db, table, &scope, &query)
                .await
                .map_err(ApiError::from)?;
            label(ctx, &query, groups).await
        })
        .await
        .map_err(|e: Arc<ApiError>| e.to_graphql())?;
    Ok(rows.as_ref().clone())
}

/// The figures the rows' selection reads, on the row (the first metric's) or in
/// `metrics`, through any fragment or alias.
fn selected_figures(rows: &Lookahead<'_>) -> Figures {
    let metrics = rows.field("metrics");
    let reads = |name: &str| rows.field(name).exists() || metrics.field(name).exists();
    Figures {
        sum: reads("sum"),
        avg: reads("avg"),
        min: reads("min"),
        max: reads("max"),
    }
}

/// What group keys are labelled with: the plan snapshot (agencies, sections) and the
/// names of the organisations the groups name.
struct LabelSource {
    snapshot: Option<Arc<crate::store::snapshot::PlanSnapshot>>,
    organisations: HashMap<i32, String>,
}

impl LabelSource {
    async fn load(
        ctx: &Context<'_>,
        query: &DomainQuery,
        groups: &[Group],
    ) -> Result<Self, ApiError> {
        let wants = |labels: Labels| query.dimensions.iter().any(|d| d.labels == labels);
        let snapshot = if wants(Labels::Agency) || wants(Labels::Section) {
            Some(
                super::context::snapshot(ctx)
                    .await
                    .map_err(|e| ApiError::Internal(e.message))?,
            )
        } else {
            None
        };
        let mut organisations: HashMap<i32, String> = HashMap::new();
        if wants(Labels::Organisation) {
            let ids: Vec<i32> = query
                .dimensions
                .iter()
                .enumerate()
                .filter(|(_, d)| d.labels == Labels::Organisation)
                .flat_map(|(i, _)| groups.iter().filter_map(move |g| g.keys[i].as_deref()))
                .filter_map(|id| id.parse().ok())
                .collect();
            let db = database(ctx).map_err(|e| ApiError::Internal(e.message))?;
            for organisation in crate::store::records::organisations_by_ids(db, &ids).await? {
                organisations.insert(organisation.id, organisation.name);
            }
        }
        Ok(Self {
            snapshot,
            organisations,
        })
    }

    /// A group's value for one dimension, as the stable value and its label.
    fn key(&self, labels: Labels, value: Option<String>) -> (Option<String>, Option<String>) {
        let Some(value) = value else {
            return (None, None);
        };
        match labels {
            Labels::Value => (Some(value.clone()), Some(value)),
            Labels::District => {
                let name = crate::domain::places::DISTRICTS
                    .iter()
                    .find(|d| d.code == value)
                    .map(|d| d.name.to_owned());
                (Some(value), name)
            }
            Labels::Agency => {
                let agency = self
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.agencies.iter().find(|a| a.id.to_string() == value));
                match agency {
                    Some(a) => (Some(a.code.clone()), Some(a.name.clone())),
                    None => (Some(value), None),
                }
            }
            Labels::Section => {
                let section = self
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.sections.iter().find(|x| x.id.to_string() == value));
                match section {
                    Some(x) => (Some(x.numeral.clone()), Some(x.title.clone())),
                    None => (Some(value), None),
                }
            }
            Labels::Organisation => {
                let name = value
                    .parse::<i32>()
                    .ok()
                    .and_then(|n| self.organisations.get(&n).cloned());
                (Some(format!("Organisation:{value}")), name)
            }
        }
    }

    fn row(&self, query: &DomainQuery, group: Group) -> AggregateRow {
        let keys = query
            .dimensions
            .iter()
            .zip(group.keys)
            .map(|(dimension, value)| {
                let (value, label) = self.key(dimension.labels, value);
                AggregateKey {
                    dimension: dimension.name.to_owned(),
                    value,
                    label,
                }
            })
            .collect();
        let metrics: Vec<MetricValue> = query
            .metrics
            .iter()
            .zip(group.metrics)
            .map(|(metric, stats)| MetricValue {
                metric: metric.name.to_owned(),
                sum: stats.sum,
                avg: stats.avg,
                min: stats.min,
                max: stats.max,
            })
            .collect();
        let first = metrics.first();
        AggregateRow {
            keys,
            count: group.count,
            sum: first.and_then(|m| m.sum),
            avg: first.and_then(|m| m.avg),
            min: first.and_then(|m| m.min),
            max: first.and_then(|m| m.max),
            metrics,
        }
    }
}

/// Turns raw groups into rows: ids become codes with names as labels, and the rows are
/// sorted by their values (groups without a value last).
async fn label(
    ctx: &Context<'_>,
    query: &DomainQuery,
    groups: Vec<Group>,
) -> Result<Vec<AggregateRow>, ApiError> {
    let source = LabelSource::load(ctx, query, &groups).await?;
    let mut rows: Vec<AggregateRow> = groups
        .into_iter()
        .map(|group| source.row(query, group))
        .collect();
    rows.sort_by(|a, b| {
        let order = |row: &AggregateRow| -> Vec<(bool, Option<String>)> {
            row.keys
                .iter()
                .map(|k| (k.value.is_none(), k.value.clone()))
                .collect()
        };
        sort_key(&order(a)).cmp(&sort_key(&order(b)))
    });
    Ok(rows)
}

/// Values compare as numbers when both are numbers ("9" before "10").
fn sort_key(values: &[(bool, Option<String>)]) -> Vec<(bool, Option<i64>, Option<String>)> {
    values
        .iter()
        .map(|(missing, value)| {
            let number = value.as_deref().and_then(|v| v.parse::<i64>().ok());
            (*missing, number, value.clone())
        })
        .collect()
}

/// A GraphQL enum value as a field name (`CERTIFIED_ON_YEAR` → `certifiedOnYear`).
pub fn camel(value: &str) -> String {
    let mut out = String::new();
    for (i, part) in value.split('_').filter(|p| !p.is_empty()).enumerate() {
        let lower = part.to_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

#[derive(Default)]
pub struct TaskAggregateQuery;

#[Object]
impl TaskAggregateQuery {
    /// Plan tasks (top-level and sub-tasks) grouped by `groupBy`.
    async fn tasks_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilter>,
        group_by: Option<Vec<TaskDimension>>,
        metrics: Option<Vec<NoMetric>>,
        #[graphql(default = false)] include_inactive: bool,
    ) -> async_graphql::Result<Vec<AggregateRow>> {
        let filter = super::list::checked_filter(filter.as_ref(), |f, p| f.to_filter(p))?;
        let _ = metrics;
        let dimensions = group_by
            .unwrap_or_default()
            .into_iter()
            .map(TaskDimension::def)
            .collect();
        run(
            ctx,
            "tasks",
            filter,
            include_inactive,
            dimensions,
            Vec::new(),
        )
        .await
    }
}
