//! Invitations: how people join a workspace.
//!
//! Rules: only ADMIN and OWNER invite, and only to roles below their own; the token is random, shown only in
//! the email, stored as its SHA-256 hash, expires after [`INVITATION_TTL_DAYS`] days and works once; only the
//! account whose email the invitation names can accept it; inviting the same email again replaces the pending
//! invitation; invitations per workspace are rate-limited.

use chrono::{DateTime, Utc};

use super::role::Role;
use crate::ids::{InvitationId, UserId, WorkspaceId};

pub const INVITATION_TTL_DAYS: i64 = 7;
pub const TOKEN_PREFIX: &str = "tgi";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub email_key: String,
    pub role: Role,
    pub token_hash: Vec<u8>,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationRecord {
    pub fn status(&self, now: DateTime<Utc>) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}
