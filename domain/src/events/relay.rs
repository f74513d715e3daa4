//! The relay: from the outbox to the bus, after commit, in sequence order.
//!
//! Rules: an event is published only once its transaction committed (the relay reads committed rows); it is
//! marked published after it reached the bus, so a crash in between publishes it again rather than never
//! (subscribers drop repeats by sequence). Use cases wake the relay after they commit ([`Outbox::committed`]);
//! the server's loop runs [`OutboxRelay::relay_once`] on each wake and on a slow tick, which catches anything a
//! wake missed and unpublished events left by a restart.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::publisher::EventPublisher;
use super::publisher::PublishFailed;
use super::records::StoredEvent;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::store::Store;

/// How many events one relay pass reads at a time.
const BATCH: u64 = 500;

/// Why a relay pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading or marking the outbox failed.
    #[error(transparent)]
    Store(#[from] DomainError),
    /// The bus did not take a batch.
    #[error(transparent)]
    Bus(#[from] PublishFailed),
}

impl From<crate::store::StoreError> for RelayError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Store(error.into())
    }
}

/// The handle use cases hold to wake the relay after committing events.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
    /// Taken by whoever tells the other replicas' relays (the bus across replicas); unused in one process.
    forward: Arc<Notify>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Events were committed: the relay should look now rather than at its next tick, here and, through the
    /// bus, in the replica that relays.
    pub fn committed(&self) {
        self.wake.notify_one();
        self.forward.notify_one();
    }

    /// Another replica committed events (the bus said so): wakes the relay here without telling the others.
    pub fn committed_elsewhere(&self) {
        self.wake.notify_one();
    }

    /// Returns when events were committed in this process since the last call (many commits, one return).
    pub async fn committed_here(&self) {
        self.forward.notified().await;
    }

    async fn woken(&self) {
        self.wake.notified().await;
    }
}

#[derive(Debug, Clone)]
pub struct OutboxRelay {
    store: Arc<dyn Store>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    outbox: Outbox,
}

impl OutboxRelay {
    pub fn new(
        store: Arc<dyn Store>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        outbox: Outbox,
    ) -> Self {
        Self {
            store,
            publisher,
            clock,
            outbox,
        }
    }

    /// Publishes every unpublished event; how many. When the bus does not take a batch, nothing of it is
    /// marked and the error says so ([`RelayError::Bus`]); the next pass sends it again. One `relay_pass`
    /// span per call, with the count.
    #[tracing::instrument(name = "relay_pass", skip_all, fields(published = tracing::field::Empty))]
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let mut published = 0;
        loop {
            let batch = self.store.unpublished_events(BATCH).await?;
            let mut keys: Vec<_> = batch.events.iter().map(|e| (e.workspace_id, e.sequence)).collect();
            for (workspace, sequence) in &batch.unreadable {
                tracing::error!(%workspace, sequence, "an outbox event does not read; it is skipped");
            }
            keys.extend(batch.unreadable.iter().copied());
            let count = keys.len();
            if count == 0 {
                break;
            }
            let events: Vec<Arc<StoredEvent>> = batch.events.into_iter().map(Arc::new).collect();
            self.publisher.publish(&events).await?;
            published += events.len();
            self.store.mark_published(&keys, self.clock.now()).await?;
            if (count as u64) < BATCH {
                break;
            }
        }
        tracing::Span::current().record("published", published);
        Ok(published)
    }

    /// Deletes published events older than the replay window; how many.
    #[tracing::instrument(name = "relay_prune", skip_all)]
    pub async fn prune(&self, window: Duration) -> DomainResult<u64> {
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        let before: DateTime<Utc> = self
            .clock
            .now()
            .checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        Ok(self.store.prune_published(before).await?)
    }

    /// Returns when a use case woke the relay ([`Outbox::committed`]) since the last wake was taken.
    pub async fn woken(&self) {
        self.outbox.woken().await;
    }

    /// How long the oldest unpublished event has waited (zero when every event is published): the relays'
    /// lag, whichever process runs them.
    pub async fn lag(&self) -> DomainResult<Duration> {
        let oldest = self.store.oldest_unpublished().await?;
        Ok(oldest
            .and_then(|at| (self.clock.now() - at).to_std().ok())
            .unwrap_or_default())
    }
}
