//! A record of any kind as a GraphQL object, built from the kind's declaration: the
//! provenance every record has, its plan tasks and history, then the kind's own fields.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::{MetaField, Registry};
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{
    Context, ContextSelectionSet, ID, Name, ObjectType, OutputType, Positioned, ServerError,
    ServerResult, Value,
};

use crate::db::entities::RecordModel;
use crate::domain::filter::Scalar;
use crate::domain::records::RecordRef;
use crate::domain::scope::{self, Owner};
use crate::graphql::context::{caller, record_loader};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::fetch::{load_agency, load_organisation, load_records};
use crate::graphql::loaders::RecordHistory;
use crate::graphql::meta::{self, list_cost};
use crate::graphql::objects::{
    Agency, AuditEntry, LinkedRecord, Organisation, RecordNode, SupportEvent, Task,
};
use crate::graphql::scalars::{BigInt, Date, DateTime};
use crate::records::spec::{FieldValue, Relation, ScalarType};
use crate::records::{Kind, column_scalar, column_value, organisation_of, owner_agency};

impl<K: Kind> RecordNode<K> {
    pub fn new(model: K::Model) -> Self {
        Self(Arc::new(model), PhantomData)
    }

    pub fn from_arc(model: Arc<K::Model>) -> Self {
        Self(model, PhantomData)
    }

    pub fn reference(&self) -> RecordRef {
        RecordRef {
            kind: K::SPEC.kind,
            id: self.0.row_id(),
        }
    }

    /// Whether `caller` may read this record (archived ones are private).
    pub fn readable_by(&self, caller: &crate::domain::auth::Caller) -> bool {
        if self.0.archived().is_none() {
            return true;
        }
        let provenance = self.0.provenance();
        scope::may_read(caller, &self.owner(&provenance.source), true)
    }

    fn owner<'a>(&self, source: &'a str) -> Owner<'a> {
        let (agency_id, agency_only) = owner_agency::<K>(&self.0);
        Owner {
            source,
            agency_id,
            agency_only,
        }
    }

    /// The organisation it names (producer, host, enterprise), if any.
    pub fn organisation(&self) -> Option<i32> {
        organisation_of::<K>(&self.0)
    }
}

/// The GraphQL type of a scalar, nullable or not.
fn scalar_type(registry: &mut Registry, ty: ScalarType, required: bool) -> String {
    let name = match ty {
        ScalarType::Text => <String as OutputType>::create_type_info(registry),
        ScalarType::Int => <i32 as OutputType>::create_type_info(registry),
        ScalarType::BigInt => <BigInt as OutputType>::create_type_info(registry),
        ScalarType::Float => <f64 as OutputType>::create_type_info(registry),
        ScalarType::Bool => <bool as OutputType>::create_type_info(registry),
        ScalarType::Date => <Date as OutputType>::create_type_info(registry),
        ScalarType::DateTime => <DateTime as OutputType>::create_type_info(registry),
    };
    if required {
        name
    } else {
        name.trim_end_matches('!').to_owned()
    }
}

/// The fields every record has.
fn common_fields(registry: &mut Registry) -> Vec<MetaField> {
    let id = <ID as OutputType>::create_type_info(registry);
    let mut scalar = |name: &str, doc: Option<&str>, ty, required| {
        meta::field(name, doc, scalar_type(registry, ty, required))
    };
    let mut fields = vec![
        meta::field("id", Some("Global id, `\"<Type>:<n>\"`."), id),
        scalar(
            "source",
            Some(
                "Where the record came from: `seed`, `sample`, `agency:<code>` or\n`connector:<name>`.",
            ),
            ScalarType::Text,
            true,
        ),
        scalar(
            "externalId",
            Some("The record's key in its source registry."),
            ScalarType::Text,
            false,
        ),
        scalar(
            "fetchedAt",
            Some("When it was last fetched from its registry."),
            ScalarType::DateTime,
            false,
        ),
        scalar("createdAt", None, ScalarType::DateTime, true),
        scalar("updatedAt", None, ScalarType::DateTime, true),
        scalar(
            "version",
            Some("Increases with every change; updates name the version they expect."),
            ScalarType::BigInt,
            true,
        ),
        scalar(
            "archivedAt",
            Some("Set when an agency archived the record."),
            ScalarType::DateTime,
            false,
        ),
        scalar(
            "withdrawnAt",
            Some("Set when the record disappeared from its registry's snapshot."),
            ScalarType::DateTime,
            false,
        ),
    ];
    let mut tasks = meta::field(
        "tasks",
        Some("Plan tasks this record serves."),
        <Vec<Task> as OutputType>::create_type_info(registry),
    );
    list_cost(&mut tasks);
    let mut history = meta::field(
        "history",
        Some(
            "Every change to this record, oldest first: who, when, before and after.\nRead by admins, analysts and the agency that owns the record.",
        ),
        <Vec<AuditEntry> as OutputType>::create_type_info(registry),
    );
    list_cost(&mut history);
    fields.push(tasks);
    fields.push(history);
    fields
}

