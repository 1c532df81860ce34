//! The registry of record kinds: which kinds of record the hub keeps, each with its
//! module in `records/` and its name in the API. Adding a kind is one line here (after
//! its migration, its entity and its module); every layer expands the list it needs
//! from this macro.

/// The record kinds, one line each: the kind, its module, its name in the API.
/// `registry!(callback!(args))` hands the list to a macro after `args`.
macro_rules! registry {
    ($($callback:ident)::+ ! ($($args:tt)*)) => {
        $($callback)::+! {
            $($args)*
            IpRight ip_right "IP_RIGHT",
            OcopProduct ocop_product "OCOP_PRODUCT",
            Startup startup "STARTUP",
            TraceabilityEntry traceability_entry "TRACEABILITY_ENTRY",
            ScienceTask science_task "SCIENCE_TASK",
            ApplicationModel application_model "APPLICATION_MODEL",
            TechnologyAssessment technology_assessment "TECHNOLOGY_ASSESSMENT",
            AnnualReport annual_report "ANNUAL_REPORT",
        }
    };
}
pub(crate) use registry;
