//! Reading linked records of every kind: one generic list query (filter, order, page)
//! over any record table, plus the batched look-ups the loaders use.

use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, LikeExpr, NullOrdering, Order, Query, SelectStatement,
    SimpleExpr,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement, Value,
};

use super::StoreError;
use crate::db::entities::{organisations, record_links};
use crate::domain::filter::{Filter, Lookup, Op, Scalar};
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::text::{contains_pattern, search_key};
use crate::records::Kind;

pub use crate::domain::filter::SortKey;

/// What a list asks for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Filter,
    pub sort: Vec<SortKey>,
    pub offset: u64,
    pub limit: u64,
    /// Archived and withdrawn records are left out unless asked for.
    pub include_inactive: bool,
    /// Whose archived records the reader may see, when inactive ones are included.
    pub archived_scope: ArchivedScope,
}

/// Which archived records a reader may see (`domain::scope` decides; this is its SQL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ArchivedScope {
    /// Admins and analysts see every archived record.
    #[default]
    All,
    /// Anonymous readers see none.
    None,
    /// An agency sees those it owns.
    OwnedBy {
        source: String,
        agency_id: Option<i32>,
    },
}

fn archived_scope_condition(table: &'static str, scope: &ArchivedScope) -> Option<Condition> {
    // Only record tables have archived rows; plan tasks do not.
    let spec = crate::records::spec_by_table(table)?;
    let not_archived = Expr::col((Alias::new(table), Alias::new("archived_at"))).is_null();
    match scope {
        ArchivedScope::All => None,
        ArchivedScope::None => Some(Condition::all().add(not_archived)),
        ArchivedScope::OwnedBy { source, agency_id } => {
            let owner_column = spec.owner.map(|o| o.column);
            let agency_only = spec.owner.is_some_and(|o| o.exclusive);
            let mut any = Condition::any().add(not_archived);
            if !agency_only {
                any = any
                    .add(Expr::col((Alias::new(table), Alias::new("source"))).eq(source.as_str()));
            }
            if let (Some(column), Some(agency)) = (owner_column, agency_id) {
                any = any.add(Expr::col((Alias::new(table), Alias::new(column))).eq(*agency));
            }
            Some(any)
        }
    }
}

fn scalar_value(scalar: &Scalar) -> Value {
    match scalar {
        Scalar::Text(t) => Value::from(t.clone()),
        Scalar::Int(i) => Value::from(*i),
        Scalar::Float(f) => Value::from(*f),
        Scalar::Bool(b) => Value::from(*b),
        Scalar::Date(d) => Value::from(*d),
        Scalar::DateTime(d) => Value::from(*d),
    }
}

fn column(table: &'static str, column: &'static str) -> SimpleExpr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// `table.column IN ids` written with one parameter, so the statement text is the same
/// whatever the number of ids. Loaders batch a varying number of keys; as an `IN` list
/// each batch size would be a new statement to prepare and plan.
pub(crate) fn id_in(
    backend: DbBackend,
    table: &'static str,
    column: &'static str,
    ids: &[i32],
) -> SimpleExpr {
    let list = ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            // sea-query numbers PostgreSQL placeholders: `$1` is this expression's first value.
            format!(r#""{table}"."{column}" = ANY(CAST($1 AS int4[]))"#),
            [format!("{{{list}}}")],
        ),
        _ => Expr::cust_with_values(
            format!(r#""{table}"."{column}" IN (SELECT value FROM json_each(?))"#),
            [format!("[{list}]")],
        ),
    }
}