/// The field a declaration makes.
fn declared_field(registry: &mut Registry, field: &crate::records::spec::Field) -> MetaField {
    let (ty, list) = match &field.value {
        FieldValue::Column { ty, required, .. } => (scalar_type(registry, *ty, *required), false),
        FieldValue::Computed { ty, required, .. } => (scalar_type(registry, *ty, *required), false),
        FieldValue::Enum { vocabulary, .. } => {
            let values: Vec<(String, Option<&str>)> = vocabulary
                .values
                .iter()
                .map(|(v, d)| ((*v).to_owned(), *d))
                .collect();
            (
                meta::enumeration(registry, vocabulary.type_name, None, &values),
                false,
            )
        }
        FieldValue::Relation(Relation::Organisation { .. }) => (
            <Option<Organisation> as OutputType>::create_type_info(registry),
            false,
        ),
        FieldValue::Relation(Relation::Agency { .. }) => (
            <Option<Agency> as OutputType>::create_type_info(registry),
            false,
        ),
        FieldValue::Relation(Relation::SupportEvents) => (
            <Vec<SupportEvent> as OutputType>::create_type_info(registry),
            true,
        ),
        FieldValue::Relation(Relation::Records(_)) => (
            <Vec<LinkedRecord> as OutputType>::create_type_info(registry),
            true,
        ),
    };
    let mut meta = meta::field(field.name, field.doc, ty);
    if list {
        list_cost(&mut meta);
    }
    meta
}

impl<K: Kind> OutputType for RecordNode<K> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(K::SPEC.type_name())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        meta::object::<Self>(
            registry,
            K::SPEC.type_name(),
            Some(K::SPEC.doc),
            |registry| {
                let mut fields: IndexMap<String, MetaField> = meta::fields(common_fields(registry));
                for field in K::SPEC.fields {
                    let meta = declared_field(registry, field);
                    fields.insert(meta.name.clone(), meta);
                }
                fields
            },
        )
    }

    /// Leaves (columns, computed values, `__typename`) are written as the selection is
    /// walked; only relations get a future, and those run together.
    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // A hint: duplicates may merge, and spread fragments are not looked into.
        let mut out = IndexMap::with_capacity(field_count(&ctx.item.node));
        let mut relations = Vec::new();
        self.walk(ctx, &ctx.item.node, &mut out, &mut relations, 0)?;
        if relations.is_empty() {
            return Ok(Value::Object(out));
        }
        let resolved = futures_util::future::join_all(relations.into_iter().map(|(key, field)| {
            let ctx_field = ctx.with_field(field);
            async move { (key, self.resolve_field(&ctx_field).await) }
        }))
        .await;
        for (key, result) in resolved {
            match result {
                Ok(Some(value)) => {
                    out.insert(key, value);
                }
                Ok(None) => {}
                Err(error) => {
                    out.shift_remove(&key);
                    ctx.add_error(error);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

impl<K: Kind> ObjectType for RecordNode<K> {}

/// The fields a selection names, with those of its inline fragments (the usual
/// `... on OcopProduct { … }` of a list of records).
fn field_count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(inline) => inline.node.selection_set.node.items.len(),
            Selection::FragmentSpread(_) => 1,
        })
        .sum()
}

/// Fragments may spread fragments; validation refuses cycles, this bound only keeps a
/// malformed document from recursing without end.
const MAX_FRAGMENT_NESTING: usize = 64;

type Relations<'a> = Vec<(Name, &'a Positioned<Field>)>;

impl<K: Kind> RecordNode<K> {
    /// Whether a fragment with this type condition applies to this record.
    fn applies(&self, ctx: &ContextSelectionSet<'_>, condition: Option<&str>) -> bool {
        let name = K::SPEC.type_name();
        condition.is_none_or(|condition| {
            condition == name
                || ctx
                    .schema_env
                    .registry
                    .implements
                    .get(name)
                    .is_some_and(|parents| parents.contains(condition))
        })
    }

