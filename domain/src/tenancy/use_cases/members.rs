//! Listing members, changing roles, removing members and leaving. A removal, a departure or a demotion
//! revokes in the same transaction what the member could no longer create (`departures`), a removal or a
//! departure also unassigns the member's dialogs, and the change's audit entry lists both.

use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{UserId, WorkspaceId};
use crate::paging::{Page, PageRequest};
use crate::request::ClientInfo;
use crate::tenancy::records::MemberView;
use crate::tenancy::service::WorkspaceEvent;
use crate::tenancy::use_cases::departures::{revoke_creations, unassign_dialogs};
use crate::tenancy::{Role, TenancyService, TenantScope, rules};

impl TenancyService {
    /// A page of members ordered by user id.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn members(&self, scope: &TenantScope, page: PageRequest<UserId>) -> DomainResult<Page<MemberView>> {
        scope.require(Role::Viewer, None, "the member list")?;
        page.read(|after, rows| self.store.list_members(scope, after, rows))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn change_member_role(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
        user: UserId,
        role: Role,
    ) -> DomainResult<MemberView> {
        let scope = self.scope(principal, workspace).await?;
        let actor = scope.member_role()?;
        let target = self
            .store
            .find_member(&scope, user)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let from = target.membership.role;
        rules::may_change_role(actor, from, role, user == principal.require_user()?)
            .map_err(|rule| DomainError::Forbidden(rule.to_owned()))?;
        let tx = self.store.begin().await?;
        if !tx.set_member_role(&scope, user, role).await? {
            return Err(DomainError::NotFound("member"));
        }
        let revoked = revoke_creations(&*tx, &scope, user, Some(role), self.clock.now()).await?;
        self.audit(
            &*tx,
            &scope,
            principal,
            client,
            WorkspaceEvent {
                action: "member.role_changed",
                target: Some(("USER", user.to_string())),
                metadata: json!({ "from": from.as_str(), "to": role.as_str(), "revoked": revoked.to_json() }),
            },
        )
        .await?;
        let _signal = self.access.armed(crate::events::AccessChange::User(user));
        let _keys = revoked.armed(&self.access);
        tx.commit().await?;
        let mut changed = target;
        changed.membership.role = role;
        Ok(changed)
    }

    /// Removes a member; removing yourself is leaving.
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn remove_member(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
        user: UserId,
    ) -> DomainResult<()> {
        let scope = self.scope(principal, workspace).await?;
        let actor = scope.member_role()?;
        let target = self
            .store
            .find_member(&scope, user)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let leaving = user == principal.require_user()?;
        rules::may_remove(actor, target.membership.role, leaving)
            .map_err(|rule| DomainError::Forbidden(rule.to_owned()))?;
        let tx = self.store.begin().await?;
        if !tx.delete_member(&scope, user).await? {
            return Err(DomainError::NotFound("member"));
        }
        let now = self.clock.now();
        let revoked = revoke_creations(&*tx, &scope, user, None, now).await?;
        let unassigned = unassign_dialogs(&*tx, &scope, user, now).await?;
        let action = if leaving { "member.left" } else { "member.removed" };
        self.audit(
            &*tx,
            &scope,
            principal,
            client,
            WorkspaceEvent {
                action,
                target: Some(("USER", user.to_string())),
                metadata: json!({
                    "role": target.membership.role.as_str(),
                    "revoked": revoked.to_json(),
                    "unassigned": unassigned,
                }),
            },
        )
        .await?;
        let _signal = self.access.armed(crate::events::AccessChange::User(user));
        let _keys = revoked.armed(&self.access);
        tx.commit().await?;
        self.outbox.committed();
        Ok(())
    }
}
