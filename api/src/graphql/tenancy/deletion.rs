//! `deleteWorkspace` (API.md "Your data"): the owner closes a workspace; it is erased 30 days later.

use async_graphql::{Context, ID, Object};
use tgos_domain::erasure::WorkspaceErasure;

use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::workspace_id;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct WorkspaceDeletionMutation;

#[Object]
impl WorkspaceDeletionMutation {
    /// Deletes the workspace: OWNER only, after `reauthenticate`. Every member loses access at once, its API
    /// keys stop working, its leases are released and its automations stop; its data, audit chain and data
    /// key are erased 30 days later (crypto-erasure).
    #[graphql(guard = "SignedIn")]
    async fn delete_workspace(&self, ctx: &Context<'_>, workspace_id: ID) -> ApiResult<bool> {
        service::<WorkspaceErasure>(ctx)?
            .delete_workspace(principal(ctx)?, &client(ctx), self::workspace_id(&workspace_id)?)
            .await?;
        Ok(true)
    }
}