    /// Writes the leaves of `set` into `out` and lists the relations to resolve, in
    /// query order (a relation holds its place with a null until it is resolved).
    fn walk<'a>(
        &self,
        ctx: &ContextSelectionSet<'a>,
        set: &'a SelectionSet,
        out: &mut IndexMap<Name, Value>,
        relations: &mut Relations<'a>,
        nesting: usize,
    ) -> ServerResult<()> {
        if nesting > MAX_FRAGMENT_NESTING {
            return Ok(());
        }
        for selection in &set.items {
            let (condition, inner) = match &selection.node {
                Selection::Field(field) => {
                    self.take_field(field, out, relations);
                    continue;
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let Some(fragment) = ctx.query_env.fragments.get(name) else {
                        return Err(ServerError::new(
                            format!(r#"Unknown fragment "{name}"."#),
                            Some(spread.pos),
                        ));
                    };
                    (
                        Some(fragment.node.type_condition.node.on.node.as_str()),
                        &fragment.node.selection_set.node,
                    )
                }
                Selection::InlineFragment(inline) => (
                    inline
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str()),
                    &inline.node.selection_set.node,
                ),
            };
            if self.applies(ctx, condition) {
                self.walk(ctx, inner, out, relations, nesting + 1)?;
            }
        }
        Ok(())
    }

    fn take_field<'a>(
        &self,
        field: &'a Positioned<Field>,
        out: &mut IndexMap<Name, Value>,
        relations: &mut Relations<'a>,
    ) {
        let key = field.node.response_key().node.clone();
        let name = field.node.name.node.as_str();
        if name == "__typename" {
            out.insert(key, Value::String(K::SPEC.type_name().to_owned()));
            return;
        }
        match self.leaf(name) {
            Some(value) if field.node.directives.is_empty() => {
                out.insert(key, value);
            }
            _ => {
                // A field asked for twice is resolved once; its selections are merged by
                // async-graphql's own rules only on the derived path, so keep the first.
                if !out.contains_key(&key) {
                    out.insert(key.clone(), Value::Null);
                    relations.push((key, field));
                }
            }
        }
    }
}

