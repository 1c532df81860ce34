//! The root fields of every record kind, one set per kind in the registry: the list and
//! one record by id, the five mutations, and the aggregate.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field;
use async_graphql::registry::{MetaField, Registry};
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, ID, InputType, ObjectType, OutputType, Positioned, ServerResult,
    Value,
};

use super::inputs::{DimensionChoice, FilterInput, ImportRecord, KindInput, MetricChoice, OrderBy};
use super::results::{FieldChange, ImportResult, WriteAction, external_id, invalid, merge};
use super::{ListArgs, list_records, parse_record_id};
use crate::domain::records::{RecordKind, RecordRef};
use crate::domain::validate::Checker;
use crate::graphql::aggregate::{AggregateRow, run as run_aggregate};
use crate::graphql::context::{database, feed, refs, writer};
use crate::graphql::error::ApiResult;
use crate::graphql::fetch::load_records;
use crate::graphql::list::{Connection, PageArgs, checked_filter};
use crate::graphql::meta::{self, arg, list_cost};
use crate::graphql::objects::{LinkedRecord, RecordNode};
use crate::graphql::scalars::BigInt;
use crate::records::spec::Spec;
use crate::records::{Kind, spec_of, with_kind};
use crate::store::writes::{self, ImportRow};

/// Resolves a root field's value under its selection, with the field's position and
/// path on any error.
async fn resolve_value<T: OutputType>(
    ctx: &Context<'_>,
    value: async_graphql::Result<T>,
) -> ServerResult<Option<Value>> {
    let value = value.map_err(|e| ctx.set_error_path(e.into_server_error(ctx.item.pos)))?;
    let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
    OutputType::resolve(&value, &selection, ctx.item)
        .await
        .map(Some)
}

/// An argument's value, or its default.
fn param<T: InputType>(ctx: &Context<'_>, name: &str) -> ServerResult<T> {
    ctx.param_value::<T>(name, None)
        .map(|(_, v)| v)
        .map_err(|e| ctx.set_error_path(e))
}

/// A boolean argument with a default.
fn flag(ctx: &Context<'_>, name: &str, default: fn() -> bool) -> ServerResult<bool> {
    ctx.param_value::<bool>(name, Some(default))
        .map(|(_, v)| v)
        .map_err(|e| ctx.set_error_path(e))
}

/// Declares a root object whose fields come from every kind in the registry.
macro_rules! kind_root {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, $fields:ident, $resolve:ident) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $name;

        impl OutputType for $name {
            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed($type_name)
            }

            fn create_type_info(registry: &mut Registry) -> String {
                meta::object::<Self>(registry, $type_name, None, |registry| {
                    let mut fields = IndexMap::new();
                    for kind in kinds_in_order::<$name>() {
                        with_kind!(kind, |K| $fields::<K>(registry, &mut fields));
                    }
                    fields
                })
            }

            async fn resolve(
                &self,
                ctx: &ContextSelectionSet<'_>,
                _field: &Positioned<Field>,
            ) -> ServerResult<Value> {
                resolve_container(ctx, self).await
            }
        }

        impl ObjectType for $name {}

        impl ContainerType for $name {
            async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
                let name = ctx.item.node.name.node.as_str();
                for kind in RecordKind::ALL {
                    if let Some(found) = with_kind!(*kind, |K| $resolve::<K>(ctx, name).await) {
                        return found;
                    }
                }
                Ok(None)
            }
        }
    };
}

/// The kinds in the order a root lists them.
fn kinds_in_order<T: 'static>() -> Vec<RecordKind> {
    let mut kinds = RecordKind::ALL.to_vec();
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<RecordAggregates>() {
        kinds.sort_by_key(|k| spec_of(*k).aggregate_rank);
    }
    kinds
}

kind_root!(
    /// Every kind's list and single-record query.
    RecordsQuery, "RecordsQuery", query_fields, resolve_query
);
kind_root!(
    /// Every kind's create, update, archive, upsert and import.
    RecordsMutation, "RecordsMutation", mutation_fields, resolve_mutation
);
kind_root!(
    /// Every kind's aggregate.
    RecordAggregates, "RecordAggregates", aggregate_fields, resolve_aggregate
);

