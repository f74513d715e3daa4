//! Secret payloads (a Telegram session, for example) and their sealed, storable form.
//!
//! Rules:
//! - A [`SecretPayload`] is zeroized on drop, has no `Clone`, `Serialize` or `Display`, and its `Debug` is
//!   redacted; the bytes are reached only through [`SecretPayload::expose`].
//! - A [`SealedPayload`]'s ciphertext is `nonce (12, random) || AES-256-GCM(data key, payload)` with associated
//!   data binding the format tag, the owner, the account, the purpose and the key version, so a payload moved to
//!   another workspace, account, column or key version fails to open.

use zeroize::Zeroizing;

use super::associated_data;
use super::data_key::DataKey;
use super::error::VaultError;
use super::owner::{KeyOwner, KeyVersion};
use crate::ids::AccountId;

/// What a payload is for. Part of the associated data: a payload sealed for one purpose never opens for
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// A Telegram account's authorised session (MTProto auth key and data centre).
    TelegramSession,
    /// A Telegram account's two-step verification (cloud) password, needed to sign the account in again.
    TelegramTwoStepPassword,
    /// The secret an automation's webhook action signs its deliveries with (bound to the automation's id in
    /// the place of an account's).
    AutomationWebhookSecret,
}

impl Purpose {
    /// The stable tag bound into associated data. Never change a tag: add a purpose instead.
    pub fn tag(self) -> &'static str {
        match self {
            Self::TelegramSession => "telegram-session",
            Self::TelegramTwoStepPassword => "telegram-two-step-password",
            Self::AutomationWebhookSecret => "automation-webhook-secret",
        }
    }
}

/// Secret bytes in the clear.
pub struct SecretPayload(Zeroizing<Vec<u8>>);

