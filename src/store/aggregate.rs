//! Aggregates in SQL: one `GROUP BY` statement per request, so a 200,000-row table is
//! summarised by the database without a row reaching the hub.

use std::sync::LazyLock;

use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};

use super::StoreError;
use super::records::{ListQuery, where_condition};
use crate::domain::aggregate::{AggregateQuery, DatePart, Group, Grouping, Stats};

fn column(table: &'static str, column: &'static str) -> String {
    format!(r#""{table}"."{column}""#)
}

/// The SQL for a dimension's value, as text.
fn key_sql(backend: DbBackend, table: &'static str, grouping: Grouping) -> String {
    match grouping {
        Grouping::Column(name) => format!("CAST({} AS TEXT)", column(table, name)),
        Grouping::Date {
            column: name,
            part,
            with_time,
        } => {
            let col = column(table, name);
            match backend {
                DbBackend::Postgres => {
                    let value = if with_time {
                        format!("({col} AT TIME ZONE 'Asia/Ho_Chi_Minh')")
                    } else {
                        col
                    };
                    let format = match part {
                        DatePart::Year => "YYYY",
                        DatePart::Quarter => r#"YYYY"-Q"Q"#,
                        DatePart::Month => "YYYY-MM",
                    };
                    format!("to_char({value}, '{format}')")
                }
                _ => {
                    // Vietnam keeps UTC+7 all year; SQLite reads the stored offset and
                    // works in UTC, so the shift gives local dates.
                    let shift = if with_time { ", '+7 hours'" } else { "" };
                    match part {
                        DatePart::Year => format!("strftime('%Y', {col}{shift})"),
                        DatePart::Month => format!("strftime('%Y-%m', {col}{shift})"),
                        DatePart::Quarter => format!(
                            "strftime('%Y', {col}{shift}) || '-Q' || \
                             ((CAST(strftime('%m', {col}{shift}) AS INTEGER) + 2) / 3)"
                        ),
                    }
                }
            }
        }
    }
}

/// What the rows are grouped by for the `i`-th dimension: a column by its own value when
/// `by_value`, else (and a date part always) by the position of its text in the select
/// list. Both give the same groups; the value is cheaper to hash and can be read in the
/// order of an index that covers the query, so each group's text is made once.
fn group_by_sql(table: &'static str, grouping: Grouping, i: usize, by_value: bool) -> String {
    match grouping {
        Grouping::Column(name) if by_value => column(table, name),
        _ => (i + 1).to_string(),
    }
}

/// Statement shapes (their SQL) SQLite has been asked about, and whether grouping by
/// value lets it read only an index. Bounded: a shape forgotten is asked again.
static SQLITE_COVERED_SHAPES: LazyLock<moka::sync::Cache<String, bool>> =
    LazyLock::new(|| moka::sync::Cache::new(1_024));

/// Whether SQLite answers `statement` from a covering index alone. Grouped by a bare
/// column, SQLite walks any index on it to save the sort; where that index does not cover
/// the query it then visits every row from there, slower than one pass over the table
/// and a sort (32 against 21 ms grouping 30,000 products by commune). Asked once per shape
/// with `EXPLAIN QUERY PLAN`.
async fn sqlite_reads_only_an_index(
    db: &DatabaseConnection,
    statement: &Statement,
) -> Result<bool, DbErr> {
    if let Some(known) = SQLITE_COVERED_SHAPES.get(&statement.sql) {
        return Ok(known);
    }
    let explain = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("EXPLAIN QUERY PLAN {}", statement.sql),
        statement.values.clone().map(|v| v.0).unwrap_or_default(),
    );
    let covered = db.query_all_raw(explain).await?.iter().any(|step| {
        step.try_get::<String>("", "detail")
            .is_ok_and(|detail| detail.contains("USING COVERING INDEX"))
    });
    SQLITE_COVERED_SHAPES.insert(statement.sql.clone(), covered);
    Ok(covered)
}

fn double(sql: String) -> SimpleExpr {
    Expr::cust(format!("CAST({sql} AS DOUBLE PRECISION)"))
}

