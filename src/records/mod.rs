//! The record kinds. Each kind is one module that declares its fields and what each
//! may do (`spec::Spec`), its input and how an input becomes a draft; the registry
//! (`domain::registry`) lists the kinds, and every layer derives what it serves from these.
//!
//! Adding a kind: a migration, an entity (`db::entities::record_entity!`), a module
//! here, and one line in `registry!`.

pub mod draft;
pub mod spec;

pub(crate) use crate::domain::registry::registry;

use std::str::FromStr;

use sea_orm::EntityTrait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use self::draft::{Draft, Refs};
use self::spec::{FieldValue, Relation, Spec};
use crate::db::entities::{Provenance, RecordModel};
use crate::domain::filter::Scalar;
use crate::domain::places::find_district;
use crate::domain::records::RecordKind;
use crate::domain::text::search_key;
use crate::domain::validate::{Checker, FieldError};

macro_rules! declare_modules {
    ($($variant:ident $module:ident $name:literal),* $(,)?) => {
        $(pub mod $module;)*

        /// A kind's declaration.
        pub fn spec_of(kind: RecordKind) -> &'static Spec {
            match kind {
                $(RecordKind::$variant => <$module::$variant as Kind>::SPEC,)*
            }
        }
    };
}
registry!(declare_modules!());

/// The declaration of the kind whose records `table` holds (none for the plan's tables).
pub fn spec_by_table(table: &str) -> Option<&'static Spec> {
    RecordKind::ALL
        .iter()
        .map(|kind| spec_of(*kind))
        .find(|spec| spec.table == table)
}

/// `with_kind!(kind, |K| body)` runs `body` with `K` the kind's marker type, for any
/// `RecordKind` value: the one place that turns a runtime kind into a type.
macro_rules! with_kind {
    ($kind:expr, |$K:ident| $body:expr) => {
        $crate::domain::registry::registry!(crate::records::with_kind_arms!($kind, $K, $body;))
    };
}
pub(crate) use with_kind;

macro_rules! with_kind_arms {
    ($kind:expr, $K:ident, $body:expr; $($variant:ident $module:ident $name:literal),* $(,)?) => {
        match $kind {
            $($crate::domain::records::RecordKind::$variant => {
                type $K = $crate::records::$module::$variant;
                $body
            })*
        }
    };
}
pub(crate) use with_kind_arms;

/// What a record kind is: its declaration, its table, its input and how an input is
/// checked into a draft.
pub trait Kind: Send + Sync + 'static {
    const SPEC: &'static Spec;
    type Entity: EntityTrait<Model = Self::Model>;
    type Model: RecordModel<Entity = Self::Entity>;
    /// The input of a write, as GraphQL and connectors give it.
    type Input: DeserializeOwned + Send + Sync + std::fmt::Debug + 'static;
    /// The kind's own columns a write sets, in storage spelling.
    type Content: Serialize + Clone + std::fmt::Debug + Send + Sync + 'static;

    /// Checks an input; every problem is reported with its path under `check`'s.
    fn draft(
        input: &Self::Input,
        check: Checker,
        refs: &Refs,
    ) -> Result<Draft<Self::Content>, Vec<FieldError>>;
}

/// Why a draft could not become a row: a declaration that does not fit its table.
#[derive(Debug, thiserror::Error)]
#[error("{kind} content does not fit its table: {source}")]
pub struct ContentError {
    kind: &'static str,
    source: serde_json::Error,
}

/// A column's value in `model`, or `None` when the table has no such column.
pub fn column_value<M: RecordModel>(model: &M, column: &str) -> Option<sea_orm::Value> {
    let column = <<M::Entity as EntityTrait>::Column as FromStr>::from_str(column).ok()?;
    Some(model.get(column))
}

/// A column's value as a filter scalar (`None` for null).
pub fn column_scalar<M: RecordModel>(model: &M, column: &str) -> Option<Scalar> {
    use sea_orm::Value as V;
    match column_value(model, column)? {
        V::String(Some(s)) => Some(Scalar::Text(s)),
        V::SmallInt(Some(n)) => Some(Scalar::Int(i64::from(n))),
        V::Int(Some(n)) => Some(Scalar::Int(i64::from(n))),
        V::BigInt(Some(n)) => Some(Scalar::Int(n)),
        V::Double(Some(f)) => Some(Scalar::Float(f)),
        V::Bool(Some(b)) => Some(Scalar::Bool(b)),
        V::ChronoDate(Some(d)) => Some(Scalar::Date(d)),
        V::ChronoDateTimeWithTimeZone(Some(t)) => Some(Scalar::DateTime(t)),
        _ => None,
    }
}

