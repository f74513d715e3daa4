//! The stored shapes of identity data, as the ports read and write them.

use chrono::{DateTime, Utc};

use crate::ids::{SessionId, UserId};

/// A user as stored. Secrets appear only in their stored form: the password as an argon2id PHC string, TOTP
/// secrets sealed under the master key.
#[derive(Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub email_key: String,
    pub full_name: String,
    pub username: String,
    pub username_key: String,
    pub password_hash: String,
    pub is_staff: bool,
    /// The sealed secret of the active second factor; `Some` means two-factor sign-in is on.
    pub totp_secret_sealed: Option<Vec<u8>>,
    /// The sealed secret of an enrollment begun but not confirmed.
    pub totp_pending_sealed: Option<Vec<u8>>,
    /// The last TOTP time step accepted; codes of this step or older are refused.
    pub totp_last_step: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// When the current address was confirmed through its link (`None`: not yet).
    pub email_verified_at: Option<DateTime<Utc>>,
    /// An address asked for and not yet confirmed through its link.
    pub pending_email: Option<String>,
    /// When the person confirmed at sign-up that they are 16 or older (`None` for accounts from before).
    pub age_confirmed_at: Option<DateTime<Utc>>,
    /// The privacy policy version accepted at sign-up.
    pub policy_version: Option<String>,
    /// Whether billing notices (top-ups credited, low balance) are sent.
    pub notify_billing: bool,
    /// Whether lease notices (ending soon, ended) are sent.
    pub notify_leases: bool,
    /// When the account was closed by `requestAccountDeletion` (it then signs in only to see and cancel).
    pub closed_at: Option<DateTime<Utc>>,
    /// When a closed account's personal data is erased (closed_at + 30 days).
    pub erase_after: Option<DateTime<Utc>>,
    /// Processing restricted on the person's request (policy §8): automations and sending stop in the
    /// workspaces they own until staff lift it.
    pub restricted_at: Option<DateTime<Utc>>,
    /// Suspended by staff: signed out and refused sign-in until unsuspended.
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
}

impl UserRecord {
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_secret_sealed.is_some()
    }

    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_staff", &self.is_staff)
            .field("two_factor_enabled", &self.two_factor_enabled())
            .finish_non_exhaustive()
    }
}

/// A session as stored: only the hash of its token.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the password (and code) were last confirmed on this session ([`super::reauthentication`]).
    pub reauthenticated_at: Option<DateTime<Utc>>,
}

impl SessionRecord {
    /// Unrevoked, within its absolute lifetime, and used within `idle` (see [`super::sessions_policy`]).
    pub fn is_live(&self, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && now - self.last_seen_at < idle
    }
}

/// A pending second step of a sign-in, created when the password was right and two-factor is on.
#[derive(Debug, Clone)]
pub struct ChallengeRecord {
    pub token_hash: Vec<u8>,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// A session as handed to its owner: the record plus the token, shown this once.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub record: SessionRecord,
    pub token: String,
}
