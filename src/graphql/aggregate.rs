//! `xxxAggregate` queries: flat rows of groups for BI tools. Every kind and the plan's
//! tasks can be grouped by its dimensions and filtered exactly as its list is; the
//! grouping runs in SQL, and results are kept until the next write (see `store::cache`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};

use super::error::ApiError;
use super::records::{
    ip_right::IpRightFilter, ocop::OcopProductFilter, report::AnnualReportFilter,
    science::ApplicationModelFilter, science::ScienceTaskFilter,
    science::TechnologyAssessmentFilter, startup::StartupFilter,
    traceability::TraceabilityEntryFilter,
};
use super::tasks::TaskFilter;
use crate::domain::aggregate::{
    AggregateQuery as DomainQuery, DatePart, Dimension, Group, Labels, Metric, check_query,
};
use crate::domain::filter::Filter;
use crate::domain::records::RecordKind;
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
pub type AggregateCache = ReadCache<Vec<AggregateRow>>;

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

use DatePart::{Month, Quarter, Year};
use Dimension as D;

const fn metric(name: &'static str, column: &'static str) -> Metric {
    Metric { name, column }
}

const SOURCE: Dimension = D::column("source", "source");

choices!(/// What OCOP products can be grouped by.
    OcopProductDimension -> Dimension {
    /// The district's code; labelled with its name.
    District => D::labelled("district", "district_code", Labels::District),
    Commune => D::column("commune", "commune"),
    Stars => D::column("stars", "stars"),
    Category => D::column("category", "category"),
    EvaluationYear => D::column("evaluationYear", "evaluation_year"),
    CertifiedOnYear => D::date("certifiedOnYear", "certified_on", Year),
    CertifiedOnQuarter => D::date("certifiedOnQuarter", "certified_on", Quarter),
    CertifiedOnMonth => D::date("certifiedOnMonth", "certified_on", Month),
    ValidUntilYear => D::date("validUntilYear", "valid_until", Year),
    /// The producer; labelled with its name.
    Producer => D::labelled("producer", "producer_id", Labels::Organisation),
    Source => SOURCE,
});
choices!(/// Numeric fields of OCOP products.
    OcopProductMetric -> Metric { Stars => metric("stars", "stars"), });

choices!(/// What IP rights can be grouped by.
    IpRightDimension -> Dimension {
    Kind => D::column("kind", "right_kind"),
    Status => D::column("status", "status"),
    Jurisdiction => D::column("jurisdiction", "jurisdiction"),
    FarmProduct => D::column("farmProduct", "farm_product"),
    /// The managing agency's code; labelled with its name.
    ManagingAgency => D::labelled("managingAgency", "managing_agency_id", Labels::Agency),
    FiledOnYear => D::date("filedOnYear", "filed_on", Year),
    RegisteredOnYear => D::date("registeredOnYear", "registered_on", Year),
    RegisteredOnQuarter => D::date("registeredOnQuarter", "registered_on", Quarter),
    RegisteredOnMonth => D::date("registeredOnMonth", "registered_on", Month),
    Source => SOURCE,
});

choices!(/// What startups can be grouped by.
    StartupDimension -> Dimension {
    District => D::column("district", "district"),
    Sector => D::column("sector", "sector"),
    FoundedYear => D::column("foundedYear", "founded_year"),
    Source => SOURCE,
});

choices!(/// What traceability entries can be grouped by.
    TraceabilityEntryDimension -> Dimension {
    EventType => D::column("eventType", "event_type"),
    Action => D::column("action", "action"),
    BizStep => D::column("bizStep", "biz_step"),
    Disposition => D::column("disposition", "disposition"),
    Gtin => D::column("gtin", "gtin"),
    Uom => D::column("uom", "uom"),
    GrowingAreaCode => D::column("growingAreaCode", "growing_area_code"),
    Location => D::column("location", "location_name"),
    /// Year of the event, in Vietnam's time.
    EventTimeYear => D::time("eventTimeYear", "event_time", Year),
    EventTimeQuarter => D::time("eventTimeQuarter", "event_time", Quarter),
    EventTimeMonth => D::time("eventTimeMonth", "event_time", Month),
    Source => SOURCE,
});
choices!(/// Numeric fields of traceability entries.
    TraceabilityEntryMetric -> Metric { Quantity => metric("quantity", "quantity"), });

