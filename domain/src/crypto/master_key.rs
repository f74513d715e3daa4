//! The server's master key and the sealing of small secrets under it (TOTP secrets today).
//!
//! Rule: a sealed value is `nonce (12 bytes) || AES-256-GCM ciphertext`, with associated data that names the
//! owner and purpose, so a ciphertext copied to another row fails to open. The key itself is zeroized on drop
//! and never printed: its `Debug` is redacted.
//!
//! Master-key rotation moves each sealed value with [`MasterKey::rekey`]: a value that already opens with the
//! new key is left alone (so an interrupted rotation can simply run again), one that opens with the old key is
//! sealed again under the new one, anything else is refused.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize, ZeroizeOnDrop};

const NONCE_LEN: usize = 12;

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Where a sealed value stands after [`MasterKey::rekey`].
#[derive(Debug, PartialEq, Eq)]
pub enum Rekeyed {
    /// It already opens with the new key (an earlier run moved it): nothing to write.
    AlreadyNew,
    /// It opened with the old key; this is the same value sealed under the new key.
    Resealed(Vec<u8>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MasterKeyError {
    #[error("the master key must be base64 of exactly 32 bytes")]
    Malformed,
    #[error("sealed value failed to open (wrong key, wrong owner or tampered)")]
    OpenFailed,
    #[error("sealing failed")]
    SealFailed,
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses base64 of 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let mut decoded = STANDARD.decode(text.trim()).map_err(|_| MasterKeyError::Malformed)?;
        let result = <[u8; 32]>::try_from(decoded.as_slice())
            .map(Self)
            .map_err(|_| MasterKeyError::Malformed);
        decoded.zeroize();
        result
    }

    /// The base64 form, for writing a key file once.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Whether `other` is the same key (compared in constant time).
    pub fn same_key(&self, other: &MasterKey) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Master-key rotation of one sealed value: tries `new` first, then `old` (`self`); [`Rekeyed::AlreadyNew`]
    /// when the value is under `new` already, the value sealed again under `new` when it is under `old`,
    /// [`MasterKeyError::OpenFailed`] when it opens with neither.
    pub fn rekey(&self, new: &MasterKey, associated_data: &[u8], sealed: &[u8]) -> Result<Rekeyed, MasterKeyError> {
        if new.open(associated_data, sealed).is_ok() {
            return Ok(Rekeyed::AlreadyNew);
        }
        let mut plaintext = self.open(associated_data, sealed)?;
        let resealed = new.seal(associated_data, &plaintext);
        plaintext.zeroize();
        resealed.map(Rekeyed::Resealed)
    }

    /// The key for one purpose, derived from this one (`purpose` is a label such as `tgos/backup-codes/v1`).
    pub fn derive(&self, purpose: &str) -> super::DerivedKey {
        super::DerivedKey::hkdf(b"tgos/master-key/derive", &self.0, purpose.as_bytes())
    }

    pub fn seal(&self, associated_data: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            .map_err(|_| MasterKeyError::SealFailed)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub fn open(&self, associated_data: &[u8], sealed: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(MasterKeyError::OpenFailed);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| MasterKeyError::OpenFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_with_same_key_and_associated_data() -> Result<(), MasterKeyError> {
        let key = MasterKey::generate();
        let sealed = key.seal(b"totp:alice", b"secret")?;
        assert_eq!(key.open(b"totp:alice", &sealed)?, b"secret");
        Ok(())
    }

    #[test]
    fn sealed_value_moved_to_another_owner_fails_to_open() -> Result<(), MasterKeyError> {
        let key = MasterKey::generate();
        let sealed = key.seal(b"totp:alice", b"secret")?;
        assert_eq!(key.open(b"totp:bob", &sealed), Err(MasterKeyError::OpenFailed));
        assert_eq!(
            MasterKey::generate().open(b"totp:alice", &sealed),
            Err(MasterKeyError::OpenFailed)
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(key.open(b"totp:alice", &tampered), Err(MasterKeyError::OpenFailed));
        Ok(())
    }

    #[test]
    fn rekey_moves_old_values_skips_new_ones_and_refuses_the_rest() -> Result<(), MasterKeyError> {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let sealed = old.seal(b"totp:alice", b"secret")?;
        let Rekeyed::Resealed(moved) = old.rekey(&new, b"totp:alice", &sealed)? else {
            return Err(MasterKeyError::SealFailed);
        };
        assert_eq!(new.open(b"totp:alice", &moved)?, b"secret");
        assert_eq!(old.rekey(&new, b"totp:alice", &moved)?, Rekeyed::AlreadyNew);
        assert_eq!(
            MasterKey::generate().rekey(&MasterKey::generate(), b"totp:alice", &sealed),
            Err(MasterKeyError::OpenFailed)
        );
        assert_eq!(old.rekey(&new, b"totp:bob", &sealed), Err(MasterKeyError::OpenFailed));
        assert!(old.same_key(&old.clone()));
        assert!(!old.same_key(&new));
        Ok(())
    }

    #[test]
    fn malformed_keys_are_refused_and_debug_is_redacted() -> Result<(), MasterKeyError> {
        assert_eq!(MasterKey::from_base64("abc").err(), Some(MasterKeyError::Malformed));
        assert_eq!(
            MasterKey::from_base64(&STANDARD.encode([0u8; 31])).err(),
            Some(MasterKeyError::Malformed)
        );
        let key = MasterKey::from_base64(&STANDARD.encode([7u8; 32]))?;
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
        assert_eq!(MasterKey::from_base64(&key.to_base64())?.0, [7u8; 32]);
        Ok(())
    }
}
