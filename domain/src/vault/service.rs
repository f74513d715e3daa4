//! The vault: seals and opens payloads under each owner's current data key, rotates data keys, re-wraps them
//! under a new master key and destroys them.
//!
//! Rules:
//! - An owner's current key is its highest live version. The first seal for an owner creates version 1; a seal
//!   after crypto-erasure creates the version after the destroyed ones. Creation is race-safe: the store's
//!   unique `(owner, version)` picks one winner and every loser reads the winner's key again.
//! - Opening uses the version the payload names, so payloads sealed before a rotation keep opening.
//! - Data keys in the clear live only for the duration of one call; nothing is cached.

use std::sync::Arc;

use super::data_key::{DataKey, WrappedDataKey};
use super::error::VaultError;
use super::owner::{KeyOwner, KeyVersion};
use super::payload::{self, Purpose, SealedPayload, SecretPayload};
use super::ports::{Inserted, KeyRecord, KeyStore};
use crate::clock::Clock;
use crate::crypto::{DerivedKey, MasterKey};
use crate::error::InternalError;
use crate::ids::AccountId;

/// How many times a seal re-reads the current key after losing a creation race before giving up. One retry
/// is enough unless keys are being destroyed and created again at the same moment.
const CREATE_ATTEMPTS: usize = 4;

/// Envelope encryption per owner: payloads under data keys, data keys under the master key.
#[derive(Debug, Clone)]
pub struct Vault {
    pub(super) keys: Arc<dyn KeyStore>,
    master: Arc<MasterKey>,
    clock: Arc<dyn Clock>,
}

impl Vault {
    pub fn new(keys: Arc<dyn KeyStore>, master: Arc<MasterKey>, clock: Arc<dyn Clock>) -> Self {
        Self { keys, master, clock }
    }

    /// Seals `payload` for `account` and `purpose` under `owner`'s current data key (created on first use).
    pub async fn seal(
        &self,
        owner: KeyOwner,
        account: AccountId,
        purpose: Purpose,
        payload: &SecretPayload,
    ) -> Result<SealedPayload, VaultError> {
        let (version, key) = self.current_key(owner).await?;
        payload::seal(&key, owner, version, account, purpose, payload)
    }

    /// Opens `sealed` for `account` and `purpose` with the data key of the version it names.
    ///
    /// [`VaultError::KeyDestroyed`] when that key was destroyed, [`VaultError::NoKey`] when it never existed,
    /// [`VaultError::OpenFailed`] when the key exists but the payload does not open with these bindings.
    pub async fn open(
        &self,
        sealed: &SealedPayload,
        account: AccountId,
        purpose: Purpose,
    ) -> Result<SecretPayload, VaultError> {
        let key = match self.keys.get(sealed.owner, sealed.key_version).await? {
            Some(KeyRecord::Live(wrapped)) => self.unwrap_checked(&wrapped, sealed.owner, sealed.key_version)?,
            Some(KeyRecord::Destroyed { .. }) => return Err(VaultError::KeyDestroyed),
            None => return Err(VaultError::NoKey),
        };
        payload::open(&key, sealed, account, purpose)
    }

    /// Opens `sealed` and seals it again under `new_owner`'s current key (which may be the same owner: that moves
    /// a payload from an old key version to the current one). Used when an account is rented or released.
    pub async fn reseal(
        &self,
        sealed: &SealedPayload,
        account: AccountId,
        purpose: Purpose,
        new_owner: KeyOwner,
    ) -> Result<SealedPayload, VaultError> {
        let payload = self.open(sealed, account, purpose).await?;
        self.seal(new_owner, account, purpose, &payload).await
    }

    /// Creates a new data key version for `owner`, which becomes current; older versions stay to open older
    /// payloads. If another process rotated at the same moment, its new version is the answer (a key newer
    /// than the one seen before exists either way).
    pub async fn rotate(&self, owner: KeyOwner) -> Result<KeyVersion, VaultError> {
        let next = match self.keys.latest(owner).await? {
            Some(record) => record.version().next(),
            None => KeyVersion::FIRST,
        };
        self.create(owner, next).await?;
        Ok(next)
    }

    /// The owner's current (highest, live) key version, after proving the master key unwraps it; `None` when the
    /// owner has no live key (it never sealed anything, or its keys were destroyed). Checked before a rotation,
    /// so a wrong master key never wraps a new current key that nothing else could open.
    pub async fn current_version(&self, owner: KeyOwner) -> Result<Option<KeyVersion>, VaultError> {
        match self.keys.latest(owner).await? {
            Some(KeyRecord::Live(wrapped)) => {
                self.unwrap_checked(&wrapped, owner, wrapped.version)?;
                Ok(Some(wrapped.version))
            }
            Some(KeyRecord::Destroyed { .. }) | None => Ok(None),
        }
    }

