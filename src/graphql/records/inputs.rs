//! The input types of a record kind, built from its declaration: its filter, its sort
//! keys, its write input and import rows, and the dimensions and metrics of its
//! aggregate.

use std::borrow::Cow;
use std::marker::PhantomData;

use async_graphql::registry::{MetaInputValue, Registry};
use async_graphql::{InputObject, InputType, InputValueError, InputValueResult, Name, Value};

use crate::domain::aggregate::{Dimension, Metric};
use crate::domain::filter::SortKey;
use crate::domain::filter::{
    FieldConditions, FieldDef, FieldType, Filter, FilterError, Lookup, any_text, field_filter,
    lookup_filter,
};
use crate::graphql::list::{
    BooleanFilter, Conditions, DateFilter, DateTimeFilter, FloatFilter, IntFilter, SortDirection,
    StringFilter, combine,
};
use crate::graphql::meta;
use crate::graphql::scalars::{BigInt, Date, DateTime};
use crate::records::Kind;
use crate::records::spec::{InputType as Input, screaming};

/// The enum value of a declared name (`certifiedOn` → `CERTIFIED_ON`).
fn enum_value(value: &Value) -> Option<&str> {
    match value {
        Value::Enum(name) => Some(name.as_str()),
        Value::String(text) => Some(text.as_str()),
        _ => None,
    }
}

/// Parses an enum value against `names`, as an index.
fn parse_enum<T: InputType>(
    value: Option<Value>,
    names: &[String],
) -> Result<usize, InputValueError<T>> {
    let value = value.unwrap_or_default();
    enum_value(&value)
        .and_then(|given| names.iter().position(|n| n == given))
        .ok_or_else(|| InputValueError::expected_type(value))
}

