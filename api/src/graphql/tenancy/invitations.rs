//! Invitation views and mutations.

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::DomainError;
use tgos_domain::ids::{InvitationId, UserId, WorkspaceId};
use tgos_domain::tenancy::invitations::InvitationRecord;
use tgos_domain::tenancy::{TenancyService, TenantScope};

use super::api_keys::creator;
use super::members::MemberUser;
use super::types::Role;
use super::workspace::Workspace;
use crate::graphql::context::{client, principal};
use crate::graphql::errors::{ApiError, ApiResult};
use crate::graphql::ids::workspace_id;
use crate::graphql::{guards::SignedIn, service};

/// A pending invitation. The token is never shown here: only the invitee's email carries it.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Invitation {
    pub id: ID,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[graphql(skip)]
    pub workspace: WorkspaceId,
    #[graphql(skip)]
    pub inviter: UserId,
}

#[ComplexObject]
impl Invitation {
    /// Who sent it. It stays pending only while they could still send it (an admin or the owner, inviting to
    /// a role below their own): their removal, leaving or demotion revokes it. `null` only if the account no
    /// longer exists.
    async fn invited_by(&self, ctx: &Context<'_>) -> ApiResult<Option<MemberUser>> {
        creator(ctx, self.workspace, self.inviter).await
    }
}

impl From<InvitationRecord> for Invitation {
    fn from(record: InvitationRecord) -> Self {
        Self {
            id: ID(record.id.to_string()),
            email: record.email,
            role: record.role.into(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            workspace: record.workspace_id,
            inviter: record.invited_by,
        }
    }
}

/// `workspace.invitations`: the pending ones, newest first (ADMIN and OWNER).
pub(crate) async fn pending(ctx: &Context<'_>, scope: &TenantScope) -> ApiResult<Vec<Invitation>> {
    let pending = service::<TenancyService>(ctx)?.invitations(scope).await?;
    Ok(pending.into_iter().map(Invitation::from).collect())
}

#[derive(Debug, Default)]
pub struct InvitationMutation;

#[Object]
impl InvitationMutation {
    /// Invites someone by email with a role below the caller's (ADMIN and OWNER). The token goes out by email.
    #[graphql(guard = "SignedIn")]
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        email: String,
        role: Role,
    ) -> ApiResult<Invitation> {
        let invitation = service::<TenancyService>(ctx)?
            .invite_member(
                principal(ctx)?,
                &client(ctx),
                self::workspace_id(&workspace_id)?,
                &email,
                role.into(),
            )
            .await?;
        Ok(Invitation::from(invitation))
    }

    /// Joins a workspace with the token from an invitation email. Only the invited email's account can.
    #[graphql(guard = "SignedIn")]
    async fn accept_invitation(&self, ctx: &Context<'_>, token: String) -> ApiResult<Workspace> {
        let (record, scope) = service::<TenancyService>(ctx)?
            .accept_invitation(principal(ctx)?, &client(ctx), &token)
            .await?;
        Ok(Workspace::loaded(record, scope))
    }

    /// Withdraws a pending invitation (ADMIN and OWNER).
    #[graphql(guard = "SignedIn")]
    async fn revoke_invitation(&self, ctx: &Context<'_>, workspace_id: ID, id: ID) -> ApiResult<bool> {
        let id: InvitationId = id
            .parse()
            .map_err(|_| ApiError::from(DomainError::NotFound("invitation")))?;
        service::<TenancyService>(ctx)?
            .revoke_invitation(principal(ctx)?, &client(ctx), self::workspace_id(&workspace_id)?, id)
            .await?;
        Ok(true)
    }
}
