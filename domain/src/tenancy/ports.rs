//! What tenancy needs from storage. Methods on a workspace's data take its [`TenantScope`].

use async_trait::async_trait;

use super::records::{MemberView, MembershipRecord, WorkspaceRecord};
use super::role::Role;
use super::scope::TenantScope;
use crate::ids::{UserId, WorkspaceId};
use crate::store::StoreResult;

#[async_trait]
pub trait TenancyRepository: Send + Sync {
    /// Creates the workspace with `owner` as its OWNER.
    async fn insert_workspace(&self, workspace: &WorkspaceRecord, owner: &MembershipRecord) -> StoreResult<()>;
    /// The caller's membership, the one lookup allowed without a scope: it is how a scope is made.
    async fn find_membership(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<MembershipRecord>>;
    async fn find_workspace(&self, scope: &TenantScope) -> StoreResult<WorkspaceRecord>;
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
}
