//! API keys for integrators.
//!
//! Rules: a key is `tgos_<prefix>_<secret>`, shown once at creation; only the prefix (for lookup) and the
//! SHA-256 of the whole key are stored; a key is bound to one workspace and carries scopes; it reaches only
//! that workspace and only what its scopes allow, and never manages members, keys or ownership; it may
//! expire and can be revoked; its last use is recorded.

use chrono::{DateTime, Utc};
use rand::Rng as _;

use crate::crypto::token;
use crate::ids::{ApiKeyId, UserId, WorkspaceId};

pub const KEY_PREFIX: &str = "tgos";
const PREFIX_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const PREFIX_LEN: usize = 12;

/// What a key may reach (API.md `Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    InboxRead,
    InboxWrite,
    AccountsRead,
    AccountsWrite,
    AutomationsRead,
    AutomationsWrite,
    BillingRead,
    AuditRead,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::InboxRead,
        Scope::InboxWrite,
        Scope::AccountsRead,
        Scope::AccountsWrite,
        Scope::AutomationsRead,
        Scope::AutomationsWrite,
        Scope::BillingRead,
        Scope::AuditRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::InboxRead => "INBOX_READ",
            Scope::InboxWrite => "INBOX_WRITE",
            Scope::AccountsRead => "ACCOUNTS_READ",
            Scope::AccountsWrite => "ACCOUNTS_WRITE",
            Scope::AutomationsRead => "AUTOMATIONS_READ",
            Scope::AutomationsWrite => "AUTOMATIONS_WRITE",
            Scope::BillingRead => "BILLING_READ",
            Scope::AuditRead => "AUDIT_READ",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub scopes: Vec<Scope>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A new key: its full text (shown once), its lookup prefix and stored hash.
#[derive(Debug)]
pub struct MintedKey {
    pub text: String,
    pub prefix: String,
    pub hash: Vec<u8>,
}

pub fn mint() -> MintedKey {
    let mut rng = rand::rngs::OsRng;
    let prefix: String = (0..PREFIX_LEN)
        .map(|_| char::from(PREFIX_ALPHABET[rng.gen_range(0..PREFIX_ALPHABET.len())]))
        .collect();
    let secret = token::generate("s");
    let text = format!("{KEY_PREFIX}_{prefix}_{}", &secret[2..]);
    MintedKey {
        hash: token::hash(&text),
        text,
        prefix,
    }
}

/// The lookup prefix of something that looks like a key.
pub fn prefix_of(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(KEY_PREFIX)?.strip_prefix('_')?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == PREFIX_LEN && !secret.is_empty()).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_back_to_their_prefix() {
        let key = mint();
        assert!(key.text.starts_with("tgos_"));
        assert_eq!(prefix_of(&key.text), Some(key.prefix.as_str()));
        assert_eq!(key.hash, token::hash(&key.text));
        assert_ne!(mint().text, key.text);
    }

    #[test]
    fn things_that_are_not_keys_have_no_prefix() {
        for text in [
            "tgs_abc",
            "tgos_",
            "tgos_short_x",
            "tgos_abcdefghjkmn_",
            "other_abcdefghjkmn_secret",
        ] {
            assert_eq!(prefix_of(text), None, "{text}");
        }
    }

    #[test]
    fn scopes_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }
}