choices!(/// What S&T tasks can be grouped by.
    ScienceTaskDimension -> Dimension {
    Level => D::column("level", "level"),
    Status => D::column("status", "status"),
    /// The host organisation; labelled with its name.
    Host => D::labelled("host", "host_id", Labels::Organisation),
    StartOnYear => D::date("startOnYear", "start_on", Year),
    EndOnYear => D::date("endOnYear", "end_on", Year),
    Source => SOURCE,
});
choices!(/// Numeric fields of S&T tasks.
    ScienceTaskMetric -> Metric { BudgetVnd => metric("budgetVnd", "budget_vnd"), });

choices!(/// What application models can be grouped by.
    ApplicationModelDimension -> Dimension {
    Field => D::column("field", "field"),
    Host => D::labelled("host", "host_id", Labels::Organisation),
    YearTransferred => D::column("yearTransferred", "year_transferred"),
    Source => SOURCE,
});

choices!(/// What technology assessments can be grouped by.
    TechnologyAssessmentDimension -> Dimension {
    Industry => D::column("industry", "industry"),
    Level => D::column("level", "level"),
    Year => D::column("year", "year"),
    Source => SOURCE,
});

choices!(/// What annual reports can be grouped by.
    AnnualReportDimension -> Dimension {
    /// The reporting agency's code; labelled with its name.
    Agency => D::labelled("agency", "agency_id", Labels::Agency),
    Year => D::column("year", "year"),
    SubmittedOnYear => D::date("submittedOnYear", "submitted_on", Year),
    SubmittedOnMonth => D::date("submittedOnMonth", "submitted_on", Month),
});

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
    let db = super::plan::database(ctx)?;
    // Plan tasks are never archived or withdrawn.
    let include_inactive = include_inactive || !RecordKind::ALL.iter().any(|k| k.table() == table);
    let scope = ListQuery {
        filter,
        sort: Vec::new(),
        offset: 0,
        limit: 0,
        include_inactive,
        archived_scope: super::records::archived_scope(super::mutations::caller(ctx)),
    };
    let query = DomainQuery {
        filter: scope.filter.clone(),
        dimensions,
        metrics,
    };
    let key = format!(
        "{table}|{:?}|{}|{:?}|{:?}|{:?}",
        query.filter, include_inactive, scope.archived_scope, query.dimensions, query.metrics
    );
    let cache = ctx.data::<Arc<AggregateCache>>()?;
    let rows = cache
        .get_or_load(key, || async {
            let groups = crate::store::aggregate::aggregate(db, table, &scope, &query)
                .await
                .map_err(ApiError::from)?;
            label(ctx, &query, groups).await
        })
        .await
        .map_err(|e: ApiError| e.into_graphql())?;
    Ok(rows.as_ref().clone())
}

