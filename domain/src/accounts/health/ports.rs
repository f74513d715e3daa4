//! What account health needs from storage.
//!
//! Rules:
//! - An account's [`AccountHealth`] is saved with optimistic concurrency: each stored health carries a
//!   version, and [`HealthRepository::save`] writes only if the stored version is still the one the writer
//!   loaded (compare and swap), bumping it. Two workers reporting on the same account never overwrite each
//!   other's observation: the loser reloads and applies its observation again ([`super::record_observation`]).
//!   Because applying observations does not depend on their order, that retry gives the same health as any
//!   serial order would.
//! - Engagement counters are only ever added to, so they need no version: storage adds each delta atomically.
//! - Reads for many accounts ([`HealthRepository::load_many`], [`HealthRepository::counters_since`]) cost a
//!   fixed number of statements however many accounts they name, so a page of accounts is not one read each.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::account_health::AccountHealth;
use super::counters::DailyCounters;
use crate::ids::{AccountId, WorkspaceId};
use crate::store::StoreResult;

/// A stored health and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHealth {
    pub health: AccountHealth,
    /// Starts at 1 when first saved; each save adds 1.
    pub version: u64,
}

/// What a save came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Written; the new version.
    Saved { version: u64 },
    /// The stored version is not the expected one (or a health exists where none was expected): nothing was
    /// written.
    VersionConflict,
}

#[async_trait]
pub trait HealthRepository: Send + Sync {
    /// The account's health and its version, as `holder` may see it; `None` before anything was saved for it
    /// (or when `holder` may not see the account).
    async fn load(&self, holder: CounterHolder, account: AccountId) -> StoreResult<Option<StoredHealth>>;

    /// The stored health of each of `accounts` that has one and `holder` may see, in one statement.
    async fn load_many(
        &self,
        holder: CounterHolder,
        accounts: &[AccountId],
    ) -> StoreResult<HashMap<AccountId, StoredHealth>>;

    /// Writes `health` if the stored version is `expected_version` (`None`: only if nothing is stored yet),
    /// as one conditional statement; the new version is `expected_version + 1` (1 on first save). `holder` is
    /// whose wall the write goes through: the workspace holding the account, or the platform's own recording.
    async fn save(
        &self,
        holder: CounterHolder,
        account: AccountId,
        health: &AccountHealth,
        expected_version: Option<u64>,
    ) -> StoreResult<SaveOutcome>;

    /// Adds `delta` to the account's counters of `delta.day()` atomically: the counts are summed, and the
    /// delta's peers are recorded once per account and day (an insert that ignores duplicates), so the stored
    /// distinct-peer count stays exact across deltas.
    async fn bump_counters(&self, account: AccountId, holder: CounterHolder, delta: &DailyCounters) -> StoreResult<()>;

    /// The stored counters of each of `accounts` for each day from `since` on, counted while `holder` held
    /// it, oldest first per account (accounts and days without activity absent); a fixed number of statements
    /// however many accounts and days.
    async fn counters_since(
        &self,
        accounts: &[AccountId],
        holder: CounterHolder,
        since: NaiveDate,
    ) -> StoreResult<HashMap<AccountId, Vec<DayCounts>>>;
}

/// Whose activity counters count: the workspace holding the account then, or the pool's own (none). A
/// workspace sees only what its own use of an account did, never an earlier or later holder's. It is also
/// whose wall a health read or write goes through: a workspace sees the health of accounts it holds (and of
/// those on offer); the pool's recording sees every account's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterHolder {
    Pool,
    Workspace(WorkspaceId),
}

/// One day's stored engagement counters of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    pub day: NaiveDate,
    pub sent: i64,
    pub received: i64,
    pub replies: i64,
    pub distinct_peers: i64,
}
