//! What a record kind declares about itself: its fields and what each may do. Plain
//! data, read by every layer that serves records (GraphQL types, filters, ordering,
//! aggregates, exports, search, connector mappings, the write engine).
//!
//! Each surface keeps its own list, in the order it was published (a filter's fields
//! are not in the object's order), and every list names fields the kind declares; a
//! unit test checks that for every kind.

use crate::domain::aggregate::{Dimension, Metric};
use crate::domain::filter::{FieldDef, FieldType, Scalar, SortKey};
use crate::domain::records::RecordKind;

/// Everything a record kind is, as data.
pub struct Spec {
    pub kind: RecordKind,
    /// The plural in API spelling (`IpRights`): the list `ipRights`, the import
    /// `importIpRights`, the aggregate `ipRightsAggregate`.
    pub plural: &'static str,
    /// The table that holds the records.
    pub table: &'static str,
    /// The file name of its export (`ocop-products`).
    pub export_name: &'static str,
    /// The description of the record type.
    pub doc: &'static str,
    /// The record type's own fields, in published order (the provenance fields, `tasks`
    /// and `history` every record has come first and are not listed).
    pub fields: &'static [Field],
    pub filter_doc: &'static str,
    /// Fields a list can be filtered by, in published order (`source`, `externalId`,
    /// `updatedAt` and `linkedTask` follow on every kind).
    pub filters: &'static [FilterField],
    /// Fields a list can be sorted by, in published order.
    pub order_by: &'static [OrderField],
    /// The order of a list that names none.
    pub default_order: &'static [SortKey],
    pub input_doc: &'static str,
    /// What a write takes, in published order.
    pub inputs: &'static [InputField],
    pub dimension_doc: &'static str,
    /// What an aggregate can group by, in published order.
    pub dimensions: &'static [DimensionField],
    pub metric_doc: &'static str,
    /// Numeric fields an aggregate sums; none means the kind counts only.
    pub metrics: &'static [Metric],
    pub aggregate_doc: &'static str,
    /// Aggregates were published OCOP first; kinds sort by this, then registry order.
    pub aggregate_rank: u8,
    /// The kind's roll-up, kept by triggers: counts (and integer sums) per combination
    /// of low-cardinality columns, which answers counts and aggregates that group and
    /// filter only by those (see `store::rollup`).
    pub rollup: Option<Rollup>,
    /// Export columns before `tasks.code` and the provenance columns: paths into a
    /// node (`producer.name`).
    pub export: &'static [&'static str],
    pub search: Search,
    /// The agency that owns records of this kind, if the kind names one.
    pub owner: Option<Owner>,
    /// Where a kind's list and single-record queries differ from every other's.
    pub queries: Queries,
}

/// One field of the record type.
pub struct Field {
    /// The API name (`certifiedOn`).
    pub name: &'static str,
    pub doc: Option<&'static str>,
    pub value: FieldValue,
}

/// Where a field's value comes from.
pub enum FieldValue {
    /// A column, served as a scalar.
    Column {
        column: &'static str,
        ty: ScalarType,
        required: bool,
    },
    /// A column of closed-vocabulary text, served as an enum; null when the stored text
    /// is not one of its words.
    Enum {
        column: &'static str,
        vocabulary: &'static Vocabulary,
    },
    /// Another object the record refers to.
    Relation(Relation),
    /// Worked out from other columns.
    Computed {
        ty: ScalarType,
        required: bool,
        columns: &'static [&'static str],
        compute: fn(&[Option<Scalar>]) -> Option<Scalar>,
    },
}

/// The scalar types record fields use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    Text,
    Int,
    /// 64-bit whole numbers (amounts in VND).
    BigInt,
    Float,
    Bool,
    Date,
    DateTime,
}

/// Objects a record can refer to.
pub enum Relation {
    /// An organisation (producer, host, enterprise) by the id in `column`.
    Organisation { column: &'static str },
    /// An agency by the id in `column`.
    Agency { column: &'static str },
    /// The support events of a startup.
    SupportEvents,
    /// Records of other kinds by the ids in these columns, in this order.
    Records(&'static [(&'static str, RecordKind)]),
}

/// A closed vocabulary served as an enum.
pub struct Vocabulary {
    pub type_name: &'static str,
    /// Each word and its description.
    pub values: &'static [(&'static str, Option<&'static str>)],
}

/// A field a list can be filtered by.
pub struct FilterField {
    pub def: FieldDef,
    pub doc: Option<&'static str>,
}

/// A field a list can be sorted by.
pub struct OrderField {
    pub name: &'static str,
    pub column: &'static str,
}

/// A field of the input a write takes.
pub struct InputField {
    pub name: &'static str,
    pub ty: InputType,
    pub required: bool,
    /// The default, as GraphQL writes it.
    pub default: Option<&'static str>,
    pub doc: Option<&'static str>,
    /// Whether a connector mapping may set it.
    pub map: Map,
}

/// The types input fields use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Text,
    Int,
    Float,
    Bool,
    Date,
    DateTime,
    BigInt,
    /// A record's global id.
    Id,
    /// An organisation, matched by tax code or name.
    Organisation,
    /// A list of support events.
    SupportEvents,
}

/// What a connector mapping may set of an input field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    No,
    Yes,
    /// These parts of a nested input (`producer.taxCode`).
    Parts(&'static [&'static str]),
}

