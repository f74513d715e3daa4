//! Data keys (DEKs): one random AES-256 key per owner per version, stored only wrapped by the master key.
//!
//! Rules:
//! - A [`DataKey`] lives in memory only: it is zeroized on drop, has no `Clone`, no `Serialize`, and its `Debug`
//!   is redacted.
//! - A [`WrappedDataKey`] is `nonce (12) || AES-256-GCM(master key, data key)` with associated data binding the
//!   owner and the version, so a wrapped key copied to another owner or version fails to unwrap.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::associated_data;
use super::error::VaultError;
use super::owner::{KeyOwner, KeyVersion};
use crate::crypto::MasterKey;
use crate::error::InternalError;

const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 12;

/// An owner's data key in the clear. Never stored, never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A data key as stored: wrapped by the master key, bound to its owner and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    pub owner: KeyOwner,
    pub version: KeyVersion,
    /// `nonce (12) || ciphertext || tag`.
    pub wrapped: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl DataKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Wraps this key under `master` for `owner` at `version`.
    pub fn wrap(
        &self,
        master: &MasterKey,
        owner: KeyOwner,
        version: KeyVersion,
        created_at: DateTime<Utc>,
    ) -> Result<WrappedDataKey, VaultError> {
        let wrapped = master
            .seal(&associated_data::for_data_key(&owner, version), &self.0)
            .map_err(|e| VaultError::Internal(InternalError::new(e)))?;
        Ok(WrappedDataKey {
            owner,
            version,
            wrapped,
            created_at,
        })
    }

    /// `nonce (12) || AES-256-GCM ciphertext` of `plaintext` under this key, with a fresh random nonce.
    pub(crate) fn seal(&self, associated_data: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            .map_err(|_| VaultError::Internal(InternalError::new("AES-256-GCM refused to seal")))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens what [`DataKey::seal`] produced. Any failure is [`VaultError::OpenFailed`], with no detail.
    pub(crate) fn open(&self, associated_data: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN).ok_or(VaultError::OpenFailed)?;
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::OpenFailed)
    }

    /// The raw bytes, for tests that prove they never leak.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A key for `purpose` derived from this one (HKDF-SHA-256); this key stays where it is.
    pub(crate) fn derive(&self, purpose: &str) -> crate::crypto::DerivedKey {
        crate::crypto::DerivedKey::hkdf(b"tgos/vault/derive", &self.0, purpose.as_bytes())
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }
}

impl WrappedDataKey {
    /// The data key in the clear. Fails with [`VaultError::DataKeyUnwrapFailed`] when `master` is not the key
    /// that wrapped it, or the owner, version or bytes were changed since.
    pub fn unwrap(&self, master: &MasterKey) -> Result<DataKey, VaultError> {
        let plain = Zeroizing::new(
            master
                .open(&associated_data::for_data_key(&self.owner, self.version), &self.wrapped)
                .map_err(|_| VaultError::DataKeyUnwrapFailed)?,
        );
        let bytes = <[u8; KEY_LEN]>::try_from(plain.as_slice()).map_err(|_| VaultError::DataKeyUnwrapFailed)?;
        Ok(DataKey(bytes))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    use super::*;
    use crate::ids::WorkspaceId;

    fn workspace() -> KeyOwner {
        KeyOwner::Workspace(WorkspaceId::generate())
    }

    #[test]
    fn a_wrapped_key_unwraps_to_the_same_key() {
        let master = MasterKey::generate();
        let key = DataKey::generate();
        let wrapped = key.wrap(&master, workspace(), KeyVersion::FIRST, Utc::now()).unwrap();
        assert_eq!(wrapped.unwrap(&master).unwrap().0, key.0);
        assert_ne!(DataKey::generate().0, key.0);
    }

    #[test]
    fn a_wrapped_key_copied_to_another_workspace_fails_to_unwrap() {
        let master = MasterKey::generate();
        let mut wrapped = DataKey::generate()
            .wrap(&master, workspace(), KeyVersion::FIRST, Utc::now())
            .unwrap();
        wrapped.owner = workspace();
        assert!(matches!(wrapped.unwrap(&master), Err(VaultError::DataKeyUnwrapFailed)));
        wrapped.owner = KeyOwner::Platform;
        assert!(matches!(wrapped.unwrap(&master), Err(VaultError::DataKeyUnwrapFailed)));
    }

    #[test]
    fn a_wrapped_key_moved_to_another_version_fails_to_unwrap() {
        let master = MasterKey::generate();
        let mut wrapped = DataKey::generate()
            .wrap(&master, workspace(), KeyVersion::FIRST, Utc::now())
            .unwrap();
        wrapped.version = KeyVersion::FIRST.next();
        assert!(matches!(wrapped.unwrap(&master), Err(VaultError::DataKeyUnwrapFailed)));
    }

    #[test]
    fn another_master_key_cannot_unwrap() {
        let wrapped = DataKey::generate()
            .wrap(
                &MasterKey::generate(),
                KeyOwner::Platform,
                KeyVersion::FIRST,
                Utc::now(),
            )
            .unwrap();
        assert!(matches!(
            wrapped.unwrap(&MasterKey::generate()),
            Err(VaultError::DataKeyUnwrapFailed)
        ));
    }

    #[test]
    fn the_debug_of_a_data_key_never_shows_its_bytes() {
        let key = DataKey::generate();
        let printed = format!("{key:?} {key:#?}");
        let bytes = key.bytes();
        assert!(printed.contains("DataKey(<redacted>)"));
        assert!(!printed.contains(&hex::encode(bytes)));
        assert!(!printed.contains(&hex::encode_upper(bytes)));
        assert!(!printed.contains(&STANDARD.encode(bytes)));
        assert!(!printed.contains(&format!("{bytes:?}")));
    }

    proptest! {
        #[test]
        fn flipping_any_bit_of_a_wrapped_key_makes_it_fail_to_unwrap(index in 0usize..60, bit in 0u8..8) {
            let master = MasterKey::generate();
            let mut wrapped = DataKey::generate().wrap(&master, workspace(), KeyVersion::FIRST, Utc::now()).unwrap();
            prop_assert_eq!(wrapped.wrapped.len(), 60);
            wrapped.wrapped[index] ^= 1 << bit;
            prop_assert!(matches!(wrapped.unwrap(&master), Err(VaultError::DataKeyUnwrapFailed)));
        }
    }
}
