//! Pseudonymizing an erased person in the audit log without breaking a chain.
//!
//! Rules:
//! - One pseudonym per erasure (`erased-<random>`): the erased person's entries stay linkable to each other,
//!   and to nobody.
//! - Every entry where the person is the actor, the target, or appears in the metadata (their id, email,
//!   username, full name), on any chain, has those values replaced by the pseudonym, its IP address and user
//!   agent removed, its salt removed and `redacted_at` set; the person's own chain `user:<id>` becomes
//!   `user:<pseudonym>` (entries and head). Nothing else of an entry changes: its hash, its predecessor's
//!   hash, its digest, sequence, action and time stay, so the chain still verifies (see [`super::hashing`]).
//! - Runs in the caller's transaction (the account erasure's), so a person is pseudonymized everywhere or
//!   nowhere.

use chrono::{DateTime, Utc};
use rand::RngCore as _;

use super::entry::{AuditRecord, ChainId, PersonalSeal};
use crate::error::DomainResult;
use crate::ids::UserId;
use crate::store::Repositories;

/// Who is being erased: the values that identify them in entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureSubject {
    pub user_id: UserId,
    pub email: String,
    pub username: String,
    pub full_name: String,
}

impl ErasureSubject {
    /// The texts searched for in entries (the id, email, username and full name; empty ones left out).
    pub fn needles(&self) -> Vec<String> {
        let mut needles = vec![self.user_id.to_string(), self.email.clone(), self.username.clone()];
        needles.push(self.full_name.clone());
        needles.retain(|needle| !needle.trim().is_empty());
        needles
    }
}

/// The name an erased person goes by in the audit log from now on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonym(String);

impl Pseudonym {
    /// A fresh pseudonym: `erased-` and 16 random bytes in hex.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(format!("erased-{}", hex::encode(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Replaces every occurrence of `needle` in `text` with `with`, ignoring ASCII case.
fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    let haystack = text.to_ascii_lowercase();
    let needle_lower = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(found) = haystack.get(rest..).and_then(|tail| tail.find(&needle_lower)) {
        let start = rest + found;
        out.push_str(text.get(rest..start).unwrap_or_default());
        out.push_str(with);
        rest = start + needle_lower.len();
    }
    out.push_str(text.get(rest..).unwrap_or_default());
    out
}

/// `text` with every needle replaced by the pseudonym (JSON-escaped needles too, for metadata).
fn scrub(text: &str, needles: &[String], pseudonym: &Pseudonym) -> String {
    let mut scrubbed = text.to_owned();
    for needle in needles {
        scrubbed = replace_ignoring_case(&scrubbed, needle, pseudonym.as_str());
        let escaped = serde_json::to_string(needle).unwrap_or_default();
        if let Some(inner) = escaped.get(1..escaped.len().saturating_sub(1))
            && inner != needle
        {
            scrubbed = replace_ignoring_case(&scrubbed, inner, pseudonym.as_str());
        }
    }
    scrubbed
}

/// The entry with `subject` replaced by `pseudonym`, or `None` when it does not concern the subject.
pub fn redact(
    entry: &AuditRecord,
    subject: &ErasureSubject,
    pseudonym: &Pseudonym,
    now: DateTime<Utc>,
) -> Option<AuditRecord> {
    let needles = subject.needles();
    let own_chain = ChainId::User(subject.user_id).key();
    let id = subject.user_id.to_string();
    let is_actor = entry.actor.id.as_deref() == Some(id.as_str());
    let mut redacted = entry.clone();
    if entry.chain == own_chain {
        redacted.chain = format!("user:{}", pseudonym.as_str());
    }
    if is_actor {
        redacted.actor.id = Some(pseudonym.as_str().to_owned());
        redacted.actor.display_name = pseudonym.as_str().to_owned();
    } else {
        redacted.actor.display_name = scrub(&entry.actor.display_name, &needles, pseudonym);
    }
    redacted.target_id = entry.target_id.as_deref().map(|t| scrub(t, &needles, pseudonym));
    redacted.metadata = scrub(&entry.metadata, &needles, pseudonym);
    let concerned = redacted.chain != entry.chain
        || redacted.actor != entry.actor
        || redacted.target_id != entry.target_id
        || redacted.metadata != entry.metadata;
    if !concerned {
        return None;
    }
    redacted.ip_address = None;
    redacted.user_agent = None;
    redacted.seal = match &entry.seal {
        PersonalSeal::V1 { redacted_at } => PersonalSeal::V1 {
            redacted_at: Some(redacted_at.unwrap_or(now)),
        },
        PersonalSeal::V2 {
            digest, redacted_at, ..
        } => PersonalSeal::V2 {
            salt: None,
            digest: digest.clone(),
            redacted_at: Some(redacted_at.unwrap_or(now)),
        },
    };
    Some(redacted)
}

/// What a pseudonymization changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PseudonymizeReport {
    pub pseudonym: Pseudonym,
    /// Entries rewritten, on every chain.
    pub entries: usize,
}

/// Pseudonymizes `subject` in every audit entry that concerns them, on any chain, and renames their own
/// chain, in the caller's transaction.
pub async fn pseudonymize_subject(
    repos: &dyn Repositories,
    subject: &ErasureSubject,
    now: DateTime<Utc>,
) -> DomainResult<PseudonymizeReport> {
    let pseudonym = Pseudonym::generate();
    let candidates = repos.audit_entries_mentioning(subject).await?;
    let mut entries = 0;
    for entry in &candidates {
        if let Some(redacted) = redact(entry, subject, &pseudonym, now) {
            repos.redact_audit_entry(&redacted).await?;
            entries += 1;
        }
    }
    repos
        .rename_audit_chain(
            &ChainId::User(subject.user_id).key(),
            &format!("user:{}", pseudonym.as_str()),
        )
        .await?;
    Ok(PseudonymizeReport { pseudonym, entries })
}

#[cfg(test)]
mod tests;
