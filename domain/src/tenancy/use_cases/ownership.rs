//! Transferring ownership: the one way the OWNER changes. The old owner becomes ADMIN in the same
//! transaction, so a workspace always has exactly one owner; their pending invitations to ADMIN, which an
//! admin could not send, are revoked with it (`departures`).

use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{UserId, WorkspaceId};
use crate::request::ClientInfo;
use crate::tenancy::records::WorkspaceRecord;
use crate::tenancy::service::WorkspaceEvent;
use crate::tenancy::use_cases::departures::revoke_creations;
use crate::tenancy::{Role, TenancyService, rules};

impl TenancyService {
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn transfer_ownership(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
        to: UserId,
    ) -> DomainResult<WorkspaceRecord> {
        let scope = self.scope(principal, workspace).await?;
        rules::may_transfer(scope.member_role()?, to == principal.require_user()?)
            .map_err(|rule| DomainError::Forbidden(rule.to_owned()))?;
        let target = self
            .store
            .find_member(&scope, to)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let old_owner = principal.require_user()?;
        let tx = self.store.begin().await?;
        tx.set_member_role(&scope, old_owner, Role::Admin).await?;
        if !tx.set_member_role(&scope, to, Role::Owner).await? {
            return Err(DomainError::NotFound("member"));
        }
        let revoked = revoke_creations(&*tx, &scope, old_owner, Some(Role::Admin), self.clock.now()).await?;
        self.audit(
            &*tx,
            &scope,
            principal,
            client,
            WorkspaceEvent {
                action: "workspace.ownership_transferred",
                target: Some(("USER", to.to_string())),
                metadata: json!({ "previousRole": target.membership.role.as_str(), "revoked": revoked.to_json() }),
            },
        )
        .await?;
        let record = tx.find_workspace(&scope).await?;
        // Both roles changed: cached roles and open subscriptions check again.
        let _signal = self.access.armed(crate::events::AccessChange::Workspace(workspace));
        let _keys = revoked.armed(&self.access);
        tx.commit().await?;
        Ok(record)
    }
}