/// A roll-up table (`<table>_rollup`), as its migration made it.
#[derive(Debug, Clone, Copy)]
pub struct Rollup {
    pub table: &'static str,
    /// The columns it groups by.
    pub columns: &'static [&'static str],
    /// Integer metric columns it sums (`<column>_sum`, `<column>_count`).
    pub sums: &'static [&'static str],
}

/// One dimension an aggregate groups by.
pub struct DimensionField {
    pub dimension: Dimension,
    pub doc: Option<&'static str>,
}

/// How a kind is searched.
pub struct Search {
    /// Columns whose text the search key holds.
    pub columns: &'static [&'static str],
    /// The column a hit shows as its title.
    pub title: &'static str,
}

/// The agency column that gives an agency rights over a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub column: &'static str,
    /// Whether only that agency may write the record (not also the one that pushed it).
    pub exclusive: bool,
}

/// Where a kind's root queries differ from the others'.
pub struct Queries {
    /// The list's description; the shared one when `None`.
    pub list_doc: Option<&'static str>,
    /// The single-record query's description; the shared one when `None`.
    pub one_doc: Option<&'static str>,
    /// An integer filter field the list also takes as its own argument (`year`).
    pub shortcut: Option<&'static str>,
}

impl Queries {
    pub const SHARED: Queries = Queries {
        list_doc: None,
        one_doc: None,
        shortcut: None,
    };
}

/// Provenance dimension every kind may group by.
pub const SOURCE_DIMENSION: DimensionField = DimensionField {
    dimension: Dimension::column("source", "source"),
    doc: None,
};

/// A nullable column served as is, without a description.
pub const fn column(name: &'static str, column: &'static str, ty: ScalarType) -> Field {
    Field {
        name,
        doc: None,
        value: FieldValue::Column {
            column,
            ty,
            required: false,
        },
    }
}

/// A column that is never null.
pub const fn required(name: &'static str, column: &'static str, ty: ScalarType) -> Field {
    Field {
        name,
        doc: None,
        value: FieldValue::Column {
            column,
            ty,
            required: true,
        },
    }
}

/// A filterable field without a description.
pub const fn filter(name: &'static str, column: &'static str, ty: FieldType) -> FilterField {
    FilterField {
        def: FieldDef { name, column, ty },
        doc: None,
    }
}

/// An optional input field a mapping may set, without a description.
pub const fn input(name: &'static str, ty: InputType) -> InputField {
    InputField {
        name,
        ty,
        required: false,
        default: None,
        doc: None,
        map: Map::Yes,
    }
}

/// A dimension without a description.
pub const fn dimension(dimension: Dimension) -> DimensionField {
    DimensionField {
        dimension,
        doc: None,
    }
}

/// A field with a description.
pub const fn described(field: Field, doc: &'static str) -> Field {
    Field {
        doc: Some(doc),
        ..field
    }
}

/// An input field with a description.
pub const fn documented(field: InputField, doc: &'static str) -> InputField {
    InputField {
        doc: Some(doc),
        ..field
    }
}

pub const fn order(name: &'static str, column: &'static str) -> OrderField {
    OrderField { name, column }
}

impl Spec {
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// The list field (`ocopProducts`).
    pub fn list_field(&self) -> String {
        lower_first(self.plural)
    }

    /// The single-record field (`ocopProduct`).
    pub fn one_field(&self) -> String {
        lower_first(self.type_name())
    }

    /// The aggregate field (`ocopProductsAggregate`).
    pub fn aggregate_field(&self) -> String {
        format!("{}Aggregate", self.list_field())
    }

    /// Whether `name` is [`Self::list_field`], told without building it: every request
    /// asks this of each kind in turn.
    pub fn is_list_field(&self, name: &str) -> bool {
        is_lower_first(name, self.plural)
    }

    /// Whether `name` is [`Self::one_field`].
    pub fn is_one_field(&self, name: &str) -> bool {
        is_lower_first(name, self.type_name())
    }

    /// Whether `name` is [`Self::aggregate_field`].
    pub fn is_aggregate_field(&self, name: &str) -> bool {
        name.strip_suffix("Aggregate")
            .is_some_and(|list| self.is_list_field(list))
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The organisation column the kind refers to, if any.
    pub fn organisation_column(&self) -> Option<&'static str> {
        self.fields.iter().find_map(|f| match f.value {
            FieldValue::Relation(Relation::Organisation { column }) => Some(column),
            _ => None,
        })
    }

    /// The field names a connector mapping may set (`producer.taxCode` for nested ones),
    /// after `externalId`.
    pub fn mappable(&self) -> Vec<String> {
        let mut names = vec!["externalId".to_owned()];
        for input in self.inputs {
            match input.map {
                Map::No => {}
                Map::Yes => names.push(input.name.to_owned()),
                Map::Parts(parts) => {
                    names.extend(parts.iter().map(|p| format!("{}.{p}", input.name)));
                }
            }
        }
        names
    }
}

/// `IpRights` → `ipRights`.
pub fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether `name` is [`lower_first`] of `of`.
fn is_lower_first(name: &str, of: &str) -> bool {
    let mut chars = of.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).eq(name.chars()),
        None => name.is_empty(),
    }
}

/// An API name as an enum value: `certifiedOnYear` → `CERTIFIED_ON_YEAR`.
pub fn screaming(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_convert_between_spellings() {
        assert_eq!(lower_first("IpRights"), "ipRights");
        assert_eq!(screaming("certifiedOnYear"), "CERTIFIED_ON_YEAR");
        assert_eq!(screaming("gtin"), "GTIN");
        assert_eq!(screaming("budgetVnd"), "BUDGET_VND");
    }
}
