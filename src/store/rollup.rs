//! Counts and aggregates read from a kind's roll-up (`<table>_rollup`, kept by triggers;
//! see the migration that creates them) instead of the records, where the roll-up holds
//! everything the query needs: it groups and filters only by roll-up columns, asks no
//! minimum or maximum, sums only the integer metrics kept there, and sees either active
//! records or every archived one. The answer is the same; its cost follows the number of
//! combinations, not of records. Anything else is read from the records as before.

use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SelectStatement};

use super::records::{ArchivedScope, ListQuery, condition};
use crate::domain::aggregate::{AggregateQuery, Grouping};
use crate::domain::filter::Filter;
use crate::records::spec::Rollup;

/// A table's roll-up table and what it holds, if it has one.
fn rollup_of(table: &str) -> Option<Rollup> {
    crate::records::spec_by_table(table).and_then(|spec| spec.rollup)
}

/// Whether every column `filter` compares is among `columns` (a look-up across tables
/// never is).
pub fn filter_within(filter: &Filter, columns: &[&str]) -> bool {
    match filter {
        Filter::All(parts) | Filter::Any(parts) => {
            parts.iter().all(|part| filter_within(part, columns))
        }
        Filter::Not(inner) => filter_within(inner, columns),
        Filter::Compare { column, .. } => columns.contains(column),
        Filter::Lookup { .. } => false,
    }
}

/// Whether `rollup` holds what `query` (over the records `scope` covers) reads.
pub fn answers(rollup: &Rollup, scope: &ListQuery, query: Option<&AggregateQuery>) -> bool {
    if !filter_within(&scope.filter, rollup.columns) || false_flags(scope).is_none() {
        return false;
    }
    let Some(query) = query else {
        return true;
    };
    let grouped = query.dimensions.iter().all(|d| match d.grouping {
        Grouping::Column(column) => rollup.columns.contains(&column),
        Grouping::Date { .. } => false,
    });
    let summed = query.metrics.is_empty()
        || (!query.figures.min
            && !query.figures.max
            && query
                .metrics
                .iter()
                .all(|m| rollup.sums.contains(&m.column)));
    grouped && summed && filter_within(&query.filter, rollup.columns)
}

/// The roll-up flags that must be false for the records `scope` sees, or `None` where the
/// flags cannot say (an agency's own archived records: the roll-up keeps no owner).
fn false_flags(scope: &ListQuery) -> Option<&'static [&'static str]> {
    match (scope.include_inactive, &scope.archived_scope) {
        (false, _) => Some(&["archived", "withdrawn"]),
        (true, ArchivedScope::All) => Some(&[]),
        (true, ArchivedScope::None) => Some(&["archived"]),
        (true, ArchivedScope::OwnedBy { .. }) => None,
    }
}

