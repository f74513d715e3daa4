//! A closed account (its deletion pending) signs in only to see and cancel the deletion.
//!
//! Rule: for a caller whose account is closed, every root field but [`ALLOWED`] is refused with `FORBIDDEN`
//! before it resolves, whatever its own guards would say; `me` answers (its user, requests and pending
//! deletion), `cancelAccountDeletion` and `signOut` work. Every subscription is refused the same way (a
//! closed account follows nothing live).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, NextSubscribe, ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, Value};
use futures_util::stream::{self, BoxStream, StreamExt as _};

use super::context::Caller;
use super::errors::code;

/// The root fields a closed account may use.
pub const ALLOWED: &[&str] = &["me", "cancelAccountDeletion", "signOut", "__typename"];

const CLOSED: &str = "this account is closed and will be deleted; sign in only to see or cancel the deletion \
                      (cancelAccountDeletion)";

#[derive(Debug, Clone, Copy, Default)]
pub struct ClosedAccounts;

impl ExtensionFactory for ClosedAccounts {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Self)
    }
}

fn closed(ctx: &ExtensionContext<'_>) -> bool {
    ctx.data_opt::<Caller>()
        .and_then(|caller| caller.0.as_ref())
        .is_some_and(|authenticated| authenticated.account_closed)
}

fn refusal() -> ServerError {
    let mut error = ServerError::new(CLOSED, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::FORBIDDEN);
    error
}

#[async_trait::async_trait]
impl Extension for ClosedAccounts {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        if closed(ctx) {
            return stream::once(async { Response::from_errors(vec![refusal()]) }).boxed();
        }
        next.run(ctx, stream)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        if root && !ALLOWED.contains(&info.name) && closed(ctx) {
            return Err(refusal());
        }
        next.run(ctx, info).await
    }
}
