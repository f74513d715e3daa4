//! Live updates of a connection: one [`UpdateFanout`] per connection, one [`UpdateStream`] per subscriber.
//!
//! Rules: a subscriber sees the updates published after it subscribed, in order; one that falls further
//! behind than the fan-out buffers is told how many it missed ([`Next::Behind`]) and catches up with
//! `updates_since`; when the connection ends (its fan-out is dropped) every stream ends with
//! [`Next::Closed`]. A stream of a dead connection is closed from the start ([`UpdateStream::closed`]).

use tokio::sync::broadcast;

use super::update::StampedUpdate;

/// What a stream gives next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Update(StampedUpdate),
    /// The subscriber fell behind and `missed` updates were dropped for it: catch up with `updates_since`.
    Behind {
        missed: u64,
    },
    /// The connection ended; nothing more comes.
    Closed,
}

/// Publishes one connection's updates to every subscriber.
#[derive(Debug)]
pub struct UpdateFanout(broadcast::Sender<StampedUpdate>);

impl UpdateFanout {
    /// A fan-out whose subscribers may fall `buffer` updates behind before they miss some.
    pub fn new(buffer: usize) -> Self {
        Self(broadcast::channel(buffer.max(1)).0)
    }

    /// Sends `update` to every current subscriber (none is fine).
    pub fn publish(&self, update: StampedUpdate) {
        let _no_subscriber_is_fine = self.0.send(update);
    }

    /// A stream of the updates published from now on.
    pub fn subscribe(&self) -> UpdateStream {
        UpdateStream(Some(self.0.subscribe()))
    }
}

/// One subscriber's live updates.
#[derive(Debug)]
pub struct UpdateStream(Option<broadcast::Receiver<StampedUpdate>>);

impl UpdateStream {
    /// A stream that has already ended (the connection is gone).
    pub fn closed() -> Self {
        Self(None)
    }

    /// The next update, waiting for one.
    pub async fn next(&mut self) -> Next {
        let Some(receiver) = self.0.as_mut() else {
            return Next::Closed;
        };
        match receiver.recv().await {
            Ok(update) => Next::Update(update),
            Err(broadcast::error::RecvError::Lagged(missed)) => Next::Behind { missed },
            Err(broadcast::error::RecvError::Closed) => Next::Closed,
        }
    }

    /// The next update if one is there now; `None` when the stream is open and empty.
    pub fn try_next(&mut self) -> Option<Next> {
        let Some(receiver) = self.0.as_mut() else {
            return Some(Next::Closed);
        };
        match receiver.try_recv() {
            Ok(update) => Some(Next::Update(update)),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => Some(Next::Behind { missed }),
            Err(broadcast::error::TryRecvError::Closed) => Some(Next::Closed),
            Err(broadcast::error::TryRecvError::Empty) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::gateway::{GatewayUpdate, UpdateState};

    fn update(state: u64) -> StampedUpdate {
        StampedUpdate {
            state: UpdateState::new(state),
            update: GatewayUpdate::ReadOutbox {
                peer: crate::accounts::gateway::PeerKey::user(1).unwrap(),
                max_id: 1,
            },
        }
    }

    #[test]
    fn a_subscriber_sees_what_follows_it_in_order_then_the_end() {
        let fanout = UpdateFanout::new(4);
        fanout.publish(update(1));
        let mut stream = fanout.subscribe();
        fanout.publish(update(2));
        fanout.publish(update(3));
        assert_eq!(stream.try_next(), Some(Next::Update(update(2))));
        assert_eq!(stream.try_next(), Some(Next::Update(update(3))));
        assert_eq!(stream.try_next(), None);
        drop(fanout);
        assert_eq!(stream.try_next(), Some(Next::Closed));
    }

    #[test]
    fn a_subscriber_past_the_buffer_is_told_how_many_it_missed() {
        let fanout = UpdateFanout::new(2);
        let mut stream = fanout.subscribe();
        for state in 1..=5 {
            fanout.publish(update(state));
        }
        assert_eq!(stream.try_next(), Some(Next::Behind { missed: 3 }));
        assert_eq!(stream.try_next(), Some(Next::Update(update(4))));
        assert_eq!(UpdateStream::closed().try_next(), Some(Next::Closed));
    }
}
