//! An entry's hash, by version, and what verification can check of it.
//!
//! Rules:
//! - Version 1 (entries written before redaction existed): `hash = SHA-256(prev_hash ‖ canonical JSON of every
//!   field)`. Such an entry verifies exactly as it always did; once redacted, only its links to its neighbours
//!   are checked (its own content is no longer covered by anything).
//! - Version 2: `hash = SHA-256(prev_hash ‖ canonical JSON of the non-personal fields and the personal digest)`,
//!   where the personal digest is `SHA-256(salt ‖ canonical JSON of the personal fields)` and the salt is 32
//!   random bytes of the entry's own. While the salt is kept the digest is recomputed from the fields, so an
//!   edited IP, actor or metadata is detected; a redacted entry (salt gone, personal fields pseudonymized) is
//!   checked against its stored digest, so everything but its personal fields stays covered, and without the
//!   salt nobody can confirm a guess of the erased values against the digest.

use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::entry::{Actor, AuditRecord, PersonalSeal};

/// The length of an entry's salt.
pub const SALT_LEN: usize = 32;

/// A fresh random salt.
pub fn new_salt() -> Vec<u8> {
    let mut salt = vec![0u8; SALT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// Version 1: every field, in a fixed order.
#[derive(Serialize)]
struct V1<'a> {
    id: String,
    chain: &'a str,
    sequence: i64,
    workspace_id: Option<String>,
    at: String,
    actor: &'a Actor,
    action: &'a str,
    target_type: Option<&'a str>,
    target_id: Option<&'a str>,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    metadata: &'a str,
}

/// Version 2, the personal part (hashed with the salt into the digest).
#[derive(Serialize)]
struct Personal<'a> {
    chain: &'a str,
    actor: &'a Actor,
    target_id: Option<&'a str>,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    metadata: &'a str,
}

/// Version 2, the part hashed with the chain.
#[derive(Serialize)]
struct V2<'a> {
    version: u8,
    id: String,
    sequence: i64,
    workspace_id: Option<String>,
    at: String,
    action: &'a str,
    target_type: Option<&'a str>,
    personal_digest: String,
}

fn chained(prev_hash: &[u8], content: &impl Serialize) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update(prev_hash);
    digest.update(serde_json::to_vec(content).unwrap_or_default());
    digest.finalize().to_vec()
}

impl AuditRecord {
    fn time_text(&self) -> String {
        self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    /// The version 1 hash of the entry's fields as they are now.
    fn hash_v1(&self) -> Vec<u8> {
        chained(
            &self.prev_hash,
            &V1 {
                id: self.id.to_string(),
                chain: &self.chain,
                sequence: self.sequence,
                workspace_id: self.workspace_id.map(|id| id.to_string()),
                at: self.time_text(),
                actor: &self.actor,
                action: &self.action,
                target_type: self.target_type.as_deref(),
                target_id: self.target_id.as_deref(),
                ip_address: self.ip_address.as_deref(),
                user_agent: self.user_agent.as_deref(),
                metadata: &self.metadata,
            },
        )
    }

    /// The digest of the personal fields as they are now, under `salt`.
    pub fn personal_digest(&self, salt: &[u8]) -> Vec<u8> {
        let mut digest = Sha256::new();
        digest.update(salt);
        digest.update(
            serde_json::to_vec(&Personal {
                chain: &self.chain,
                actor: &self.actor,
                target_id: self.target_id.as_deref(),
                ip_address: self.ip_address.as_deref(),
                user_agent: self.user_agent.as_deref(),
                metadata: &self.metadata,
            })
            .unwrap_or_default(),
        );
        digest.finalize().to_vec()
    }

    /// The version 2 hash over the non-personal fields and `digest`.
    fn hash_v2(&self, digest: &[u8]) -> Vec<u8> {
        chained(
            &self.prev_hash,
            &V2 {
                version: 2,
                id: self.id.to_string(),
                sequence: self.sequence,
                workspace_id: self.workspace_id.map(|id| id.to_string()),
                at: self.time_text(),
                action: &self.action,
                target_type: self.target_type.as_deref(),
                personal_digest: hex::encode(digest),
            },
        )
    }

    /// Seals a new entry with version 2: a fresh salt, the digest of its personal fields, and its hash.
    pub fn seal_v2(&mut self) {
        let salt = new_salt();
        let digest = self.personal_digest(&salt);
        self.hash = self.hash_v2(&digest);
        self.seal = PersonalSeal::V2 {
            salt: Some(salt),
            digest,
            redacted_at: None,
        };
    }

    /// Whether the entry's stored hash matches what verification can recompute of it: every field (version 1,
    /// or version 2 with its salt), the non-personal fields and the stored digest (version 2, redacted), or
    /// nothing but its links (version 1, redacted; checked by the chain).
    pub fn content_matches(&self) -> bool {
        match &self.seal {
            PersonalSeal::V1 { redacted_at: None } => self.hash_v1() == self.hash,
            PersonalSeal::V1 { redacted_at: Some(_) } => true,
            PersonalSeal::V2 {
                salt: Some(salt),
                digest,
                redacted_at: None,
            } => {
                let recomputed = self.personal_digest(salt);
                recomputed == *digest && self.hash_v2(&recomputed) == self.hash
            }
            PersonalSeal::V2 {
                salt: None,
                digest,
                redacted_at: Some(_),
            } => self.hash_v2(digest) == self.hash,
            // A salt kept on a redacted entry, or removed from one never redacted: not a state redaction makes.
            PersonalSeal::V2 { .. } => false,
        }
    }

    /// The version 1 hash, for entries built as version 1 (tests of entries written before version 2).
    pub fn seal_v1(&mut self) {
        self.seal = PersonalSeal::V1 { redacted_at: None };
        self.hash = self.hash_v1();
    }
}