fn insert(fields: &mut IndexMap<String, MetaField>, field: MetaField) {
    fields.insert(field.name.clone(), field);
}

fn with_args(
    mut field: MetaField,
    args: Vec<(String, async_graphql::registry::MetaInputValue)>,
) -> MetaField {
    field.args = args.into_iter().collect();
    field
}

const LIST_DOC: &str = "A page of records, filtered and sorted. Archived and withdrawn records are\nleft out unless `includeInactive` is true.";
const ONE_DOC: &str = "One record by id (`\"<Type>:<n>\"` or the bare number); null when unknown.";

fn query_fields<K: Kind>(registry: &mut Registry, fields: &mut IndexMap<String, MetaField>) {
    let spec = K::SPEC;
    let mut args = Vec::new();
    if let Some(shortcut) = spec.queries.shortcut {
        args.push(arg::<Option<i32>>(registry, shortcut, None));
    }
    args.extend([
        arg::<Option<FilterInput<K>>>(registry, "filter", None),
        arg::<Option<Vec<OrderBy<K>>>>(registry, "orderBy", None),
        arg::<Option<i32>>(registry, "first", None),
        arg::<Option<String>>(registry, "after", None),
        arg::<Option<i32>>(registry, "last", None),
        arg::<Option<String>>(registry, "before", None),
        arg::<bool>(registry, "includeInactive", Some("false")),
    ]);
    let ty = <Connection<RecordNode<K>> as OutputType>::create_type_info(registry);
    let doc = spec.queries.list_doc.unwrap_or(LIST_DOC);
    let mut list = with_args(meta::field(&spec.list_field(), Some(doc), ty), args);
    list_cost(&mut list);
    insert(fields, list);
    let ty = <Option<RecordNode<K>> as OutputType>::create_type_info(registry);
    let doc = spec.queries.one_doc.unwrap_or(ONE_DOC);
    let args = vec![arg::<ID>(registry, "id", None)];
    insert(
        fields,
        with_args(meta::field(&spec.one_field(), Some(doc), ty), args),
    );
}

async fn resolve_query<K: Kind>(
    ctx: &Context<'_>,
    name: &str,
) -> Option<ServerResult<Option<Value>>> {
    let spec = K::SPEC;
    if spec.is_list_field(name) {
        return Some(match list_args::<K>(ctx) {
            Ok(args) => resolve_value(ctx, list_records::<K>(ctx, args).await).await,
            Err(error) => Err(error),
        });
    }
    if spec.is_one_field(name) {
        return Some(match param::<ID>(ctx, "id") {
            Ok(id) => resolve_value(ctx, one::<K>(ctx, id).await).await,
            Err(error) => Err(error),
        });
    }
    None
}

/// The arguments of a kind's list, checked.
fn list_args<K: Kind>(ctx: &Context<'_>) -> ServerResult<ListArgs> {
    let at = |e: async_graphql::Error| ctx.set_error_path(e.into_server_error(ctx.item.pos));
    let mut filter = param::<Option<FilterInput<K>>>(ctx, "filter")?;
    if let Some(shortcut) = K::SPEC.queries.shortcut
        && let Some(value) = param::<Option<i32>>(ctx, shortcut)?
    {
        filter = Some(filter.unwrap_or_default().and_int(shortcut, value));
    }
    let filter = checked_filter(filter.as_ref(), |f, p| f.to_filter(p)).map_err(at)?;
    let order_by = param::<Option<Vec<OrderBy<K>>>>(ctx, "orderBy")?;
    Ok(ListArgs {
        filter,
        sort: super::inputs::sort_keys::<K>(order_by),
        page: PageArgs {
            first: param(ctx, "first")?,
            after: param(ctx, "after")?,
            last: param(ctx, "last")?,
            before: param(ctx, "before")?,
        },
        include_inactive: flag(ctx, "includeInactive", || false)?,
    })
}

