//! The event bus: published events reach the subscribers of their workspace.
//!
//! Rules: a subscriber receives only its workspace's events (one channel per workspace, so fan-out costs
//! nothing for other tenants); each channel keeps the last `capacity` events (the live window, allocated
//! with the workspace's first subscriber), and a subscriber further behind than that learns it lagged (its
//! feed reads the rest from the outbox) instead of the bus buffering without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use super::records::StoredEvent;
use crate::ids::WorkspaceId;

/// Where published events go. The embedded default is in-process ([`LocalEventBus`]); a broker-backed bus
/// for many replicas implements the same port.
pub trait EventBus: Send + Sync + std::fmt::Debug {
    fn publish(&self, event: Arc<StoredEvent>);
    /// Events of `workspace` published from now on.
    fn subscribe(&self, workspace: WorkspaceId) -> broadcast::Receiver<Arc<StoredEvent>>;
}

/// The in-process bus: a broadcast channel per workspace that has subscribers.
#[derive(Debug)]
pub struct LocalEventBus {
    capacity: usize,
    channels: Mutex<HashMap<WorkspaceId, broadcast::Sender<Arc<StoredEvent>>>>,
}

impl LocalEventBus {
    /// A bus whose channels keep `capacity` events for subscribers that are behind.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// How many workspaces have a channel (subscribers, or had them until the last publish).
    pub fn channels(&self) -> usize {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl EventBus for LocalEventBus {
    fn publish(&self, event: Arc<StoredEvent>) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let workspace = event.workspace_id;
        if let Some(sender) = channels.get(&workspace)
            && sender.send(event).is_err()
        {
            // Nobody listens any more: drop the channel so idle workspaces cost nothing.
            channels.remove(&workspace);
        }
    }

    fn subscribe(&self, workspace: WorkspaceId) -> broadcast::Receiver<Arc<StoredEvent>> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(workspace)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::events::records::InboxEvent;
    use crate::ids::{AccountId, DialogId, MessageId};

    fn event(workspace: WorkspaceId, sequence: i64) -> Arc<StoredEvent> {
        Arc::new(StoredEvent {
            workspace_id: workspace,
            sequence,
            account_id: Some(AccountId::generate()),
            occurred_at: Utc::now(),
            event: InboxEvent::MessageDeleted {
                message_id: MessageId::generate(),
                dialog_id: DialogId::generate(),
            },
        })
    }

    #[test]
    fn a_subscriber_gets_its_workspaces_events_only() {
        let bus = LocalEventBus::new(8);
        let (a, b) = (WorkspaceId::generate(), WorkspaceId::generate());
        let mut of_a = bus.subscribe(a);
        bus.publish(event(b, 1));
        bus.publish(event(a, 1));
        bus.publish(event(a, 2));
        assert_eq!(of_a.try_recv().unwrap().sequence, 1);
        assert_eq!(of_a.try_recv().unwrap().sequence, 2);
        assert!(of_a.try_recv().is_err());
    }

    #[test]
    fn a_subscriber_further_behind_than_the_capacity_learns_it_lagged() {
        let bus = LocalEventBus::new(4);
        let a = WorkspaceId::generate();
        let mut slow = bus.subscribe(a);
        for sequence in 1..=10 {
            bus.publish(event(a, sequence));
        }
        assert!(matches!(
            slow.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(6))
        ));
    }

    #[test]
    fn a_workspace_nobody_listens_to_loses_its_channel_at_the_next_publish() {
        let bus = LocalEventBus::new(4);
        let a = WorkspaceId::generate();
        drop(bus.subscribe(a));
        assert_eq!(bus.channels(), 1);
        bus.publish(event(a, 1));
        assert_eq!(bus.channels(), 0);
        bus.publish(event(WorkspaceId::generate(), 1));
        assert_eq!(bus.channels(), 0);
    }
}
