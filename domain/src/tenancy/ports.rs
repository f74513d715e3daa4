//! What tenancy needs from storage. Methods on a workspace's data take its [`TenantScope`].

use async_trait::async_trait;

use chrono::{DateTime, Utc};

use super::api_keys::ApiKeyRecord;
use super::invitations::InvitationRecord;
use super::records::{MemberView, MembershipRecord, WorkspaceRecord};
use super::role::Role;
use super::scope::TenantScope;
use crate::ids::{ApiKeyId, InvitationId, UserId, WorkspaceId};
use crate::store::StoreResult;

#[async_trait]
pub trait TenancyRepository: Send + Sync {
    /// Creates the workspace with `owner` as its OWNER.
    async fn insert_workspace(&self, workspace: &WorkspaceRecord, owner: &MembershipRecord) -> StoreResult<()>;
    /// The caller's membership, the one lookup allowed without a scope: it is how a scope is made.
    async fn find_membership(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<MembershipRecord>>;
    async fn find_workspace(&self, scope: &TenantScope) -> StoreResult<WorkspaceRecord>;
    /// Whether the workspace's owner has restricted the processing of their data (policy §8): automations
    /// and sending stop then.
    async fn owner_restricted(&self, scope: &TenantScope) -> StoreResult<bool>;
    /// Holds the workspace's row lock until the transaction ends, so a per-workspace quota counted after it
    /// cannot be overtaken by a concurrent transaction that counted the same rows (PostgreSQL: `SELECT … FOR
    /// NO KEY UPDATE`, which leaves foreign-key checks of other writers alone; SQLite: its write transactions
    /// already run one at a time). Meaningful only inside a transaction.
    async fn lock_workspace(&self, scope: &TenantScope) -> StoreResult<()>;
    /// The workspaces `user` belongs to, with their role, oldest membership first.
    async fn list_workspaces_of(&self, user: UserId) -> StoreResult<Vec<(WorkspaceRecord, Role)>>;
    /// Members ordered by user id, after `after` (exclusive), at most `limit`.
    async fn list_members(
        &self,
        scope: &TenantScope,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<MemberView>>;
    async fn find_member(&self, scope: &TenantScope, user: UserId) -> StoreResult<Option<MemberView>>;
    /// `false` when the user is not a member.
    async fn set_member_role(&self, scope: &TenantScope, user: UserId, role: Role) -> StoreResult<bool>;
    /// `false` when the user is not a member.
    async fn delete_member(&self, scope: &TenantScope, user: UserId) -> StoreResult<bool>;
    /// Adds a member (accepting an invitation).
    async fn insert_member(&self, scope: &TenantScope, member: &MembershipRecord) -> StoreResult<()>;
}

/// Invitations, by workspace scope except the token lookup (the token itself is the credential).
#[async_trait]
pub trait InvitationRepository: Send + Sync {
    async fn insert_invitation(&self, scope: &TenantScope, invitation: &InvitationRecord) -> StoreResult<()>;
    /// Revokes every pending invitation for `email_key`; returns how many.
    async fn revoke_invitations_for(
        &self,
        scope: &TenantScope,
        email_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Pending (unaccepted, unrevoked, unexpired) invitations, newest first.
    async fn list_pending_invitations(
        &self,
        scope: &TenantScope,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InvitationRecord>>;
    /// `false` when it is not this workspace's or no longer pending.
    async fn revoke_invitation(&self, scope: &TenantScope, id: InvitationId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The invitation with this token hash, in any workspace: the token is the credential.
    async fn find_invitation_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<InvitationRecord>>;
    /// Atomically marks a pending invitation accepted; `false` when it was accepted or revoked meanwhile.
    async fn accept_invitation(&self, scope: &TenantScope, id: InvitationId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// How many invitations this workspace created since `since`.
    async fn count_invitations_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64>;
}

/// API keys, by workspace scope except the prefix lookup (the key itself is the credential).
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    async fn insert_api_key(&self, scope: &TenantScope, key: &ApiKeyRecord) -> StoreResult<()>;
    /// The workspace's keys that are not revoked, newest first.
    async fn list_api_keys(&self, scope: &TenantScope) -> StoreResult<Vec<ApiKeyRecord>>;
    /// `false` when it is not this workspace's key or already revoked.
    async fn revoke_api_key(&self, scope: &TenantScope, id: ApiKeyId, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn find_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// The key with this id if it belongs to a workspace `member` is a member of: how a key id without its
    /// workspace (`revokeApiKey(id)`) finds the scope to check.
    async fn find_api_key_of_member(&self, member: UserId, id: ApiKeyId) -> StoreResult<Option<ApiKeyRecord>>;
    /// Records a use at `now` unless one was recorded since `stale_before`; `true` when it recorded.
    async fn touch_api_key(
        &self,
        scope: &TenantScope,
        id: ApiKeyId,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// How many keys this workspace created since `since`.
    async fn count_api_keys_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64>;
    /// Makes `owner` the key's creator; `false` when it is not this workspace's key or is revoked.
    async fn set_api_key_creator(&self, scope: &TenantScope, id: ApiKeyId, owner: UserId) -> StoreResult<bool>;
}
