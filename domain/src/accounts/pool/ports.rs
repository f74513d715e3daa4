//! What the pool needs from storage.
//!
//! Rules for implementations:
//! - `key_fingerprint` is unique across the pool: inserting a session that is already there is a `CONFLICT`.
//! - Every change of an account's status is one conditional update on the status it is expected to have
//!   (`AVAILABLE` to lease it, `LEASED` to this workspace to return it), so of two racing workspaces exactly
//!   one succeeds and the other sees `false`.
//! - Account and lease changes of one use case run in the caller's transaction, with its ledger posting and
//!   audit entry: all of it commits or none of it.
//! - An account staff are retiring (`retiring_since` set) never goes back on offer and its lease is never
//!   extended: [`AccountRepository::return_account`] to `AVAILABLE` and
//!   [`AccountRepository::extend_account_lease`] require the mark to be absent, so a retirement that lands
//!   between a use case's read and its write makes the write change nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::records::{AccountRecord, AccountStatus, LeaseRecord, LeaseStatus};
use crate::accounts::CountryCode;
use crate::billing::Money;
use crate::ids::{AccountId, LeaseId, UserId, WorkspaceId};
use crate::store::StoreResult;
use crate::tenancy::TenantScope;
use crate::vault::{KeyOwner, KeyVersion, SealedPayload};

