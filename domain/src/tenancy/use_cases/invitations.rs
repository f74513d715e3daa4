//! Inviting people, accepting and revoking invitations (rules in `tenancy::invitations`).

use chrono::Duration;
use serde_json::json;

use crate::crypto::token;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Email, Principal};
use crate::ids::{InvitationId, WorkspaceId};
use crate::mail::OutgoingMail;
use crate::request::ClientInfo;
use crate::tenancy::invitations::{INVITATION_TTL_DAYS, InvitationRecord, InvitationStatus, TOKEN_PREFIX};
use crate::tenancy::records::{MembershipRecord, WorkspaceRecord};
use crate::tenancy::service::WorkspaceEvent;
use crate::tenancy::{Role, TenancyService, TenantScope, rules};

/// Invitations one workspace may send per hour (counted under the workspace's row lock).
pub const INVITATIONS_PER_HOUR: u64 = 50;

impl TenancyService {
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn invite_member(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
        email: &str,
        role: Role,
    ) -> DomainResult<InvitationRecord> {
        let scope = self.scope(principal, workspace).await?;
        rules::may_invite(scope.member_role()?, role).map_err(|rule| DomainError::Forbidden(rule.to_owned()))?;
        let email = Email::parse("email", email).map_err(|e| DomainError::Invalid(vec![e]))?;
        let now = self.clock.now();
        if let Some(user) = self.store.find_user_by_login(&email.key()).await?
            && self.store.find_member(&scope, user.id).await?.is_some()
        {
            return Err(DomainError::conflict("email", "this person is already a member"));
        }
        let workspace_record = self.store.find_workspace(&scope).await?;
        let token = token::generate(TOKEN_PREFIX);
        let invitation = InvitationRecord {
            id: InvitationId::generate(),
            workspace_id: workspace,
            email: email.as_str().to_owned(),
            email_key: email.key(),
            role,
            token_hash: token::hash(&token),
            invited_by: principal.require_user()?,
            created_at: now,
            expires_at: now + Duration::days(INVITATION_TTL_DAYS),
            accepted_at: None,
            revoked_at: None,
        };
        let tx = self.store.begin().await?;
        // Counted under the workspace's lock, in the transaction that inserts, so parallel invitations cannot
        // all see room for one more.
        tx.lock_workspace(&scope).await?;
        if tx.count_invitations_since(&scope, now - Duration::hours(1)).await? >= INVITATIONS_PER_HOUR {
            return Err(DomainError::RateLimited { retry_after_secs: 3600 });
        }
        let replaced = tx.revoke_invitations_for(&scope, &invitation.email_key, now).await?;
        tx.insert_invitation(&scope, &invitation).await?;
        let event = WorkspaceEvent {
            action: "invitation.created",
            target: Some(("INVITATION", invitation.id.to_string())),
            metadata: json!({ "email": invitation.email, "role": role.as_str(), "replaced": replaced }),
        };
        self.audit(&*tx, &scope, principal, client, event).await?;
        // Sent before commit: if the mail cannot go out, no invitation exists that nobody received.
        let mail = invitation_mail(email, &workspace_record, principal.display_name(), role, &token);
        self.mailer.send(&mail).await.map_err(DomainError::internal)?;
        tx.commit().await?;
        Ok(invitation)
    }

    /// Joins the workspace of the invitation `token` names. Only the invited email's account may.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        token: &str,
    ) -> DomainResult<(WorkspaceRecord, TenantScope)> {
        let user_id = principal.require_user()?;
        let now = self.clock.now();
        let invalid = |message: &str| DomainError::invalid("token", message);
        let Some(invitation) = self.store.find_invitation_by_token(&token::hash(token.trim())).await? else {
            return Err(invalid("this invitation does not exist"));
        };
        match invitation.status(now) {
            InvitationStatus::Pending => {}
            InvitationStatus::Accepted => return Err(invalid("this invitation has already been used")),
            InvitationStatus::Revoked => return Err(invalid("this invitation was revoked")),
            InvitationStatus::Expired => return Err(invalid("this invitation has expired; ask for a new one")),
        }
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        if user.email_key != invitation.email_key {
            return Err(DomainError::Forbidden(
                "this invitation is for another email address".to_owned(),
            ));
        }
        if !user.email_verified() {
            return Err(DomainError::Forbidden(
                "confirm your email address first: open the link we sent you (or ask for a new one with \
                 resendEmailVerification), then accept the invitation"
                    .to_owned(),
            ));
        }
        if self
            .store
            .find_membership(invitation.workspace_id, user.id)
            .await?
            .is_some()
        {
            return Err(DomainError::conflict(
                "token",
                "you are already a member of this workspace",
            ));
        }
        let scope = TenantScope::member(invitation.workspace_id, user.id, invitation.role);
        let tx = self.store.begin().await?;
        if !tx.accept_invitation(&scope, invitation.id, now).await? {
            return Err(invalid("this invitation has already been used"));
        }
        let member = MembershipRecord {
            workspace_id: invitation.workspace_id,
            user_id: user.id,
            role: invitation.role,
            joined_at: now,
        };
        tx.insert_member(&scope, &member).await?;
        let event = WorkspaceEvent {
            action: "member.joined",
            target: Some(("USER", user.id.to_string())),
            metadata: json!({ "role": invitation.role.as_str(), "invitation": invitation.id.to_string() }),
        };
        self.audit(&*tx, &scope, principal, client, event).await?;
        let workspace = tx.find_workspace(&scope).await?;
        tx.commit().await?;
        Ok((workspace, scope))
    }

    /// Pending invitations (ADMIN and OWNER).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn invitations(&self, scope: &TenantScope) -> DomainResult<Vec<InvitationRecord>> {
        if !scope.member_role()?.at_least(Role::Admin) {
            return Err(DomainError::Forbidden(
                "invitations are for admins and the owner".to_owned(),
            ));
        }
        Ok(self.store.list_pending_invitations(scope, self.clock.now()).await?)
    }

    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn revoke_invitation(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
        id: InvitationId,
    ) -> DomainResult<()> {
        let scope = self.scope(principal, workspace).await?;
        if !scope.member_role()?.at_least(Role::Admin) {
            return Err(DomainError::Forbidden(
                "only admins and the owner can revoke invitations".to_owned(),
            ));
        }
        let tx = self.store.begin().await?;
        if !tx.revoke_invitation(&scope, id, self.clock.now()).await? {
            return Err(DomainError::NotFound("invitation"));
        }
        let event = WorkspaceEvent {
            action: "invitation.revoked",
            target: Some(("INVITATION", id.to_string())),
            metadata: json!({}),
        };
        self.audit(&*tx, &scope, principal, client, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn invitation_mail(to: Email, workspace: &WorkspaceRecord, inviter: &str, role: Role, token: &str) -> OutgoingMail {
    OutgoingMail {
        to,
        subject: format!("You are invited to {} on Telegram OS", workspace.name),
        body: format!(
            "{inviter} invited you to join the workspace \"{}\" on Telegram OS as {}.\n\n\
             Sign in (or sign up with this email address) and accept with this invitation token:\n\n\
             {token}\n\n\
             The invitation works once and expires in {INVITATION_TTL_DAYS} days. If you did not expect it, ignore this email.\n",
            workspace.name,
            role.as_str()
        ),
        html: None,
        message_id: None,
    }
}
