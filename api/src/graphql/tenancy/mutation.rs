//! Workspace and member mutations. Each calls one use case; each change is audited by it.

use crate::graphql::ids::found_id;
use async_graphql::{Context, ID, Object};
use tgos_domain::ids::UserId;
use tgos_domain::tenancy::TenancyService;

use super::members::Member;
use super::types::Role;
use super::workspace::Workspace;
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::workspace_id;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct TenancyMutation;

fn user_id(id: &ID) -> ApiResult<UserId> {
    found_id(id, "member")
}

#[Object]
impl TenancyMutation {
    /// Creates a workspace; the caller becomes its OWNER.
    #[graphql(guard = "SignedIn")]
    async fn create_workspace(&self, ctx: &Context<'_>, name: String) -> ApiResult<Workspace> {
        let service = service::<TenancyService>(ctx)?;
        let principal = principal(ctx)?;
        let record = service.create_workspace(principal, &name, &client(ctx)).await?;
        let scope = service.scope(principal, record.id).await?;
        Ok(Workspace::loaded(record, scope))
    }

    /// Gives a member another role: only to members of lower rank, only roles below the caller's own.
    #[graphql(guard = "SignedIn")]
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        user_id: ID,
        role: Role,
    ) -> ApiResult<Member> {
        let member = service::<TenancyService>(ctx)?
            .change_member_role(
                principal(ctx)?,
                &client(ctx),
                self::workspace_id(&workspace_id)?,
                self::user_id(&user_id)?,
                role.into(),
            )
            .await?;
        Ok(Member::from(member))
    }

    /// Removes a member of lower rank; removing yourself leaves the workspace (not for the owner).
    #[graphql(guard = "SignedIn")]
    async fn remove_member(&self, ctx: &Context<'_>, workspace_id: ID, user_id: ID) -> ApiResult<bool> {
        service::<TenancyService>(ctx)?
            .remove_member(
                principal(ctx)?,
                &client(ctx),
                self::workspace_id(&workspace_id)?,
                self::user_id(&user_id)?,
            )
            .await?;
        Ok(true)
    }

    /// Makes another member the OWNER; the caller (the owner) becomes ADMIN.
    #[graphql(guard = "SignedIn")]
    async fn transfer_ownership(&self, ctx: &Context<'_>, workspace_id: ID, user_id: ID) -> ApiResult<Workspace> {
        let service = service::<TenancyService>(ctx)?;
        let principal = principal(ctx)?;
        let workspace = self::workspace_id(&workspace_id)?;
        let record = service
            .transfer_ownership(principal, &client(ctx), workspace, self::user_id(&user_id)?)
            .await?;
        let scope = service.scope(principal, workspace).await?;
        Ok(Workspace::loaded(record, scope))
    }
}
