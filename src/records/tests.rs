//! Every declaration fits its table, and every surface names fields the kind declares.

use std::str::FromStr;

use sea_orm::{EntityTrait, Iterable};

use super::spec::{FieldValue, Relation};
use super::*;

fn columns<K: Kind>() -> Vec<String> {
    <<K::Entity as EntityTrait>::Column as Iterable>::iter()
        .map(|c| sea_orm::IdenStatic::as_str(&c).to_owned())
        .collect()
}

fn has_column<K: Kind>(name: &str) -> bool {
    <<K::Entity as EntityTrait>::Column as FromStr>::from_str(name).is_ok()
}

fn declared_columns(spec: &Spec) -> Vec<&'static str> {
    let mut names = Vec::new();
    for field in spec.fields {
        match &field.value {
            FieldValue::Column { column, .. } | FieldValue::Enum { column, .. } => {
                names.push(*column)
            }
            FieldValue::Relation(Relation::Organisation { column })
            | FieldValue::Relation(Relation::Agency { column }) => names.push(*column),
            FieldValue::Relation(Relation::Records(refs)) => {
                names.extend(refs.iter().map(|(c, _)| *c))
            }
            FieldValue::Relation(Relation::SupportEvents) => {}
            FieldValue::Computed { columns, .. } => names.extend(columns.iter().copied()),
        }
    }
    names.extend(spec.filters.iter().map(|f| f.def.column));
    names.extend(spec.order_by.iter().map(|o| o.column));
    names.extend(spec.default_order.iter().map(|o| o.column));
    names.extend(spec.search.columns.iter().copied());
    names.push(spec.search.title);
    names.extend(spec.owner.map(|o| o.column));
    names.extend(spec.metrics.iter().map(|m| m.column));
    for d in spec.dimensions {
        match d.dimension.grouping {
            crate::domain::aggregate::Grouping::Column(c) => names.push(c),
            crate::domain::aggregate::Grouping::Date { column, .. } => names.push(column),
        }
    }
    names
}

fn check_kind<K: Kind>() {
    let spec = K::SPEC;
    let name = spec.type_name();
    for column in declared_columns(spec) {
        assert!(has_column::<K>(column), "{name}: no column {column:?}");
    }
    for filter in spec.filters {
        let known = spec.field(filter.def.name).is_some();
        assert!(known, "{name}: filter {:?} is no field", filter.def.name);
    }
    for export in spec.export {
        let head = export.split('.').next().unwrap_or_default();
        assert!(
            head == "id" || spec.field(head).is_some(),
            "{name}: export {export:?} names no field"
        );
    }
    let inputs: Vec<&str> = spec.inputs.iter().map(|i| i.name).collect();
    for mapped in spec.mappable().iter().skip(1) {
        let head = mapped.split('.').next().unwrap_or_default();
        assert!(inputs.contains(&head), "{name}: mapping {mapped:?}");
    }
    let table = <K::Entity as Default>::default();
    assert_eq!(
        sea_orm::EntityName::table_name(&table),
        spec.table,
        "{name}"
    );
    assert!(!columns::<K>().is_empty());
}

#[test]
fn every_declaration_fits_its_table() {
    for kind in RecordKind::ALL {
        with_kind!(*kind, |K| check_kind::<K>());
        assert_eq!(spec_of(*kind).kind, *kind);
    }
}

#[test]
fn kinds_have_distinct_names() {
    let names: [fn(&Spec) -> String; 5] = [
        |s| s.list_field(),
        |s| s.one_field(),
        |s| s.export_name.to_owned(),
        |s| s.table.to_owned(),
        |s| s.plural.to_owned(),
    ];
    for name in names {
        let mut all: Vec<String> = RecordKind::ALL.iter().map(|k| name(spec_of(*k))).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), RecordKind::ALL.len(), "{all:?}");
    }
}

#[test]
fn field_names_are_told_as_they_are_built() {
    for kind in RecordKind::ALL {
        let spec = spec_of(*kind);
        assert!(spec.is_list_field(&spec.list_field()));
        assert!(spec.is_one_field(&spec.one_field()));
        assert!(spec.is_aggregate_field(&spec.aggregate_field()));
        for other in RecordKind::ALL.iter().filter(|k| *k != kind) {
            let other = spec_of(*other);
            assert!(!spec.is_list_field(&other.list_field()));
            assert!(!spec.is_one_field(&other.one_field()));
            assert!(!spec.is_aggregate_field(&other.aggregate_field()));
        }
        assert!(
            !spec.is_list_field(spec.plural),
            "the first letter is lower case"
        );
        assert!(!spec.is_one_field(&spec.list_field()));
        assert!(!spec.is_aggregate_field(&spec.list_field()));
        assert!(!spec.is_one_field(""));
    }
}
