//! Signed email links: the proof that a person reads an address (verification, an email change).
//!
//! Rules:
//! - A link token says which purpose, which user and until when, and carries an HMAC-SHA-256 over those and
//!   over the addresses it is bound to, under a key derived from the master key for this purpose alone. No
//!   token is stored, so a leaked database holds none to replay.
//! - A verification link is bound to the user's current address; an email-change link to the current address
//!   *and* the pending one. A link therefore works only while those are what it was made for: once the change
//!   happened, or a newer change was asked for, every earlier link of it stops working (used once in effect).
//! - Links expire after [`LINK_TTL`]; a token that does not parse, has the wrong purpose, is expired or does
//!   not match is refused alike, without saying which.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone as _, Utc};
use subtle::ConstantTimeEq as _;

use crate::crypto::{DerivedKey, MasterKey};
use crate::ids::UserId;

/// How long an emailed link works.
pub const LINK_TTL: chrono::Duration = chrono::Duration::hours(24);

const PREFIX: &str = "tge_";
const VERSION: u8 = 1;
const PURPOSE_LABEL: &str = "tgos/email-links/v1";
/// version, purpose, user id, expiry, MAC.
const LEN: usize = 1 + 1 + 16 + 8 + 32;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    VerifyEmail,
    ChangeEmail,
}

impl LinkPurpose {
    fn code(self) -> u8 {
        match self {
            LinkPurpose::VerifyEmail => 1,
            LinkPurpose::ChangeEmail => 2,
        }
    }
}

/// The addresses a link is bound to (their lower-cased keys).
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub email_key: &'a str,
    pub pending_email_key: Option<&'a str>,
}

/// A token as read, before it is checked against the account it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaim {
    pub user: UserId,
    expires_at: i64,
    mac: [u8; 32],
    purpose: u8,
}

/// The key links are signed under.
#[derive(Debug, Clone)]
pub struct EmailLinkKey(DerivedKey);

impl EmailLinkKey {
    pub fn from_master(master: &MasterKey) -> Self {
        Self(master.derive(PURPOSE_LABEL))
    }

    /// A token for `user`, valid until `now + LINK_TTL` while the binding holds.
    pub fn issue(&self, purpose: LinkPurpose, user: UserId, binding: Binding<'_>, now: DateTime<Utc>) -> String {
        let expires_at = (now + LINK_TTL).timestamp();
        let mac = self.mac(purpose.code(), user, expires_at, binding);
        let mut bytes = Vec::with_capacity(LEN);
        bytes.push(VERSION);
        bytes.push(purpose.code());
        bytes.extend_from_slice(user.as_uuid().as_bytes());
        bytes.extend_from_slice(&expires_at.to_be_bytes());
        bytes.extend_from_slice(&mac);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Reads a token of `purpose`; `None` when it cannot be one.
    pub fn read(token: &str, purpose: LinkPurpose) -> Option<LinkClaim> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim().strip_prefix(PREFIX)?).ok()?;
        if bytes.len() != LEN || bytes[0] != VERSION || bytes[1] != purpose.code() {
            return None;
        }
        let user = uuid::Uuid::from_slice(&bytes[2..18]).ok()?;
        let expires_at = i64::from_be_bytes(bytes[18..26].try_into().ok()?);
        let mac = bytes[26..].try_into().ok()?;
        Some(LinkClaim {
            user: UserId::from_uuid(user),
            expires_at,
            mac,
            purpose: purpose.code(),
        })
    }

    /// Whether the claim is unexpired at `now` and was made for exactly this binding.
    pub fn holds(&self, claim: &LinkClaim, binding: Binding<'_>, now: DateTime<Utc>) -> bool {
        let unexpired = Utc
            .timestamp_opt(claim.expires_at, 0)
            .single()
            .is_some_and(|expires| expires > now);
        let expected = self.mac(claim.purpose, claim.user, claim.expires_at, binding);
        unexpired && bool::from(expected.ct_eq(&claim.mac))
    }

    fn mac(&self, purpose: u8, user: UserId, expires_at: i64, binding: Binding<'_>) -> [u8; 32] {
        let pending = binding.pending_email_key.unwrap_or("");
        self.0.mac(&[
            &[VERSION, purpose],
            user.as_uuid().as_bytes(),
            &expires_at.to_be_bytes(),
            &(binding.email_key.len() as u64).to_be_bytes(),
            binding.email_key.as_bytes(),
            &(pending.len() as u64).to_be_bytes(),
            pending.as_bytes(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> EmailLinkKey {
        EmailLinkKey::from_master(&MasterKey::generate())
    }

    const ADA: Binding<'static> = Binding {
        email_key: "ada@example.com",
        pending_email_key: None,
    };

    #[test]
    fn a_link_holds_for_its_binding_until_it_expires() {
        let key = key();
        let user = UserId::generate();
        let now = Utc::now();
        let token = key.issue(LinkPurpose::VerifyEmail, user, ADA, now);
        let claim = EmailLinkKey::read(&token, LinkPurpose::VerifyEmail).expect("a token reads");
        assert_eq!(claim.user, user);
        assert!(key.holds(&claim, ADA, now));
        assert!(key.holds(&claim, ADA, now + LINK_TTL - chrono::Duration::seconds(1)));
        assert!(!key.holds(&claim, ADA, now + LINK_TTL));
    }

    #[test]
    fn a_link_fails_for_another_address_purpose_key_or_any_changed_byte() {
        let key = key();
        let user = UserId::generate();
        let now = Utc::now();
        let change = Binding {
            email_key: "ada@example.com",
            pending_email_key: Some("ada@new.example"),
        };
        let token = key.issue(LinkPurpose::ChangeEmail, user, change, now);
        assert!(EmailLinkKey::read(&token, LinkPurpose::VerifyEmail).is_none());
        let claim = EmailLinkKey::read(&token, LinkPurpose::ChangeEmail).expect("reads");
        assert!(key.holds(&claim, change, now));
        let newer = Binding {
            pending_email_key: Some("ada@other.example"),
            ..change
        };
        assert!(!key.holds(&claim, newer, now));
        assert!(!key.holds(&claim, ADA, now));
        assert!(!self::key().holds(&claim, change, now));
        let body = token.strip_prefix(PREFIX).expect("prefixed");
        let mut bytes = URL_SAFE_NO_PAD.decode(body).expect("base64");
        for index in [2, 20, 40] {
            bytes[index] ^= 1;
            let forged = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
            let forged = EmailLinkKey::read(&forged, LinkPurpose::ChangeEmail).expect("reads");
            assert!(!key.holds(&forged, change, now), "byte {index} changed");
            bytes[index] ^= 1;
        }
        assert!(EmailLinkKey::read("tge_!!", LinkPurpose::ChangeEmail).is_none());
        assert!(EmailLinkKey::read("", LinkPurpose::ChangeEmail).is_none());
    }
}