/// Registers the enum of a kind's sort keys, dimensions or metrics.
macro_rules! declared_enum {
    ($(#[$doc:meta])* $name:ident, $suffix:literal, |$spec:ident| $values:expr, $doc_of:expr, $item:ty, $pick:expr) => {
        $(#[$doc])*
        pub struct $name<K: Kind> {
            pub index: usize,
            kind: PhantomData<K>,
        }

        impl<K: Kind> $name<K> {
            fn names() -> Vec<(String, Option<&'static str>)> {
                let $spec = K::SPEC;
                $values
            }

            pub fn def(&self) -> $item {
                let $spec = K::SPEC;
                ($pick)(self.index)
            }
        }

        impl<K: Kind> InputType for $name<K> {
            type RawValueType = Self;

            fn type_name() -> Cow<'static, str> {
                let $spec = K::SPEC;
                if $spec.metrics.is_empty() && $suffix == "Metric" {
                    return Cow::Borrowed("NoMetric");
                }
                Cow::Owned(format!("{}{}", $spec.type_name(), $suffix))
            }

            fn create_type_info(registry: &mut Registry) -> String {
                let name = Self::type_name();
                #[allow(unused_variables)]
                let $spec = K::SPEC;
                let doc: Option<&str> = $doc_of;
                meta::enumeration(registry, &name, doc, &Self::names());
                format!("{name}!")
            }

            fn parse(value: Option<Value>) -> InputValueResult<Self> {
                let names: Vec<String> = Self::names().into_iter().map(|(n, _)| n).collect();
                parse_enum::<Self>(value, &names)
                    .map(|index| Self { index, kind: PhantomData })
            }

            fn to_value(&self) -> Value {
                Self::names()
                    .get(self.index)
                    .map_or(Value::Null, |(n, _)| Value::Enum(Name::new(n)))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }
        }
    };
}

declared_enum!(
    /// A field a kind's list can be sorted by.
    OrderField, "OrderField",
    |spec| spec.order_by.iter().map(|o| (screaming(o.name), None)).collect(),
    None,
    SortKey,
    |index: usize| SortKey::asc(spec.order_by.get(index).map_or("id", |o| o.column))
);

declared_enum!(
    /// A dimension a kind's aggregate groups by.
    DimensionChoice, "Dimension",
    |spec| spec
        .dimensions
        .iter()
        .map(|d| (screaming(d.dimension.name), d.doc))
        .collect(),
    Some(spec.dimension_doc),
    Option<Dimension>,
    |index: usize| spec.dimensions.get(index).map(|d| d.dimension)
);

declared_enum!(
    /// A numeric field a kind's aggregate sums, or `COUNT` for kinds without one.
    MetricChoice, "Metric",
    |spec| if spec.metrics.is_empty() {
        vec![("COUNT".to_owned(), Some("Counts records (the same as `count`)."))]
    } else {
        spec.metrics.iter().map(|m| (screaming(m.name), None)).collect()
    },
    Some(if spec.metrics.is_empty() {
        "No numeric field to sum: the kind's aggregates count only."
    } else {
        spec.metric_doc
    }),
    Option<Metric>,
    |index: usize| spec.metrics.get(index).copied()
);

/// One sort key of `orderBy`.
pub struct OrderBy<K: Kind> {
    pub field: OrderField<K>,
    pub direction: SortDirection,
}

impl<K: Kind> OrderBy<K> {
    pub fn key(&self) -> SortKey {
        SortKey {
            descending: self.direction == SortDirection::Desc,
            ..self.field.def()
        }
    }
}

/// The fields of an input object, read from a GraphQL object value.
fn object(value: Option<Value>) -> Result<async_graphql::indexmap::IndexMap<Name, Value>, Value> {
    match value {
        Some(Value::Object(map)) => Ok(map),
        other => Err(other.unwrap_or_default()),
    }
}

fn present(map: &async_graphql::indexmap::IndexMap<Name, Value>, name: &str) -> Option<Value> {
    map.get(name).filter(|v| !matches!(v, Value::Null)).cloned()
}

impl<K: Kind> InputType for OrderBy<K> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}OrderBy", K::SPEC.type_name()))
    }

    fn create_type_info(registry: &mut Registry) -> String {
        meta::input_object::<Self>(
            registry,
            &Self::type_name(),
            Some("One sort key of `orderBy`. Nulls sort last in either direction."),
            |registry| {
                vec![
                    meta::input_value(
                        "field",
                        None,
                        OrderField::<K>::create_type_info(registry),
                        None,
                    ),
                    meta::input_value(
                        "direction",
                        None,
                        SortDirection::create_type_info(registry),
                        Some("ASC"),
                    ),
                ]
            },
        )
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let map = object(value).map_err(InputValueError::expected_type)?;
        let field = OrderField::parse(map.get("field").cloned()).map_err(|e| e.propagate())?;
        let direction = match present(&map, "direction") {
            Some(value) => SortDirection::parse(Some(value)).map_err(|e| e.propagate())?,
            None => SortDirection::Asc,
        };
        Ok(Self { field, direction })
    }

    fn to_value(&self) -> Value {
        let mut map = async_graphql::indexmap::IndexMap::new();
        map.insert(Name::new("field"), self.field.to_value());
        map.insert(Name::new("direction"), self.direction.to_value());
        Value::Object(map)
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// The sort keys of `orderBy`, or the kind's default order.
pub fn sort_keys<K: Kind>(order_by: Option<Vec<OrderBy<K>>>) -> Vec<SortKey> {
    match order_by {
        Some(keys) if !keys.is_empty() => keys.iter().map(OrderBy::key).collect(),
        _ => K::SPEC.default_order.to_vec(),
    }
}

/// Which field a filter part reads.
#[derive(Debug, Clone, Copy)]
enum Target {
    Declared(usize),
    Source,
    ExternalId,
    UpdatedAt,
    LinkedTask,
}

/// A kind's list filter as the client wrote it.
pub struct FilterInput<K: Kind> {
    parts: Vec<(Target, FieldConditions)>,
    and: Option<Vec<FilterInput<K>>>,
    or: Option<Vec<FilterInput<K>>>,
    not: Option<Box<FilterInput<K>>>,
    raw: Value,
    kind: PhantomData<K>,
}

impl<K: Kind> Default for FilterInput<K> {
    fn default() -> Self {
        Self {
            parts: Vec::new(),
            and: None,
            or: None,
            not: None,
            raw: Value::Object(Default::default()),
            kind: PhantomData,
        }
    }
}

/// The conditions input type a filter field takes.
fn conditions_type(registry: &mut Registry, ty: FieldType) -> String {
    let name = match ty {
        FieldType::Int { .. } => IntFilter::create_type_info(registry),
        FieldType::Float => FloatFilter::create_type_info(registry),
        FieldType::Bool => BooleanFilter::create_type_info(registry),
        FieldType::Date => DateFilter::create_type_info(registry),
        FieldType::DateTime => DateTimeFilter::create_type_info(registry),
        FieldType::Text
        | FieldType::FoldedText { .. }
        | FieldType::Vocabulary(_)
        | FieldType::District => StringFilter::create_type_info(registry),
    };
    name.trim_end_matches('!').to_owned()
}

fn parse_conditions<E: InputType>(
    ty: FieldType,
    value: Value,
) -> Result<FieldConditions, InputValueError<E>> {
    fn read<T: InputType + Conditions, E: InputType>(
        value: Value,
    ) -> Result<FieldConditions, InputValueError<E>> {
        T::parse(Some(value))
            .map(|v| v.conditions())
            .map_err(InputValueError::propagate)
    }
    match ty {
        FieldType::Int { .. } => read::<IntFilter, E>(value),
        FieldType::Float => read::<FloatFilter, E>(value),
        FieldType::Bool => read::<BooleanFilter, E>(value),
        FieldType::Date => read::<DateFilter, E>(value),
        FieldType::DateTime => read::<DateTimeFilter, E>(value),
        _ => read::<StringFilter, E>(value),
    }
}

/// The filter fields every kind has after its own.
const PROVENANCE_FILTERS: [(&str, Target, FieldType, Option<&str>); 4] = [
    (
        "source",
        Target::Source,
        FieldType::Text,
        Some("Where the record came from (`seed`, `sample`, `agency:<code>`, `connector:<name>`)."),
    ),
    (
        "externalId",
        Target::ExternalId,
        FieldType::Text,
        Some("The record's key in its source registry."),
    ),
    ("updatedAt", Target::UpdatedAt, FieldType::DateTime, None),
    (
        "linkedTask",
        Target::LinkedTask,
        FieldType::Text,
        Some("Records linked to the plan tasks with these codes (`eq`, `in`, `ne`)."),
    ),
];

impl<K: Kind> FilterInput<K> {
    /// The checked filter; errors name the offending field's path.
    pub fn to_filter(&self, path: &str) -> Result<Filter, FilterError> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for (target, conditions) in &self.parts {
            parts.push(part::<K>(*target, path, conditions.clone())?);
        }
        combine(
            parts,
            path,
            self.and.as_deref(),
            self.or.as_deref(),
            self.not.as_deref(),
            Self::to_filter,
        )
    }

    /// A filter on one integer field (a list's shortcut argument), joined to this one.
    pub fn and_int(mut self, field: &str, value: i32) -> Self {
        if let Some(index) = K::SPEC.filters.iter().position(|f| f.def.name == field) {
            let conditions = IntFilter {
                eq: Some(value),
                ..Default::default()
            }
            .conditions();
            let extra = FilterInput {
                parts: vec![(Target::Declared(index), conditions)],
                ..Default::default()
            };
            self.and.get_or_insert_with(Vec::new).push(extra);
        }
        self
    }
}