/// The SQL condition for a checked filter on `table`.
pub fn condition(table: &'static str, filter: &Filter) -> Condition {
    match filter {
        Filter::All(parts) => parts
            .iter()
            .fold(Condition::all(), |c, f| c.add(condition(table, f))),
        Filter::Any(parts) => {
            if parts.is_empty() {
                // An empty `or` matches nothing, as in Hasura and SQL's own logic.
                return Condition::all().add(Expr::val(1).eq(0));
            }
            parts
                .iter()
                .fold(Condition::any(), |c, f| c.add(condition(table, f)))
        }
        Filter::Not(inner) => condition(table, inner).not(),
        Filter::Lookup {
            column: name,
            lookup,
            negate,
        } => {
            let subquery = lookup_query(lookup);
            let col = column(table, name);
            let expr = if *negate {
                col.not_in_subquery(subquery)
            } else {
                col.in_subquery(subquery)
            };
            Condition::all().add(expr)
        }
        Filter::Compare {
            column: name,
            op,
            values,
        } => {
            let col = column(table, name);
            let first = values.first().map(scalar_value);
            let expr = match (op, first) {
                (Op::Eq, Some(v)) => col.eq(v),
                (Op::Ne, Some(v)) => col.ne(v),
                (Op::Gt, Some(v)) => col.gt(v),
                (Op::Gte, Some(v)) => col.gte(v),
                (Op::Lt, Some(v)) => col.lt(v),
                (Op::Lte, Some(v)) => col.lte(v),
                (Op::In, _) => col.is_in(values.iter().map(scalar_value)),
                (Op::Contains, Some(Value::String(Some(needle)))) => {
                    col.like(LikeExpr::new(contains_pattern(&needle)).escape('\\'))
                }
                (Op::IsNull, _) => col.is_null(),
                (Op::IsNotNull, _) => col.is_not_null(),
                // A comparison without a value cannot come out of `field_filter`.
                _ => Expr::val(1).eq(0),
            };
            Condition::all().add(expr)
        }
    }
}

/// The ids a look-up finds.
fn lookup_query(lookup: &Lookup) -> SelectStatement {
    let col = |table: &str, name: &str| Expr::col((Alias::new(table), Alias::new(name)));
    // Agencies named by code, name or any alias (names compared folded).
    let agencies_named = |names: &[String]| -> SelectStatement {
        let keys: Vec<String> = names.iter().map(|n| search_key(n)).collect();
        let aliases = Query::select()
            .column(Alias::new("agency_id"))
            .from(Alias::new("agency_aliases"))
            .and_where(col("agency_aliases", "search_key").is_in(keys.clone()))
            .to_owned();
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("agencies"))
            .cond_where(
                Condition::any()
                    .add(col("agencies", "code").is_in(names.iter().map(|n| n.trim().to_owned())))
                    .add(col("agencies", "search_key").is_in(keys))
                    .add(col("agencies", "id").in_subquery(aliases)),
            )
            .to_owned()
    };
    match lookup {
        Lookup::LinkedToTasks { kind, task_codes } => {
            let tasks = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("tasks"))
                .and_where(col("tasks", "code").is_in(task_codes.clone()))
                .to_owned();
            Query::select()
                .column(Alias::new("record_id"))
                .from(Alias::new("record_links"))
                .and_where(col("record_links", "record_kind").eq(*kind))
                .and_where(col("record_links", "task_id").in_subquery(tasks))
                .to_owned()
        }
        Lookup::Sections(numerals) => Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("sections"))
            .and_where(col("sections", "numeral").is_in(numerals.clone()))
            .to_owned(),
        Lookup::LeadAgencies(names) => agencies_named(names),
        Lookup::Coordinators(names) => {
            let keys: Vec<String> = names.iter().map(|n| search_key(n)).collect();
            let group_aliases = Query::select()
                .column(Alias::new("group_id"))
                .from(Alias::new("agency_group_aliases"))
                .and_where(col("agency_group_aliases", "search_key").is_in(keys.clone()))
                .to_owned();
            let groups = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("agency_groups"))
                .cond_where(
                    Condition::any()
                        .add(
                            col("agency_groups", "code")
                                .is_in(names.iter().map(|n| n.trim().to_owned())),
                        )
                        .add(col("agency_groups", "search_key").is_in(keys))
                        .add(col("agency_groups", "id").in_subquery(group_aliases)),
                )
                .to_owned();
            Query::select()
                .column(Alias::new("task_id"))
                .from(Alias::new("task_coordinators"))
                .cond_where(
                    Condition::any()
                        .add(
                            col("task_coordinators", "agency_id")
                                .in_subquery(agencies_named(names)),
                        )
                        .add(col("task_coordinators", "group_id").in_subquery(groups)),
                )
                .to_owned()
        }
        Lookup::LinkedKinds(kinds) => Query::select()
            .column(Alias::new("task_id"))
            .from(Alias::new("record_links"))
            .and_where(col("record_links", "record_kind").is_in(kinds.clone()))
            .to_owned(),
    }
}

