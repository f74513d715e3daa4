//! A tracing span for every resolver that calls a use case: the root fields of queries, mutations and
//! subscriptions, and the fields of the `Workspace` hub. Each span is a child of the request's span (the
//! request id, set at the HTTP or WebSocket edge), so one request's log lines can be followed from the edge
//! through the resolver into the use case (whose own span names the workspace).
//!
//! Rule: nested fields of the nodes a list returns get no span of their own; their reads are batched use
//! cases with spans of their own, and a span per node field would cost more than the field.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{ServerResult, Value};
use tracing::Instrument as _;

/// Types whose fields are resolvers calling use cases.
const TRACED_PARENTS: &[&str] = &["Query", "Mutation", "Subscription", "Workspace"];

/// Installs [`ResolverSpan`] on a schema.
#[derive(Debug, Default)]
pub struct ResolverSpans;

impl ExtensionFactory for ResolverSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResolverSpan)
    }
}

/// Wraps each traced resolver in a span named after its field.
#[derive(Debug)]
struct ResolverSpan;

#[async_trait::async_trait]
impl Extension for ResolverSpan {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.is_for_introspection || !TRACED_PARENTS.contains(&info.parent_type) {
            return next.run(ctx, info).await;
        }
        let span = tracing::info_span!("resolver", field = %info.parent_type, name = info.name);
        next.run(ctx, info).instrument(span).await
    }
}