fn part<K: Kind>(
    target: Target,
    path: &str,
    conditions: FieldConditions,
) -> Result<Filter, FilterError> {
    let provenance = |name: &'static str, column: &'static str, ty| {
        let def = FieldDef { name, column, ty };
        field_filter(&def, &format!("{path}.{name}"), conditions.clone())
    };
    match target {
        Target::Declared(index) => {
            let def = &K::SPEC.filters[index].def;
            field_filter(def, &format!("{path}.{}", def.name), conditions)
        }
        Target::Source => provenance("source", "source", FieldType::Text),
        Target::ExternalId => provenance("externalId", "external_id", FieldType::Text),
        Target::UpdatedAt => provenance("updatedAt", "updated_at", FieldType::DateTime),
        Target::LinkedTask => lookup_filter(
            "id",
            &format!("{path}.linkedTask"),
            conditions,
            any_text,
            |task_codes| Lookup::LinkedToTasks {
                kind: K::SPEC.kind.as_str(),
                task_codes,
            },
        ),
    }
}

fn parse_list<K: Kind>(value: Value) -> InputValueResult<Vec<FilterInput<K>>> {
    Vec::<FilterInput<K>>::parse(Some(value))
}

impl<K: Kind> InputType for FilterInput<K> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Filter", K::SPEC.type_name()))
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let name = Self::type_name();
        meta::input_object::<Self>(registry, &name, Some(K::SPEC.filter_doc), |registry| {
            let mut fields: Vec<MetaInputValue> = K::SPEC
                .filters
                .iter()
                .map(|f| {
                    let ty = conditions_type(registry, f.def.ty);
                    meta::input_value(f.def.name, f.doc, ty, None)
                })
                .collect();
            for (field, _, ty, doc) in PROVENANCE_FILTERS {
                fields.push(meta::input_value(
                    field,
                    doc,
                    conditions_type(registry, ty),
                    None,
                ));
            }
            let list = format!("[{name}!]");
            fields.push(meta::input_value(
                "and",
                Some("Every one of these filters holds."),
                list.clone(),
                None,
            ));
            fields.push(meta::input_value(
                "or",
                Some("At least one of these filters holds."),
                list,
                None,
            ));
            fields.push(meta::input_value(
                "not",
                Some("This filter does not hold."),
                name.to_string(),
                None,
            ));
            fields
        })
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let raw = value.clone().unwrap_or_default();
        let map = object(value).map_err(InputValueError::expected_type)?;
        let mut filter = FilterInput {
            raw,
            ..Default::default()
        };
        for (index, field) in K::SPEC.filters.iter().enumerate() {
            if let Some(value) = present(&map, field.def.name) {
                let conditions = parse_conditions(field.def.ty, value)?;
                filter.parts.push((Target::Declared(index), conditions));
            }
        }
        for (field, target, ty, _) in PROVENANCE_FILTERS {
            if let Some(value) = present(&map, field) {
                let conditions = parse_conditions(ty, value)?;
                filter.parts.push((target, conditions));
            }
        }
        if let Some(value) = present(&map, "and") {
            filter.and = Some(parse_list(value).map_err(|e| e.propagate())?);
        }
        if let Some(value) = present(&map, "or") {
            filter.or = Some(parse_list(value).map_err(|e| e.propagate())?);
        }
        if let Some(value) = present(&map, "not") {
            let not = FilterInput::parse(Some(value)).map_err(|e| e.propagate())?;
            filter.not = Some(Box::new(not));
        }
        Ok(filter)
    }

    fn to_value(&self) -> Value {
        self.raw.clone()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// An organisation named by an input (producer, host, enterprise): matched by tax code,
/// else by name, else created.
#[derive(InputObject, Debug, Clone)]
pub struct OrganisationInput {
    pub name: String,
    /// Mã số thuế: 10 digits with a valid check digit, optionally `-NNN` for a branch;
    /// or a household business's 12-digit personal number.
    pub tax_code: Option<String>,
    /// cooperative, enterprise, household business, institute…
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
}

/// Support a startup received, as an input.
#[derive(InputObject, Debug, Clone)]
pub struct SupportEventInput {
    pub year: i32,
    /// What kind of support (hình thức hỗ trợ).
    pub kind: String,
    /// Amount in VND, not negative.
    pub amount_vnd: Option<BigInt>,
    /// The supporting agency's code.
    pub agency: Option<String>,
    pub note: Option<String>,
}

/// The GraphQL type of an input field.
fn input_type(registry: &mut Registry, ty: Input, required: bool) -> String {
    let name = match ty {
        Input::Text => <String as InputType>::create_type_info(registry),
        Input::Int => <i32 as InputType>::create_type_info(registry),
        Input::Float => <f64 as InputType>::create_type_info(registry),
        Input::Bool => <bool as InputType>::create_type_info(registry),
        Input::Date => <Date as InputType>::create_type_info(registry),
        Input::DateTime => <DateTime as InputType>::create_type_info(registry),
        Input::BigInt => <BigInt as InputType>::create_type_info(registry),
        Input::Id => <async_graphql::ID as InputType>::create_type_info(registry),
        Input::Organisation => OrganisationInput::create_type_info(registry),
        Input::SupportEvents => <Vec<SupportEventInput> as InputType>::create_type_info(registry),
    };
    if required {
        name
    } else {
        name.trim_end_matches('!').to_owned()
    }
}

/// Checks one input field with its GraphQL type, so a bad value is refused with the
/// same message as any other input object's.
fn check_input<S: InputType>(
    ty: Input,
    required: bool,
    value: Option<Value>,
) -> Result<(), InputValueError<S>> {
    fn check<T: InputType, S: InputType>(
        required: bool,
        value: Option<Value>,
    ) -> Result<(), InputValueError<S>> {
        if required {
            T::parse(value)
                .map(|_| ())
                .map_err(InputValueError::propagate)
        } else {
            Option::<T>::parse(value)
                .map(|_| ())
                .map_err(InputValueError::propagate)
        }
    }
    match ty {
        Input::Text => check::<String, S>(required, value),
        Input::Int => check::<i32, S>(required, value),
        Input::Float => check::<f64, S>(required, value),
        Input::Bool => check::<bool, S>(required, value),
        Input::Date => check::<Date, S>(required, value),
        Input::DateTime => check::<DateTime, S>(required, value),
        Input::BigInt => check::<BigInt, S>(required, value),
        Input::Id => check::<async_graphql::ID, S>(required, value),
        Input::Organisation => check::<OrganisationInput, S>(required, value),
        Input::SupportEvents => check::<Vec<SupportEventInput>, S>(required, value),
    }
}

/// A kind's write input: read into the kind's own `Input` through JSON, the same way
/// connectors read theirs.
pub struct KindInput<K: Kind> {
    pub input: K::Input,
    raw: Value,
}

impl<K: Kind> InputType for KindInput<K> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Input", K::SPEC.type_name()))
    }

    fn create_type_info(registry: &mut Registry) -> String {
        meta::input_object::<Self>(
            registry,
            &Self::type_name(),
            Some(K::SPEC.input_doc),
            |registry| {
                K::SPEC
                    .inputs
                    .iter()
                    .map(|f| {
                        let ty = input_type(registry, f.ty, f.required);
                        meta::input_value(f.name, f.doc, ty, f.default)
                    })
                    .collect()
            },
        )
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let raw = value.unwrap_or_default();
        let Value::Object(fields) = &raw else {
            return Err(InputValueError::expected_type(raw));
        };
        for field in K::SPEC.inputs {
            let value = fields.get(field.name).cloned();
            // An absent field with a default takes it (the JSON below gets it too).
            if value.is_none() && field.default.is_some() {
                continue;
            }
            check_input(field.ty, field.required, value)?;
        }
        let mut json = raw
            .clone()
            .into_json()
            .map_err(|e| InputValueError::custom(e.to_string()))?;
        if let Some(object) = json.as_object_mut() {
            for field in K::SPEC.inputs {
                if let (Some(default), false) = (field.default, object.contains_key(field.name)) {
                    let value = serde_json::from_str(default).unwrap_or(serde_json::Value::Null);
                    object.insert(field.name.to_owned(), value);
                }
            }
        }
        let input =
            serde_json::from_value(json).map_err(|e| InputValueError::custom(e.to_string()))?;
        Ok(Self { input, raw })
    }

    fn to_value(&self) -> Value {
        self.raw.clone()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// One row of a bulk import: the record's key in the pushing agency's system and its
/// content.
pub struct ImportRecord<K: Kind> {
    pub external_id: String,
    pub input: KindInput<K>,
}

impl<K: Kind> InputType for ImportRecord<K> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}ImportRecord", K::SPEC.type_name()))
    }

    fn create_type_info(registry: &mut Registry) -> String {
        meta::input_object::<Self>(
            registry,
            &Self::type_name(),
            Some(
                "One row of a bulk import: the record's key in the pushing agency's system and its\ncontent.",
            ),
            |registry| {
                vec![
                    meta::input_value(
                        "externalId",
                        None,
                        <String as InputType>::create_type_info(registry),
                        None,
                    ),
                    meta::input_value(
                        "input",
                        None,
                        KindInput::<K>::create_type_info(registry),
                        None,
                    ),
                ]
            },
        )
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let map = object(value).map_err(InputValueError::expected_type)?;
        let external_id =
            String::parse(map.get("externalId").cloned()).map_err(|e| e.propagate())?;
        let input = KindInput::parse(map.get("input").cloned()).map_err(|e| e.propagate())?;
        Ok(Self { external_id, input })
    }

    fn to_value(&self) -> Value {
        let mut map = async_graphql::indexmap::IndexMap::new();
        map.insert(
            Name::new("externalId"),
            Value::String(self.external_id.clone()),
        );
        map.insert(Name::new("input"), self.input.to_value());
        Value::Object(map)
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}
