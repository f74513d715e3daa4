//! What a member created when they leave, are removed or are demoted.
//!
//! Rules (`tenancy::rules::{keeps_api_keys, keeps_invitation}`):
//! - API keys live only while their creator may create keys (ADMIN and above, still a member); pending
//!   invitations only while their inviter could still send them (ADMIN and above, to a role below their own).
//!   Whatever no longer qualifies is revoked in the transaction that removes or demotes the member, and that
//!   change's audit entry lists it (`revoked: { apiKeys, invitations, count }`).
//! - A key that should outlive its creator is re-owned first, explicitly, by an admin (`reassign_api_key`).
//! - Revoked keys stop at once: keys are looked up on every request (never cached), and each revoked key is
//!   signalled after commit, so open WebSockets holding it close with 4403.
//! - Dialogs assigned to a member who leaves or is removed are assigned to nobody in the same transaction, each
//!   announced (`DialogChanged`), and the departure's audit entry lists them (`unassigned: { dialogs, count }`):
//!   an assignee is always a current member (`inbox::triage`).
//! - Every key has recorded its creator since the first schema (`api_keys.created_by` is NOT NULL), so there
//!   is nothing without a creator to decide about. Keys whose creator left before this rule existed stay
//!   alive (revoking them on upgrade would break integrations unannounced); `ApiKey.createdBy` shows an admin
//!   who made them, to re-own or revoke.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::DomainResult;
use crate::events::access::SignalOnDrop;
use crate::events::{AccessChange, AccessSignals};
use crate::ids::{ApiKeyId, DialogId, InvitationId, UserId};
use crate::inbox::triage::unassign_departed;
use crate::store::{Repositories, Transaction};
use crate::tenancy::{Role, TenantScope, rules};

/// What went with a member's departure or demotion.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub api_keys: Vec<ApiKeyId>,
    pub invitations: Vec<InvitationId>,
}

impl Revoked {
    /// For the audit entry of the change.
    pub fn to_json(&self) -> Value {
        json!({
            "apiKeys": self.api_keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "invitations": self.invitations.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "count": self.api_keys.len() + self.invitations.len(),
        })
    }

    /// One signal per revoked key, sent when the guards drop (armed before commit, like the change's own).
    pub fn armed(&self, access: &AccessSignals) -> Vec<SignalOnDrop> {
        self.api_keys
            .iter()
            .map(|key| access.armed(AccessChange::ApiKey(*key)))
            .collect()
    }
}

/// Within the change's transaction, revokes what `user` created that a member holding `role` (`None`: no
/// longer a member) could not create.
pub(crate) async fn revoke_creations(
    tx: &dyn Repositories,
    scope: &TenantScope,
    user: UserId,
    role: Option<Role>,
    now: DateTime<Utc>,
) -> DomainResult<Revoked> {
    let mut revoked = Revoked::default();
    if !rules::keeps_api_keys(role) {
        for key in tx.list_api_keys(scope).await? {
            if key.created_by == user && tx.revoke_api_key(scope, key.id, now).await? {
                revoked.api_keys.push(key.id);
            }
        }
    }
    for invitation in tx.list_pending_invitations(scope, now).await? {
        if invitation.invited_by == user
            && !rules::keeps_invitation(role, invitation.role)
            && tx.revoke_invitation(scope, invitation.id, now).await?
        {
            revoked.invitations.push(invitation.id);
        }
    }
    Ok(revoked)
}

/// Within a departure's transaction, assigns the dialogs `user` held in the workspace to nobody (announcing
/// each); the audit entry's `unassigned` value.
pub(crate) async fn unassign_dialogs(
    tx: &dyn Transaction,
    scope: &TenantScope,
    user: UserId,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let dialogs: Vec<DialogId> = unassign_departed(tx, scope, user, now).await?;
    Ok(json!({
        "dialogs": dialogs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "count": dialogs.len(),
    }))
}
