//! Arbitrary bytes as the query string of `GET /export/{kind}.csv`: the filter it
//! describes, read as each list's GraphQL filter input and checked into a filter.

#![no_main]

use async_graphql::InputType;
use khcn_hub::domain::filter::{Filter, FilterError};
use khcn_hub::graphql::records::{
    ip_right::IpRightFilter, ocop::OcopProductFilter, report::AnnualReportFilter,
    science::ApplicationModelFilter, science::ScienceTaskFilter,
    science::TechnologyAssessmentFilter, startup::StartupFilter,
    traceability::TraceabilityEntryFilter,
};
use khcn_hub::graphql::tasks::TaskFilter;
use khcn_hub::http::export::filter_json;
use libfuzzer_sys::fuzz_target;

/// What GraphQL does with the `$filter` variable, then what the list's resolver does.
fn check<T: InputType>(
    value: &async_graphql::Value,
    to_filter: fn(&T, &str) -> Result<Filter, FilterError>,
) {
    if let Ok(input) = T::parse(Some(value.clone())) {
        let _ = to_filter(&input, "filter");
    }
}

fuzz_target!(|data: &[u8]| {
    // As axum's `Query<Vec<(String, String)>>` splits it.
    let params: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let Ok(Some(filter)) = filter_json(&params) else {
        return;
    };
    let Ok(value) = async_graphql::Value::from_json(filter) else {
        return;
    };
    check(&value, OcopProductFilter::to_filter);
    check(&value, IpRightFilter::to_filter);
    check(&value, StartupFilter::to_filter);
    check(&value, TraceabilityEntryFilter::to_filter);
    check(&value, ScienceTaskFilter::to_filter);
    check(&value, ApplicationModelFilter::to_filter);
    check(&value, TechnologyAssessmentFilter::to_filter);
    check(&value, AnnualReportFilter::to_filter);
    check(&value, TaskFilter::to_filter);
});
