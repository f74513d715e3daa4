//! What the retention sweep needs from storage and from the backups.
//!
//! Rules for implementations: a batch is one statement changing at most `limit` rows, in its own short
//! transaction (on the pool), so no lock is held longer than one batch; counting changes nothing. On
//! PostgreSQL both read and write across workspaces behind the `tgos.sweep = 'retention'` wall, whose
//! policies show each table only the rows a purge may touch.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::classes::Purge;
use crate::error::InternalError;
use crate::store::StoreResult;

#[async_trait]
pub trait RetentionRepository: Send + Sync {
    /// How many rows `purge` would change at `now` with this cutoff (nothing changes).
    async fn count_due(&self, purge: Purge, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Changes at most `limit` rows of `purge` (deletes them, or nulls its columns); how many. 0 when nothing
    /// is left.
    async fn purge_batch(
        &self,
        purge: Purge,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<u64>;
}

/// The backups, as the sweep sees them: crypto-erasure must reach them too.
#[async_trait]
pub trait BackupKeys: Send + Sync + std::fmt::Debug {
    /// Removes from every backup's keys file each data key destroyed in the live database; how many keys
    /// were removed.
    async fn remove_destroyed_keys(&self) -> Result<u64, InternalError>;
}
