//! What changes in an account, in the order the gateway saw it, and where a caller stands in that order.
//!
//! Rules:
//! - Every update carries an [`UpdateState`]: a per-account number that never decreases. A caller persists
//!   the state of the last update it has applied and resumes with
//!   [`GatewayConnection::updates_since`](super::GatewayConnection::updates_since).
//! - Delivery is at least once: the same update (same state, same content) may arrive twice, live or on
//!   resume, and a caller must apply updates idempotently. Two different updates never share a state.
//! - Deletions in private chats and basic groups come without a peer: Telegram numbers their messages in one
//!   sequence per account, so the ids alone say which messages are gone.
//! - States are opaque: only compare states of one account from one gateway.

use super::message::RemoteMessage;
use super::peer::PeerKey;

/// A position in an account's update sequence (like MTProto's `pts`). [`UpdateState::START`] is before the
/// first update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UpdateState(u64);

impl UpdateState {
    pub const START: Self = Self(0);

    pub fn new(value: u64) -> Self {
        Self(value)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The state after this one.
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

/// One change in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayUpdate {
    /// A message arrived or was sent (outgoing messages sent by this account are reported too, as Telegram
    /// reports them to the account's other sessions).
    NewMessage(RemoteMessage),
    /// A message's text changed; `edited_at` is set.
    EditedMessage(RemoteMessage),
    /// Messages were deleted. `peer` is `None` for private chats and basic groups (one id sequence per
    /// account) and set for channels.
    DeletedMessages { peer: Option<PeerKey>, ids: Vec<i32> },
    /// The account read incoming messages of `peer` up to `max_id` (from this or another session).
    ReadInbox { peer: PeerKey, max_id: i32 },
    /// The other side read the account's outgoing messages up to `max_id` (the account's own ids).
    ReadOutbox { peer: PeerKey, max_id: i32 },
}

/// An update and its position in the account's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampedUpdate {
    pub state: UpdateState,
    pub update: GatewayUpdate,
}

/// The answer to "what happened since this state?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateDifference {
    /// Every update after the given state, oldest first (duplicates possible), and the newest state.
    Updates {
        updates: Vec<StampedUpdate>,
        state: UpdateState,
    },
    /// The gap is longer than the gateway keeps, or the state is unknown to it: re-read the dialogs and
    /// their history, then continue from `state` (like MTProto's `updates.differenceTooLong`).
    TooLong { state: UpdateState },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_states_grow_from_the_start() {
        assert_eq!(UpdateState::default(), UpdateState::START);
        assert!(UpdateState::START < UpdateState::START.next());
        assert_eq!(UpdateState::new(41).next().get(), 42);
        assert_eq!(UpdateState::new(u64::MAX).next().get(), u64::MAX);
    }
}
