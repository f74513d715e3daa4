//! Redaction keeps every chain verifiable and still catches tampering.

use chrono::Utc;

use super::*;
use crate::audit::chain::{BrokenLink, verify};
use crate::audit::entry::{Actor, GENESIS};
use crate::ids::AuditEntryId;

fn subject() -> ErasureSubject {
    let user_id = UserId::generate();
    let id = user_id.to_string();
    let tag = &id[id.len() - 12..];
    ErasureSubject {
        user_id,
        email: format!("Ada.{tag}@Example.com"),
        username: format!("ada_{tag}"),
        full_name: format!("Ada \"the\" Lovelace {tag}"),
    }
}

/// A chain of `n` entries by `subject` on their own chain, sealed with `version`.
fn chain(subject: &ErasureSubject, n: usize, version: u8) -> Vec<AuditRecord> {
    let mut entries: Vec<AuditRecord> = Vec::new();
    for i in 0..n {
        let prev = entries.last().map_or(GENESIS.to_vec(), |e| e.hash.clone());
        let mut entry = AuditRecord {
            id: AuditEntryId::generate(),
            chain: ChainId::User(subject.user_id).key(),
            sequence: i as i64 + 1,
            workspace_id: None,
            at: AuditRecord::normalize_time(Utc::now()),
            actor: Actor::user(subject.user_id, &subject.username),
            action: "auth.sign_in".into(),
            target_type: Some("USER".into()),
            target_id: Some(subject.user_id.to_string()),
            ip_address: Some("203.0.113.7".into()),
            user_agent: Some("curl/8".into()),
            metadata: serde_json::json!({ "email": subject.email.to_lowercase(), "name": subject.full_name })
                .to_string(),
            prev_hash: prev,
            hash: Vec::new(),
            seal: PersonalSeal::V1 { redacted_at: None },
        };
        if version == 1 {
            entry.seal_v1();
        } else {
            entry.seal_v2();
        }
        entries.push(entry);
    }
    entries
}

fn redact_all(entries: &[AuditRecord], subject: &ErasureSubject) -> Vec<AuditRecord> {
    let pseudonym = Pseudonym::generate();
    entries
        .iter()
        .map(|e| redact(e, subject, &pseudonym, Utc::now()).unwrap_or_else(|| e.clone()))
        .collect()
}

#[test]
fn a_v2_entry_edited_in_a_personal_field_fails_verification() {
    let subject = subject();
    let mut entries = chain(&subject, 3, 2);
    assert_eq!(verify(&entries, None), Ok(3));
    entries[1].ip_address = Some("198.51.100.1".into());
    assert!(matches!(
        verify(&entries, None),
        Err(BrokenLink::Tampered { sequence: 2, .. })
    ));
    let mut entries = chain(&subject, 3, 2);
    entries[2].actor.display_name = "someone else".into();
    assert!(matches!(
        verify(&entries, None),
        Err(BrokenLink::Tampered { sequence: 3, .. })
    ));
}

#[test]
fn redacted_entries_verify_and_hold_nothing_of_the_person() {
    let subject = subject();
    let entries = redact_all(&chain(&subject, 4, 2), &subject);
    assert_eq!(verify(&entries, None), Ok(4));
    for entry in &entries {
        let text = format!("{entry:?}").to_ascii_lowercase();
        for needle in subject.needles() {
            assert!(!text.contains(&needle.to_ascii_lowercase()), "{needle} left in {text}");
        }
        assert!(!text.contains("lovelace"), "{text}");
        assert!(entry.ip_address.is_none() && entry.user_agent.is_none());
        assert!(entry.chain.starts_with("user:erased-"));
        assert!(matches!(
            entry.seal,
            PersonalSeal::V2 {
                salt: None,
                redacted_at: Some(_),
                ..
            }
        ));
    }
    // One pseudonym per erasure: the entries stay linkable to each other.
    assert!(entries.iter().all(|e| e.actor.id == entries[0].actor.id));
}

#[test]
fn a_redacted_entry_edited_in_a_non_personal_field_fails_verification() {
    let subject = subject();
    let mut entries = redact_all(&chain(&subject, 3, 2), &subject);
    entries[1].action = "auth.nothing_to_see".into();
    assert!(matches!(
        verify(&entries, None),
        Err(BrokenLink::Tampered { sequence: 2, .. })
    ));
    let mut entries = redact_all(&chain(&subject, 3, 2), &subject);
    entries[0].at += chrono::Duration::seconds(1);
    assert!(matches!(
        verify(&entries, None),
        Err(BrokenLink::Tampered { sequence: 1, .. })
    ));
}

#[test]
fn removing_the_salt_without_redacting_is_tampering() {
    let subject = subject();
    let mut entries = chain(&subject, 2, 2);
    if let PersonalSeal::V2 { salt, .. } = &mut entries[0].seal {
        *salt = None;
    }
    assert!(matches!(
        verify(&entries, None),
        Err(BrokenLink::Tampered { sequence: 1, .. })
    ));
}

#[test]
fn version_1_entries_verify_as_before_and_redacted_keep_their_links() {
    let subject = subject();
    let entries = chain(&subject, 3, 1);
    assert_eq!(verify(&entries, None), Ok(3));
    let mut edited = entries.clone();
    edited[1].ip_address = None;
    assert!(matches!(
        verify(&edited, None),
        Err(BrokenLink::Tampered { sequence: 2, .. })
    ));
    // Redacted, a version 1 entry is covered by its links only: removing one is still found.
    let redacted = redact_all(&entries, &subject);
    assert_eq!(verify(&redacted, None), Ok(3));
    let mut cut = redacted.clone();
    cut.remove(1);
    assert!(matches!(verify(&cut, None), Err(BrokenLink::Unlinked { .. })));
}

#[test]
fn entries_that_do_not_concern_the_subject_are_left_alone() {
    let subject = subject();
    let other = self::subject();
    let entries = chain(&other, 1, 2);
    assert_eq!(redact(&entries[0], &subject, &Pseudonym::generate(), Utc::now()), None);
}
