//! The associated data that binds every AES-256-GCM ciphertext of the vault to where it belongs.
//!
//! Rule: associated data is a sequence of fields, each written as its length (4 bytes, big-endian) and then its
//! bytes, so no two different sequences encode to the same bytes. The first field is always the format tag
//! [`FORMAT_TAG`] and the second says what is sealed (`data-key` or `payload`), so a wrapped data key can never
//! be taken for a payload, nor either for a secret sealed elsewhere under the master key (TOTP secrets use
//! `totp:<user id>`). Changing any of this makes every stored value unreadable: add a new format tag instead.

use super::owner::{KeyOwner, KeyVersion};
use super::payload::Purpose;
use crate::ids::AccountId;

/// The format tag of every vault ciphertext.
pub const FORMAT_TAG: &str = "tgos/vault/v1";

/// Associated data of an owner's wrapped data key: binds the owner and the version.
pub(crate) fn for_data_key(owner: &KeyOwner, version: KeyVersion) -> Vec<u8> {
    encode(&[
        FORMAT_TAG.as_bytes(),
        b"data-key",
        owner.to_text().as_bytes(),
        &version.get().to_be_bytes(),
    ])
}

/// Associated data of a sealed payload: binds the owner, the account, the purpose and the key version.
pub(crate) fn for_payload(owner: &KeyOwner, account: AccountId, purpose: Purpose, version: KeyVersion) -> Vec<u8> {
    encode(&[
        FORMAT_TAG.as_bytes(),
        b"payload",
        owner.to_text().as_bytes(),
        account.as_uuid().as_bytes(),
        purpose.tag().as_bytes(),
        &version.get().to_be_bytes(),
    ])
}

fn encode(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| 4 + f.len()).sum());
    for field in fields {
        // Every field is a short tag, an id or a number; none comes near 4 GiB.
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::WorkspaceId;

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        assert_ne!(encode(&[b"ab", b"c"]), encode(&[b"a", b"bc"]));
        assert_ne!(encode(&[b"ab"]), encode(&[b"ab", b""]));
    }

    #[test]
    fn a_data_key_and_a_payload_never_share_associated_data() {
        let owner = KeyOwner::Workspace(WorkspaceId::generate());
        let key = for_data_key(&owner, KeyVersion::FIRST);
        let payload = for_payload(
            &owner,
            AccountId::generate(),
            Purpose::TelegramSession,
            KeyVersion::FIRST,
        );
        assert_ne!(key, payload);
        assert!(key.windows(FORMAT_TAG.len()).any(|w| w == FORMAT_TAG.as_bytes()));
    }
}
