//! What events need from storage.
//!
//! Rules for implementations: `append_event` takes the workspace's next sequence number with a statement
//! that locks the workspace's counter row until the transaction ends (an upsert), so numbers have no holes
//! and commit in order; `(workspace, sequence)` is unique. `append_event` is only ever called on a
//! [`crate::store::Transaction`] (through [`super::append`]): the number and the row must commit together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::records::{EventDraft, StoredEvent, Unpublished};
use crate::ids::WorkspaceId;
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// Numbers and stores the event (unpublished).
    async fn append_event(
        &self,
        scope: &TenantScope,
        draft: &EventDraft,
        now: DateTime<Utc>,
    ) -> StoreResult<StoredEvent>;
    /// The workspace's events after `after`, up to and including `up_to` when given, in sequence order. A row
    /// whose payload no longer reads is left out (the feed then sees a gap it cannot fill).
    async fn events_after(
        &self,
        scope: &TenantScope,
        after: i64,
        up_to: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// The workspace's latest sequence number (0 before its first event).
    async fn latest_sequence(&self, scope: &TenantScope) -> StoreResult<i64>;
    /// Unpublished events of every workspace, each workspace's in sequence order (the relay), at most `limit`
    /// rows counting unreadable ones.
    async fn unpublished_events(&self, limit: u64) -> StoreResult<Unpublished>;
    /// Of each `(workspace, after)`, the workspace's committed events after `after` (published or not), at most
    /// `limit_each` of each, each workspace's in sequence order (the outbox poller; across the walls).
    async fn events_since(&self, after: &[(WorkspaceId, i64)], limit_each: u64) -> StoreResult<Vec<StoredEvent>>;
    /// Marks events published (the relay).
    async fn mark_published(&self, events: &[(WorkspaceId, i64)], at: DateTime<Utc>) -> StoreResult<()>;
    /// Deletes published events that occurred before `before` (the replay window); how many.
    async fn prune_published(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// When the oldest event not yet published occurred, of every workspace (the relay's lag); `None` when
    /// every event is published.
    async fn oldest_unpublished(&self) -> StoreResult<Option<DateTime<Utc>>>;
}
