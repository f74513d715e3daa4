//! The root fields a document selects, through inline fragments and fragment spreads (a fragment cycle ends).
//! Extensions that refuse a document for what it asks of the root read it here, once per request, instead
//! of once per resolved field.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Whether any operation of `document` selects a root field whose name `matches`.
pub fn any_root_field(document: &ExecutableDocument, matches: &dyn Fn(&str) -> bool) -> bool {
    let mut seen = HashSet::new();
    document
        .operations
        .iter()
        .any(|(_, operation)| selects(document, &operation.node.selection_set.node, matches, &mut seen))
}

fn selects<'d>(
    document: &'d ExecutableDocument,
    selections: &'d SelectionSet,
    matches: &dyn Fn(&str) -> bool,
    seen: &mut HashSet<&'d str>,
) -> bool {
    selections.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => matches(field.node.name.node.as_str()),
        Selection::InlineFragment(fragment) => selects(document, &fragment.node.selection_set.node, matches, seen),
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            seen.insert(name)
                && document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|fragment| selects(document, &fragment.node.selection_set.node, matches, seen))
        }
    })
}