#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Adds an account to the pool (staff import, sandbox accounts).
    async fn insert_account(&self, account: &AccountRecord) -> StoreResult<()>;
    /// An account of the pool on offer, or one leased to `scope`'s workspace.
    async fn find_account(&self, scope: Option<&TenantScope>, id: AccountId) -> StoreResult<Option<AccountRecord>>;
    /// Accounts on offer, oldest first, after `after`, optionally of one country.
    async fn offered_accounts(
        &self,
        country: Option<&CountryCode>,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>>;
    /// `AVAILABLE` with exactly `expected` sealed → `LEASED` to the scope's workspace until `until`, with the
    /// payload now sealed as `sealed`. `false` (nothing changed) when it is no longer so.
    async fn lease_account(
        &self,
        scope: &TenantScope,
        id: AccountId,
        expected: &SealedPayload,
        sealed: &SealedPayload,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Moves the end of this workspace's lease of the account; `false` when it no longer holds it or staff are
    /// retiring the account.
    async fn extend_account_lease(
        &self,
        scope: &TenantScope,
        id: AccountId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// `LEASED` to the scope's workspace with exactly `expected` sealed → `to` (`AVAILABLE`, or `RETIRED` when
    /// Telegram no longer accepts the account or staff are retiring it), sealed as `sealed`, held by nobody.
    /// `AVAILABLE` only while the account is not marked as retiring (else `false`, nothing changed).
    async fn return_account(
        &self,
        scope: &TenantScope,
        id: AccountId,
        expected: &SealedPayload,
        sealed: &SealedPayload,
        to: AccountStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Those of `ids` the scope's workspace holds now, in one statement (for a page that names them).
    async fn held_accounts(&self, scope: &TenantScope, ids: &[AccountId]) -> StoreResult<Vec<AccountRecord>>;
    /// The accounts leased to the scope's workspace, oldest first, after `after`.
    async fn leased_accounts(
        &self,
        scope: &TenantScope,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>>;
    /// Accounts whose payload is sealed for `owner` under a key version below `below`, by id, after `after`
    /// (key rotation). A console read across the pool: on PostgreSQL it runs behind the owner's own wall (the
    /// workspace, or no tenant for the platform), and the console's owner role is not subject to the walls.
    async fn accounts_sealed_before(
        &self,
        owner: KeyOwner,
        below: KeyVersion,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>>;
    /// The account's payload is exactly `expected` → it becomes `sealed` (the same owner; key rotation). One
    /// conditional update on id, owner, version and bytes, so a payload that changed hands or was re-sealed in
    /// the meantime is left alone (`false`).
    async fn replace_sealed_payload(
        &self,
        id: AccountId,
        expected: &SealedPayload,
        sealed: &SealedPayload,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait LeaseRepository: Send + Sync {
    async fn insert_lease(&self, scope: &TenantScope, lease: &LeaseRecord) -> StoreResult<()>;
    async fn find_lease(&self, scope: &TenantScope, id: LeaseId) -> StoreResult<Option<LeaseRecord>>;
    /// The workspace of a lease, if `user` is a member of it (a lease named by id alone finds its tenant).
    async fn lease_workspace_of_member(&self, user: UserId, id: LeaseId) -> StoreResult<Option<WorkspaceId>>;
    /// The workspace holding `account` under an active lease, if `user` is a member of it (an account named
    /// by id alone finds its tenant).
    async fn holder_workspace_of_member(&self, user: UserId, account: AccountId) -> StoreResult<Option<WorkspaceId>>;
    /// `ACTIVE` and ending at `from` → ending at `to`; `false` when another renewal or the end got there first.
    async fn extend_lease(
        &self,
        scope: &TenantScope,
        id: LeaseId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// `ACTIVE` and ending at `expected_end` → `status`, ending at `ended_at`; `false` when it had already ended
    /// or a renewal moved its end meanwhile.
    async fn end_lease(
        &self,
        scope: &TenantScope,
        id: LeaseId,
        expected_end: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        status: LeaseStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The workspace's leases, newest first, before `before`.
    async fn leases_of(
        &self,
        scope: &TenantScope,
        before: Option<LeaseId>,
        limit: u64,
    ) -> StoreResult<Vec<LeaseRecord>>;
    /// Active leases across workspaces, by lease id (the inbox's sync), after `after`.
    async fn active_leases(
        &self,
        after: Option<LeaseId>,
        limit: u64,
    ) -> StoreResult<Vec<(LeaseId, WorkspaceId, AccountId)>>;
    /// Active leases that ended by `now`, across workspaces (the expiry sweep), oldest first.
    async fn due_leases(&self, now: DateTime<Utc>, limit: u64) -> StoreResult<Vec<(LeaseId, WorkspaceId)>>;
}

/// Which accounts of the pool a staff listing shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolFilter {
    /// Only accounts in this status; every account when `None`.
    pub status: Option<AccountStatus>,
}

/// Staff's reads and changes across the whole pool (the console). They are not behind a tenant wall: the
/// console connects as the schema owner, which row-level security does not restrict, and the server's role
/// could not make them (on PostgreSQL the account trigger refuses the server any change of price or any
/// retirement but a lease's end).
#[async_trait]
pub trait StaffPoolRepository: Send + Sync {
    /// Accounts matching `filter` by id (oldest first), after `after`, in any status and whoever holds them.
    async fn pool_accounts(
        &self,
        filter: &PoolFilter,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>>;
    /// One account of the pool in any status.
    async fn pool_account(&self, id: AccountId) -> StoreResult<Option<AccountRecord>>;
    /// An account of the pool, not retired, that is the Telegram user `telegram_user_id` (whoever holds it):
    /// a phone login of an account already in the pool is refused on it.
    async fn live_account_of_user(&self, telegram_user_id: i64) -> StoreResult<Option<AccountRecord>>;
    /// The names of those of `workspaces` that exist, in one statement (the holders a page names).
    async fn workspace_names(&self, workspaces: &[WorkspaceId]) -> StoreResult<Vec<(WorkspaceId, String)>>;
    /// Sets the price of the account's next rental; `false` (nothing changed) when it is retired or retiring.
    /// A lease's own price is in the lease and never changes here.
    async fn reprice_account(&self, id: AccountId, price: Money, now: DateTime<Utc>) -> StoreResult<bool>;
    /// `AVAILABLE` and held by nobody → `RETIRED`; `false` when it is no longer on offer.
    async fn retire_offered_account(&self, id: AccountId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// `LEASED` to `holder` and not yet retiring → retiring since `now`; `false` when that is no longer so.
    async fn mark_retiring(&self, id: AccountId, holder: WorkspaceId, now: DateTime<Utc>) -> StoreResult<bool>;
}
