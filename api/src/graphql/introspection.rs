//! Introspection off (`graphql.introspection = false`, the production profile's default).
//!
//! Rule: a document that selects `__schema` or `__type` on the query root (directly or through fragments) is
//! refused before it runs, with `FORBIDDEN` and a message saying introspection is off, rather than answered
//! with a silent `null`. `__typename` stays, as the GraphQL spec requires.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Variables};

use super::errors::code;
use super::root_fields::any_root_field;

/// Installed (with `SchemaBuilder::disable_introspection`) when introspection is off.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefuseIntrospection;

impl ExtensionFactory for RefuseIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Self)
    }
}

#[async_trait::async_trait]
impl Extension for RefuseIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if asks_for_introspection(&document) {
            let mut error = ServerError::new("introspection is turned off on this server", None);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code::FORBIDDEN);
            return Err(error);
        }
        Ok(document)
    }
}

fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    any_root_field(document, &|name| matches!(name, "__schema" | "__type"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(query: &str) -> bool {
        async_graphql::parser::parse_query(query).is_ok_and(|document| asks_for_introspection(&document))
    }

    #[test]
    fn introspection_is_found_however_it_is_spelled() {
        assert!(asks("{ __schema { types { name } } }"));
        assert!(asks("query { me { id } __type(name: \"Query\") { name } }"));
        assert!(asks("{ ... on Query { __schema { queryType { name } } } }"));
        assert!(asks(
            "query A { ...F } fragment F on Query { ...G } fragment G on Query { __schema { description } }"
        ));
        assert!(asks("query A { me { id } } query B { __schema { description } }"));
    }

    #[test]
    fn ordinary_queries_and_typename_pass_and_fragment_cycles_end() {
        assert!(!asks("{ __typename }"));
        assert!(!asks("{ me { id __typename } }"));
        assert!(!asks("query { ...F } fragment F on Query { ...F }"));
    }
}