fn column_int<M: RecordModel>(model: &M, column: &str) -> Option<i32> {
    match column_scalar(model, column)? {
        Scalar::Int(n) => i32::try_from(n).ok(),
        _ => None,
    }
}

fn column_text<M: RecordModel>(model: &M, column: &str) -> Option<String> {
    match column_scalar(model, column)? {
        Scalar::Text(text) => Some(text),
        _ => None,
    }
}

/// The agency a record names as its owner, and whether that agency alone owns it.
pub fn owner_agency<K: Kind>(model: &K::Model) -> (Option<i32>, bool) {
    match K::SPEC.owner {
        Some(owner) => (column_int(model, owner.column), owner.exclusive),
        None => (None, false),
    }
}

/// The organisation a record names (producer, host, enterprise), if any.
pub fn organisation_of<K: Kind>(model: &K::Model) -> Option<i32> {
    column_int(model, K::SPEC.organisation_column()?)
}

/// The folded text a search matches against: the kind's search columns, joined.
pub fn search_text<K: Kind>(model: &K::Model) -> String {
    let text: Vec<String> = K::SPEC
        .search
        .columns
        .iter()
        .map(|column| column_text(model, column).unwrap_or_default())
        .collect();
    search_key(&text.join(" "))
}

/// The row a draft's content makes, with the given provenance and organisation: the
/// derived columns (search key, district codes) are filled here, never by a client.
pub fn build_model<K: Kind>(
    content: &K::Content,
    provenance: Provenance,
    organisation: Option<i32>,
) -> Result<K::Model, ContentError> {
    let fail = |source| ContentError {
        kind: K::SPEC.type_name(),
        source,
    };
    let mut row = match serde_json::to_value(content).map_err(fail)? {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    derive_columns(K::SPEC, &mut row, organisation);
    let placeholder = |value: &str| Json::String(value.to_owned());
    row.insert("id".into(), Json::from(provenance.id));
    row.insert("source".into(), placeholder(&provenance.source));
    row.insert(
        "external_id".into(),
        serde_json::json!(provenance.external_id),
    );
    row.insert(
        "fetched_at".into(),
        serde_json::json!(provenance.fetched_at),
    );
    row.insert(
        "created_at".into(),
        serde_json::json!(provenance.created_at),
    );
    row.insert(
        "updated_at".into(),
        serde_json::json!(provenance.updated_at),
    );
    row.insert("version".into(), Json::from(provenance.version));
    row.insert(
        "archived_at".into(),
        serde_json::json!(provenance.archived_at),
    );
    row.insert(
        "withdrawn_at".into(),
        serde_json::json!(provenance.withdrawn_at),
    );
    row.insert("search_key".into(), Json::String(String::new()));
    let mut model: K::Model = serde_json::from_value(Json::Object(row)).map_err(fail)?;
    model.set_search_key(search_text::<K>(&model));
    Ok(model)
}

/// Columns a row derives from its content: the organisation's id, and the code of a
/// district named in a district column.
fn derive_columns(spec: &Spec, row: &mut Map<String, Json>, organisation: Option<i32>) {
    if let Some(column) = spec.organisation_column() {
        row.insert(column.to_owned(), serde_json::json!(organisation));
    }
    for filter in spec.filters {
        if let crate::domain::filter::FieldType::District = filter.def.ty
            && let Some(FieldValue::Column { column, .. }) =
                spec.field(filter.def.name).map(|f| &f.value)
            && *column != filter.def.column
        {
            let code = row
                .get(*column)
                .and_then(Json::as_str)
                .and_then(find_district)
                .map(|d| d.code.to_owned());
            row.insert(filter.def.column.to_owned(), serde_json::json!(code));
        }
    }
}

/// The record kinds other records point at through `Relation::Records`.
pub fn referenced_kinds(spec: &Spec) -> Vec<RecordKind> {
    spec.fields
        .iter()
        .filter_map(|f| match &f.value {
            FieldValue::Relation(Relation::Records(refs)) => Some(refs.iter().map(|(_, k)| *k)),
            _ => None,
        })
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests;
