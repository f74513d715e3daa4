//! What one operation may ask for, decided before any of it runs.
//!
//! Rules:
//! - Cost: a field costs 1 plus its selection; a list field costs its length (`first`, 20 when absent, or
//!   `days`) times its selection (`#[graphql(complexity)]` on the field, see `paging::page_cost`). An
//!   operation costing more than `graphql.max_complexity` is refused with `QUERY_TOO_COMPLEX`, naming the
//!   cost and the limit in its message and `extensions` (`cost`, `limit`). Every response whose cost was
//!   computed carries it in `extensions.cost`.
//! - Depth: data selections may nest `graphql.max_depth` levels; introspection (`__schema`, `__type`) is
//!   measured apart against a fixed budget that lets the standard introspection query through
//!   (`shape::INTROSPECTION`).
//! - Aliases (`graphql.max_aliases`) and root mutation fields (`graphql.max_mutation_fields`) are counted as
//!   often as they would run (fragments written out); over either cap the request is refused whole, naming
//!   the count and the cap, so nothing in it runs.
//! - All refusals are `QUERY_TOO_COMPLEX` request errors: no `data`, nothing executed.

pub mod shape;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::config::GraphqlSettings;
use crate::graphql::errors::code;
use shape::{INTROSPECTION, Shape};

/// The limits of [`GraphqlSettings`] every operation is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_cost: usize,
    pub max_aliases: usize,
    pub max_mutation_fields: usize,
}

impl Limits {
    pub fn of(settings: &GraphqlSettings) -> Self {
        Self {
            max_depth: settings.max_depth,
            max_cost: settings.max_complexity,
            max_aliases: settings.max_aliases,
            max_mutation_fields: settings.max_mutation_fields,
        }
    }

    /// Refuses an operation of type `kind` whose `shape` exceeds a limit.
    pub fn check_shape(&self, shape: &Shape, kind: OperationType) -> Result<(), ServerError> {
        if kind == OperationType::Mutation && shape.root_fields > self.max_mutation_fields {
            return Err(refusal(
                format!(
                    "the request asks for {} mutation fields; at most {} may run in one request",
                    shape.root_fields, self.max_mutation_fields
                ),
                &[
                    ("mutationFields", shape.root_fields),
                    ("limit", self.max_mutation_fields),
                ],
            ));
        }
        if shape.aliases > self.max_aliases {
            return Err(refusal(
                format!(
                    "the request uses {} aliases; at most {} are allowed",
                    shape.aliases, self.max_aliases
                ),
                &[("aliases", shape.aliases), ("limit", self.max_aliases)],
            ));
        }
        if shape.depth > self.max_depth {
            return Err(refusal(
                format!(
                    "the query is nested {} levels deep; at most {} are allowed",
                    shape.depth, self.max_depth
                ),
                &[("depth", shape.depth), ("limit", self.max_depth)],
            ));
        }
        if !shape.introspection_within(INTROSPECTION) {
            return Err(refusal(
                format!(
                    "the introspection query reaches further than the standard one: at most {} levels, {} nested \
                     ofType and {} nested lists are allowed",
                    INTROSPECTION.depth, INTROSPECTION.of_type_chain, INTROSPECTION.nested_lists
                ),
                &[("depth", shape.introspection_depth), ("limit", INTROSPECTION.depth)],
            ));
        }
        Ok(())
    }

    /// Refuses an operation costing more than the limit.
    pub fn check_cost(&self, cost: usize) -> Result<(), ServerError> {
        if cost > self.max_cost {
            return Err(refusal(
                format!("the query costs {cost}; at most {} is allowed", self.max_cost),
                &[("cost", cost), ("limit", self.max_cost)],
            ));
        }
        Ok(())
    }
}

fn number(n: usize) -> Value {
    Value::from(u64::try_from(n).unwrap_or(u64::MAX))
}

fn refusal(message: String, facts: &[(&str, usize)]) -> ServerError {
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code::QUERY_TOO_COMPLEX);
    for (name, value) in facts {
        extensions.set(*name, number(*value));
    }
    error
}

/// The schema extension enforcing [`Limits`] (see the module rules).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits(pub Limits);

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OneOperation {
            limits: self.0,
            operation_name: Mutex::new(None),
            cost: OnceLock::new(),
        })
    }
}

/// The limits as one operation meets them.
struct OneOperation {
    limits: Limits,
    operation_name: Mutex<Option<String>>,
    cost: OnceLock<usize>,
}

#[async_trait::async_trait]
impl Extension for OneOperation {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if let Some(cost) = self.cost.get() {
            response.extensions.insert("cost".to_owned(), number(*cost));
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation_name.lock().unwrap_or_else(PoisonError::into_inner) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = self
            .operation_name
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(operation) = shape::selected(&document, name.as_deref()) {
            let measured = shape::measure(&document, operation);
            self.limits.check_shape(&measured, operation.ty)?;
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let _first = self.cost.set(result.complexity);
        self.limits.check_cost(result.complexity).map_err(|error| vec![error])?;
        Ok(result)
    }
}
