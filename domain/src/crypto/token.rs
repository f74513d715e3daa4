//! High-entropy random tokens (session tokens, sign-in challenges) and their storage form.
//!
//! Rule: a token is shown to its owner once and stored only as its SHA-256 hash, so a read of the database
//! does not yield a usable credential. 32 random bytes make the hash safe without salt or stretching.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A fresh token: `<prefix>_` followed by 32 random bytes in URL-safe base64.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_prefixed() {
        let a = generate("tgs");
        let b = generate("tgs");
        assert_ne!(a, b);
        assert!(a.starts_with("tgs_"));
        assert_eq!(a.len(), 4 + 43);
    }

    #[test]
    fn hash_is_sha256_of_the_token() {
        assert_eq!(hash("abc").len(), 32);
        assert_eq!(
            hex::encode(hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
