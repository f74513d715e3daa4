//! What the vault needs from storage: the wrapped data keys of every owner, by version.
//!
//! Rules for implementations (SQLite and PostgreSQL alike):
//! - `(owner, version)` is unique, whether the key is live or destroyed; [`KeyStore::insert`] of a pair that
//!   exists answers [`Inserted::AlreadyExists`] and changes nothing (a unique index decides, so two processes
//!   racing to create a version get one winner).
//! - Destroying keeps a tombstone (owner, version, times) and wipes the wrapped bytes: versions are never
//!   reused, and a payload of a destroyed version is told apart from one that names a version never made.
//! - [`KeyStore::replace_wrapped`] is a compare-and-swap: one conditional `UPDATE … WHERE wrapped = expected AND
//!   not destroyed`, so a re-wrap racing a destroy can never bring a destroyed key back.
//! - Keys are not tenant rows in the sense of the row-level walls: the vault reads them on behalf of the server
//!   (the platform owner has no workspace, and master-key rotation touches every owner).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::data_key::WrappedDataKey;
use super::owner::{KeyOwner, KeyVersion};
use crate::store::StoreResult;

/// One stored version of an owner's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRecord {
    /// The key can be unwrapped.
    Live(WrappedDataKey),
    /// The key was destroyed (crypto-erasure); only the fact remains.
    Destroyed {
        owner: KeyOwner,
        version: KeyVersion,
        created_at: DateTime<Utc>,
        destroyed_at: DateTime<Utc>,
    },
}

impl KeyRecord {
    pub fn owner(&self) -> KeyOwner {
        match self {
            Self::Live(key) => key.owner,
            Self::Destroyed { owner, .. } => *owner,
        }
    }

    pub fn version(&self) -> KeyVersion {
        match self {
            Self::Live(key) => key.version,
            Self::Destroyed { version, .. } => *version,
        }
    }
}

/// What inserting a new key version came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Inserted,
    /// That owner already has that version (live or destroyed): nothing changed; read it again.
    AlreadyExists,
}

/// The storage of wrapped data keys. Not part of a use case's transaction: each call stands alone, and a key
/// created for a seal whose transaction later rolls back is harmless (it is simply the owner's current key).
#[async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// The owner's highest version, live or destroyed; `None` when the owner never had a key.
    async fn latest(&self, owner: KeyOwner) -> StoreResult<Option<KeyRecord>>;
    /// The owner's key of that version.
    async fn get(&self, owner: KeyOwner, version: KeyVersion) -> StoreResult<Option<KeyRecord>>;
    /// Stores a new version; [`Inserted::AlreadyExists`] when `(owner, version)` is taken.
    async fn insert(&self, key: &WrappedDataKey) -> StoreResult<Inserted>;
    /// Every live key of every owner, for re-wrapping under a new master key.
    async fn live_keys(&self) -> StoreResult<Vec<WrappedDataKey>>;
    /// Replaces the wrapped bytes of a live key if they are still `expected`; `false` when the key is gone,
    /// destroyed or was changed in between (nothing changed then).
    async fn replace_wrapped(
        &self,
        owner: KeyOwner,
        version: KeyVersion,
        expected: &[u8],
        replacement: &[u8],
    ) -> StoreResult<bool>;
    /// Destroys every live key of the owner at `at`: wipes the wrapped bytes and keeps tombstones. Returns how
    /// many keys were destroyed (0 when none was live).
    async fn destroy(&self, owner: KeyOwner, at: DateTime<Utc>) -> StoreResult<u64>;
}