/// The roll-up's rows that stand for the records `scope` covers.
fn where_rollup(rollup_table: &'static str, scope: &ListQuery) -> Condition {
    let mut all = Condition::all().add(condition(rollup_table, &scope.filter));
    for name in false_flags(scope).unwrap_or_default() {
        all = all.add(Expr::cust(format!(r#""{rollup_table}"."{name}" = FALSE"#)));
    }
    all
}

/// `COUNT(*)` of the records `scope` covers, from the table's roll-up where it answers.
pub fn count_select(table: &str, scope: &ListQuery) -> Option<SelectStatement> {
    let rollup = rollup_of(table)?;
    if !answers(&rollup, scope, None) {
        return None;
    }
    let name = rollup.table;
    Some(
        Query::select()
            .expr(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"))
            .from(Alias::new(name))
            .cond_where(where_rollup(name, scope))
            .to_owned(),
    )
}

/// The aggregate `query` of the records `scope` covers, from the table's roll-up where it
/// answers; its columns are those the statement over the records gives (`k0…`, `n`,
/// `s0`, `a0`, `lo0`, `hi0`…).
pub fn aggregate_select(
    backend: DbBackend,
    table: &str,
    scope: &ListQuery,
    query: &AggregateQuery,
) -> Option<SelectStatement> {
    let rollup = rollup_of(table)?;
    if !answers(&rollup, scope, Some(query)) {
        return None;
    }
    let name = rollup.table;
    let column = |column: &str| format!(r#""{name}"."{column}""#);
    let double = match backend {
        DbBackend::Postgres => "DOUBLE PRECISION",
        _ => "REAL",
    };
    let mut select = Query::select();
    select.from(Alias::new(name));
    for (i, dimension) in query.dimensions.iter().enumerate() {
        if let Grouping::Column(c) = dimension.grouping {
            select.expr_as(
                Expr::cust(format!("CAST({} AS TEXT)", column(c))),
                Alias::new(format!("k{i}")),
            );
        }
    }
    select.expr_as(
        Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"),
        Alias::new("n"),
    );
    for (i, metric) in query.metrics.iter().enumerate() {
        let sum = column(&format!("{}_sum", metric.column));
        let count = column(&format!("{}_count", metric.column));
        // As SQL's own SUM and AVG: null where the group has no value.
        let figures = [
            (
                "s",
                query.figures.sum,
                format!("CASE WHEN SUM({count}) > 0 THEN CAST(SUM({sum}) AS {double}) END"),
            ),
            (
                "a",
                query.figures.avg,
                format!("CAST(SUM({sum}) AS {double}) / NULLIF(SUM({count}), 0)"),
            ),
            ("lo", false, String::new()),
            ("hi", false, String::new()),
        ];
        for (prefix, wanted, sql) in figures {
            let sql = if wanted { sql } else { "NULL".to_owned() };
            select.expr_as(
                Expr::cust(format!("CAST({sql} AS {double})")),
                Alias::new(format!("{prefix}{i}")),
            );
        }
    }
    select.cond_where(where_rollup(name, scope));
    for dimension in &query.dimensions {
        if let Grouping::Column(c) = dimension.grouping {
            select.add_group_by([Expr::cust(column(c))]);
        }
    }
    // Combinations whose records have all gone stay in the roll-up, counting none. With
    // no dimension there is one row for all, as over the records, even if it counts none.
    if !query.dimensions.is_empty() {
        select.and_having(Expr::cust("SUM(n) > 0"));
    }
    Some(select)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aggregate::{Dimension, Figures, Metric};
    use crate::domain::filter::{Op, Scalar};

    const ROLLUP: Rollup = Rollup {
        table: "ocop_products_rollup",
        columns: &["district_code", "stars", "source"],
        sums: &["stars"],
    };

    fn scope(filter: Filter, include_inactive: bool, archived_scope: ArchivedScope) -> ListQuery {
        ListQuery {
            filter,
            sort: Vec::new(),
            offset: 0,
            limit: 0,
            include_inactive,
            archived_scope,
        }
    }

    fn aggregate(dimensions: Vec<Dimension>, figures: Figures) -> AggregateQuery {
        AggregateQuery {
            filter: Filter::all(Vec::new()),
            dimensions,
            metrics: vec![Metric {
                name: "stars",
                column: "stars",
            }],
            figures,
        }
    }

    const AVG: Figures = Figures {
        sum: true,
        avg: true,
        min: false,
        max: false,
    };

    #[test]
    fn a_rollup_answers_only_what_it_holds() {
        let in_lai_vung = Filter::compare("district_code", Op::Eq, Scalar::Text("x".into()));
        let active = scope(in_lai_vung.clone(), false, ArchivedScope::All);
        let by_district = vec![Dimension::column("district", "district_code")];
        assert!(answers(&ROLLUP, &active, None), "a count");
        assert!(answers(
            &ROLLUP,
            &active,
            Some(&aggregate(by_district.clone(), AVG))
        ));

        let by_commune = vec![Dimension::column("commune", "commune")];
        assert!(!answers(
            &ROLLUP,
            &active,
            Some(&aggregate(by_commune, AVG))
        ));
        assert!(
            !answers(
                &ROLLUP,
                &active,
                Some(&aggregate(by_district.clone(), Figures::ALL))
            ),
            "minima and maxima are not kept"
        );
        let by_year = vec![Dimension::date(
            "certifiedOnYear",
            "certified_on",
            crate::domain::aggregate::DatePart::Year,
        )];
        assert!(!answers(&ROLLUP, &active, Some(&aggregate(by_year, AVG))));

        let by_name = Filter::Not(Box::new(Filter::compare(
            "name_folded",
            Op::Contains,
            Scalar::Text("xoai".into()),
        )));
        let filtered = scope(
            Filter::all(vec![in_lai_vung, by_name]),
            false,
            ArchivedScope::All,
        );
        assert!(!answers(&ROLLUP, &filtered, None), "a column it lacks");

        let owned = ArchivedScope::OwnedBy {
            source: "agency:sokhcn".into(),
            agency_id: None,
        };
        assert!(!answers(
            &ROLLUP,
            &scope(Filter::all(vec![]), true, owned),
            None
        ));
        assert!(answers(
            &ROLLUP,
            &scope(Filter::all(vec![]), true, ArchivedScope::None),
            None
        ));
    }

    #[test]
    fn a_rollup_count_sums_its_rows_in_scope() {
        let Some(select) = count_select(
            "ocop_products",
            &scope(Filter::all(Vec::new()), true, ArchivedScope::None),
        ) else {
            panic!("OCOP products have a roll-up");
        };
        let sql = DbBackend::Sqlite.build(&select).sql;
        assert!(sql.contains(r#"FROM "ocop_products_rollup""#), "{sql}");
        assert!(sql.contains(r#""archived" = FALSE"#), "{sql}");
        assert!(!sql.contains("withdrawn"), "{sql}");
        assert!(
            count_select(
                "tasks",
                &scope(Filter::all(vec![]), true, ArchivedScope::All)
            )
            .is_none()
        );
    }
}
