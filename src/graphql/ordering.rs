//! Puts response fields back in the order the query asked for them.
//!
//! The GraphQL spec has a response list its fields in query order, and scripts and BI
//! tools that read a response positionally rely on it. async-graphql resolves sibling
//! fields concurrently and records them in completion order, so the HTTP layer restores
//! the query's order from the document before writing the response.

use std::collections::HashMap;

use async_graphql::Value;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};

/// Reorders `data` in place after the operation `operation_name` selects in `document`.
pub fn order_like_query(
    data: &mut Value,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    if let Some(operation) = operation {
        order_value(
            data,
            &[&operation.node.selection_set.node],
            &document.fragments,
        );
    }
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

type Keys<'a> = Vec<(&'a str, Vec<&'a SelectionSet>)>;

/// Response keys in first-mention order, each with every selection set under it.
fn keys_of<'a>(selections: &[&'a SelectionSet], fragments: &'a Fragments) -> Keys<'a> {
    let mut keys = Vec::new();
    for set in selections {
        collect_keys(set, fragments, &mut keys, 0);
    }
    keys
}

fn order_value<'a>(value: &mut Value, selections: &[&'a SelectionSet], fragments: &'a Fragments) {
    match value {
        Value::List(items) => {
            // Every item answers the same selections: work out their keys once.
            let mut keys: Option<Keys<'a>> = None;
            for item in items {
                match item {
                    Value::Object(map) => {
                        let keys = keys.get_or_insert_with(|| keys_of(selections, fragments));
                        order_object(map, keys, fragments);
                    }
                    other => order_value(other, selections, fragments),
                }
            }
        }
        Value::Object(map) => order_object(map, &keys_of(selections, fragments), fragments),
        _ => {}
    }
}

fn order_object<'a>(
    map: &mut async_graphql::indexmap::IndexMap<Name, Value>,
    keys: &Keys<'a>,
    fragments: &'a Fragments,
) {
    // Most objects come out in query order already (their keys are a subsequence of the
    // query's): told and walked by comparing names in step, without hashing; only the
    // others are rebuilt.
    let mut expected = keys.iter();
    let in_order = map
        .keys()
        .all(|name| expected.any(|(key, _)| *key == name.as_str()));
    if in_order {
        let mut expected = keys.iter();
        for (name, child) in map.iter_mut() {
            if let Some((_, child_sets)) = expected.find(|(key, _)| *key == name.as_str()) {
                order_value(child, child_sets, fragments);
            }
        }
        return;
    }
    let mut ordered = async_graphql::indexmap::IndexMap::with_capacity(map.len());
    for (key, child_sets) in keys {
        if let Some((name, mut child)) = map.shift_remove_entry(*key) {
            order_value(&mut child, child_sets, fragments);
            ordered.insert(name, child);
        }
    }
    // Anything the document did not name (none expected) keeps its place at the end.
    ordered.extend(map.drain(..));
    *map = ordered;
}

/// Fragments can spread fragments; a cycle is refused by validation, this bound only
/// keeps a malformed document from recursing without end.
const MAX_FRAGMENT_NESTING: usize = 64;

fn collect_keys<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    keys: &mut Vec<(&'a str, Vec<&'a SelectionSet>)>,
    nesting: usize,
) {
    if nesting > MAX_FRAGMENT_NESTING {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.as_str();
                let child = &field.node.selection_set.node;
                match keys.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sets)) => sets.push(child),
                    None => keys.push((key, vec![child])),
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                    collect_keys(
                        &fragment.node.selection_set.node,
                        fragments,
                        keys,
                        nesting + 1,
                    );
                }
            }
            Selection::InlineFragment(inline) => {
                collect_keys(
                    &inline.node.selection_set.node,
                    fragments,
                    keys,
                    nesting + 1,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn fields_aliases_and_fragments_follow_the_query() {
        let document = parse_query(
            "query Q { b: task { z ...F y } a: plans { code } } fragment F on Task { x ... on Task { w } }",
        )
        .unwrap();
        let mut data = Value::from_json(serde_json::json!({
            "a": [{ "code": "1" }],
            "b": { "w": 1, "y": 2, "x": 3, "z": 4 },
        }))
        .unwrap();
        order_like_query(&mut data, &document, Some("Q"));
        assert_eq!(keys(&data), ["b", "a"]);
        let Value::Object(map) = &data else { panic!() };
        assert_eq!(keys(&map[&Name::new("b")]), ["z", "x", "w", "y"]);
    }

    #[test]
    fn lists_of_objects_are_ordered_item_by_item() {
        let document = parse_query("{ plans { title code } }").unwrap();
        let mut data = Value::from_json(serde_json::json!({
            "plans": [{ "code": "1", "title": "a" }, { "code": "2", "title": "b" }],
        }))
        .unwrap();
        order_like_query(&mut data, &document, None);
        let Value::Object(map) = &data else { panic!() };
        let Value::List(plans) = &map[&Name::new("plans")] else {
            panic!()
        };
        assert!(plans.iter().all(|p| keys(p) == ["title", "code"]));
    }

    #[test]
    fn an_object_in_order_with_fields_left_out_still_orders_its_children() {
        let document = parse_query("{ a { x y } b c { p q } }").unwrap();
        // `b` is missing (its resolver failed); `a` and `c` are in order, their fields not.
        let mut data = Value::from_json(serde_json::json!({
            "a": { "y": 1, "x": 2 },
            "c": { "q": 1, "p": 2 },
        }))
        .unwrap();
        order_like_query(&mut data, &document, None);
        assert_eq!(keys(&data), ["a", "c"]);
        let Value::Object(map) = &data else { panic!() };
        assert_eq!(keys(&map[&Name::new("a")]), ["x", "y"]);
        assert_eq!(keys(&map[&Name::new("c")]), ["p", "q"]);
    }

    #[test]
    fn a_key_the_query_does_not_name_keeps_its_place_at_the_end() {
        let document = parse_query("{ a b }").unwrap();
        let mut data = Value::from_json(serde_json::json!({ "z": 0, "b": 1, "a": 2 })).unwrap();
        order_like_query(&mut data, &document, None);
        assert_eq!(keys(&data), ["a", "b", "z"]);
        let mut data = Value::from_json(serde_json::json!({ "a": 2, "z": 0 })).unwrap();
        order_like_query(&mut data, &document, None);
        assert_eq!(keys(&data), ["a", "z"]);
    }
}
