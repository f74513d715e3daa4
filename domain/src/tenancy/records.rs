//! Stored shapes of tenancy data.

use chrono::{DateTime, Utc};

use super::role::Role;
use crate::ids::{UserId, WorkspaceId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRecord {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// A member as listed to other members: the public part of their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub membership: MembershipRecord,
    pub full_name: String,
    pub username: String,
    pub email: String,
}
