//! Appending to and verifying the hash chains.

use chrono::{DateTime, Utc};

use super::entry::{AuditDraft, AuditRecord, GENESIS, PersonalSeal};
use super::ports::ChainHead;
use crate::error::{DomainError, DomainResult};
use crate::ids::AuditEntryId;
use crate::store::Repositories;

/// Appends `draft` to its chain within `repos` (the caller's transaction).
pub async fn append(repos: &dyn Repositories, draft: AuditDraft, now: DateTime<Utc>) -> DomainResult<AuditRecord> {
    let head = repos.advance_chain(&draft.chain).await?;
    let chain = draft.chain.key();
    let metadata = serde_json::to_string(&draft.metadata).map_err(DomainError::internal)?;
    let mut entry = AuditRecord {
        id: AuditEntryId::generate(),
        chain,
        sequence: head.sequence + 1,
        workspace_id: draft.chain.workspace(),
        at: AuditRecord::normalize_time(now),
        actor: draft.actor,
        action: draft.action.to_owned(),
        target_type: draft.target_type.map(str::to_owned),
        target_id: draft.target_id,
        ip_address: draft.client.ip.map(|ip| ip.to_string()),
        user_agent: draft.client.user_agent,
        metadata,
        prev_hash: if head.sequence == 0 {
            GENESIS.to_vec()
        } else {
            head.hash
        },
        hash: Vec::new(),
        seal: PersonalSeal::V1 { redacted_at: None },
    };
    entry.seal_v2();
    repos.insert_audit(&entry).await?;
    Ok(entry)
}

/// The first place a chain stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenLink {
    /// The entry's content no longer matches its hash (it was edited).
    Tampered { sequence: i64, id: String },
    /// The entry does not point at its predecessor's hash, or a sequence number is missing (deleted).
    Unlinked { sequence: i64, id: String },
    /// Entries after `sequence` are gone (the recorded head is further along).
    Truncated { sequence: i64 },
}

impl BrokenLink {
    /// The entry the chain breaks at: its sequence number and id (a cut tail names the last entry left,
    /// which has no fault of its own, so no id).
    pub fn entry(&self) -> (i64, Option<&str>) {
        match self {
            BrokenLink::Tampered { sequence, id } | BrokenLink::Unlinked { sequence, id } => (*sequence, Some(id)),
            BrokenLink::Truncated { sequence } => (*sequence, None),
        }
    }
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrokenLink::Tampered { sequence, id } => write!(
                f,
                "entry {sequence} ({id}) was altered: its hash does not match its content"
            ),
            BrokenLink::Unlinked { sequence, id } => write!(
                f,
                "entry {sequence} ({id}) does not follow its predecessor: an entry before it was removed or replaced"
            ),
            BrokenLink::Truncated { sequence } => write!(f, "entries after {sequence} are missing"),
        }
    }
}

/// Checks a chain: sequence numbers from 1 without gaps, each entry linked to its predecessor's hash, each
/// hash matching its content, and the recorded head matching the last entry.
pub fn verify(entries: &[AuditRecord], head: Option<&ChainHead>) -> Result<usize, BrokenLink> {
    let mut expected_prev = GENESIS.to_vec();
    for (index, entry) in entries.iter().enumerate() {
        let expected_sequence = i64::try_from(index).unwrap_or(i64::MAX) + 1;
        if entry.sequence != expected_sequence || entry.prev_hash != expected_prev {
            return Err(BrokenLink::Unlinked {
                sequence: entry.sequence,
                id: entry.id.to_string(),
            });
        }
        if !entry.content_matches() {
            return Err(BrokenLink::Tampered {
                sequence: entry.sequence,
                id: entry.id.to_string(),
            });
        }
        expected_prev.clone_from(&entry.hash);
    }
    let last = entries.last().map_or(0, |e| e.sequence);
    if let Some(head) = head
        && (head.sequence > last || (head.sequence == last && last > 0 && head.hash != expected_prev))
    {
        return Err(BrokenLink::Truncated { sequence: last });
    }
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::entry::{Actor, ChainId};
    use crate::ids::UserId;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let user = UserId::generate();
        let mut entries: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let prev = entries.last().map_or(GENESIS.to_vec(), |e| e.hash.clone());
            let mut entry = AuditRecord {
                id: AuditEntryId::generate(),
                chain: ChainId::User(user).key(),
                sequence: i as i64 + 1,
                workspace_id: None,
                at: AuditRecord::normalize_time(Utc::now()),
                actor: Actor::user(user, "ada"),
                action: "auth.sign_in".into(),
                target_type: None,
                target_id: None,
                ip_address: Some("127.0.0.1".into()),
                user_agent: None,
                metadata: "{}".into(),
                prev_hash: prev,
                hash: Vec::new(),
                seal: PersonalSeal::V1 { redacted_at: None },
            };
            entry.seal_v2();
            entries.push(entry);
        }
        entries
    }

    fn head(entries: &[AuditRecord]) -> ChainHead {
        entries.last().map_or(
            ChainHead {
                sequence: 0,
                hash: GENESIS.to_vec(),
            },
            |e| ChainHead {
                sequence: e.sequence,
                hash: e.hash.clone(),
            },
        )
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(5);
        assert_eq!(verify(&entries, Some(&head(&entries))), Ok(5));
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut entries = chain(5);
        entries[2].action = "auth.nothing_to_see".into();
        assert!(matches!(
            verify(&entries, None),
            Err(BrokenLink::Tampered { sequence: 3, .. })
        ));
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let mut entries = chain(5);
        entries.remove(1);
        assert!(matches!(
            verify(&entries, None),
            Err(BrokenLink::Unlinked { sequence: 3, .. })
        ));
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut entries = chain(4);
        entries[1].action = "forged".into();
        entries[1].seal_v2();
        assert!(matches!(
            verify(&entries, None),
            Err(BrokenLink::Unlinked { sequence: 3, .. })
        ));
    }

    #[test]
    fn a_cut_tail_is_found_against_the_head() {
        let entries = chain(4);
        let full_head = head(&entries);
        assert!(matches!(
            verify(&entries[..3], Some(&full_head)),
            Err(BrokenLink::Truncated { sequence: 3 })
        ));
    }
}
