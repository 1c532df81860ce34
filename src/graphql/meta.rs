//! Building blocks for types whose fields come from declarations rather than from a
//! derive: the schema registry entries async-graphql's derives would write.

use async_graphql::indexmap::IndexMap;
use async_graphql::registry::{
    Deprecation, MetaEnumValue, MetaField, MetaInputValue, MetaType, MetaTypeId, Registry,
};
use async_graphql::{InputType, OutputType};

/// Makes a list field cost `list_complexity` of its children, as the derived ones do.
pub fn list_cost(field: &mut MetaField) {
    field.compute_complexity = Some(|_, _, _, child| Ok(super::limits::list_complexity(child)));
}

/// An output field.
pub fn field(name: &str, doc: Option<&str>, ty: String) -> MetaField {
    MetaField {
        name: name.to_owned(),
        description: doc.map(str::to_owned),
        args: IndexMap::new(),
        ty,
        deprecation: Deprecation::NoDeprecated,
        cache_control: Default::default(),
        external: false,
        requires: None,
        provides: None,
        visible: None,
        shareable: false,
        inaccessible: false,
        tags: Vec::new(),
        override_from: None,
        compute_complexity: None,
        directive_invocations: Vec::new(),
        requires_scopes: Vec::new(),
    }
}

/// An argument or input field.
pub fn input_value(
    name: &str,
    doc: Option<&str>,
    ty: String,
    default: Option<&str>,
) -> MetaInputValue {
    MetaInputValue {
        name: name.to_owned(),
        description: doc.map(str::to_owned),
        ty,
        deprecation: Deprecation::NoDeprecated,
        default_value: default.map(str::to_owned),
        visible: None,
        inaccessible: false,
        tags: Vec::new(),
        is_secret: false,
        directive_invocations: Vec::new(),
    }
}

/// An argument of Rust type `T`.
pub fn arg<T: InputType>(
    registry: &mut Registry,
    name: &str,
    default: Option<&str>,
) -> (String, MetaInputValue) {
    let ty = T::create_type_info(registry);
    (name.to_owned(), input_value(name, None, ty, default))
}

/// Fields keyed by name, in order.
pub fn fields(list: impl IntoIterator<Item = MetaField>) -> IndexMap<String, MetaField> {
    list.into_iter().map(|f| (f.name.clone(), f)).collect()
}

/// Registers an object type.
pub fn object<T: OutputType + ?Sized>(
    registry: &mut Registry,
    name: &str,
    doc: Option<&str>,
    build: impl Fn(&mut Registry) -> IndexMap<String, MetaField>,
) -> String {
    registry.create_output_type::<T, _>(MetaTypeId::Object, |registry| MetaType::Object {
        name: name.to_owned(),
        description: doc.map(str::to_owned),
        fields: build(registry),
        cache_control: Default::default(),
        extends: false,
        shareable: false,
        resolvable: true,
        keys: None,
        visible: None,
        inaccessible: false,
        interface_object: false,
        tags: Vec::new(),
        is_subscription: false,
        rust_typename: Some(std::any::type_name::<T>()),
        directive_invocations: Vec::new(),
        requires_scopes: Vec::new(),
    })
}

/// Registers an input object type.
pub fn input_object<T: InputType>(
    registry: &mut Registry,
    name: &str,
    doc: Option<&str>,
    build: impl Fn(&mut Registry) -> Vec<MetaInputValue>,
) -> String {
    registry.create_input_type::<T, _>(MetaTypeId::InputObject, |registry| MetaType::InputObject {
        name: name.to_owned(),
        description: doc.map(str::to_owned),
        input_fields: build(registry)
            .into_iter()
            .map(|f| (f.name.clone(), f))
            .collect(),
        visible: None,
        inaccessible: false,
        tags: Vec::new(),
        rust_typename: Some(std::any::type_name::<T>()),
        oneof: false,
        directive_invocations: Vec::new(),
    })
}

/// Registers an enum type with its values and their descriptions, once; its name.
pub fn enumeration(
    registry: &mut Registry,
    name: &str,
    doc: Option<&str>,
    values: &[(String, Option<&str>)],
) -> String {
    if registry.types.contains_key(name) {
        return name.to_owned();
    }
    let enum_values: IndexMap<String, MetaEnumValue> = values
        .iter()
        .map(|(value, doc)| {
            let meta = MetaEnumValue {
                name: value.clone(),
                description: doc.map(str::to_owned),
                deprecation: Deprecation::NoDeprecated,
                visible: None,
                inaccessible: false,
                tags: Vec::new(),
                directive_invocations: Vec::new(),
            };
            (value.clone(), meta)
        })
        .collect();
    let ty = MetaType::Enum {
        name: name.to_owned(),
        description: doc.map(str::to_owned),
        enum_values,
        visible: None,
        inaccessible: false,
        tags: Vec::new(),
        rust_typename: None,
        directive_invocations: Vec::new(),
        requires_scopes: Vec::new(),
    };
    registry.types.insert(name.to_owned(), ty);
    name.to_owned()
}
