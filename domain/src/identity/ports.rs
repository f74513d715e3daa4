//! What identity needs from storage. Every method is one statement or one atomic step, so the guarantees
//! the rules depend on ("a code works once", "no more checks than the threshold") hold under concurrency.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lockout::{Reservation, ThrottlePolicy};
use super::records::{ChallengeRecord, SessionRecord, UserRecord};
use crate::ids::{SessionId, UserId};
use crate::store::StoreResult;

/// Unique constraint names the persistence layer reports, so use cases can name the field at fault.
pub mod constraints {
    pub const USER_EMAIL: &str = "users_email_key_unique";
    pub const USER_USERNAME: &str = "users_username_key_unique";
}

#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Fails with `UniqueViolation` naming [`constraints`] when the email or username key is taken.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn find_user(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    /// By email key or username key.
    async fn find_user_by_login(&self, login_key: &str) -> StoreResult<Option<UserRecord>>;
    /// How many staff accounts exist.
    async fn count_staff(&self) -> StoreResult<u64>;
    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()>;
    async fn set_pending_totp(&self, id: UserId, sealed: Option<&[u8]>) -> StoreResult<()>;
    /// Turns two-factor on with the given secret and first accepted step; clears any pending enrollment.
    async fn enable_totp(&self, id: UserId, sealed: &[u8], accepted_step: i64) -> StoreResult<()>;
    /// Turns two-factor off and deletes the backup codes.
    async fn disable_totp(&self, id: UserId) -> StoreResult<()>;
    /// Atomically moves the last accepted step forward to `step`; `false` when it is already there or beyond,
    /// which means the code was used before.
    async fn advance_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool>;
    /// Replaces every backup code of the user.
    async fn replace_backup_codes(&self, id: UserId, hashes: &[Vec<u8>], now: DateTime<Utc>) -> StoreResult<()>;
    /// Atomically marks an unused keyed code used; `false` when no unused keyed code has that hash.
    async fn consume_backup_code(&self, id: UserId, hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool>;
    async fn count_unused_backup_codes(&self, id: UserId) -> StoreResult<u64>;
    /// Up to `limit` backup codes still stored as a bare digest (from before keyed hashing), in a stable order.
    async fn unkeyed_backup_codes(&self, limit: u64) -> StoreResult<Vec<(UserId, Vec<u8>)>>;
    /// Compare-and-swap of one code from its bare `digest` to its keyed hash; `false` when it is no longer
    /// stored unkeyed (another server keyed it, or the codes were replaced).
    async fn key_backup_code(&self, id: UserId, digest: &[u8], keyed_hash: &[u8]) -> StoreResult<bool>;
    /// Marks the address confirmed while the account still has `email_key` and it is unconfirmed; `false`
    /// otherwise (the address changed meanwhile, or it was confirmed already).
    async fn mark_email_verified(&self, id: UserId, email_key: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Records (or, with `None`, forgets) an address asked for and not yet confirmed.
    async fn set_pending_email(&self, id: UserId, pending: Option<&str>) -> StoreResult<()>;
    /// Makes `pending` the account's confirmed address while the account still has `email_key` and that
    /// pending address; `false` otherwise. `UniqueViolation` naming [`constraints::USER_EMAIL`] when another
    /// account has it.
    async fn apply_pending_email(
        &self,
        id: UserId,
        email_key: &str,
        pending: &str,
        pending_key: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// `UniqueViolation` naming [`constraints::USER_USERNAME`] when the username key is taken.
    async fn update_profile(&self, id: UserId, full_name: &str, username: &str, username_key: &str) -> StoreResult<()>;
    async fn set_notice_preferences(&self, id: UserId, billing: bool, leases: bool) -> StoreResult<()>;
    /// Sets (or, with `None`, lifts) the restriction of processing of the person's data.
    async fn set_restricted(&self, id: UserId, at: Option<DateTime<Utc>>) -> StoreResult<()>;
    /// Suspends (with `at` and a reason) or, with `None`, unsuspends the account.
    async fn set_suspended(&self, id: UserId, at: Option<DateTime<Utc>>, reason: Option<&str>) -> StoreResult<()>;
    /// Whether sessions of the user (of any state, still stored) came from this address and from this client
    /// (each from some session; a value not given counts as seen).
    async fn seen_client(&self, id: UserId, ip_address: Option<&str>, user_agent: Option<&str>) -> StoreResult<bool>;
    /// Users holding a sealed TOTP secret (active or pending), ordered by id, after `after`, at most `limit`:
    /// master-key rotation pages through them.
    async fn users_with_sealed_totp(&self, after: Option<UserId>, limit: u64) -> StoreResult<Vec<UserRecord>>;
    /// Compare-and-swap of one sealed TOTP secret (master-key rotation): replaces the secret in `slot` only if it
    /// is still exactly `expected`; `false` when it changed or went meanwhile (nothing changed then).
    async fn replace_sealed_totp(
        &self,
        id: UserId,
        slot: TotpSlot,
        expected: &[u8],
        replacement: &[u8],
    ) -> StoreResult<bool>;
}

/// Which of a user's sealed TOTP secrets: the active second factor or an enrollment not yet confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpSlot {
    Active,
    Pending,
}

#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The session with this token hash and its user, in one query (the per-request hot path).
    async fn find_session_with_user(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>>;
    /// The session as stored now (not as a cache may hold it).
    async fn find_session(&self, session: SessionId) -> StoreResult<Option<SessionRecord>>;
    /// The user's unrevoked, unexpired sessions seen since `seen_since` (older ones are idle), newest first.
    async fn list_live_sessions(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        seen_since: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>>;
    /// Records a re-authentication on the user's session; `false` when it is not theirs or revoked.
    async fn mark_reauthenticated(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// `false` when the session is not the user's or already revoked.
    async fn revoke_session(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Revokes every live session of the user except `keep`; returns how many.
    async fn revoke_other_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    async fn touch_session(&self, session: SessionId, now: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()>;
    async fn find_challenge(&self, token_hash: &[u8]) -> StoreResult<Option<ChallengeRecord>>;
    /// Atomically marks the challenge used; `false` when it was used already.
    async fn consume_challenge(&self, token_hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool>;
}

#[async_trait]
pub trait ThrottleRepository: Send + Sync {
    /// Atomically counts one attempt against `key` unless the key is locked or its failures within the window
    /// already reach the threshold.
    async fn reserve_attempt(&self, key: &str, policy: &ThrottlePolicy, now: DateTime<Utc>)
    -> StoreResult<Reservation>;
    /// After a failed check: locks the key when its attempts reached the threshold.
    async fn lock_if_exhausted(&self, key: &str, policy: &ThrottlePolicy, now: DateTime<Utc>) -> StoreResult<()>;
    /// After a success: gives back this attempt and, when `forget` is set, clears the counter and back-off.
    async fn release_attempt(&self, key: &str, forget: bool) -> StoreResult<()>;
}