/// Which rows of `table` a list, count or aggregate covers: those the filter matches,
/// without inactive ones unless asked for, and only archived ones the reader may see.
pub(crate) fn where_condition(table: &'static str, query: &ListQuery) -> Condition {
    let mut all = Condition::all().add(condition(table, &query.filter));
    if !query.include_inactive {
        all = all.add(active_condition(table));
    } else if let Some(scope) = archived_scope_condition(table, &query.archived_scope) {
        all = all.add(scope);
    }
    all
}

fn active_condition(table: &'static str) -> Condition {
    Condition::all()
        .add(column(table, "archived_at").is_null())
        .add(column(table, "withdrawn_at").is_null())
}

/// A page of records of table `table` (entity `E`), filtered and sorted.
pub async fn list<E>(
    db: &DatabaseConnection,
    table: &'static str,
    query: &ListQuery,
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    Ok(list_select::<E>(db.get_database_backend(), table, query)
        .all(db)
        .await?)
}

/// The statement that picks a page of `kind` (filter, order, window), to read its plan
/// with `EXPLAIN`: every order a list offers must be served by an index. On SQLite it is
/// the page's ids, which the list then reads by id.
pub fn page_statement(backend: DbBackend, kind: RecordKind, query: &ListQuery) -> Statement {
    let table = crate::records::spec_of(kind).table;
    match backend {
        DbBackend::Sqlite => backend.build(&page_ids(table, query)),
        _ => list_statement(backend, kind, query),
    }
}

/// The statement a list of `kind` runs, to read its plan with `EXPLAIN`.
pub fn list_statement(backend: DbBackend, kind: RecordKind, query: &ListQuery) -> Statement {
    crate::records::with_kind!(kind, |K| {
        list_select::<<K as Kind>::Entity>(backend, K::SPEC.table, query).build(backend)
    })
}

/// The page a list reads: filtered, sorted with NULLs last, the id breaking ties.
///
/// SQLite picks the page's ids first and then reads those rows by id. Sorting rows there
/// carries every column of every match into the sorter, and reads each matching row
/// where an index could have answered the filter and order alone: 995 products sorted
/// for Q3's 100 at ten times the sample. PostgreSQL's top-N sort keeps only the page.
fn list_select<E: EntityTrait>(
    backend: DbBackend,
    table: &'static str,
    query: &ListQuery,
) -> Select<E> {
    let mut select = E::find();
    match backend {
        DbBackend::Sqlite => {
            select = select.filter(column(table, "id").in_subquery(page_ids(table, query)));
            order_page(QuerySelect::query(&mut select), table, &query.sort);
        }
        _ => {
            let statement = QuerySelect::query(&mut select);
            statement.cond_where(where_condition(table, query));
            order_page(statement, table, &query.sort);
            statement.offset(query.offset).limit(query.limit);
        }
    }
    select
}

/// The ids of a list's page, in its order.
fn page_ids(table: &'static str, query: &ListQuery) -> SelectStatement {
    let mut select = Query::select();
    select
        .expr(column(table, "id"))
        .from(Alias::new(table))
        .cond_where(where_condition(table, query));
    order_page(&mut select, table, &query.sort);
    select.offset(query.offset).limit(query.limit).to_owned()
}

