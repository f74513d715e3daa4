//! An in-memory [`KeyStore`] for tests: the rules of the port, behind one mutex.
//!
//! Every call yields to the runtime before it touches the map, so tasks interleave between a read and the
//! insert that follows it, the way two processes do against a database.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::data_key::WrappedDataKey;
use super::owner::{KeyOwner, KeyVersion};
use super::ports::{Inserted, KeyRecord, KeyStore};
use crate::store::{StoreError, StoreResult};

#[derive(Debug, Default)]
pub(crate) struct MemoryKeyStore {
    rows: Mutex<BTreeMap<(KeyOwner, KeyVersion), KeyRecord>>,
    lost_races: AtomicUsize,
}

impl MemoryKeyStore {
    /// How many inserts found their version taken.
    pub(crate) fn lost_races(&self) -> usize {
        self.lost_races.load(Ordering::SeqCst)
    }

    /// Every record of the owner, lowest version first.
    pub(crate) fn records(&self, owner: KeyOwner) -> Vec<KeyRecord> {
        self.lock()
            .map(|rows| rows.values().filter(|r| r.owner() == owner).cloned().collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, BTreeMap<(KeyOwner, KeyVersion), KeyRecord>>> {
        self.rows
            .lock()
            .map_err(|_| StoreError::backend("key store mutex poisoned"))
    }
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn latest(&self, owner: KeyOwner) -> StoreResult<Option<KeyRecord>> {
        tokio::task::yield_now().await;
        Ok(self
            .lock()?
            .values()
            .filter(|r| r.owner() == owner)
            .max_by_key(|r| r.version())
            .cloned())
    }

    async fn get(&self, owner: KeyOwner, version: KeyVersion) -> StoreResult<Option<KeyRecord>> {
        tokio::task::yield_now().await;
        Ok(self.lock()?.get(&(owner, version)).cloned())
    }

    async fn insert(&self, key: &WrappedDataKey) -> StoreResult<Inserted> {
        tokio::task::yield_now().await;
        let mut rows = self.lock()?;
        if rows.contains_key(&(key.owner, key.version)) {
            self.lost_races.fetch_add(1, Ordering::SeqCst);
            return Ok(Inserted::AlreadyExists);
        }
        rows.insert((key.owner, key.version), KeyRecord::Live(key.clone()));
        Ok(Inserted::Inserted)
    }

    async fn live_keys(&self) -> StoreResult<Vec<WrappedDataKey>> {
        tokio::task::yield_now().await;
        Ok(self
            .lock()?
            .values()
            .filter_map(|r| match r {
                KeyRecord::Live(key) => Some(key.clone()),
                KeyRecord::Destroyed { .. } => None,
            })
            .collect())
    }

    async fn replace_wrapped(
        &self,
        owner: KeyOwner,
        version: KeyVersion,
        expected: &[u8],
        replacement: &[u8],
    ) -> StoreResult<bool> {
        tokio::task::yield_now().await;
        match self.lock()?.get_mut(&(owner, version)) {
            Some(KeyRecord::Live(key)) if key.wrapped == expected => {
                key.wrapped = replacement.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn destroy(&self, owner: KeyOwner, at: DateTime<Utc>) -> StoreResult<u64> {
        tokio::task::yield_now().await;
        let mut destroyed = 0;
        for record in self.lock()?.values_mut().filter(|r| r.owner() == owner) {
            if let KeyRecord::Live(key) = record {
                *record = KeyRecord::Destroyed {
                    owner: key.owner,
                    version: key.version,
                    created_at: key.created_at,
                    destroyed_at: at,
                };
                destroyed += 1;
            }
        }
        Ok(destroyed)
    }
}
