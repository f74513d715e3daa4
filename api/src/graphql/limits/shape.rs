//! The shape of an operation, measured from its document before anything runs: how deep its data selection
//! nests, how far its introspection reaches, how many aliases it uses and how many fields its root asks for.
//!
//! Rules:
//! - Fragments count where they are spread, as if written out there (each fragment is measured once per
//!   kind of selection, so a document cannot make the measuring itself expensive).
//! - `__schema` and `__type` open introspection: their subtrees do not count toward the data depth. They
//!   are measured apart, against a fixed budget no larger than graphql-js's standard introspection query
//!   needs ([`INTROSPECTION`]): that query passes wherever introspection is on, and an introspection query
//!   that fans out further (lists of types within lists of fields within …) does not.
//! - A fragment cycle measures as empty here; validation refuses it afterwards.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};

/// How far one introspection subtree may reach: what `getIntrospectionQuery()` of graphql-js 16 (all
/// options on) needs, and no more.
pub const INTROSPECTION: IntrospectionBudget = IntrospectionBudget {
    depth: 15,
    of_type_chain: 9,
    nested_lists: 3,
};

/// The limits of one introspection subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntrospectionBudget {
    /// Levels of selection, `__schema` or `__type` included.
    pub depth: usize,
    /// `ofType` fields nested directly in one another.
    pub of_type_chain: usize,
    /// List-valued introspection fields (`types`, `fields`, `args`, …) nested in one another.
    pub nested_lists: usize,
}

/// The introspection fields whose value is a list of objects.
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "enumValues",
    "possibleTypes",
    "directives",
];

/// What was measured of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// The deepest data selection (introspection not counted).
    pub depth: usize,
    /// The deepest introspection selection, `__schema`/`__type` counted as its first level.
    pub introspection_depth: usize,
    /// The longest chain of `ofType` within one another.
    pub of_type_chain: usize,
    /// The most introspection lists nested within one another.
    pub nested_lists: usize,
    /// Fields given an alias, counted as often as they would run.
    pub aliases: usize,
    /// Fields at the operation's root, counted as often as they would run.
    pub root_fields: usize,
}

impl Shape {
    /// Whether the introspection in the operation stays within `budget`.
    pub fn introspection_within(&self, budget: IntrospectionBudget) -> bool {
        self.introspection_depth <= budget.depth
            && self.of_type_chain <= budget.of_type_chain
            && self.nested_lists <= budget.nested_lists
    }
}

