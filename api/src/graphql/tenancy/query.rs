//! `workspace(id)`.

use async_graphql::{Context, ID, Object};
use tgos_domain::tenancy::TenancyService;

use super::workspace::Workspace;
use crate::graphql::context::principal;
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::workspace_id;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct TenancyQuery;

#[Object]
impl TenancyQuery {
    /// A workspace the caller belongs to; `FORBIDDEN` otherwise (whether or not it exists).
    #[graphql(guard = "SignedIn")]
    async fn workspace(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Workspace> {
        let service = service::<TenancyService>(ctx)?;
        let scope = service.scope(principal(ctx)?, workspace_id(&id)?).await?;
        Ok(Workspace::by_scope(scope))
    }
}
