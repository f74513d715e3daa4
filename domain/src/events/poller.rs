//! Live delivery without the broker: reading the followed workspaces' events from the outbox.
//!
//! Rules:
//! - It runs only while the broker cannot deliver ([`super::publisher::EventPublisher::delivery_degraded`]) or
//!   the outbox holds events unpublished for longer than the relay ever takes (the relay cannot reach the
//!   broker, or nobody relays), so a broker outage slows delivery to the poll interval and loses nothing.
//! - One read per poll covers every workspace someone in this process follows, each from the sequence its
//!   channel reached ([`LocalEventBus::followed`]); committed events are read whether published or not (the
//!   outbox is the source of truth). What it passes on is a repeat for the bus when the broker delivers it
//!   too, and wakes nobody.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::bus::{EventBus, LocalEventBus};
use crate::error::DomainResult;
use crate::store::Store;

/// At most this many events per workspace per poll; the rest come at the next poll.
const PAGE: u64 = 200;

/// Reads the outbox for the workspaces this process's subscribers follow.
#[derive(Debug, Clone)]
pub struct OutboxPoller {
    store: Arc<dyn Store>,
    bus: Arc<LocalEventBus>,
}

impl OutboxPoller {
    pub fn new(store: Arc<dyn Store>, bus: Arc<LocalEventBus>) -> Self {
        Self { store, bus }
    }

    /// Passes on the followed workspaces' events the bus has not seen; how many.
    pub async fn poll_once(&self) -> DomainResult<usize> {
        let followed = self.bus.followed();
        if followed.is_empty() {
            return Ok(0);
        }
        let events = self.store.events_since(&followed, PAGE).await?;
        let count = events.len();
        for event in events {
            EventBus::publish(&*self.bus, Arc::new(event));
        }
        Ok(count)
    }

    /// Whether the outbox holds an event committed more than `stalled_after` before `now` and still not
    /// published: the relay is not getting events to the broker, so subscribers must not wait for it.
    pub async fn relay_stalled(&self, now: DateTime<Utc>, stalled_after: Duration) -> DomainResult<bool> {
        let Some(oldest) = self.store.oldest_unpublished().await? else {
            return Ok(false);
        };
        let stalled_after = chrono::Duration::from_std(stalled_after).unwrap_or(chrono::Duration::MAX);
        Ok(now.signed_duration_since(oldest) > stalled_after)
    }
}