/// A scalar column's value as the API writes it.
pub(crate) fn scalar_value(value: Option<Scalar>) -> Value {
    match value {
        None => Value::Null,
        Some(Scalar::Text(text)) => Value::String(text),
        Some(Scalar::Int(n)) => Value::Number(n.into()),
        Some(Scalar::Float(f)) => {
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        Some(Scalar::Bool(b)) => Value::Boolean(b),
        Some(Scalar::Date(d)) => Value::String(d.to_string()),
        Some(Scalar::DateTime(t)) => Value::String(t.to_rfc3339()),
    }
}

fn optional<T>(value: Option<T>, to: impl Fn(T) -> Value) -> Value {
    value.map_or(Value::Null, to)
}

impl<K: Kind> RecordNode<K> {
    /// The value of a field that needs no look-up; `None` for relations and unknown
    /// names.
    pub(crate) fn leaf(&self, name: &str) -> Option<Value> {
        let model = &*self.0;
        let provenance = || model.provenance();
        let time = |t: chrono::DateTime<chrono::FixedOffset>| Value::String(t.to_rfc3339());
        Some(match name {
            "id" => Value::String(self.reference().to_string()),
            "source" => Value::String(provenance().source),
            "externalId" => optional(provenance().external_id, Value::String),
            "fetchedAt" => optional(provenance().fetched_at, time),
            "createdAt" => time(provenance().created_at),
            "updatedAt" => time(provenance().updated_at),
            "version" => Value::Number(provenance().version.into()),
            "archivedAt" => optional(provenance().archived_at, time),
            "withdrawnAt" => optional(provenance().withdrawn_at, time),
            _ => return self.declared_leaf(name),
        })
    }

    fn declared_leaf(&self, name: &str) -> Option<Value> {
        let field = K::SPEC.field(name)?;
        let model = &*self.0;
        match &field.value {
            FieldValue::Column { column, .. } => Some(scalar_value(column_scalar(model, column))),
            FieldValue::Enum { column, vocabulary } => {
                let text = match column_scalar(model, column) {
                    Some(Scalar::Text(text)) => text,
                    _ => return Some(Value::Null),
                };
                Some(
                    vocabulary
                        .values
                        .iter()
                        .find(|(v, _)| *v == text)
                        .map_or(Value::Null, |(v, _)| {
                            Value::Enum(async_graphql::Name::new(v))
                        }),
                )
            }
            FieldValue::Computed {
                columns, compute, ..
            } => {
                let values: Vec<Option<Scalar>> =
                    columns.iter().map(|c| column_scalar(model, c)).collect();
                Some(scalar_value(compute(&values)))
            }
            FieldValue::Relation(_) => None,
        }
    }

    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        Ok(crate::graphql::fetch::record_tasks(ctx, self.reference())
            .await?
            .iter()
            .cloned()
            .map(Task)
            .collect())
    }

    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AuditEntry>> {
        let source = self.0.provenance().source;
        if !scope::may_read_private(caller(ctx), &self.owner(&source)) {
            return Err(ApiError::Forbidden {
                message:
                    "a record's history is read by admins, analysts and the agency that owns it"
                        .into(),
                path: None,
            }
            .into_graphql());
        }
        Ok(record_loader(ctx)?
            .load_one(RecordHistory(self.reference()))
            .await
            .api()?
            .unwrap_or_default()
            .into_iter()
            .map(AuditEntry)
            .collect())
    }

    async fn support_events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupportEvent>> {
        Ok(crate::graphql::fetch::support_events(ctx, self.0.row_id())
            .await?
            .iter()
            .map(|e| SupportEvent {
                year: e.year,
                kind: e.kind.clone(),
                amount_vnd: e.amount_vnd.map(BigInt),
                note: e.note.clone(),
            })
            .collect())
    }

    fn id_in(&self, column: &str) -> Option<i32> {
        match column_value(&*self.0, column)? {
            sea_orm::Value::Int(id) => id,
            _ => None,
        }
    }

    /// Resolves a relation field into its value under the field's selection.
    async fn relation(&self, ctx: &Context<'_>, relation: &Relation) -> ServerResult<Value> {
        let fail = |e: async_graphql::Error| ctx.set_error_path(e.into_server_error(ctx.item.pos));
        let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
        match relation {
            Relation::Organisation { column } => {
                let found = load_organisation(ctx, self.id_in(column))
                    .await
                    .map_err(fail)?;
                OutputType::resolve(&found, &selection, ctx.item).await
            }
            Relation::Agency { column } => {
                let found = load_agency(ctx, self.id_in(column)).await.map_err(fail)?;
                OutputType::resolve(&found, &selection, ctx.item).await
            }
            Relation::SupportEvents => {
                let found = self.support_events(ctx).await.map_err(fail)?;
                OutputType::resolve(&found, &selection, ctx.item).await
            }
            Relation::Records(columns) => {
                let refs = columns.iter().filter_map(|(column, kind)| {
                    self.id_in(column).map(|id| RecordRef { kind: *kind, id })
                });
                let found = load_records(ctx, refs).await.map_err(fail)?;
                resolve_records(ctx, found).await
            }
        }
    }
}

/// Resolves records a record points at. Its future is boxed under a declared type: the
/// records' own relations lead back here, and an `async fn` cannot name its own type.
fn resolve_records<'a>(
    ctx: &'a Context<'a>,
    found: Vec<LinkedRecord>,
) -> futures_util::future::BoxFuture<'a, ServerResult<Value>> {
    Box::pin(async move {
        let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
        OutputType::resolve(&found, &selection, ctx.item).await
    })
}

impl<K: Kind> ContainerType for RecordNode<K> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let name = ctx.item.node.name.node.as_str();
        if let Some(value) = self.leaf(name) {
            return Ok(Some(value));
        }
        let fail = |e: async_graphql::Error| ctx.set_error_path(e.into_server_error(ctx.item.pos));
        let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
        match name {
            "tasks" => {
                let tasks = self.tasks(ctx).await.map_err(fail)?;
                OutputType::resolve(&tasks, &selection, ctx.item)
                    .await
                    .map(Some)
            }
            "history" => {
                let history = self.history(ctx).await.map_err(fail)?;
                OutputType::resolve(&history, &selection, ctx.item)
                    .await
                    .map(Some)
            }
            _ => match K::SPEC.field(name).map(|f| &f.value) {
                Some(FieldValue::Relation(relation)) => {
                    self.relation(ctx, relation).await.map(Some)
                }
                _ => Ok(None),
            },
        }
    }
}