/// Orders a list: by each key with NULLs last, the id breaking ties so that pages never
/// overlap or skip.
fn order_page(select: &mut SelectStatement, table: &'static str, sort: &[SortKey]) {
    for key in sort {
        let order = if key.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        select.order_by_expr_with_nulls(column(table, key.column), order, NullOrdering::Last);
    }
    select.order_by_expr(column(table, "id"), Order::Asc);
}

/// How many records of `table` match.
pub async fn count(
    db: &DatabaseConnection,
    table: &'static str,
    query: &ListQuery,
) -> Result<u64, StoreError> {
    let select =
        super::rollup::count_select(table, query).unwrap_or_else(|| count_select(table, query));
    let row = db
        .query_one(&select)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("a count of {table}")))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// The statement a count of `kind` runs over its records where no roll-up answers, to
/// read its plan with `EXPLAIN`.
pub fn count_statement(backend: DbBackend, kind: RecordKind, query: &ListQuery) -> Statement {
    let table = crate::records::spec_of(kind).table;
    backend.build(&count_select(table, query))
}

/// `COUNT(*)` over the rows the list covers, naming no column, so that an index holding
/// the filtered columns answers it alone.
fn count_select(table: &'static str, query: &ListQuery) -> SelectStatement {
    Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(Alias::new(table))
        .cond_where(where_condition(table, query))
        .to_owned()
}

/// Records of one table by id (archived ones included: a link or an id still resolves).
pub async fn by_ids<E>(
    db: &DatabaseConnection,
    table: &'static str,
    ids: &[i32],
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    Ok(E::find()
        .filter(Condition::all().add(id_in(backend, table, "id", ids)))
        .all(db)
        .await?)
}

pub async fn organisations_by_ids(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<Vec<organisations::Model>, StoreError> {
    let backend = db.get_database_backend();
    Ok(organisations::Entity::find()
        .filter(id_in(backend, "organisations", "id", ids))
        .all(db)
        .await?)
}

/// Links to the given records.
pub async fn links_by_records(
    db: &DatabaseConnection,
    records: &[RecordRef],
) -> Result<Vec<record_links::Model>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for kind in RecordKind::ALL {
        let ids: Vec<i32> = records
            .iter()
            .filter(|r| r.kind == *kind)
            .map(|r| r.id)
            .collect();
        if !ids.is_empty() {
            any = any.add(
                Condition::all()
                    .add(record_links::Column::RecordKind.eq(kind.as_str()))
                    .add(record_links::Column::RecordId.is_in(ids)),
            );
        }
    }
    Ok(record_links::Entity::find()
        .filter(any)
        .order_by_asc(record_links::Column::TaskId)
        .all(db)
        .await?)
}