impl SecretPayload {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret bytes. Do not copy them anywhere that outlives the need.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for SecretPayload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretPayload {
    fn from(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Debug for SecretPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretPayload(<redacted>)")
    }
}

/// A payload sealed under its owner's data key: plain data, stored as three columns (owner, key version,
/// ciphertext). Persistence must fill `owner` and `key_version` from the row it reads, never from the client.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedPayload {
    pub owner: KeyOwner,
    pub key_version: KeyVersion,
    /// `nonce (12) || ciphertext || tag (16)`.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedPayload {
    /// Ciphertext is not secret, but it is long and useless in a log: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedPayload")
            .field("owner", &self.owner)
            .field("key_version", &self.key_version)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// Seals `payload` under `key`, the data key of `owner` at `version`.
pub(crate) fn seal(
    key: &DataKey,
    owner: KeyOwner,
    version: KeyVersion,
    account: AccountId,
    purpose: Purpose,
    payload: &SecretPayload,
) -> Result<SealedPayload, VaultError> {
    let aad = associated_data::for_payload(&owner, account, purpose, version);
    Ok(SealedPayload {
        owner,
        key_version: version,
        ciphertext: key.seal(&aad, payload.expose())?,
    })
}

/// Opens `sealed` with `key`, which must be the data key of `sealed.owner` at `sealed.key_version`. Any mismatch
/// is [`VaultError::OpenFailed`].
pub(crate) fn open(
    key: &DataKey,
    sealed: &SealedPayload,
    account: AccountId,
    purpose: Purpose,
) -> Result<SecretPayload, VaultError> {
    let aad = associated_data::for_payload(&sealed.owner, account, purpose, sealed.key_version);
    key.open(&aad, &sealed.ciphertext).map(SecretPayload::from)
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

    fn session() -> SecretPayload {
        SecretPayload::new(b"auth-key:0123456789abcdef;dc:2".to_vec())
    }

    #[test]
    fn a_sealed_payload_opens_to_the_same_bytes() {
        let key = DataKey::generate();
        let account = AccountId::generate();
        let sealed = seal(
            &key,
            workspace(),
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        assert_eq!(sealed.ciphertext.len(), 12 + session().expose().len() + 16);
        let opened = open(&key, &sealed, account, Purpose::TelegramSession).unwrap();
        assert_eq!(opened.expose(), session().expose());
    }

    #[test]
    fn sealing_twice_never_repeats_a_nonce_or_ciphertext() {
        let key = DataKey::generate();
        let (owner, account) = (workspace(), AccountId::generate());
        let a = seal(
            &key,
            owner,
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        let b = seal(
            &key,
            owner,
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        assert_ne!(a.ciphertext[..12], b.ciphertext[..12]);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_payload_opened_for_another_account_fails() {
        let key = DataKey::generate();
        let sealed = seal(
            &key,
            workspace(),
            KeyVersion::FIRST,
            AccountId::generate(),
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        let result = open(&key, &sealed, AccountId::generate(), Purpose::TelegramSession);
        assert!(matches!(result, Err(VaultError::OpenFailed)));
    }

    #[test]
    fn a_payload_relabelled_with_another_owner_or_version_fails_to_open_even_under_the_same_key() {
        let key = DataKey::generate();
        let account = AccountId::generate();
        let sealed = seal(
            &key,
            workspace(),
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        let mut moved = sealed.clone();
        moved.owner = workspace();
        assert!(matches!(
            open(&key, &moved, account, Purpose::TelegramSession),
            Err(VaultError::OpenFailed)
        ));
        let mut moved = sealed.clone();
        moved.owner = KeyOwner::Platform;
        assert!(matches!(
            open(&key, &moved, account, Purpose::TelegramSession),
            Err(VaultError::OpenFailed)
        ));
        let mut moved = sealed;
        moved.key_version = KeyVersion::FIRST.next();
        assert!(matches!(
            open(&key, &moved, account, Purpose::TelegramSession),
            Err(VaultError::OpenFailed)
        ));
    }

    #[test]
    fn a_payload_opened_for_another_purpose_fails() {
        let key = DataKey::generate();
        let account = AccountId::generate();
        let sealed = seal(
            &key,
            workspace(),
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        let result = open(&key, &sealed, account, Purpose::TelegramTwoStepPassword);
        assert!(matches!(result, Err(VaultError::OpenFailed)));
    }

    #[test]
    fn a_payload_fails_to_open_under_another_data_key() {
        let account = AccountId::generate();
        let sealed = seal(
            &DataKey::generate(),
            workspace(),
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        let result = open(&DataKey::generate(), &sealed, account, Purpose::TelegramSession);
        assert!(matches!(result, Err(VaultError::OpenFailed)));
    }

    #[test]
    fn every_truncation_of_a_sealed_payload_fails_to_open() {
        let key = DataKey::generate();
        let account = AccountId::generate();
        let sealed = seal(
            &key,
            workspace(),
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        for len in 0..sealed.ciphertext.len() {
            let mut truncated = sealed.clone();
            truncated.ciphertext.truncate(len);
            assert!(
                matches!(
                    open(&key, &truncated, account, Purpose::TelegramSession),
                    Err(VaultError::OpenFailed)
                ),
                "length {len}"
            );
        }
        let mut extended = sealed;
        extended.ciphertext.push(0);
        assert!(matches!(
            open(&key, &extended, account, Purpose::TelegramSession),
            Err(VaultError::OpenFailed)
        ));
    }

    #[test]
    fn an_empty_payload_seals_and_opens() {
        let key = DataKey::generate();
        let account = AccountId::generate();
        let sealed = seal(
            &key,
            KeyOwner::Platform,
            KeyVersion::FIRST,
            account,
            Purpose::TelegramSession,
            &SecretPayload::new(Vec::new()),
        )
        .unwrap();
        assert!(
            open(&key, &sealed, account, Purpose::TelegramSession)
                .unwrap()
                .expose()
                .is_empty()
        );
    }

    #[test]
    fn the_debug_of_a_secret_payload_never_shows_its_bytes() {
        let bytes = b"session-secret-bytes-\x01\x02\xff".to_vec();
        let payload = SecretPayload::new(bytes.clone());
        let printed = format!("{payload:?} {payload:#?}");
        assert_eq!(format!("{payload:?}"), "SecretPayload(<redacted>)");
        assert!(!printed.contains("session-secret"));
        assert!(!printed.contains(&hex::encode(&bytes)));
        assert!(!printed.contains(&STANDARD.encode(&bytes)));
        assert!(!printed.contains(&format!("{bytes:?}")));
    }

    #[test]
    fn the_debug_of_a_sealed_payload_shows_only_its_length() {
        let key = DataKey::generate();
        let sealed = seal(
            &key,
            KeyOwner::Platform,
            KeyVersion::FIRST,
            AccountId::generate(),
            Purpose::TelegramSession,
            &session(),
        )
        .unwrap();
        let printed = format!("{sealed:?}");
        assert!(printed.contains("ciphertext_len"));
        assert!(!printed.contains(&hex::encode(&sealed.ciphertext)));
        assert!(!printed.contains(&STANDARD.encode(&sealed.ciphertext)));
    }

    proptest! {
        #[test]
        fn flipping_any_single_bit_of_a_sealed_payload_makes_it_fail_to_open(
            secret in proptest::collection::vec(any::<u8>(), 0..64),
            position in any::<proptest::sample::Index>(),
            bit in 0u8..8,
        ) {
            let key = DataKey::generate();
            let account = AccountId::generate();
            let sealed = seal(
                &key, workspace(), KeyVersion::FIRST, account, Purpose::TelegramSession, &SecretPayload::new(secret),
            ).unwrap();
            let mut tampered = sealed.clone();
            let index = position.index(tampered.ciphertext.len());
            tampered.ciphertext[index] ^= 1 << bit;
            prop_assert!(matches!(
                open(&key, &tampered, account, Purpose::TelegramSession),
                Err(VaultError::OpenFailed)
            ));
            prop_assert!(open(&key, &sealed, account, Purpose::TelegramSession).is_ok());
        }
    }
}
