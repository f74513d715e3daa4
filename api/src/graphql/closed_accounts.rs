//! A closed account (its deletion pending) signs in only to see and cancel the deletion.
//!
//! Rule: for a caller whose account is closed, every root field but [`ALLOWED`] is refused with `FORBIDDEN`
//! before it resolves, whatever its own guards would say; `me` answers (its user, requests and pending
//! deletion), `cancelAccountDeletion` and `signOut` work.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{ServerError, ServerResult, Value};

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

#[async_trait::async_trait]
impl Extension for ClosedAccounts {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        if root && !ALLOWED.contains(&info.name) {
            let closed = ctx
                .data_opt::<Caller>()
                .and_then(|caller| caller.0.as_ref())
                .is_some_and(|authenticated| authenticated.account_closed);
            if closed {
                let mut error = ServerError::new(CLOSED, None);
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::FORBIDDEN);
                return Err(error);
            }
        }
        next.run(ctx, info).await
    }
}
