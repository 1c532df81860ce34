//! Domain enums served as GraphQL enums, without a mirror type: their values come from
//! the domain type itself (`ALL` and a naming method), their descriptions from here.

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, InputType, InputValueError, InputValueResult, Name, OutputType,
    Positioned, ServerResult, Value,
};

use super::meta;

/// Serves a domain enum (with `ALL` and a method giving each value's API name) as a
/// GraphQL enum.
macro_rules! domain_enum {
    ($ty:ty, $name:literal, $doc:expr, $value_docs:expr, $api:ident) => {
        impl InputType for $ty {
            type RawValueType = Self;

            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn create_type_info(registry: &mut Registry) -> String {
                let values = <$ty>::ALL.iter().map(|v| v.$api());
                format!("{}!", register(registry, $name, $doc, values, $value_docs))
            }

            fn parse(value: Option<Value>) -> InputValueResult<Self> {
                let value = value.unwrap_or_default();
                let given = match &value {
                    Value::Enum(name) => Some(name.as_str()),
                    Value::String(text) => Some(text.as_str()),
                    _ => None,
                };
                given
                    .and_then(|given| <$ty>::ALL.iter().copied().find(|v| v.$api() == given))
                    .ok_or_else(|| InputValueError::expected_type(value.clone()))
            }

            fn to_value(&self) -> Value {
                Value::Enum(Name::new(self.$api()))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }
        }

        impl OutputType for $ty {
            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn create_type_info(registry: &mut Registry) -> String {
                <$ty as InputType>::create_type_info(registry)
            }

            async fn resolve(
                &self,
                _ctx: &ContextSelectionSet<'_>,
                _field: &Positioned<Field>,
            ) -> ServerResult<Value> {
                Ok(Value::Enum(Name::new(self.$api())))
            }
        }
    };
}

fn register<'a>(
    registry: &mut Registry,
    name: &str,
    doc: Option<&str>,
    values: impl Iterator<Item = &'a str>,
    value_docs: &[&str],
) -> String {
    let values: Vec<(String, Option<&str>)> = values
        .enumerate()
        .map(|(i, v)| (v.to_owned(), value_docs.get(i).copied()))
        .collect();
    meta::enumeration(registry, name, doc, &values)
}

domain_enum!(
    crate::domain::records::RecordKind,
    "RecordKind",
    Some("The kinds of linked record."),
    &[],
    as_str
);

domain_enum!(
    crate::domain::plan::TargetKey,
    "TargetKey",
    Some("The five key targets of the plan."),
    &[
        "At least 15 S&T tasks carrying out the Provincial Party Committee's resolutions.",
        "At least 20 S&T application models transferred.",
        "At least 20 innovative startups supported.",
        "Industrial property of at least one key farm product registered abroad.",
        "Technology level of enterprises in the key industries assessed.",
    ],
    as_str
);

domain_enum!(
    crate::domain::reporting::BodyKind,
    "BodyKind",
    Some("What a body is, as far as the plan's yearly report is concerned."),
    &[
        "A specialised agency of the Provincial People's Committee (Sở, Văn phòng, Thanh tra): owes the yearly report.",
        "The People's Committee of a district or district-level city: owes the yearly report.",
        "The Provincial People's Committee or Council: receives the reports.",
        "The Fatherland Front or a union the plan asks to coordinate: owes no report.",
        "A provincial office of a central agency: owes no report.",
        "A school, centre or other public service unit: owes no report.",
        "A cooperative alliance or other association: owes no report.",
    ],
    api_name
);

domain_enum!(
    crate::domain::reporting::ReportStatus,
    "ReportStatus",
    Some("Where a body's yearly report stands, as of a day."),
    &[
        "Submitted before 15 December of the year.",
        "Submitted on or after 15 December of the year.",
        "Owed, not submitted, and the deadline has passed.",
        "Owed, not submitted, and the deadline is still ahead.",
        "The body ceased to exist before the deadline: it owes nothing.",
    ],
    api_name
);

domain_enum!(
    crate::domain::plan::TargetKind,
    "TargetKind",
    Some("Whether a target counts something or is met by being done."),
    &[],
    api_name
);
