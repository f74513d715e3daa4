//! Backup codes: the way in when the authenticator is lost.
//!
//! Rules: ten codes are issued at once and shown once; each is ten characters of Crockford base32 (50 bits)
//! written `xxxxx-xxxxx`; a code works once. Input is forgiving: case, spaces and dashes are ignored, and `o`,
//! `i`, `l` read as `0`, `1`, `1`.
//!
//! Storage: only a keyed hash bound to the user is stored, HMAC-SHA-256 under [`BackupCodeKey`] of the code's
//! [`digest`] (SHA-256 of the user id and the canonical code). The key is derived from the vault's data key of
//! the `backup-codes` owner, which is stored only wrapped by the master key: fifty bits are few enough to try
//! every code against an unkeyed hash, but without the master key a leaked database gives nothing to try them
//! against. Because the data key (not the master key itself) is the root, a master-key rotation re-wraps it
//! like every data key and every issued code keeps working. Codes stored before keyed hashing hold the bare digest;
//! the server wraps each under the key at start ([`BackupCodeKey::wrap_digest`]), which gives exactly what
//! hashing the code would, so no issued code stops working.

use rand::Rng as _;
use sha2::{Digest as _, Sha256};

use crate::crypto::DerivedKey;
use crate::ids::UserId;
use crate::vault::{KeyOwner, Vault, VaultError};

/// The purpose label of the backup-code key. Changing it makes every stored code fail.
const PURPOSE: &str = "tgos/backup-codes/v1";

/// The key backup codes are hashed under.
#[derive(Debug, Clone)]
pub struct BackupCodeKey(DerivedKey);

impl BackupCodeKey {
    /// The key, from the vault (its `backup-codes` data key is created on first use).
    pub async fn load(vault: &Vault) -> Result<Self, VaultError> {
        vault.derived_key(KeyOwner::BackupCodes, PURPOSE).await.map(Self)
    }

    /// A key no stored code was hashed under, for a process whose master key opens nothing (the console with
    /// a wrong key): every backup code then fails to match.
    pub fn unusable() -> Self {
        Self(crate::crypto::MasterKey::generate().derive(PURPOSE))
    }

    /// A key of its own, for tests of the hashing rules.
    #[cfg(test)]
    pub(crate) fn random() -> Self {
        Self(crate::crypto::MasterKey::generate().derive(PURPOSE))
    }

    /// The stored form of a code for `user`; `None` when the input cannot be a backup code.
    pub fn hash(&self, user: UserId, code: &str) -> Option<Vec<u8>> {
        digest(user, code).map(|digest| self.wrap_digest(&digest))
    }

    /// The stored form of a code from its unkeyed [`digest`], as codes stored before keyed hashing hold it.
    pub fn wrap_digest(&self, digest: &[u8]) -> Vec<u8> {
        self.0.mac(&[digest]).to_vec()
    }
}

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const LEN: usize = 10;

/// Ten fresh codes, formatted for display.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LEN)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// The canonical form of typed input, or `None` when it cannot be a backup code.
pub fn normalize(input: &str) -> Option<String> {
    let canonical: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    let valid = canonical.len() == LEN && canonical.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(canonical)
}

/// SHA-256 over the user id and the canonical code: what is keyed for storage (and what was stored, unkeyed,
/// before keyed hashing).
pub fn digest(user: UserId, code: &str) -> Option<Vec<u8>> {
    let canonical = normalize(code)?;
    let mut digest = Sha256::new();
    digest.update(user.as_uuid().as_bytes());
    digest.update(canonical.as_bytes());
    Some(digest.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_in_display_format() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(code.as_bytes()[5], b'-');
            assert!(normalize(code).is_some(), "{code} must normalize");
        }
    }

    #[test]
    fn input_is_forgiving_about_case_spaces_dashes_and_lookalikes() {
        assert_eq!(normalize("ABCDE-FGH0O"), Some("abcdefgh00".to_owned()));
        assert_eq!(normalize(" abcde fgh1l "), Some("abcdefgh11".to_owned()));
        assert_eq!(normalize("abcdefgh1i"), Some("abcdefgh11".to_owned()));
    }

    #[test]
    fn rejects_what_cannot_be_a_code() {
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("abcde-fghj"), None, "nine characters");
        assert_eq!(normalize("abcde-fghjk-m"), None, "eleven characters");
        assert_eq!(normalize("abcde-fghu0"), None, "u is not in the alphabet");
    }

    #[test]
    fn hash_binds_the_user_and_the_key() {
        let key = BackupCodeKey::random();
        let a = UserId::generate();
        let b = UserId::generate();
        assert_eq!(key.hash(a, "ABCDE-FGH00"), key.hash(a, "abcdefgh00"));
        assert_ne!(key.hash(a, "abcdefgh00"), key.hash(b, "abcdefgh00"));
        assert_eq!(key.hash(a, "nope"), None);
        let other = BackupCodeKey::random();
        assert_ne!(key.hash(a, "abcdefgh00"), other.hash(a, "abcdefgh00"));
        assert_ne!(
            key.hash(a, "abcdefgh00"),
            digest(a, "abcdefgh00"),
            "never the unkeyed digest"
        );
    }

    #[test]
    fn a_wrapped_old_digest_is_what_hashing_the_code_gives() {
        let key = BackupCodeKey::random();
        let user = UserId::generate();
        let old = digest(user, "abcde-fgh00");
        assert_eq!(old.map(|d| key.wrap_digest(&d)), key.hash(user, "ABCDEFGH00"));
    }
}