/// Turns raw groups into rows: ids become codes with names as labels, and the rows are
/// sorted by their values (groups without a value last).
async fn label(
    ctx: &Context<'_>,
    query: &DomainQuery,
    groups: Vec<Group>,
) -> Result<Vec<AggregateRow>, ApiError> {
    let wants = |labels: Labels| query.dimensions.iter().any(|d| d.labels == labels);
    let snapshot = if wants(Labels::Agency) || wants(Labels::Section) {
        Some(
            ctx.data::<Arc<crate::store::snapshot::PlanCache>>()
                .map_err(|e| ApiError::Internal(e.message))?
                .get()
                .await?,
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
        let db = super::plan::database(ctx).map_err(|e| ApiError::Internal(e.message))?;
        for organisation in crate::store::records::organisations_by_ids(db, &ids).await? {
            organisations.insert(organisation.id, organisation.name);
        }
    }
    let mut rows: Vec<AggregateRow> = groups
        .into_iter()
        .map(|group| {
            let keys = query
                .dimensions
                .iter()
                .zip(group.keys)
                .map(|(dimension, value)| {
                    let (value, label) = match (dimension.labels, value) {
                        (_, None) => (None, None),
                        (Labels::Value, Some(v)) => (Some(v.clone()), Some(v)),
                        (Labels::District, Some(code)) => {
                            let name = crate::domain::places::DISTRICTS
                                .iter()
                                .find(|d| d.code == code)
                                .map(|d| d.name.to_owned());
                            (Some(code), name)
                        }
                        (Labels::Agency, Some(id)) => {
                            let agency = snapshot
                                .as_ref()
                                .and_then(|s| s.agencies.iter().find(|a| a.id.to_string() == id));
                            match agency {
                                Some(a) => (Some(a.code.clone()), Some(a.name.clone())),
                                None => (Some(id), None),
                            }
                        }
                        (Labels::Section, Some(id)) => {
                            let section = snapshot
                                .as_ref()
                                .and_then(|s| s.sections.iter().find(|x| x.id.to_string() == id));
                            match section {
                                Some(x) => (Some(x.numeral.clone()), Some(x.title.clone())),
                                None => (Some(id), None),
                            }
                        }
                        (Labels::Organisation, Some(id)) => {
                            let name = id
                                .parse::<i32>()
                                .ok()
                                .and_then(|n| organisations.get(&n).cloned());
                            (Some(format!("Organisation:{id}")), name)
                        }
                    };
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
        })
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

fn defs<T: Copy, D>(items: Option<Vec<T>>, def: impl Fn(T) -> D) -> Vec<D> {
    items.unwrap_or_default().into_iter().map(def).collect()
}

#[derive(Default)]
pub struct AggregateQuery;

/// The aggregate fields, one per kind; each takes the kind's list filter.
macro_rules! aggregate_fields {
    ($($(#[$doc:meta])* $field:ident, $table:expr, $filter:ty, $dimension:ty, $metric:ty, $metric_def:expr;)*) => {
        #[Object]
        impl AggregateQuery {
            $(
            $(#[$doc])*
            async fn $field(
                &self,
                ctx: &Context<'_>,
                filter: Option<$filter>,
                group_by: Option<Vec<$dimension>>,
                metrics: Option<Vec<$metric>>,
                #[graphql(default = false)] include_inactive: bool,
            ) -> async_graphql::Result<Vec<AggregateRow>> {
                let filter = super::list::checked_filter(filter.as_ref(), |f, p| f.to_filter(p))?;
                let metric_defs: Vec<Option<Metric>> = defs(metrics, $metric_def);
                run(
                    ctx,
                    $table,
                    filter,
                    include_inactive,
                    defs(group_by, |d: $dimension| d.def()),
                    metric_defs.into_iter().flatten().collect(),
                )
                .await
            }
            )*
        }
    };
}

aggregate_fields! {
    /// OCOP products grouped by `groupBy` (no dimension: one row for all).
    ocop_products_aggregate, RecordKind::OcopProduct.table(), OcopProductFilter,
    OcopProductDimension, OcopProductMetric, |m: OcopProductMetric| Some(m.def());
    /// IP rights grouped by `groupBy`.
    ip_rights_aggregate, RecordKind::IpRight.table(), IpRightFilter,
    IpRightDimension, NoMetric, |_| None;
    /// Startups grouped by `groupBy`.
    startups_aggregate, RecordKind::Startup.table(), StartupFilter,
    StartupDimension, NoMetric, |_| None;
    /// Traceability entries grouped by `groupBy` (event months in Vietnam's time).
    traceability_entries_aggregate, RecordKind::TraceabilityEntry.table(),
    TraceabilityEntryFilter, TraceabilityEntryDimension, TraceabilityEntryMetric,
    |m: TraceabilityEntryMetric| Some(m.def());
    /// S&T tasks grouped by `groupBy`.
    science_tasks_aggregate, RecordKind::ScienceTask.table(), ScienceTaskFilter,
    ScienceTaskDimension, ScienceTaskMetric, |m: ScienceTaskMetric| Some(m.def());
    /// Application models grouped by `groupBy`.
    application_models_aggregate, RecordKind::ApplicationModel.table(),
    ApplicationModelFilter, ApplicationModelDimension, NoMetric, |_| None;
    /// Technology assessments grouped by `groupBy`.
    technology_assessments_aggregate, RecordKind::TechnologyAssessment.table(),
    TechnologyAssessmentFilter, TechnologyAssessmentDimension, NoMetric, |_| None;
    /// Annual reports grouped by `groupBy`.
    annual_reports_aggregate, RecordKind::AnnualReport.table(), AnnualReportFilter,
    AnnualReportDimension, NoMetric, |_| None;
    /// Plan tasks (top-level and sub-tasks) grouped by `groupBy`.
    tasks_aggregate, "tasks", TaskFilter, TaskDimension, NoMetric, |_| None;
}
