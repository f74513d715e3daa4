//! A closed account (its deletion pending) signs in only to see and cancel the deletion.
//!
//! Rule: for a caller whose account is closed, a document selecting any root field but [`ALLOWED`] is
//! refused with `FORBIDDEN` before it runs, whatever the fields' own guards would say; `me` answers (its
//! user, requests and pending deletion), `cancelAccountDeletion` and `signOut` work. Subscriptions are
//! refused the same way (a closed account follows nothing live). Checked once per document, when it is
//! parsed, not per resolved field.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Variables};

use super::context::Caller;
use super::errors::code;
use super::root_fields::any_root_field;

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
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if closed(ctx) && any_root_field(&document, &|name| !ALLOWED.contains(&name)) {
            return Err(refusal());
        }
        Ok(document)
    }
}
