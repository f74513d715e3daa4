//! One simulated account's side of the network: its dialogs, its message-id sequence, its update journal
//! and its live connections.
//!
//! Rules:
//! - Private chats and basic groups draw message ids from the account's one sequence, starting at 1.
//! - Every update gets the next state; the journal keeps the newest `capacity` updates and remembers the
//!   newest state it dropped, so a resume from before it is answered with `TooLong`.
//! - An update marked for duplication is journaled and broadcast twice, with the same state.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use tgos_domain::accounts::gateway::{
    GatewayUpdate, PeerKey, RemoteMessage, StampedUpdate, UpdateDifference, UpdateFanout, UpdateState, UpdateStream,
};

use super::fault::SandboxFault;

/// How many messages a sandbox dialog keeps (the oldest go first): the sandbox is for demos and tests.
pub const MAX_MESSAGES_PER_DIALOG: usize = 1_000;

/// How many updates each live connection's stream buffers before its receivers lag.
const LIVE_BUFFER: usize = 256;

/// A message in one account's box and where the same message sits in other accounts' boxes.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub message: RemoteMessage,
    /// `(user id, message id)` of the other accounts' copies: the recipient's for an outgoing message, the
    /// sender's for an incoming one.
    pub copies: Vec<(i64, i32)>,
    /// The bytes of the message's media (described in `message.media`), shared by every copy.
    pub file: Option<Arc<[u8]>>,
}

#[derive(Debug, Default)]
pub(crate) struct Dialog {
    pub messages: BTreeMap<i32, Stored>,
    pub read_inbox_max_id: i32,
    pub read_outbox_max_id: i32,
}

impl Dialog {
    pub fn top_message_id(&self) -> i32 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }

    pub fn unread_count(&self) -> u32 {
        let unread = self
            .messages
            .range(self.read_inbox_max_id.saturating_add(1)..)
            .filter(|(_, stored)| !stored.message.outgoing)
            .count();
        u32::try_from(unread).unwrap_or(u32::MAX)
    }
}

#[derive(Debug)]
pub(crate) struct Mailbox {
    next_message_id: i32,
    pub dialogs: BTreeMap<PeerKey, Dialog>,
    journal: VecDeque<StampedUpdate>,
    capacity: usize,
    state: UpdateState,
    dropped_through: UpdateState,
    duplicate_next: u32,
    pub send_faults: VecDeque<SandboxFault>,
    pub session_invalid: bool,
    /// A network outage: connecting fails with `Network` while it lasts.
    pub offline: bool,
    /// How many times a session of the account tried to connect (refused attempts included).
    pub connect_attempts: u64,
    live: HashMap<u64, UpdateFanout>,
    /// Connections an outage dropped: their calls fail with `Network`, not `SessionInvalid`.
    dropped: HashSet<u64>,
    /// The messages sent under each client-chosen random id, newest [`RANDOM_IDS_KEPT`]: a send repeated with
    /// the same id answers the first message and delivers nothing again, as Telegram does.
    sent_by_random_id: HashMap<i64, RemoteMessage>,
    random_id_order: VecDeque<i64>,
}

/// How many random ids an account remembers.
const RANDOM_IDS_KEPT: usize = 10_000;

impl Mailbox {
    /// The message first sent under `random_id`, if this account remembers it.
    pub fn sent_with(&self, random_id: i64) -> Option<&RemoteMessage> {
        self.sent_by_random_id.get(&random_id)
    }

    /// Remembers the message sent under `random_id`.
    pub fn remember_sent(&mut self, random_id: i64, message: RemoteMessage) {
        if self.sent_by_random_id.insert(random_id, message).is_none() {
            self.random_id_order.push_back(random_id);
        }
        while self.random_id_order.len() > RANDOM_IDS_KEPT {
            if let Some(oldest) = self.random_id_order.pop_front() {
                self.sent_by_random_id.remove(&oldest);
            }
        }
    }

    pub fn new(capacity: usize) -> Self {
        Self {
            next_message_id: 1,
            dialogs: BTreeMap::new(),
            journal: VecDeque::new(),
            capacity: capacity.max(1),
            sent_by_random_id: HashMap::new(),
            random_id_order: VecDeque::new(),
            state: UpdateState::START,
            dropped_through: UpdateState::START,
            duplicate_next: 0,
            send_faults: VecDeque::new(),
            session_invalid: false,
            offline: false,
            connect_attempts: 0,
            live: HashMap::new(),
            dropped: HashSet::new(),
        }
    }

    pub fn allocate_message_id(&mut self) -> i32 {
        let id = self.next_message_id;
        self.next_message_id = self.next_message_id.saturating_add(1);
        id
    }

    pub fn dialog_mut(&mut self, peer: PeerKey) -> &mut Dialog {
        self.dialogs.entry(peer).or_default()
    }

    /// Stores a message in its dialog and reports it as a new message.
    pub fn store(&mut self, stored: Stored) {
        let message = stored.message.clone();
        let dialog = self.dialog_mut(message.peer);
        dialog.messages.insert(message.id, stored);
        // Memory stays bounded: a dialog keeps its newest messages only.
        while dialog.messages.len() > MAX_MESSAGES_PER_DIALOG {
            dialog.messages.pop_first();
        }
        self.emit(GatewayUpdate::NewMessage(message));
    }

    /// Journals the update under the next state and sends it to every live connection.
    pub fn emit(&mut self, update: GatewayUpdate) {
        self.state = self.state.next();
        let stamped = StampedUpdate {
            state: self.state,
            update,
        };
        let times = if self.duplicate_next > 0 {
            self.duplicate_next -= 1;
            2
        } else {
            1
        };
        for _ in 0..times {
            self.journal.push_back(stamped.clone());
            for fanout in self.live.values() {
                // No subscriber yet is fine: the journal has it.
                fanout.publish(stamped.clone());
            }
        }
        while self.journal.len() > self.capacity {
            if let Some(dropped) = self.journal.pop_front() {
                self.dropped_through = dropped.state;
            }
        }
    }

    pub fn duplicate_next_update(&mut self) {
        self.duplicate_next = self.duplicate_next.saturating_add(1);
    }

    pub fn state(&self) -> UpdateState {
        self.state
    }

    pub fn updates_since(&self, since: UpdateState) -> UpdateDifference {
        if since > self.state || since < self.dropped_through {
            return UpdateDifference::TooLong { state: self.state };
        }
        UpdateDifference::Updates {
            updates: self.journal.iter().filter(|u| u.state > since).cloned().collect(),
            state: self.state,
        }
    }

    pub fn open_connection(&mut self, connection: u64) {
        self.live.insert(connection, UpdateFanout::new(LIVE_BUFFER));
    }

    pub fn is_open(&self, connection: u64) -> bool {
        self.live.contains_key(&connection)
    }

    pub fn close_connection(&mut self, connection: u64) {
        self.live.remove(&connection);
        self.dropped.remove(&connection);
    }

    /// An outage drops every live connection: their streams close and their calls fail with `Network`.
    pub fn drop_all_connections(&mut self) {
        self.dropped.extend(self.live.drain().map(|(connection, _)| connection));
    }

    /// Whether an outage dropped this connection.
    pub fn was_dropped(&self, connection: u64) -> bool {
        self.dropped.contains(&connection)
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        self.live.len()
    }

    /// Drops every live connection: their streams close and their calls fail from now on.
    pub fn close_all_connections(&mut self) {
        self.live.clear();
    }

    pub fn subscribe(&self, connection: u64) -> Option<UpdateStream> {
        self.live.get(&connection).map(UpdateFanout::subscribe)
    }
}
