//! Aggregates in SQL: one `GROUP BY` statement per request, so a 200,000-row table is
//! summarised by the database without a row reaching the hub.

use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};

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

/// What the rows are grouped by for the `i`-th dimension. PostgreSQL groups a column by
/// its own value, which it hashes more cheaply than its text, and can read in the order
/// of an index that covers the query (the text is made once per group). SQLite is given
/// the text's position: grouped by the bare column, it walks any index on it and visits
/// every row from there, slower than one pass over the table and a sort.
fn group_by_sql(backend: DbBackend, table: &'static str, grouping: Grouping, i: usize) -> String {
    match (backend, grouping) {
        (DbBackend::Postgres, Grouping::Column(name)) => column(table, name),
        _ => (i + 1).to_string(),
    }
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
            backend,
            table,
            dimension.grouping,
            i,
        ))]);
    }
    let rows = db.query_all(&select).await?;
    rows.iter()
        .map(|row| read_group(row, query))
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
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
    fn postgres_groups_a_column_by_its_value_and_sqlite_by_its_text() {
        let stars = Grouping::Column("stars");
        let year = Grouping::Date {
            column: "certified_on",
            part: DatePart::Year,
            with_time: false,
        };
        let pg = DbBackend::Postgres;
        assert_eq!(
            group_by_sql(pg, "ocop_products", stars, 0),
            r#""ocop_products"."stars""#
        );
        assert_eq!(
            group_by_sql(pg, "ocop_products", year, 1),
            "2",
            "a date part by position"
        );
        assert_eq!(
            group_by_sql(DbBackend::Sqlite, "ocop_products", stars, 0),
            "1"
        );
    }
}
