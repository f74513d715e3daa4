//! What the audit log needs from storage.

use async_trait::async_trait;

use super::entry::{AuditRecord, ChainId};
use super::redaction::ErasureSubject;
use super::search::AuditSearch;
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

/// The head of a chain: the last sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub sequence: i64,
    pub hash: Vec<u8>,
}

#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// Reserves the next sequence number of `chain` and returns the previous head. The head stays locked
    /// until the transaction ends, so concurrent appends to one chain queue instead of forking it.
    async fn advance_chain(&self, chain: &ChainId) -> StoreResult<ChainHead>;
    /// Stores the entry and moves the chain head to it.
    async fn insert_audit(&self, entry: &AuditRecord) -> StoreResult<()>;
    /// A workspace's entries, newest first, before sequence `before` (exclusive), optionally of one action.
    async fn list_audit(
        &self,
        scope: &TenantScope,
        before: Option<i64>,
        limit: u64,
        action: Option<&str>,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Entries of any chain that `search` lists, newest first (time, then id), at most `limit`. Reads across
    /// tenants: only the staff console's connection (the schema owner) sees every workspace's entries.
    async fn search_audit(&self, search: &AuditSearch, limit: u64) -> StoreResult<Vec<AuditRecord>>;
    /// Every chain key with entries.
    async fn audit_chains(&self) -> StoreResult<Vec<String>>;
    /// A chain's entries in sequence order, and its recorded head.
    async fn chain_entries(&self, chain: &str) -> StoreResult<(Vec<AuditRecord>, Option<ChainHead>)>;
    /// Every entry, on any chain, that may concern `subject`: theirs as actor or target, on their own chain, or
    /// naming one of [`ErasureSubject::needles`] in its metadata (a superset: the domain decides).
    async fn audit_entries_mentioning(&self, subject: &ErasureSubject) -> StoreResult<Vec<AuditRecord>>;
    /// Stores a redacted entry's personal fields, salt and redaction time (nothing else changes).
    async fn redact_audit_entry(&self, entry: &AuditRecord) -> StoreResult<()>;
    /// Renames a chain (entries and head); nothing when it has none.
    async fn rename_audit_chain(&self, from: &str, to: &str) -> StoreResult<()>;
}
