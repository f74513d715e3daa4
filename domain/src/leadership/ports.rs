//! What leadership needs from storage.
//!
//! Rules for implementations: taking a name is one conditional statement whose condition is the rule (the
//! row is missing, lapsed at the caller's `now`, or already the caller's), so two processes racing for a name
//! never both get it, on either database. Times come from the caller's clock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreResult;

/// A stored leader lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderLease {
    pub name: String,
    /// The process holding it (its holder id).
    pub holder: String,
    /// When it lapses unless renewed.
    pub lease_until: DateTime<Utc>,
    /// When this holder took it (kept across renewals).
    pub acquired_at: DateTime<Utc>,
}

#[async_trait]
pub trait LeaderLeaseRepository: Send + Sync {
    /// Takes `name` for `holder` until `until` when no one holds it or its lease lapsed at `now` (then
    /// `acquired_at` becomes `now`), or renews it when `holder` has it already (`acquired_at` kept); `false`
    /// when another holder's lease is still running, and then nothing changed. One conditional upsert.
    async fn acquire_leadership(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Gives `name` up if `holder` has it; whether it did.
    async fn release_leadership(&self, name: &str, holder: &str) -> StoreResult<bool>;
    /// The lease of `name` as stored (lapsed or not), or `None` when no one has held it since it was released.
    async fn leader_lease(&self, name: &str) -> StoreResult<Option<LeaderLease>>;
}