/// Groups the rows of `table` that `scope` covers (its filter, activity and archived
/// scope) by the query's dimensions, with a count and each metric's figures.
pub async fn aggregate(
    db: &DatabaseConnection,
    table: &'static str,
    scope: &ListQuery,
    query: &AggregateQuery,
) -> Result<Vec<Group>, StoreError> {
    let backend = db.get_database_backend();
    let statement = match super::rollup::aggregate_select(backend, table, scope, query) {
        Some(select) => backend.build(&select),
        None => aggregate_statement(db, table, scope, query).await?,
    };
    let rows = db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| read_group(row, query))
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
}

/// The statement `aggregate` sends where no roll-up answers: PostgreSQL groups columns by
/// value; SQLite does where that lets it read only an index, and by their text elsewhere.
pub async fn aggregate_statement(
    db: &DatabaseConnection,
    table: &'static str,
    scope: &ListQuery,
    query: &AggregateQuery,
) -> Result<Statement, DbErr> {
    let backend = db.get_database_backend();
    let by_value = grouping_statement(backend, table, scope, query, true);
    let by_column =
        |d: &crate::domain::aggregate::Dimension| matches!(d.grouping, Grouping::Column(_));
    if backend != DbBackend::Sqlite
        || !query.dimensions.iter().any(by_column)
        || sqlite_reads_only_an_index(db, &by_value).await?
    {
        return Ok(by_value);
    }
    Ok(grouping_statement(backend, table, scope, query, false))
}

fn grouping_statement(
    backend: DbBackend,
    table: &'static str,
    scope: &ListQuery,
    query: &AggregateQuery,
    by_value: bool,
) -> Statement {
    let mut select = Query::select();
    select.from(Alias::new(table));
    for (i, dimension) in query.dimensions.iter().enumerate() {
        select.expr_as(
            Expr::cust(key_sql(backend, table, dimension.grouping)),
            Alias::new(format!("k{i}")),
        );
    }
    select.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"));
    let figures = query.figures;
    for (i, metric) in query.metrics.iter().enumerate() {
        let col = column(table, metric.column);
        for (function, prefix, wanted) in [
            ("SUM", "s", figures.sum),
            ("AVG", "a", figures.avg),
            ("MIN", "lo", figures.min),
            ("MAX", "hi", figures.max),
        ] {
            let value = if wanted {
                format!("{function}({col})")
            } else {
                "NULL".to_owned()
            };
            select.expr_as(double(value), Alias::new(format!("{prefix}{i}")));
        }
    }
    select.cond_where(where_condition(table, scope));
    for (i, dimension) in query.dimensions.iter().enumerate() {
        select.add_group_by([Expr::cust(group_by_sql(
            table,
            dimension.grouping,
            i,
            by_value,
        ))]);
    }
    backend.build(&select)
}

fn read_group(row: &QueryResult, query: &AggregateQuery) -> Result<Group, sea_orm::DbErr> {
    let keys = (0..query.dimensions.len())
        .map(|i| row.try_get::<Option<String>>("", &format!("k{i}")))
        .collect::<Result<_, _>>()?;
    let count: i64 = row.try_get("", "n")?;
    let metrics = (0..query.metrics.len())
        .map(|i| {
            let get = |prefix: &str| row.try_get::<Option<f64>>("", &format!("{prefix}{i}"));
            Ok(Stats {
                sum: get("s")?,
                avg: get("a")?,
                min: get("lo")?,
                max: get("hi")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;
    Ok(Group {
        keys,
        count,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_grouped_by_value_or_by_its_text_and_a_date_part_by_its_text() {
        let stars = Grouping::Column("stars");
        let year = Grouping::Date {
            column: "certified_on",
            part: DatePart::Year,
            with_time: false,
        };
        assert_eq!(
            group_by_sql("ocop_products", stars, 0, true),
            r#""ocop_products"."stars""#
        );
        assert_eq!(group_by_sql("ocop_products", stars, 0, false), "1");
        assert_eq!(
            group_by_sql("ocop_products", year, 1, true),
            "2",
            "a date part by position"
        );
    }
}
