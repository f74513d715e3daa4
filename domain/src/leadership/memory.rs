//! An in-memory [`LeaderLeaseRepository`] with the rules of the port, behind one mutex: for tests of the
//! rules without a database, and for tools that run alone.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ports::{LeaderLease, LeaderLeaseRepository};
use crate::store::{StoreError, StoreResult};

#[derive(Debug, Default)]
pub struct MemoryLeaderLeases {
    rows: Mutex<BTreeMap<String, LeaderLease>>,
}

impl MemoryLeaderLeases {
    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, BTreeMap<String, LeaderLease>>> {
        self.rows
            .lock()
            .map_err(|_| StoreError::backend("leader lease mutex poisoned"))
    }
}

#[async_trait]
impl LeaderLeaseRepository for MemoryLeaderLeases {
    async fn acquire_leadership(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        tokio::task::yield_now().await;
        let mut rows = self.lock()?;
        let acquired_at = match rows.get(name) {
            Some(row) if row.holder == holder => row.acquired_at,
            Some(row) if row.lease_until > now => return Ok(false),
            _ => now,
        };
        rows.insert(
            name.to_owned(),
            LeaderLease {
                name: name.to_owned(),
                holder: holder.to_owned(),
                lease_until: until,
                acquired_at,
            },
        );
        Ok(true)
    }

    async fn release_leadership(&self, name: &str, holder: &str) -> StoreResult<bool> {
        tokio::task::yield_now().await;
        let mut rows = self.lock()?;
        if rows.get(name).is_some_and(|row| row.holder == holder) {
            rows.remove(name);
            return Ok(true);
        }
        Ok(false)
    }

    async fn leader_lease(&self, name: &str) -> StoreResult<Option<LeaderLease>> {
        Ok(self.lock()?.get(name).cloned())
    }
}
