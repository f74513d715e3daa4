//! The event bus: published events reach the subscribers of their workspace.
//!
//! Rules: a subscriber receives only its workspace's events (one channel per workspace, so fan-out costs
//! nothing for other tenants); each channel keeps the last `capacity` events (the live window, allocated
//! with the workspace's first subscriber), and a subscriber further behind than that learns it lagged (its
//! feed reads the rest from the outbox) instead of the bus buffering without bound.
//! - Each channel remembers the newest sequence it passed on (its high water); an event at or below it is a
//!   repeat (the broker and the outbox poller both delivering, a relay publishing twice) and wakes nobody.
//!   A feed says from which sequence it follows ([`EventBus::following_from`]), so a channel that has passed
//!   nothing on yet knows where the outbox poller must start for it.

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
    /// A subscriber of `workspace` read the outbox up to `sequence` itself and follows the bus from there.
    fn following_from(&self, _workspace: WorkspaceId, _sequence: i64) {}
}

/// One workspace's channel.
#[derive(Debug)]
struct Channel {
    sender: broadcast::Sender<Arc<StoredEvent>>,
    /// The newest sequence passed on, or the first subscriber's starting point; `None` until either.
    high_water: Option<i64>,
}

/// The in-process bus: a broadcast channel per workspace that has subscribers.
#[derive(Debug)]
pub struct LocalEventBus {
    capacity: usize,
    channels: Mutex<HashMap<WorkspaceId, Channel>>,
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

    /// The workspaces someone here follows, each with the sequence its channel has reached: where reading
    /// the outbox must resume for them when the broker cannot deliver. Channels nobody listens to any more
    /// are dropped.
    pub fn followed(&self) -> Vec<(WorkspaceId, i64)> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.retain(|_, channel| channel.sender.receiver_count() > 0);
        channels
            .iter()
            .filter_map(|(workspace, channel)| channel.high_water.map(|high| (*workspace, high)))
            .collect()
    }
}

impl EventBus for LocalEventBus {
    fn publish(&self, event: Arc<StoredEvent>) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let workspace = event.workspace_id;
        let Some(channel) = channels.get_mut(&workspace) else {
            return;
        };
        if channel.high_water.is_some_and(|high| event.sequence <= high) {
            return;
        }
        channel.high_water = Some(event.sequence);
        if channel.sender.send(event).is_err() {
            // Nobody listens any more: drop the channel so idle workspaces cost nothing.
            channels.remove(&workspace);
        }
    }

    fn subscribe(&self, workspace: WorkspaceId) -> broadcast::Receiver<Arc<StoredEvent>> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(workspace)
            .or_insert_with(|| Channel {
                sender: broadcast::channel(self.capacity).0,
                high_water: None,
            })
            .sender
            .subscribe()
    }

    fn following_from(&self, workspace: WorkspaceId, sequence: i64) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(channel) = channels.get_mut(&workspace)
            && channel.high_water.is_none()
        {
            channel.high_water = Some(sequence);
        }
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
    fn a_repeat_wakes_nobody_and_the_followed_workspaces_say_where_they_stand() {
        let bus = LocalEventBus::new(8);
        let (a, b) = (WorkspaceId::generate(), WorkspaceId::generate());
        let mut of_a = bus.subscribe(a);
        let _of_b = bus.subscribe(b);
        assert!(bus.followed().is_empty(), "no starting point known yet");
        bus.following_from(a, 4);
        bus.following_from(b, 9);
        bus.following_from(b, 12);
        let mut followed = bus.followed();
        followed.sort_by_key(|(_, high)| *high);
        assert_eq!(followed, vec![(a, 4), (b, 9)], "the first starting point holds");
        bus.publish(event(a, 4));
        bus.publish(event(a, 5));
        bus.publish(event(a, 5));
        bus.publish(event(a, 3));
        assert_eq!(of_a.try_recv().unwrap().sequence, 5);
        assert!(of_a.try_recv().is_err(), "repeats and older events are not passed on");
        assert!(bus.followed().contains(&(a, 5)));
        drop(of_a);
        assert_eq!(bus.followed(), vec![(b, 9)], "a channel nobody listens to is dropped");
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