/// The first `per_task` links of each task (in link order), optionally of some kinds
/// only, in one statement for any number of tasks: each task's links are read off the
/// (task, id) or (task, kind, id) index with their own LIMIT — a LATERAL join on
/// PostgreSQL, a correlated subquery on SQLite — where a window function would number
/// every link of every task asked for.
pub async fn top_links_by_tasks(
    db: &DatabaseConnection,
    task_ids: &[i32],
    kinds: Option<&[RecordKind]>,
    per_task: u64,
) -> Result<Vec<record_links::Model>, StoreError> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    // Lists travel as one value: a PostgreSQL array literal, or a JSON array for SQLite.
    let list = |items: Vec<String>, quote: bool| {
        if postgres {
            format!("{{{}}}", items.join(","))
        } else if quote {
            serde_json::Value::from(items).to_string()
        } else {
            format!("[{}]", items.join(","))
        }
    };
    let at = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let ids = list(task_ids.iter().map(i32::to_string).collect(), false);
    let mut values: Vec<Value> = vec![ids.into(), (per_task as i64).into()];
    // One kind is an equality, so the (task, kind, id) index yields rows in order.
    let kind_condition = match kinds {
        None => String::new(),
        Some([kind]) => {
            values.push(kind.as_str().into());
            format!("AND r.record_kind = {}", at(3))
        }
        Some(kinds) => {
            values.push(list(kinds.iter().map(|k| k.as_str().to_owned()).collect(), true).into());
            if postgres {
                "AND r.record_kind = ANY(CAST($3 AS text[]))".to_owned()
            } else {
                "AND r.record_kind IN (SELECT value FROM json_each(?3))".to_owned()
            }
        }
    };
    let first = |task: &str, select: &str| {
        format!(
            "SELECT {select} FROM record_links r WHERE r.task_id = {task} {kind_condition} \
             ORDER BY r.id LIMIT {}",
            at(2)
        )
    };
    let from = if postgres {
        let columns = "r.id, r.task_id, r.record_kind, r.record_id, r.linked_by, r.linked_at";
        format!(
            "unnest(CAST($1 AS int4[])) AS t(id) CROSS JOIN LATERAL ({}) l",
            first("t.id", columns)
        )
    } else {
        format!(
            "json_each(?1) AS t JOIN record_links l ON l.id IN ({})",
            first("t.value", "r.id")
        )
    };
    let sql = format!(
        "SELECT l.id, l.task_id, l.record_kind, l.record_id, l.linked_by, l.linked_at \
         FROM {from} ORDER BY l.task_id, l.id"
    );
    let statement = sea_orm::Statement::from_sql_and_values(backend, sql, values);
    Ok(record_links::Model::find_by_statement(statement)
        .all(db)
        .await?)
}

/// How many active records (not archived, not withdrawn) of each kind are linked to each
/// of `task_ids`, in one statement.
pub async fn link_counts_by_tasks(
    db: &DatabaseConnection,
    task_ids: &[i32],
) -> Result<Vec<LinkCount>, StoreError> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let list = task_ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let (ids, value) = match backend {
        DbBackend::Postgres => ("SELECT unnest(CAST($1 AS int4[]))", format!("{{{list}}}")),
        _ => ("SELECT value FROM json_each(?)", format!("[{list}]")),
    };
    // Table names and kind names come from the declarations, never from a caller.
    let active = RecordKind::ALL
        .iter()
        .map(|kind| {
            format!(
                "(l.record_kind = '{}' AND EXISTS (SELECT 1 FROM {} r WHERE r.id = l.record_id \
                 AND r.archived_at IS NULL AND r.withdrawn_at IS NULL))",
                kind.as_str(),
                crate::records::spec_of(*kind).table
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let sql = format!(
        "WITH ids(id) AS ({ids}) \
         SELECT l.task_id, l.record_kind, COUNT(*) AS count FROM record_links l \
         WHERE l.task_id IN (SELECT id FROM ids) AND ({active}) \
         GROUP BY l.task_id, l.record_kind ORDER BY l.task_id, l.record_kind"
    );
    let statement = Statement::from_sql_and_values(backend, sql, [Value::from(value)]);
    Ok(LinkCount::find_by_statement(statement).all(db).await?)
}

/// One task's number of linked records of one kind.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct LinkCount {
    pub task_id: i32,
    pub record_kind: String,
    pub count: i64,
}

/// Tasks linked to the given records, with the record each link is for.
pub async fn tasks_by_records(
    db: &DatabaseConnection,
    records: &[RecordRef],
) -> Result<Vec<(RecordRef, crate::db::entities::tasks::Model)>, StoreError> {
    use crate::db::entities::tasks;
    let links = links_by_records(db, records).await?;
    let task_ids: Vec<i32> = links.iter().map(|l| l.task_id).collect();
    let found = tasks::Entity::find()
        .filter(tasks::Column::Id.is_in(task_ids))
        .all(db)
        .await?;
    Ok(links
        .iter()
        .filter_map(|link| {
            let kind = RecordKind::parse(&link.record_kind).ok()?;
            let task = found.iter().find(|t| t.id == link.task_id)?.clone();
            Some((
                RecordRef {
                    kind,
                    id: link.record_id,
                },
                task,
            ))
        })
        .collect())
}
