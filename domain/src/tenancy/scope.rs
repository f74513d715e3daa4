//! The proof that a caller may reach a workspace's data.

use super::role::Role;
use crate::ids::{UserId, WorkspaceId};

/// A workspace and the caller's role in it. Only the tenancy service creates one, after loading the
/// membership; persistence methods on tenant data require it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    workspace_id: WorkspaceId,
    member: UserId,
    role: Role,
}

impl TenantScope {
    pub(crate) fn new(workspace_id: WorkspaceId, member: UserId, role: Role) -> Self {
        Self {
            workspace_id,
            member,
            role,
        }
    }

    pub fn workspace_id(&self) -> WorkspaceId {
        self.workspace_id
    }

    pub fn member(&self) -> UserId {
        self.member
    }

    pub fn role(&self) -> Role {
        self.role
    }
}
