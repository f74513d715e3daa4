//! Live events: what changed in a workspace, numbered, stored and then delivered.
//!
//! Rules:
//! - **Written with the change.** A use case appends its event to the outbox in the same transaction as the
//!   change it announces ([`append`]), so an event exists exactly when its change committed.
//! - **Numbered per workspace.** Each event takes the workspace's next sequence number, without holes; the
//!   number is taken under the workspace's counter row lock, so events commit in sequence order.
//! - **Delivered after commit, never lost.** The [`relay::OutboxRelay`] publishes unpublished events to the
//!   [`bus::EventBus`] in sequence order and then marks them published; after a restart it publishes what was
//!   left. A published event may reach the bus twice (a crash between publishing and marking): subscribers
//!   drop what they already passed by its sequence number.
//! - **A subscriber misses nothing.** A [`feed::EventFeed`] replays from the outbox what came after the
//!   sequence the client names, then follows the bus, filling any gap it sees from the outbox. A subscriber
//!   that falls further behind than the bus keeps is ended as a slow consumer instead of growing memory.

pub mod access;
pub mod access_cache;
pub mod announce;
pub mod bus;
pub mod feed;
pub mod poller;
pub mod ports;
pub mod publisher;
pub mod records;
pub mod relay;

pub use access::{AccessChange, AccessSignals, SignalOnDrop};
pub use access_cache::AccessCache;
pub use bus::{EventBus, LocalEventBus};
pub use feed::{EventFeed, FeedEnd, FeedFilter};
pub use poller::OutboxPoller;
pub use ports::OutboxRepository;
pub use publisher::{EventPublisher, PublishFailed};
pub use records::{AutomationChange, EventDraft, EventFamily, InboxEvent, StoredEvent, Unpublished};
pub use relay::{Outbox, OutboxRelay, RelayError};

use chrono::{DateTime, Utc};

use crate::store::{StoreResult, Transaction};
use crate::tenancy::TenantScope;

/// Appends `event` to the workspace's outbox in the use case's transaction (never on the bare store: the
/// number and the row must commit together, with the change they announce).
pub async fn append(
    tx: &dyn Transaction,
    scope: &TenantScope,
    draft: EventDraft,
    now: DateTime<Utc>,
) -> StoreResult<StoredEvent> {
    tx.append_event(scope, &draft, now).await
}
