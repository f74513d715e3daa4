//! `workspace(id)`.

use async_graphql::{Context, ID, Object};
use tgos_domain::DomainError;
use tgos_domain::ids::WorkspaceId;

use super::types::Workspace;
use crate::graphql::context::principal;
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::{guards::SignedIn, tenancy_service};

#[derive(Debug, Default)]
pub struct TenancyQuery;

/// A workspace id from a client: malformed ids are refused like ids of workspaces the caller is not in.
pub fn workspace_id(id: &ID) -> ApiResult<WorkspaceId> {
    id.parse().map_err(|_| {
        ApiError::from(DomainError::Forbidden(
            "you are not a member of this workspace".to_owned(),
        ))
    })
}

#[Object]
impl TenancyQuery {
    /// A workspace the caller belongs to; `FORBIDDEN` otherwise (whether or not it exists).
    #[graphql(guard = "SignedIn")]
    async fn workspace(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Workspace> {
        let service = tenancy_service(ctx)?;
        let scope = service.scope(principal(ctx)?, workspace_id(&id)?).await?;
        Ok(Workspace::by_scope(scope))
    }
}
