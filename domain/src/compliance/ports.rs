//! What the staff use cases need from storage beyond the other repositories: the staff list and flag, and
//! two-person approvals.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::identity::records::UserRecord;
use crate::ids::{StaffApprovalId, UserId};
use crate::store::StoreResult;

/// A staff action that needs a second staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalAction {
    /// Turning a staff member's two-factor off (they enroll again before acting as staff).
    TotpReset,
}

impl ApprovalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotpReset => "TOTP_RESET",
        }
    }
}

/// A proposal, approved or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub id: StaffApprovalId,
    pub action: ApprovalAction,
    pub target: UserId,
    pub proposed_by: UserId,
    pub proposed_at: DateTime<Utc>,
    pub approved: Option<(UserId, DateTime<Utc>)>,
}

#[async_trait]
pub trait StaffRepository: Send + Sync {
    /// Every account with the staff flag, by username.
    async fn list_staff(&self) -> StoreResult<Vec<UserRecord>>;
    async fn set_staff(&self, id: UserId, staff: bool) -> StoreResult<()>;
    async fn insert_approval(&self, approval: &ApprovalRecord) -> StoreResult<()>;
    /// The newest proposal of `action` on `target` made since `since` and not approved yet.
    async fn open_approval(
        &self,
        target: UserId,
        action: ApprovalAction,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<ApprovalRecord>>;
    /// Approves the proposal if nobody has yet; `false` otherwise.
    async fn approve(&self, id: StaffApprovalId, by: UserId, at: DateTime<Utc>) -> StoreResult<bool>;
}