    /// Master-key rotation: every live data key is unwrapped with `old` and wrapped again with `new`. Returns how
    /// many keys were re-wrapped now.
    ///
    /// Nothing is written unless every live key unwraps (with `old`, or with `new` when an earlier, interrupted
    /// run already re-wrapped it), so a wrong `old` key changes nothing and a second run finishes the first.
    /// Each write is a compare-and-swap, so a key destroyed meanwhile stays destroyed.
    pub async fn rewrap_all(&self, old: &MasterKey, new: &MasterKey) -> Result<u64, VaultError> {
        let mut plan = Vec::new();
        for wrapped in self.keys.live_keys().await? {
            match wrapped.unwrap(old) {
                Ok(key) => {
                    let rewrapped = key.wrap(new, wrapped.owner, wrapped.version, wrapped.created_at)?;
                    plan.push((wrapped, rewrapped));
                }
                Err(VaultError::DataKeyUnwrapFailed) if wrapped.unwrap(new).is_ok() => {}
                Err(error) => return Err(error),
            }
        }
        let mut rewrapped = 0;
        for (current, replacement) in plan {
            let replaced = self
                .keys
                .replace_wrapped(current.owner, current.version, &current.wrapped, &replacement.wrapped)
                .await?;
            if replaced {
                rewrapped += 1;
            }
        }
        Ok(rewrapped)
    }

    /// Crypto-erasure: destroys every data key of `owner`, so every payload sealed for it can never open again.
    /// Returns how many keys were destroyed. A later seal for the owner creates a fresh key.
    pub async fn destroy(&self, owner: KeyOwner) -> Result<u64, VaultError> {
        Ok(self.keys.destroy(owner, self.clock.now()).await?)
    }

    /// The owner's current key, created if the owner has no live key.
    async fn current_key(&self, owner: KeyOwner) -> Result<(KeyVersion, DataKey), VaultError> {
        for _ in 0..CREATE_ATTEMPTS {
            let next = match self.keys.latest(owner).await? {
                Some(KeyRecord::Live(wrapped)) => {
                    let key = self.unwrap_checked(&wrapped, owner, wrapped.version)?;
                    return Ok((wrapped.version, key));
                }
                Some(KeyRecord::Destroyed { version, .. }) => version.next(),
                None => KeyVersion::FIRST,
            };
            if let Some(key) = self.create(owner, next).await? {
                return Ok((next, key));
            }
        }
        Err(VaultError::Internal(InternalError::new(format!(
            "the current data key of {owner} kept changing while it was being created"
        ))))
    }

    /// A key for keyed hashing under `purpose`, derived from `owner`'s first data key (created on first use,
    /// race-safe like a first seal). Only the first version is used, so a hash made under it keeps matching
    /// across data-key rotations; like every data key it moves to a new master key with [`Self::rewrap_all`],
    /// so a master-key rotation keeps it too. [`VaultError::KeyDestroyed`] once the owner's keys are destroyed.
    pub async fn derived_key(&self, owner: KeyOwner, purpose: &str) -> Result<DerivedKey, VaultError> {
        for _ in 0..CREATE_ATTEMPTS {
            match self.keys.get(owner, KeyVersion::FIRST).await? {
                Some(KeyRecord::Live(wrapped)) => {
                    let key = self.unwrap_checked(&wrapped, owner, KeyVersion::FIRST)?;
                    return Ok(key.derive(purpose));
                }
                Some(KeyRecord::Destroyed { .. }) => return Err(VaultError::KeyDestroyed),
                None => {
                    if let Some(key) = self.create(owner, KeyVersion::FIRST).await? {
                        return Ok(key.derive(purpose));
                    }
                }
            }
        }
        Err(VaultError::Internal(InternalError::new(format!(
            "the first data key of {owner} kept changing while it was being created"
        ))))
    }

    /// Creates `owner`'s key `version`; `None` when that version already exists (another process won).
    async fn create(&self, owner: KeyOwner, version: KeyVersion) -> Result<Option<DataKey>, VaultError> {
        let key = DataKey::generate();
        let wrapped = key.wrap(&self.master, owner, version, self.clock.now())?;
        match self.keys.insert(&wrapped).await? {
            Inserted::Inserted => Ok(Some(key)),
            Inserted::AlreadyExists => Ok(None),
        }
    }

    /// Unwraps a key the store returned for `owner` at `version`, refusing a row that answers for another.
    fn unwrap_checked(
        &self,
        wrapped: &WrappedDataKey,
        owner: KeyOwner,
        version: KeyVersion,
    ) -> Result<DataKey, VaultError> {
        if wrapped.owner != owner || wrapped.version != version {
            return Err(VaultError::Internal(InternalError::new(
                "the key store answered with another owner's or version's key",
            )));
        }
        wrapped.unwrap(&self.master)
    }
}