/// The operation of `document` that `operation_name` selects, as execution will choose it; `None` when
/// there is none (execution refuses the request then).
pub fn selected<'a>(document: &'a ExecutableDocument, operation_name: Option<&str>) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(op_name, _)| op_name.as_str() == name)
            .map(|(_, op)| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Measures `operation`, a member of `document`.
pub fn measure(document: &ExecutableDocument, operation: &OperationDefinition) -> Shape {
    let mut measurer = Measurer {
        document,
        fragments: HashMap::new(),
    };
    let summary = measurer.selection_set(&operation.selection_set.node, Mode::Data);
    Shape {
        depth: summary.depth,
        introspection_depth: summary.introspection_depth,
        of_type_chain: summary.of_type_chain,
        nested_lists: summary.nested_lists,
        aliases: summary.aliases,
        root_fields: summary.fields,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    Data,
    Introspection,
}

/// What a selection set holds, as its parent sees it.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// In data mode the data depth; in introspection mode the introspection depth.
    depth: usize,
    introspection_depth: usize,
    of_type_chain: usize,
    /// The `ofType` chain that starts at this selection set's own fields.
    leading_of_type: usize,
    nested_lists: usize,
    aliases: usize,
    /// Fields directly in the set (spreads written out).
    fields: usize,
}

impl Summary {
    fn merge(&mut self, other: Summary) {
        self.depth = self.depth.max(other.depth);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.of_type_chain = self.of_type_chain.max(other.of_type_chain);
        self.leading_of_type = self.leading_of_type.max(other.leading_of_type);
        self.nested_lists = self.nested_lists.max(other.nested_lists);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

struct Measurer<'a> {
    document: &'a ExecutableDocument,
    /// Each fragment's summary per mode; `None` while it is being measured (a cycle).
    fragments: HashMap<(&'a str, Mode), Option<Summary>>,
}

impl<'a> Measurer<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, mode: Mode) -> Summary {
        let mut summary = Summary::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let opens_introspection = mode == Mode::Data && (name == "__schema" || name == "__type");
                    let child_mode = if opens_introspection { Mode::Introspection } else { mode };
                    let children = self.selection_set(&field.selection_set.node, child_mode);
                    let mut own = Summary {
                        aliases: children.aliases.saturating_add(usize::from(field.alias.is_some())),
                        fields: 1,
                        introspection_depth: children.introspection_depth,
                        of_type_chain: children.of_type_chain,
                        nested_lists: children.nested_lists,
                        ..Summary::default()
                    };
                    if opens_introspection {
                        own.introspection_depth = own.introspection_depth.max(children.depth + 1);
                    } else {
                        own.depth = children.depth + 1;
                    }
                    if mode == Mode::Introspection {
                        own.nested_lists = children.nested_lists + usize::from(INTROSPECTION_LISTS.contains(&name));
                        if name == "ofType" {
                            own.leading_of_type = children.leading_of_type + 1;
                            own.of_type_chain = own.of_type_chain.max(own.leading_of_type);
                        }
                    }
                    summary.merge(own);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let fragment = self.fragment(name, mode);
                    summary.merge(fragment);
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.selection_set(&inline.node.selection_set.node, mode);
                    summary.merge(inner);
                }
            }
        }
        summary
    }

    fn fragment(&mut self, name: &'a str, mode: Mode) -> Summary {
        match self.fragments.get(&(name, mode)) {
            Some(Some(known)) => return *known,
            Some(None) => return Summary::default(),
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Summary::default();
        };
        self.fragments.insert((name, mode), None);
        let summary = self.selection_set(&fragment.node.selection_set.node, mode);
        self.fragments.insert((name, mode), Some(summary));
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn shape(query: &str) -> Shape {
        let document = parse_query(query).unwrap_or_else(|error| panic!("{error}"));
        let operation = selected(&document, None).unwrap_or_else(|| panic!("no operation"));
        measure(&document, operation)
    }

    #[test]
    fn data_depth_counts_fields_and_fragments_where_they_are_spread() {
        assert_eq!(shape("{ a }").depth, 1);
        assert_eq!(shape("{ a { b { c } } d }").depth, 3);
        let spread = shape("{ a { ...F } } fragment F on T { b { c } }");
        assert_eq!(spread.depth, 3);
        assert_eq!(shape("{ a { ... on T { b } } }").depth, 2);
    }

    #[test]
    fn introspection_is_measured_apart_from_data() {
        let mixed = shape("{ me { id } __schema { types { fields { type { ofType { ofType { name } } } } } } }");
        assert_eq!(mixed.depth, 2);
        assert_eq!(mixed.introspection_depth, 7);
        assert_eq!(mixed.of_type_chain, 2);
        assert_eq!(mixed.nested_lists, 2);
        let fan_out = shape("{ __type(name: \"Query\") { fields { type { fields { type { fields { name } } } } } } }");
        assert_eq!(fan_out.nested_lists, 3);
        let further = shape("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }");
        assert_eq!(further.nested_lists, 4);
        assert!(!further.introspection_within(INTROSPECTION));
    }

    #[test]
    fn the_standard_introspection_query_fits_its_budget_exactly() {
        let standard = shape(include_str!("../../../../tests/fixtures/introspection_query.graphql"));
        assert_eq!(standard.depth, 0);
        assert_eq!(standard.introspection_depth, INTROSPECTION.depth);
        assert_eq!(standard.of_type_chain, INTROSPECTION.of_type_chain);
        assert_eq!(standard.nested_lists, INTROSPECTION.nested_lists);
        assert!(standard.introspection_within(INTROSPECTION));
    }

    #[test]
    fn aliases_and_root_fields_count_every_time_they_would_run() {
        let spread = shape("{ ...F ...F a: x } fragment F on Query { b: y c: z }");
        assert_eq!(spread.aliases, 5);
        assert_eq!(spread.root_fields, 5);
        let mutation = shape("mutation { a: signUp { id } b: signUp { id } }");
        assert_eq!(mutation.root_fields, 2);
        assert_eq!(mutation.aliases, 2);
    }

    #[test]
    fn a_fragment_cycle_measures_without_looping() {
        let cyclic = shape("{ ...A } fragment A on Query { a { ...B } } fragment B on T { b { ...A } }");
        assert!(cyclic.depth >= 2);
    }

    #[test]
    fn the_operation_is_chosen_by_name_as_execution_chooses_it() {
        let document = parse_query("query A { a } query B { b { c } }").unwrap_or_else(|error| panic!("{error}"));
        assert!(selected(&document, None).is_none());
        assert!(selected(&document, Some("C")).is_none());
        let b = selected(&document, Some("B")).unwrap_or_else(|| panic!("no B"));
        assert_eq!(measure(&document, b).depth, 2);
    }
}
