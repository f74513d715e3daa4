//! Where the relay sends committed events so that every replica's subscribers get them.
//!
//! Rules:
//! - [`EventPublisher::publish`] answers `Ok` only once every event of the batch is delivered (in process) or
//!   stored by the broker; the relay marks events published only then, so a failure publishes them again
//!   later rather than never. A broker may see an event twice; it drops repeats by the event's key
//!   (workspace and sequence), and feeds drop any that still get through.
//! - [`EventPublisher::delivery_degraded`] says that live delivery through the broker is not working from
//!   this process (it cannot reach the broker): the process then reads its subscribers' events from the
//!   outbox itself ([`super::poller::OutboxPoller`]), so nothing waits on the broker's return.

use std::sync::Arc;

use async_trait::async_trait;

use super::bus::{EventBus, LocalEventBus};
use super::records::StoredEvent;

/// The broker did not take a batch of events; they stay unpublished and are sent again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event bus did not take the events: {0}")]
pub struct PublishFailed(pub String);

#[async_trait]
pub trait EventPublisher: Send + Sync + std::fmt::Debug {
    /// Publishes `events`, each workspace's in sequence order.
    async fn publish(&self, events: &[Arc<StoredEvent>]) -> Result<(), PublishFailed>;

    /// Whether this process cannot count on the broker for live delivery right now.
    fn delivery_degraded(&self) -> bool {
        false
    }
}

/// In one process the bus is the broker: publishing is delivering, and it never fails.
#[async_trait]
impl EventPublisher for LocalEventBus {
    async fn publish(&self, events: &[Arc<StoredEvent>]) -> Result<(), PublishFailed> {
        for event in events {
            EventBus::publish(self, Arc::clone(event));
        }
        Ok(())
    }
}
