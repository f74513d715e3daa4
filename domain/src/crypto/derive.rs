//! Keys derived from a root key (the master key, or one of the vault's data keys), one per purpose
//! (HKDF-SHA-256, RFC 5869).
//!
//! Rule: a purpose label names what a derived key is for (`tgos/backup-codes/v1`); two purposes never share a
//! key, and a derived key says nothing about the master key or about another purpose's key. Derived keys are
//! zeroized on drop and never printed.
//!
//! The derivation is HKDF's extract and one expand block over HMAC-SHA-256 (32 bytes of output need no more),
//! written here on `hmac` rather than taking a second `sha2` major version for the `hkdf` crate; the RFC's
//! first test vector checks it.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

type HmacSha256 = Hmac<Sha256>;

/// A 32-byte key for one purpose.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DerivedKey([u8; 32]);

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey(<redacted>)")
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl DerivedKey {
    /// HKDF-SHA-256 of `ikm` with `salt` and `info`, 32 bytes.
    pub(crate) fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> Self {
        let mut prk = hmac(salt, &[ikm]);
        let okm = hmac(&prk, &[info, &[1u8]]);
        prk.zeroize();
        Self(okm)
    }

    /// HMAC-SHA-256 of `parts` (concatenated) under this key.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        hmac(&self.0, parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_first_test_vector_of_rfc_5869() -> Result<(), hex::FromHexError> {
        let ikm = [0x0b_u8; 22];
        let salt = hex::decode("000102030405060708090a0b0c")?;
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9")?;
        let okm = hex::decode("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf")?;
        assert_eq!(DerivedKey::hkdf(&salt, &ikm, &info).0.as_slice(), okm.as_slice());
        Ok(())
    }

    #[test]
    fn purposes_get_different_keys_and_debug_is_redacted() {
        let a = DerivedKey::hkdf(b"", b"master", b"purpose-a");
        let b = DerivedKey::hkdf(b"", b"master", b"purpose-b");
        assert_ne!(a.0, b.0);
        assert_eq!(format!("{a:?}"), "DerivedKey(<redacted>)");
    }
}