async fn one<K: Kind>(ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<RecordNode<K>>> {
    let id = parse_record_id(&id, K::SPEC.kind)?;
    let reference = RecordRef {
        kind: K::SPEC.kind,
        id,
    };
    let found = load_records(ctx, [reference]).await?;
    Ok(found.iter().find_map(LinkedRecord::node::<K>))
}

const CREATE_DOC: &str = "Creates a record owned by the caller (its source is `agency:<code>`).";
const UPDATE_DOC: &str = "Replaces a record's content, if it is still at `expectedVersion`;\notherwise a CONFLICT error carries the current version.";
const ARCHIVE_DOC: &str = "Archives (soft-deletes) a record, if it is still at `expectedVersion`.";
const UPSERT_DOC: &str = "Creates or updates the caller's record with this `externalId` (the\nnatural key is the caller's agency and the external id).";
const IMPORT_DOC: &str = "Upserts many records by `externalId`, all or nothing. With\n`dryRun: true` nothing is written and the result tells what would\nchange; otherwise any bad row refuses the whole import with every\nrow's errors.";

/// The names of a kind's mutations.
fn mutation_names(spec: &Spec) -> [String; 5] {
    let name = spec.type_name();
    [
        format!("create{name}"),
        format!("update{name}"),
        format!("archive{name}"),
        format!("upsert{name}"),
        format!("import{}", spec.plural),
    ]
}

fn mutation_fields<K: Kind>(registry: &mut Registry, fields: &mut IndexMap<String, MetaField>) {
    let [create, update, archive, upsert, import] = mutation_names(K::SPEC);
    let node = <RecordNode<K> as OutputType>::create_type_info(registry);
    let args = vec![arg::<KindInput<K>>(registry, "input", None)];
    insert(
        fields,
        with_args(meta::field(&create, Some(CREATE_DOC), node.clone()), args),
    );
    let args = vec![
        arg::<ID>(registry, "id", None),
        arg::<BigInt>(registry, "expectedVersion", None),
        arg::<KindInput<K>>(registry, "input", None),
    ];
    insert(
        fields,
        with_args(meta::field(&update, Some(UPDATE_DOC), node.clone()), args),
    );
    let args = vec![
        arg::<ID>(registry, "id", None),
        arg::<BigInt>(registry, "expectedVersion", None),
    ];
    insert(
        fields,
        with_args(meta::field(&archive, Some(ARCHIVE_DOC), node), args),
    );
    let args = vec![
        arg::<String>(registry, "externalId", None),
        arg::<KindInput<K>>(registry, "input", None),
    ];
    let ty = UpsertResult::<K>::create_type_info(registry);
    insert(
        fields,
        with_args(meta::field(&upsert, Some(UPSERT_DOC), ty), args),
    );
    let args = vec![
        arg::<Vec<ImportRecord<K>>>(registry, "records", None),
        arg::<Option<bool>>(registry, "dryRun", Some("false")),
    ];
    let ty = <ImportResult as OutputType>::create_type_info(registry);
    insert(
        fields,
        with_args(meta::field(&import, Some(IMPORT_DOC), ty), args),
    );
}

async fn resolve_mutation<K: Kind>(
    ctx: &Context<'_>,
    name: &str,
) -> Option<ServerResult<Option<Value>>> {
    let names = mutation_names(K::SPEC);
    let position = names.iter().position(|n| n == name)?;
    Some(match position {
        0 => match param::<KindInput<K>>(ctx, "input") {
            Ok(input) => resolve_value(ctx, create::<K>(ctx, input).await).await,
            Err(error) => Err(error),
        },
        1 => match (
            param::<ID>(ctx, "id"),
            param::<BigInt>(ctx, "expectedVersion"),
            param::<KindInput<K>>(ctx, "input"),
        ) {
            (Ok(id), Ok(version), Ok(input)) => {
                resolve_value(ctx, update::<K>(ctx, id, version, input).await).await
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        },
        2 => match (
            param::<ID>(ctx, "id"),
            param::<BigInt>(ctx, "expectedVersion"),
        ) {
            (Ok(id), Ok(version)) => resolve_value(ctx, archive::<K>(ctx, id, version).await).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        3 => match (
            param::<String>(ctx, "externalId"),
            param::<KindInput<K>>(ctx, "input"),
        ) {
            (Ok(key), Ok(input)) => resolve_value(ctx, upsert::<K>(ctx, key, input).await).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        _ => match (
            param::<Vec<ImportRecord<K>>>(ctx, "records"),
            param::<Option<bool>>(ctx, "dryRun"),
        ) {
            (Ok(records), Ok(dry_run)) => {
                let dry_run = dry_run.unwrap_or(false);
                resolve_value(ctx, import::<K>(ctx, records, dry_run).await).await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
    })
}

async fn create<K: Kind>(
    ctx: &Context<'_>,
    input: KindInput<K>,
) -> async_graphql::Result<RecordNode<K>> {
    let writer = writer(ctx)?;
    let refs = refs(ctx, &writer).await?;
    let draft = K::draft(&input.input, Checker::new("input"), &refs).map_err(invalid)?;
    let written = writes::create::<K>(database(ctx)?, feed(ctx)?, &writer, draft)
        .await
        .api()?;
    Ok(RecordNode::new(written.model))
}

async fn update<K: Kind>(
    ctx: &Context<'_>,
    id: ID,
    expected_version: BigInt,
    input: KindInput<K>,
) -> async_graphql::Result<RecordNode<K>> {
    let id = parse_record_id(&id, K::SPEC.kind)?;
    let writer = writer(ctx)?;
    let refs = refs(ctx, &writer).await?;
    let draft = K::draft(&input.input, Checker::new("input"), &refs).map_err(invalid)?;
    let db = database(ctx)?;
    let written = writes::update::<K>(db, feed(ctx)?, &writer, id, expected_version.0, draft)
        .await
        .api()?;
    Ok(RecordNode::new(written.model))
}

async fn archive<K: Kind>(
    ctx: &Context<'_>,
    id: ID,
    expected_version: BigInt,
) -> async_graphql::Result<RecordNode<K>> {
    let id = parse_record_id(&id, K::SPEC.kind)?;
    let writer = writer(ctx)?;
    let db = database(ctx)?;
    let written = writes::archive::<K>(db, feed(ctx)?, &writer, id, expected_version.0)
        .await
        .api()?;
    Ok(RecordNode::new(written.model))
}

async fn upsert<K: Kind>(
    ctx: &Context<'_>,
    key: String,
    input: KindInput<K>,
) -> async_graphql::Result<UpsertResult<K>> {
    let writer = writer(ctx)?;
    let refs = refs(ctx, &writer).await?;
    let mut key_check = Checker::new("");
    let key = external_id(&mut key_check, "externalId", &key);
    let draft = merge(
        key_check.finish(()),
        K::draft(&input.input, Checker::new("input"), &refs),
    )
    .map_err(invalid)?;
    let written = writes::upsert::<K>(database(ctx)?, feed(ctx)?, &writer, &key, draft)
        .await
        .api()?;
    Ok(UpsertResult {
        record: RecordNode::new(written.model),
        action: written.action.into(),
        changes: written.changes.into_iter().map(Into::into).collect(),
    })
}

async fn import<K: Kind>(
    ctx: &Context<'_>,
    records: Vec<ImportRecord<K>>,
    dry_run: bool,
) -> async_graphql::Result<ImportResult> {
    let writer = writer(ctx)?;
    let refs = refs(ctx, &writer).await?;
    let rows = records
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let mut key_check = Checker::new(format!("records[{index}]"));
            let external_id = external_id(&mut key_check, "externalId", &row.external_id);
            let input_check = Checker::new(format!("records[{index}].input"));
            let draft = merge(
                key_check.finish(()),
                K::draft(&row.input.input, input_check, &refs),
            );
            ImportRow { external_id, draft }
        })
        .collect();
    let db = database(ctx)?;
    let outcome = writes::import::<K>(db, feed(ctx)?, &writer, rows, dry_run, "records")
        .await
        .api()?;
    Ok(ImportResult::from_outcome::<K>(outcome))
}

/// The result of an upsert: the record and what happened to it.
pub struct UpsertResult<K: Kind> {
    pub record: RecordNode<K>,
    pub action: WriteAction,
    pub changes: Vec<FieldChange>,
}

impl<K: Kind> OutputType for UpsertResult<K> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}UpsertResult", K::SPEC.type_name()))
    }

    fn create_type_info(registry: &mut Registry) -> String {
        meta::object::<Self>(
            registry,
            &Self::type_name(),
            Some("The result of an upsert: the record and what happened to it."),
            |registry| {
                meta::fields([
                    meta::field("record", None, RecordNode::<K>::create_type_info(registry)),
                    meta::field(
                        "action",
                        None,
                        <WriteAction as OutputType>::create_type_info(registry),
                    ),
                    meta::field(
                        "changes",
                        None,
                        <Vec<FieldChange> as OutputType>::create_type_info(registry),
                    ),
                ])
            },
        )
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<K: Kind> ObjectType for UpsertResult<K> {}

impl<K: Kind> ContainerType for UpsertResult<K> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        match ctx.item.node.name.node.as_str() {
            "record" => resolve_value(ctx, Ok(self.record.clone())).await,
            "action" => resolve_value(ctx, Ok(self.action)).await,
            "changes" => resolve_value(ctx, Ok(self.changes.clone())).await,
            _ => Ok(None),
        }
    }
}

fn aggregate_fields<K: Kind>(registry: &mut Registry, fields: &mut IndexMap<String, MetaField>) {
    let spec = K::SPEC;
    let args = vec![
        arg::<Option<FilterInput<K>>>(registry, "filter", None),
        arg::<Option<Vec<DimensionChoice<K>>>>(registry, "groupBy", None),
        arg::<Option<Vec<MetricChoice<K>>>>(registry, "metrics", None),
        arg::<bool>(registry, "includeInactive", Some("false")),
    ];
    let ty = <Vec<AggregateRow> as OutputType>::create_type_info(registry);
    let field = meta::field(&spec.aggregate_field(), Some(spec.aggregate_doc), ty);
    insert(fields, with_args(field, args));
}

async fn resolve_aggregate<K: Kind>(
    ctx: &Context<'_>,
    name: &str,
) -> Option<ServerResult<Option<Value>>> {
    if !K::SPEC.is_aggregate_field(name) {
        return None;
    }
    Some(match aggregate_args::<K>(ctx) {
        Ok((filter, dimensions, metrics, include_inactive)) => {
            let rows = match checked_filter(filter.as_ref(), |f, p| f.to_filter(p)) {
                Ok(filter) => {
                    run_aggregate(
                        ctx,
                        K::SPEC.table,
                        filter,
                        include_inactive,
                        dimensions,
                        metrics,
                    )
                    .await
                }
                Err(error) => Err(error),
            };
            resolve_value(ctx, rows).await
        }
        Err(error) => Err(error),
    })
}

type AggregateArgs<K> = (
    Option<FilterInput<K>>,
    Vec<crate::domain::aggregate::Dimension>,
    Vec<crate::domain::aggregate::Metric>,
    bool,
);

fn aggregate_args<K: Kind>(ctx: &Context<'_>) -> ServerResult<AggregateArgs<K>> {
    let filter = param::<Option<FilterInput<K>>>(ctx, "filter")?;
    let dimensions = param::<Option<Vec<DimensionChoice<K>>>>(ctx, "groupBy")?
        .unwrap_or_default()
        .iter()
        .filter_map(DimensionChoice::def)
        .collect();
    let metrics = param::<Option<Vec<MetricChoice<K>>>>(ctx, "metrics")?
        .unwrap_or_default()
        .iter()
        .filter_map(MetricChoice::def)
        .collect();
    let include_inactive = flag(ctx, "includeInactive", || false)?;
    Ok((filter, dimensions, metrics, include_inactive))
}
